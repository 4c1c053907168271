"""`ambientctl tag set|generate|list|remove`: revision tags, as istioctl's `tag` (logic in ambientctl.revision.tags)."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from ambientctl.cli.common import BoolValuesCommand, cli_context, manifests_refused
from ambientctl.cli.options import skip_confirmation_option, table_output_option
from ambientctl.context import CliContext
from ambientctl.errors import AbortedError, ConflictError
from ambientctl.output import OutputFormat, format_yaml_stream, print_document, write_stdout

app = typer.Typer(help="Revision tags: stable names (prod, stable) that point at a control plane revision.",
                  no_args_is_help=True)

_REVISION_HELP = "Control plane revision the tag points at (required)."
_OVERWRITE_HELP = "Point an existing tag at another revision (otherwise an existing tag is refused)."
_WEBHOOK_NAME_HELP = "Name of the tag's MutatingWebhookConfiguration (default: istio-revision-tag-TAG)."
_AUTO_INJECT_HELP = "With tag `default`: inject sidecars into every namespace without a label (istioctl's flag)."


def _options(cli: CliContext, tag: str, revision: str, webhook_name: Optional[str], auto_inject: bool,
             overwrite: bool):  # type: ignore[no-untyped-def]
    from ambientctl.revision.tags import TagOptions

    return TagOptions(tag=tag, revision=revision, istio_namespace=cli.istio_namespace, webhook_name=webhook_name,
                      auto_inject_namespaces=auto_inject, overwrite=overwrite)


@app.command("set", cls=BoolValuesCommand)
def set_(
    ctx: typer.Context,
    tag: str = typer.Argument(..., help="The tag to create or move (e.g. prod)."),
    revision: str = typer.Option(..., "--revision", "-r", help=_REVISION_HELP),
    overwrite: bool = typer.Option(False, "--overwrite", help=_OVERWRITE_HELP),
    skip_confirmation: bool = skip_confirmation_option(),
    webhook_name: Optional[str] = typer.Option(None, "--webhook-name", help=_WEBHOOK_NAME_HELP),
    auto_inject: bool = typer.Option(False, "--auto-inject-namespaces", help=_AUTO_INJECT_HELP),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate on the server; change nothing."),
    manifests: Optional[str] = manifests_refused(),
) -> None:
    """Create or move a revision tag: namespaces labelled istio.io/rev=TAG use the tag's revision.

    Refused (exit 8) when the revision has no control plane (no istiod
    Deployment), unlike istioctl; refused (exit 9) when the tag exists and
    --overwrite is not given, or when a revision has the tag's name.

    \b
    Examples:
      ambientctl tag set prod --revision canary
      ambientctl tag set prod --revision 1-31-0 --overwrite
      ambientctl dataplane enroll my-ns -r prod
    """
    from ambientctl.revision.tags import apply_tag, plan_tag

    cli = cli_context(ctx)
    objects = plan_tag(cli.kube, _options(cli, tag, revision, webhook_name, auto_inject, overwrite))
    if dry_run:
        for obj in objects:
            cli.kube.apply(obj, force=True, dry_run=True)
        write_stdout("".join(f"{o['kind']}/{o['metadata']['name']} configured (server dry run)\n" for o in objects))
        return
    apply_tag(cli.kube, objects, tag, cli.istio_namespace)
    write_stdout(f"Revision tag {tag!r} now points at control plane revision {revision!r}. Use it with "
                 f"`ambientctl dataplane enroll NAMESPACE -r {tag}` (or `kubectl label namespace NAMESPACE "
                 f"istio.io/rev={tag}`).\n")


@app.command("generate", cls=BoolValuesCommand)
def generate(
    ctx: typer.Context,
    tag: str = typer.Argument(..., help="The tag to generate (e.g. prod)."),
    revision: str = typer.Option(..., "--revision", "-r", help=_REVISION_HELP),
    overwrite: bool = typer.Option(False, "--overwrite", help="Accepted for istioctl scripts (generate never "
                                   "refuses an existing tag)."),
    skip_confirmation: bool = skip_confirmation_option(),
    webhook_name: Optional[str] = typer.Option(None, "--webhook-name", help=_WEBHOOK_NAME_HELP),
    auto_inject: bool = typer.Option(False, "--auto-inject-namespaces", help=_AUTO_INJECT_HELP),
    manifests: Optional[str] = manifests_refused(),
) -> None:
    """Print the tag's objects as YAML (to apply with kubectl); change nothing.

    Reads the revision's injector webhook from the cluster, as istioctl does;
    a revision without a control plane is refused (exit 8).

    \b
    Example:
      ambientctl tag generate prod --revision canary > tag.yaml
    """
    from ambientctl.revision.tags import plan_tag

    cli = cli_context(ctx)
    objects = plan_tag(cli.kube, _options(cli, tag, revision, webhook_name, auto_inject, overwrite), generate=True)
    write_stdout(format_yaml_stream(objects))


@app.command("list")
def list_(
    ctx: typer.Context,
    output: OutputFormat = table_output_option(),
) -> None:
    """Every revision tag, its revision and the namespaces that use it (alias: show)."""
    from ambientctl.revision.tags import format_tags, list_tags

    cli = cli_context(ctx)
    tags = list_tags(cli.kube, cli.istio_namespace)
    for tag in tags:
        if not tag.control_plane:
            cli.warn(f"tag {tag.tag} points at revision {tag.revision}, which has no control plane: pods of "
                     f"namespaces using it are not injected or served")
    if output is not OutputFormat.table:
        print_document([t.as_dict() for t in tags], output.value)
    else:
        write_stdout(format_tags(tags))


@app.command("remove", cls=BoolValuesCommand)
def remove(
    ctx: typer.Context,
    tag: str = typer.Argument(..., help="The tag to remove."),
    skip_confirmation: bool = skip_confirmation_option("Remove even while namespaces use the tag."),
) -> None:
    """Remove a revision tag (alias: delete). Refused while namespaces use it, unless -y (or confirmed).

    Namespaces labelled istio.io/rev=TAG lose their control plane when it goes:
    on a terminal ambientctl asks (as istioctl), otherwise it refuses (exit 9).
    """
    from ambientctl.revision.tags import plan_removal
    from ambientctl.revision.tags import remove as remove_tag

    cli = cli_context(ctx)
    removal = plan_removal(cli.kube, tag, cli.istio_namespace)
    if removal.namespaces and not skip_confirmation:
        _confirm_in_use(cli, tag, removal.namespaces)
    removed = remove_tag(cli.kube, removal)
    for ref in removed:
        cli.info(f"  removed {ref}")
    write_stdout(f"Revision tag {tag} removed\n")


def _confirm_in_use(cli: CliContext, tag: str, namespaces: list[str]) -> None:
    import click

    listed = ", ".join(namespaces[:5]) + (f" and {len(namespaces) - 5} more" if len(namespaces) > 5 else "")
    if not sys.stdin.isatty():
        raise ConflictError(f"revision tag {tag} is still used by {len(namespaces)} namespace(s): {listed}",
                            f"move them first (ambientctl dataplane enroll NS -r REV) or pass -y to remove it anyway")
    cli.warn(f"{len(namespaces)} namespace(s) still use tag {tag}: {listed}")
    if not click.confirm("Proceed with operation?", default=False, err=True):
        raise AbortedError("cancelled; nothing was changed")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="tag")
    # istioctl's aliases (`tag show`, `tag delete`), hidden from help
    app.command("show", hidden=True)(list_)
    app.command("delete", hidden=True, cls=BoolValuesCommand)(remove)

