"""`ambientctl analyze`: find ambient misconfigurations in the cluster, in local files, or both."""

from __future__ import annotations

import os
import threading
from enum import Enum
from typing import Any, Callable, List, Optional

import click
import typer

from ambientctl.cli.common import BoolValuesCommand, cli_context, refused_option
from ambientctl.output import format_table, print_document, write_stdout



class AnalyzeFormat(str, Enum):
    """istioctl analyze's formats: `log` lines, or one JSON/YAML document."""

    log = "log"
    json = "json"
    yaml = "yaml"


class AnalyzeCommand(BoolValuesCommand):
    """istioctl's `--use-kube=false`, and a bad flag or value exits 64 as istioctl analyze's do."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        from ambientctl.analyze.messages import AnalyzeUsageError
        from ambientctl.errors import UsageError

        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise AnalyzeUsageError(exc.format_message(), f"see '{ctx.command_path} --help'") from None
        except UsageError as exc:
            raise AnalyzeUsageError(exc.message, exc.hint) from None


def analyze(
    ctx: typer.Context,
    paths: Optional[List[str]] = typer.Argument(None, help="YAML files or directories to analyze ('-' for stdin)."),
    files: List[str] = typer.Option([], "--file", "-f", help="A YAML file or directory to analyze (repeatable)."),
    all_namespaces: bool = typer.Option(False, "--all-namespaces", "-A", help="Analyze every namespace."),
    use_kube: bool = typer.Option(True, "--use-kube/--no-use-kube", "-k",
                                  help="Combine with the live cluster; --use-kube=false analyzes the files alone."),
    output: AnalyzeFormat = typer.Option(AnalyzeFormat.log, "--output", "-o", help="Output format."),
    failure_threshold: str = typer.Option("Error", "--failure-threshold", metavar="LEVEL",
                                          help="Exit 79 when a message is at least this level (Info|Warning|Error)."),
    output_threshold: str = typer.Option("Info", "--output-threshold", metavar="LEVEL",
                                         help="Show messages at least this level (Info|Warning|Error)."),
    suppress: List[str] = typer.Option([], "--suppress", "-S", metavar="CODE=RESOURCE",
                                       help="Drop a code on a resource ('IST0102=Namespace default'; '*' is a "
                                            "wildcard: 'AMB0003=Namespace *'). Repeatable."),
    recursive: bool = typer.Option(False, "--recursive", "-R",
                                   help="Accepted for istioctl's scripts: directories are always read recursively."),
    timeout: str = typer.Option("30s", "--timeout", metavar="DURATION",
                                help="Give up reading and analyzing after this long (exit 4)."),
    revision: str = typer.Option("default", "--revision", "-r",
                                 help="Only Istio config of this revision (objects labelled istio.io/rev for "
                                      "another revision are left out)."),
    ignore_unknown: bool = typer.Option(False, "--ignore-unknown",
                                        help="Files that do not parse are skipped without exit code 65."),
    mesh_config_file: Optional[str] = typer.Option(None, "--meshConfigFile", "--mesh-config-file",
                                                   help="A mesh config YAML; its rootNamespace replaces -i's."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Say on stderr what was analyzed and how."),
    color: Optional[bool] = typer.Option(None, "--color/--no-color-levels",
                                         help="Color the levels (default: on a terminal)."),
    list_analyzers: bool = typer.Option(False, "--list-analyzers", "-L", help="List the checks and exit."),
    _analyzer: Optional[List[str]] = refused_option("--analyzer", reason="ambientctl runs every check",
                                    use="filter the output instead: --output-threshold, -S CODE=*"),
    _remote: Optional[List[str]] = refused_option("--remote-contexts", reason="multi-cluster analysis is not supported",
                                  use="run analyze once per cluster with --context"),
) -> None:
    """Check ambient and Istio configuration: istioctl's IST codes plus ambient's own AMB codes.

    Exit codes as istioctl analyze: 0 no message at --failure-threshold or
    worse, 79 such messages found, 65 a file could not be read or parsed,
    64 a bad flag or value.

    \b
    Examples:
      ambientctl analyze -n default
      ambientctl analyze -A -o json
      ambientctl analyze policy.yaml                        # as if applied to the cluster
      ambientctl analyze --use-kube=false manifests/        # files only, no cluster
      ambientctl analyze -S "IST0102=Namespace *" -A        # every IST0102 suppressed
    """
    from ambientctl import analyze as an
    from ambientctl.analyze.messages import (
        EXIT_FILE_PARSE_ERROR,
        EXIT_ISSUES_FOUND,
        ISTIO_DOCS,
        AnalyzeUsageError,
        Level,
    )
    from ambientctl.analyze.suppress import parse_suppressions
    from ambientctl.durations import parse_duration
    from ambientctl.errors import InvalidInputError

    cli = cli_context(ctx)
    del recursive  # directories are always read recursively; -R exists so istioctl's command lines work
    fail_at = Level.parse(failure_threshold, "--failure-threshold")
    show_at = Level.parse(output_threshold, "--output-threshold")
    suppressions = parse_suppressions(suppress)
    try:
        deadline = parse_duration(timeout, "--timeout")
    except InvalidInputError as exc:
        raise AnalyzeUsageError(exc.message, exc.hint) from None
    if list_analyzers:
        rows = [[c.code, c.level.name, c.summary] for c in an.ALL_CHECKS]
        write_stdout(format_table(["CODE", "LEVEL", "CHECK"], rows))
        return
    _warn_unknown_codes(cli, suppressions)
    given = list(paths or []) + list(files)
    if not use_kube and not given:
        raise AnalyzeUsageError("--use-kube=false needs files to analyze", "pass YAML files or directories")
    file_set = an.read_files(given)
    for skipped in file_set.skipped:
        cli.info(f"Skipping file {skipped}: only .json, .yaml and .yml files are read")
    for error in file_set.errors:
        cli.info(f"Error: {error}; the file was skipped")
    root_namespace = _root_namespace(mesh_config_file) or cli.istio_namespace
    explicit_ns = cli.options.namespace
    if use_kube:
        namespace = None if all_namespaces else cli.namespace
    else:  # files alone: never read the kubeconfig
        namespace = None if all_namespaces else explicit_ns
    default_namespace = (namespace or cli.namespace) if use_kube else (explicit_ns or "default")

    def run() -> tuple[Any, list[Any]]:
        return an.analyze(kube=cli.kube if use_kube else None, namespace=namespace, istio_namespace=root_namespace,
                          files=file_set.documents, default_namespace=default_namespace, lines=file_set.lines,
                          revision=revision, suppressions=suppressions, require_namespace=use_kube)

    state, messages = _within(deadline, timeout, run)
    if namespace is not None and not use_kube:  # -n with files alone: that namespace's messages only
        messages = [m for m in messages if m.namespace in ("", namespace)]
    for note in state.unreadable:
        cli.info(f"Note: {note}: the checks that need them saw none (ask for view access to Istio's resources)")
    target = "all namespaces" if namespace is None else f"namespace: {namespace}"
    if verbose:
        cli.info(f"Analyzed resources in {target}" + (f" and {len(given)} path(s)" if given else ""))
        cli.info("Executed checks:\n" + "".join(f"\t{c.code} {c.summary}\n" for c in an.ALL_CHECKS))
    shown = [m for m in messages if m.level >= show_at]
    if output == AnalyzeFormat.log:
        if shown:
            paint = _painter(cli, color)
            write_stdout("".join(paint(m) + "\n" for m in shown))
    else:
        print_document([m.as_dict() for m in shown], output.value)
    if not shown:
        cli.info(_no_issues_line(target, file_set.names, len(file_set.errors)))
    if any(m.level >= fail_at for m in messages):
        cli.info(f"Error: analyze found issues when analyzing {target}; see {ISTIO_DOCS} (IST codes) and "
                 "docs/analyze.md (AMB codes) for causes and fixes")
        raise typer.Exit(EXIT_ISSUES_FOUND)
    if file_set.errors and not ignore_unknown:
        raise typer.Exit(EXIT_FILE_PARSE_ERROR)


def _within(seconds: float, text: str, run: Callable[[], Any]) -> Any:
    """Run the analysis with a deadline (--timeout): reads may hang on a slow API server, the answer may not."""
    from ambientctl.errors import KubeTimeoutError

    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["result"] = run()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread as is
            box["error"] = exc

    worker = threading.Thread(target=work, name="analyze", daemon=True)
    worker.start()
    worker.join(seconds if seconds > 0 else None)
    if worker.is_alive():
        raise KubeTimeoutError(f"analysis did not finish within --timeout {text}",
                               "raise --timeout, narrow it with -n NAMESPACE, or check the API server")
    if "error" in box:
        raise box["error"]
    return box["result"]


def _root_namespace(path: Optional[str]) -> Optional[str]:
    """rootNamespace from istioctl's --meshConfigFile (a MeshConfig YAML)."""
    if not path:
        return None
    import yaml

    from ambientctl.analyze.messages import AnalyzeFileError

    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise AnalyzeFileError(f"cannot read --meshConfigFile {path}: {exc}", "give a MeshConfig YAML file") from None
    root = data.get("rootNamespace") if isinstance(data, dict) else None
    return str(root) if root else None


