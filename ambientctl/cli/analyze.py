"""`ambientctl analyze`: find ambient misconfigurations in the cluster, in local files, or both."""

from __future__ import annotations

from enum import Enum
from typing import List, Optional

import typer

from ambientctl.cli.common import cli_context
from ambientctl.errors import InvalidInputError
from ambientctl.output import format_table, print_document, write_stdout


class AnalyzeFormat(str, Enum):
    """istioctl analyze's formats: `log` lines, or one JSON/YAML document."""

    log = "log"
    json = "json"
    yaml = "yaml"


def _parse_bool(text: str, flag: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "1", "yes", "y", "on"):
        return True
    if value in ("false", "0", "no", "n", "off"):
        return False
    raise InvalidInputError(f"{flag} {text!r} is not a boolean", "use true or false, e.g. --use-kube=false")


def analyze(
    ctx: typer.Context,
    paths: Optional[List[str]] = typer.Argument(None, help="YAML files or directories to analyze ('-' for stdin)."),
    files: List[str] = typer.Option([], "--file", "-f", help="A YAML file or directory to analyze (repeatable)."),
    all_namespaces: bool = typer.Option(False, "--all-namespaces", "-A", help="Analyze every namespace."),
    use_kube: str = typer.Option("true", "--use-kube", "-k", metavar="BOOL",
                                 help="Combine with the live cluster; --use-kube=false analyzes the files alone."),
    output: AnalyzeFormat = typer.Option(AnalyzeFormat.log, "--output", "-o", help="Output format."),
    failure_threshold: str = typer.Option("Error", "--failure-threshold",
                                          help="Exit 79 when a message is at least this level (Info|Warning|Error)."),
    output_threshold: str = typer.Option("Info", "--output-threshold",
                                         help="Show messages at least this level (Info|Warning|Error)."),
    list_analyzers: bool = typer.Option(False, "--list-analyzers", "-L", help="List the checks and exit."),
) -> None:
    """Check ambient configuration: L7 policies without a waypoint, missing waypoints, sidecars, principals.

    Exit codes as istioctl analyze: 0 no message at --failure-threshold or
    worse, 79 such messages found, 65 a file could not be read or parsed.

    \b
    Examples:
      ambientctl analyze -n default
      ambientctl analyze -A -o json
      ambientctl analyze -f policy.yaml                     # as if applied to the cluster
      ambientctl analyze --use-kube=false samples/*.yaml    # files only, no cluster
    """
    from ambientctl import analyze as an
    from ambientctl.analyze.messages import EXIT_ISSUES_FOUND, Level

    cli = cli_context(ctx)
    fail_at = Level.parse(failure_threshold, "--failure-threshold")
    show_at = Level.parse(output_threshold, "--output-threshold")
    if list_analyzers:
        rows = [[c.code, c.level.name, c.summary] for c in an.ALL_CHECKS]
        write_stdout(format_table(["CODE", "LEVEL", "CHECK"], rows))
        return
    with_cluster = _parse_bool(use_kube, "--use-kube")
    given = list(paths or []) + list(files)
    if not with_cluster and not given:
        raise InvalidInputError("--use-kube=false needs files to analyze", "pass YAML files or -f FILE")
    documents = an.read_files(given)
    if with_cluster:
        namespace = None if all_namespaces else cli.namespace
        default_namespace = cli.namespace
    else:  # files alone: never read the kubeconfig
        namespace, default_namespace = None, cli.options.namespace or "default"
    state, messages = an.analyze(
        kube=cli.kube if with_cluster else None,
        namespace=namespace,
        istio_namespace=cli.istio_namespace,
        files=documents,
        default_namespace=default_namespace,
    )
    for note in state.unreadable:
        cli.warn(f"{note}: the checks that need them saw none (ask for view access to Istio's resources)")
    shown = [m for m in messages if m.level >= show_at]
    if output == AnalyzeFormat.log:
        if shown:
            write_stdout("".join(m.line() + "\n" for m in shown))
        else:
            where = "all namespaces" if all_namespaces or not with_cluster else f"namespace: {namespace}"
            write_stdout(f"✔ No validation issues found when analyzing {where}.\n")
    else:
        print_document([m.as_dict() for m in shown], output.value)
    if any(m.level >= fail_at for m in messages):
        raise typer.Exit(EXIT_ISSUES_FOUND)


def register(root: typer.Typer) -> None:
    root.command("analyze")(analyze)
