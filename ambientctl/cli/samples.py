"""`ambientctl samples list|show|apply|delete`: the guide's sample apps, applied with our owner labels."""

from __future__ import annotations

from typing import List

import typer

from ambientctl import samples as smp
from ambientctl.cli.common import cli_context
from ambientctl.cli.options import table_output_option
from ambientctl.output import OutputFormat, check_line, format_yaml_stream, print_records, write_stdout

app = typer.Typer(help="The guide's sample apps (bookinfo, sleep, notsleep, policies, routes).", no_args_is_help=True)

_NAMES_HELP = "Sample names (see `ambientctl samples list`)."


@app.command("list")
def list_samples(
    ctx: typer.Context,
    output: OutputFormat = table_output_option(),
) -> None:
    """The samples, with the guide step each belongs to (needs no cluster)."""
    cli = cli_context(ctx)
    catalogue = smp.catalogue()
    rows = [[s.name, s.step, s.description] for s in catalogue]
    document = {"samples": [{"name": s.name, "step": s.step, "description": s.description} for s in catalogue]}
    print_records(cli, output.value, ["NAME", "STEP", "DESCRIPTION"], rows, document)


@app.command("show")
def show(
    ctx: typer.Context,
    names: List[str] = typer.Argument(..., help=_NAMES_HELP),
) -> None:
    """Print the samples' YAML for -n's namespace (needs no cluster; pipe it to kubectl apply -f -).

    \b
    Example:
      ambientctl samples show bookinfo sleep -n default
    """
    cli = cli_context(ctx)
    namespace = cli.options.namespace or "default"
    objects = smp.render_many(smp.find(names), namespace, cli.istio_namespace)
    write_stdout(format_yaml_stream(objects))


@app.command("apply")
def apply(
    ctx: typer.Context,
    names: List[str] = typer.Argument(..., help=_NAMES_HELP),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate on the server, change nothing."),
) -> None:
    """Apply samples to the namespace (-n, default: the context's) with server-side apply.

    \b
    Examples:
      ambientctl samples apply bookinfo bookinfo-gateway sleep notsleep -n default
      ambientctl samples apply productpage-l4-policy
    """
    cli = cli_context(ctx)
    chosen = smp.find(names)
    namespace = cli.namespace
    objects = smp.render_many(chosen, namespace, cli.istio_namespace)
    suffix = " (dry run)" if dry_run else ""
    smp.apply(cli.kube, objects, dry_run=dry_run,
              on_applied=lambda ref: cli.out.print(check_line(True, f"{ref} applied{suffix}"), markup=False))
    cli.info(f"applied {len(chosen)} sample(s) to namespace {namespace}: {', '.join(s.name for s in chosen)}")


@app.command("delete")
def delete(
    ctx: typer.Context,
    names: List[str] = typer.Argument(..., help=_NAMES_HELP),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate on the server, change nothing."),
) -> None:
    """Delete the samples' objects from the namespace; only objects that `samples apply` created."""
    cli = cli_context(ctx)
    chosen = smp.find(names)
    deleted = smp.delete(cli.kube, chosen, cli.namespace, dry_run=dry_run, istio_namespace=cli.istio_namespace)
    suffix = " (dry run)" if dry_run else ""
    for ref in deleted:
        cli.out.print(f"{ref} deleted{suffix}", markup=False)
    if not deleted:
        cli.info(f"no objects of {', '.join(s.name for s in chosen)} in namespace {cli.namespace} (nothing to delete)")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="samples")
