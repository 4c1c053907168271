"""`ambientctl version`: the client, and with a cluster the API server and mesh versions."""

from __future__ import annotations

from enum import Enum
from typing import Any, Optional

import typer

from ambientctl.cli.common import BoolValuesCommand, cli_context
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
    revision: Optional[str] = typer.Option(None, "--revision", "-r", help="Only this control plane revision "
                                           "(or tag) and the ztunnels and waypoints it serves."),
) -> None:
    """Print the client version, and the cluster's Kubernetes and Istio versions.

    With a cluster: the control plane per revision, then the data plane:
    ztunnel per node and waypoints per namespace. Versions are the running
    pods' image tags (docs/revisions.md says why).

    \b
    Examples:
      ambientctl version --client
      ambientctl version -o json
      ambientctl version -r canary
    """
    cli = cli_context(ctx)
    info: dict[str, Any] = {"clientVersion": client_info()}
    text = ""
    if remote and not client:
        from ambientctl.mesh.components import mesh_versions
        from ambientctl.revision.remote import format_remote, remote_versions

        server = cli.kube.server_version()
        info["kubernetesVersion"] = {"gitVersion": server.get("gitVersion"), "platform": server.get("platform")}
        if revision is not None:
            from ambientctl.revision.lookup import resolve

            revision, _ = resolve(cli.kube, cli.istio_namespace, revision, "version -r")
        info["meshVersion"] = [m for m in mesh_versions(cli.kube, cli.istio_namespace)
                               if revision is None or m["revision"] == revision]
        report = remote_versions(cli.kube, cli.istio_namespace, revision)
        info.update(report.document())
        text = format_remote(report, short)
    if output is not VersionOutput.text:
        print_document(info, output.value)
        return
    write_stdout(format_versions(info, short) + text)


def register(app: typer.Typer) -> None:
    """`version`, and istioctl's hidden `x version` (the same command)."""
    from ambientctl.cli.experimental import x_app

    app.command("version", cls=BoolValuesCommand)(version)
    x_app.command("version", cls=BoolValuesCommand, hidden=True)(version)
