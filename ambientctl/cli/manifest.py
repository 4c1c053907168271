"""`ambientctl manifest generate` and `ambientctl profile list|dump|diff`: rendering without a cluster.

These commands never touch the cluster, so they import neither `kubernetes`
nor the kube client; the render package is imported inside each command.
"""

from __future__ import annotations

import difflib
import os
from enum import Enum
from typing import Any, List, Optional

import typer

from ambientctl.cli.common import BoolValuesCommand, cli_context, manifests_refused, refused_option
from ambientctl.cli.options import filenames_option, revision_option, set_option
from ambientctl.context import CliContext
from ambientctl.errors import InvalidInputError
from ambientctl.output import format_json, write_stdout

manifest_app = typer.Typer(help="Render Istio's manifests without a cluster (istioctl manifest).", no_args_is_help=True)
profile_app = typer.Typer(help="List, show and compare configuration profiles (istioctl profile).",
                          no_args_is_help=True)


class DocumentFormat(str, Enum):
    yaml = "yaml"
    json = "json"


@manifest_app.command("generate", cls=BoolValuesCommand)
def generate(
    ctx: typer.Context,
    set_values: List[str] = set_option(),
    filenames: List[str] = filenames_option(),
    revision: Optional[str] = revision_option(),
    output_dir: Optional[str] = typer.Option(
        None, "--output", "-o", help="Write one file per component (DIR/Base.yaml, ...) instead of stdout."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="istioctl's flag: accepted; generate never changes anything."),
    force: bool = typer.Option(False, "--force", help="istioctl's flag: accepted; an invalid configuration is "
                               "still refused."),
    manifests: Optional[str] = manifests_refused(),
    cluster_specific: bool = refused_option(
        "--cluster-specific", flag=True, reason="ambientctl's render does not depend on the cluster",
        use="compare the render with the cluster: `ambientctl install --diff` (same -f/--set)"),
) -> None:
    """Print the Kubernetes objects `install` would apply, as one YAML stream in apply order.

    \b
    Examples:
      ambientctl manifest generate --set profile=ambient
      ambientctl manifest generate --set profile=ambient -f overlay.yaml --set values.pilot.env.PILOT_TRACE_SAMPLING=10
      ambientctl manifest generate --set profile=ambient -o ./out
    """
    from ambientctl.kube.resources import sort_for_apply
    from ambientctl.render import render
    from ambientctl.output import format_yaml_stream as dump_stream

    cli = cli_context(ctx)
    rendered = render(
        files=filenames, set_values=set_values, revision=revision, istio_namespace=cli.istio_namespace_override
    )
    if output_dir is None:
        write_stdout(dump_stream(sort_for_apply(rendered.all_objects())))
        return
    _write_files(cli, output_dir, [(f"{c.name}.yaml", dump_stream(c.objects), False) for c in rendered.components])


@manifest_app.command("translate", cls=BoolValuesCommand)
def translate(
    ctx: typer.Context,
    set_values: List[str] = set_option(),
    filenames: List[str] = filenames_option(),
    revision: Optional[str] = revision_option(),
    output_dir: Optional[str] = typer.Option(
        None, "--output", "-o", help="Write values files, install scripts and a README into DIR (else: the "
        "values, as one YAML document keyed by Helm release, to stdout)."
    ),
    manifests: Optional[str] = manifests_refused(),
) -> None:
    """Translate the install configuration (profile, -f, --set) into Helm values, one release per component.

    Releases base, pilot, cni and ztunnel (Istio's charts); gateways are listed as not translated.
    Writes files only: the cluster is not changed.

    \b
    Examples:
      ambientctl manifest translate --set profile=ambient
      ambientctl manifest translate --set profile=ambient -f overlay.yaml -o ./helm
    """
    from ambientctl.render import load_profile, render
    from ambientctl.render.profiles import BASE_PROFILE
    from ambientctl.render import translate as tr

    cli = cli_context(ctx)
    if output_dir is not None:
        _check_output_dir(output_dir)  # before any warning: a bad -o is the one line the user sees
    rendered = render(
        files=filenames, set_values=set_values, revision=revision, istio_namespace=cli.istio_namespace_override
    )
    translation = tr.translate(rendered, load_profile(BASE_PROFILE))
    for name in translation.untranslated_components:
        cli.warn(f"gateway {name} is not translated: install it with Istio's gateway chart or the Gateway API")
    for key in translation.untranslated_settings:
        cli.warn(f"{key} has no Helm value here: carry it over by hand")
    if output_dir is None:
        from ambientctl.output import format_yaml

        write_stdout(format_yaml({release.name: release.values for release in translation.releases}))
        return
    from ambientctl.install.record import record_name

    _write_files(cli, output_dir, tr.output_files(translation, record_name(rendered.revision)))
    cli.info(f"next: read {os.path.join(output_dir, 'README.md')}")


