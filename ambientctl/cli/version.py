"""`ambientctl version`: the client, and with a cluster the API server and mesh versions."""

from __future__ import annotations

from enum import Enum
from typing import Any, Optional

import typer

from ambientctl.cli.common import BoolValuesCommand, cli_context, refused_option
from ambientctl.output import print_document, write_stdout
from ambientctl.versions import client_info, format_versions


class VersionOutput(str, Enum):
    text = "text"
    json = "json"
    yaml = "yaml"


def version(
    ctx: typer.Context,
    client: bool = typer.Option(False, "--client", help="Only the client version; needs no cluster."),
    short: bool = typer.Option(False, "--short", "-s", help="Version numbers only."),
    output: VersionOutput = typer.Option(VersionOutput.text, "--output", "-o", help="Output format."),
    remote: bool = typer.Option(True, "--remote/--no-remote", help="Read the cluster's versions (istioctl's "
                                "--remote=false: same as --client)."),
    revision: Optional[str] = refused_option(
        "--revision", "-r", reason="version reports every revision's control plane together",
        use="drop -r; the meshVersion list names each component's revision"),
) -> None:
    """Print the client version, and the cluster's Kubernetes and Istio versions.

    \b
    Examples:
      ambientctl version --client
      ambientctl version -o json
    """
    cli = cli_context(ctx)
    info: dict[str, Any] = {"clientVersion": client_info()}
    if remote and not client:
        from ambientctl.mesh.components import mesh_versions

        server = cli.kube.server_version()
        info["kubernetesVersion"] = {"gitVersion": server.get("gitVersion"), "platform": server.get("platform")}
        info["meshVersion"] = mesh_versions(cli.kube, cli.istio_namespace)
    if output is not VersionOutput.text:
        print_document(info, output.value)
        return
    write_stdout(format_versions(info, short))


def register(app: typer.Typer) -> None:
    """`version`, and istioctl's hidden `x version` (the same command)."""
    from ambientctl.cli.experimental import x_app

    app.command("version", cls=BoolValuesCommand)(version)
    x_app.command("version", cls=BoolValuesCommand, hidden=True)(version)
