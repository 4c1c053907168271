"""`ambientctl dataplane enroll|unenroll|status`: put namespaces in the ambient mesh, without restarts."""

from __future__ import annotations

from typing import List, Optional

import typer

from ambientctl.mesh import dataplane as dp
from ambientctl.cli.common import cli_context
from ambientctl.cli.options import table_output_option
from ambientctl.cli.completion import complete_namespaces
from ambientctl.context import CliContext
from ambientctl.output import OutputFormat, print_records

app = typer.Typer(help="Enrol namespaces in the ambient data plane (no pod restarts).", no_args_is_help=True)


@app.command("enroll")
def enroll(
    ctx: typer.Context,
    namespaces: List[str] = typer.Argument(..., help="Namespaces to enrol.", autocompletion=complete_namespaces),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate on the server, change nothing."),
    revision: Optional[str] = typer.Option(None, "--revision", "-r", help="Control plane revision or tag to use "
                                           "(sets istio.io/rev; refused when no control plane answers to it)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an istio.io/rev someone else set "
                                   "(unenroll puts it back)."),
) -> None:
    """Label namespaces istio.io/dataplane-mode=ambient: their pods join the mesh without a restart.

    With -r, also istio.io/rev=REV: the revision (or tag) whose istiod serves
    the namespace. unenroll removes only the labels enroll set.

    \b
    Examples:
      ambientctl dataplane enroll default
      ambientctl dataplane enroll shop -r prod      # a revision tag (ambientctl tag set prod -r canary)
    """
    cli = cli_context(ctx)
    _validate_names(namespaces)
    if revision is not None:
        from ambientctl.revision.lookup import resolve

        target, _ = resolve(cli.kube, cli.istio_namespace, revision, "dataplane enroll -r")
        if target != revision:
            cli.info(f"tag {revision} points at revision {target}")
    _require_patch_namespaces(cli)
    for name in namespaces:
        result = dp.enroll(cli.kube, name, dry_run=dry_run, revision=revision, overwrite=overwrite)
        for warning in result.warnings:
            cli.warn(warning)
        suffix = " (dry run)" if dry_run else ""
        if result.changed:
            rev = f" (revision {revision})" if revision else ""
            cli.out.print(f"namespace/{name} enrolled in ambient{rev}: {result.pods} pod(s) captured without "
                          f"restart{suffix}", markup=False)
        else:
            cli.out.print(f"namespace/{name} already enrolled in ambient (no change)", markup=False)


@app.command("unenroll")
def unenroll(
    ctx: typer.Context,
    namespaces: List[str] = typer.Argument(..., help="Namespaces to take out of the mesh.",
                                       autocompletion=complete_namespaces),
    force: bool = typer.Option(False, "--force", help="Unenrol even while waypoints of the namespace are in use."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate on the server, change nothing."),
) -> None:
    """Remove the ambient label (and the istio.io/rev that enroll -r set): traffic leaves the mesh (no restart)."""
    cli = cli_context(ctx)
    _validate_names(namespaces)
    _require_patch_namespaces(cli)
    for name in namespaces:
        changed = dp.unenroll(cli.kube, name, force=force, dry_run=dry_run)
        suffix = " (dry run)" if dry_run else ""
        message = f"namespace/{name} unenrolled from ambient{suffix}" if changed else \
            f"namespace/{name} was not enrolled in ambient (no change)"
        cli.out.print(message, markup=False)


@app.command("status")
def status(
    ctx: typer.Context,
    all_namespaces: bool = typer.Option(False, "--all-namespaces", "-A", help="Every namespace."),
    output: OutputFormat = table_output_option(),
) -> None:
    """Per namespace: data-plane mode, pods, and how many pods ztunnel has captured."""
    cli = cli_context(ctx)
    rows = dp.status(cli.kube, None if all_namespaces else cli.namespace)
    headers = ["NAMESPACE", "MODE", "PODS", "CAPTURED", "SIDECARS", "WAYPOINT"]
    table = [[r["namespace"], r["mode"], r["pods"], r["captured"], r["sidecars"], r["waypoint"] or "-"] for r in rows]
    print_records(cli, output.value, headers, table, {"namespaces": rows})


def _require_patch_namespaces(cli: CliContext) -> None:
    """Refuse before labelling the first of several namespaces if RBAC forbids it (issue 8)."""
    from ambientctl.kube import permissions

    permissions.require(cli.kube, [permissions.Permission("patch", "", "namespaces")], "changing the ambient label")


def _validate_names(namespaces: List[str]) -> None:
    """Check every name before changing any namespace (they also go into API paths)."""
    from ambientctl.names import validate_namespace

    for name in namespaces:
        validate_namespace(name, "namespace argument")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="dataplane")