def _check_output_dir(directory: str) -> None:
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise InvalidInputError(f"-o {directory}: exists and is not a directory", "choose a directory path")


def _write_files(cli: CliContext, directory: str, files: list[tuple[str, str, bool]]) -> None:
    """Write (name, text, executable) files into `directory`, creating it."""
    _check_output_dir(directory)
    try:
        os.makedirs(directory, exist_ok=True)
        for name, text, executable in files:
            path = os.path.join(directory, name)
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
            if executable:
                os.chmod(path, 0o755)
            cli.info(f"wrote {path}")
    except OSError as exc:
        raise InvalidInputError(f"-o {directory}: cannot write ({exc.strerror})", "check the directory's permissions") from None


@profile_app.command("list")
def list_command(
    output: Optional[DocumentFormat] = typer.Option(None, "--output", "-o", help="json or yaml instead of text."),
) -> None:
    """List the built-in configuration profiles.

    \b
    Example:
      ambientctl profile list
    """
    from ambientctl.render import list_profiles
    from ambientctl.output import format_yaml as dump_yaml

    names = list_profiles()
    if output is DocumentFormat.json:
        write_stdout(format_json(names))
    elif output is DocumentFormat.yaml:
        write_stdout(dump_yaml(names))
    else:
        write_stdout("Istio configuration profiles:\n" + "".join(f"    {name}\n" for name in names))


@profile_app.command("dump")
def dump(
    ctx: typer.Context,
    name: Optional[str] = typer.Argument(None, help="Profile to show (default: default, or --set profile=)."),
    config_path: Optional[str] = typer.Option(
        None, "--config-path", "-p", help="Show only this subtree, e.g. spec.components or spec.values.pilot."
    ),
    set_values: List[str] = set_option(),
    filenames: List[str] = filenames_option(),
    output: DocumentFormat = typer.Option(DocumentFormat.yaml, "--output", "-o", help="yaml or json."),
) -> None:
    """Print a profile merged over the default profile: every value `manifest generate` reads.

    \b
    Examples:
      ambientctl profile dump ambient
      ambientctl profile dump ambient --config-path spec.components -o json
    """
    from ambientctl.render import build_config

    cli = cli_context(ctx)
    config, _, _ = build_config(name, filenames, set_values, istio_namespace=cli.istio_namespace_override)
    data = _subtree(config, config_path) if config_path else config
    _print(data, output)


@profile_app.command("diff")
def diff(
    first: str = typer.Argument(..., help="A profile name."),
    second: str = typer.Argument(..., help="Another profile name."),
) -> None:
    """Show how two profiles differ, as a unified diff of their dumps (exits 0 either way, like istioctl).

    A profile that names a platform (openshift-ambient) is shown with that platform's settings.

    \b
    Example:
      ambientctl profile diff default ambient
    """
    from ambientctl.render import build_config
    from ambientctl.output import format_yaml as dump_yaml

    texts = [dump_yaml(build_config(name)[0]).splitlines(keepends=True) for name in (first, second)]
    lines = list(difflib.unified_diff(texts[0], texts[1], fromfile=first, tofile=second))
    if not lines:
        write_stdout(f"Profiles {first} and {second} are identical\n")
        return
    write_stdout("".join(line if line.endswith("\n") else line + "\n" for line in lines))


def _subtree(config: dict[str, Any], path: str) -> Any:
    from ambientctl.render.tree import config_subtree

    try:
        return config_subtree(config, path)
    except KeyError:
        raise InvalidInputError(
            f"--config-path {path}: no such path in the profile",
            "try spec.components, spec.values or spec.meshConfig",
        ) from None


def _print(data: Any, output: DocumentFormat) -> None:
    from ambientctl.output import format_yaml as dump_yaml

    write_stdout(format_json(data) if output is DocumentFormat.json else dump_yaml(data))


def register(app: typer.Typer) -> None:
    app.add_typer(manifest_app, name="manifest")
    app.add_typer(profile_app, name="profile")