def _warn_unknown_codes(cli: Any, suppressions: list[Any]) -> None:
    """istioctl's warning for a -S code that no check reports (a typo suppresses nothing)."""
    from ambientctl.analyze import is_known_code

    for code in sorted({s.code for s in suppressions}):
        if not is_known_code(code):
            cli.info(f"Warning: --suppress code {code!r} is not a known message code and has no effect")


def _no_issues_line(target: str, names: list[str], parse_errors: int) -> str:
    """istioctl's success line (stderr): the files when files were given, else the namespace(s)."""
    if parse_errors:
        noun = "file" if parse_errors == 1 else "files"
        return f"No validation issues found when analyzing {target} (but {parse_errors} {noun} could not be parsed)."
    if len(names) > 1:
        return "✔ No validation issues found when analyzing:\n" + "".join(f"  - {n}\n" for n in names).rstrip("\n")
    if names:
        return f"✔ No validation issues found when analyzing {names[0]}."
    return f"✔ No validation issues found when analyzing {target}."


def _painter(cli: Any, color: Optional[bool]) -> Callable[[Any], str]:
    """istioctl's colors (Error bold red, Warning yellow) on a terminal, or when --color says so."""
    if color is None:
        color = cli.out.is_terminal and not cli.options.no_color and os.environ.get("TERM", "") != "dumb"
    if not color:
        return lambda m: m.line_text()
    prefixes = {"Error": "\033[1;31m", "Warning": "\033[33m"}

    def paint(message: Any) -> str:
        text = message.line_text()
        level = message.level.name
        prefix = prefixes.get(level)
        return f"{prefix}{level}\033[0m{text[len(level):]}" if prefix else text
    return paint


def register(root: typer.Typer) -> None:
    root.command("analyze", cls=AnalyzeCommand)(analyze)
