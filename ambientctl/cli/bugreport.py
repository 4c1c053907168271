"""`ambientctl bug-report`: one tar.gz with what a maintainer needs (istioctl bug-report's flags)."""

# No `from __future__ import annotations` here: typer would eval every annotation string at every start.
import datetime as dt
import os
from typing import Any, List, Optional

import typer

from ambientctl.cli.common import BoolValuesCommand, cli_context
from ambientctl.cli.options import DEFAULT_PROXY_ADMIN_PORT, ProxyAdminPortOption
from ambientctl.context import CliContext
from ambientctl.errors import InvalidInputError
from ambientctl.output import write_stdout

ARCHIVE_NAME = "bug-report.tar.gz"
_SPEC_HELP = "ns1,ns2/workload/pod/label=value/annotation=value/container (repeatable; '*' globs)."


def bug_report(
    ctx: typer.Context,
    include: List[str] = typer.Option([], "--include", help=f"Collect only from pods matching {_SPEC_HELP}"),
    exclude: List[str] = typer.Option([], "--exclude", help=f"Leave out pods matching {_SPEC_HELP}"),
    start_time: Optional[str] = typer.Option(None, "--start-time", help="Logs and events from this RFC 3339 time."),
    end_time: Optional[str] = typer.Option(None, "--end-time", help="Logs and events up to this RFC 3339 time."),
    duration: Optional[str] = typer.Option(None, "--duration", "--since",
                                           help="Logs and events of this long before --end-time (e.g. 30m)."),
    timeout: str = typer.Option("30m", "--timeout", help="Stop collecting after this long; the archive keeps "
                                "what arrived."),
    max_size: int = typer.Option(500, "--max-size", min=1, help="Largest archive content in MB; logs are cut "
                                 "first."),
    output_dir: str = typer.Option(".", "--output-dir", help="Directory for bug-report.tar.gz."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would be collected; write nothing."),
    proxy_admin_port: ProxyAdminPortOption = DEFAULT_PROXY_ADMIN_PORT,
    concurrency: int = typer.Option(8, "--rq-concurrency", min=0, max=64,
                                    help="Parts fetched at the same time (0: 8)."),
    tail: int = typer.Option(0, "--tail", min=0, help="At most this many lines of each log (0: all)."),
    skip_cluster_dump: bool = typer.Option(False, "--skip-cluster-dump",
                                           help="Leave out objects, events, webhooks, namespaces and secret names."),
    skip_analyze: bool = typer.Option(False, "--skip-analyze", help="Do not run analyze."),
    skip_proxy_debug: bool = typer.Option(False, "--skip-proxy-debug",
                                          help="Leave out ztunnel, waypoint and sidecar config dumps."),
    skip_netstat: bool = typer.Option(False, "--skip-netstat", hidden=True,
                                      help="Accepted for istioctl: ambientctl never runs netstat in pods."),
    skip_coredumps: bool = typer.Option(False, "--skip-coredumps", hidden=True,
                                        help="Accepted for istioctl: ambientctl never copies core dumps."),
    full_secrets: bool = typer.Option(False, "--full-secrets", hidden=True),
) -> None:
    """Collect cluster and node versions, Istio objects, istiod's debug endpoints, ztunnel and waypoint
    config dumps, certificates, logs, `analyze` and events into bug-report.tar.gz.

    Pods that cannot be reached do not stop it: the archive holds what could
    be collected, and summary.txt in it (and stderr) says what failed and why.
    Private keys, tokens and secret values are never written. Exit 0 when the
    archive was written, even with gaps.

    \b
    Examples:
      ambientctl bug-report
      ambientctl bug-report --include istio-system --duration 1h
      ambientctl bug-report --exclude 'default//*/app=legacy' --timeout 5m --max-size 50
    """
    from ambientctl import bugreport
    from ambientctl.bugreport.collect import Options
    from ambientctl.bugreport.selection import Selection, time_range
    from ambientctl.durations import parse_duration

    cli = cli_context(ctx)
    if full_secrets:
        raise InvalidInputError("--full-secrets is not supported: ambientctl never puts secret values in an archive",
                                "the archive lists each Secret's name, type and keys; send values separately if needed")
    now = dt.datetime.now(dt.timezone.utc)
    options = Options(
        istio_namespace=cli.istio_namespace,
        selection=Selection.parse(include, exclude),
        times=time_range(start_time, end_time, parse_duration(duration, "--duration") if duration else None, now),
        timeout=parse_duration(timeout, "--timeout", minimum=1.0),
        max_bytes=max_size * 1024 * 1024,
        proxy_admin_port=proxy_admin_port,
        concurrency=concurrency or 8,
        tail_lines=tail or None,
        skip=frozenset(name for name, given in (("cluster-dump", skip_cluster_dump), ("analyze", skip_analyze),
                                                ("proxy-debug", skip_proxy_debug)) if given),
    )
    path = os.path.join(output_dir, ARCHIVE_NAME)
    if not dry_run and not os.path.isdir(output_dir):
        raise InvalidInputError(f"--output-dir {output_dir!r} is not a directory", "create it, or pick another")
    header = _header(cli, options, path)
    if dry_run:
        titles, problems = bugreport.plan_titles(cli.kube, options, _client_version())
        write_stdout("".join(f"{t}\n" for t in titles))
        for problem in problems:
            cli.warn(problem)
        cli.info(f"Dry run: {len(titles)} parts would be collected into {path}.")
        return
    for line in header:
        cli.info(line)
    with _progress(cli) as progress:
        report = bugreport.create(cli.kube, options, path, _client_version(), progress, header)
    _print_outcome(cli, report)
    write_stdout(path + "\n")


def _client_version() -> str:
    from ambientctl import __version__

    return __version__


def _header(cli: CliContext, options: Any, path: str) -> list[str]:
    return [
        f"archive: {path}",
        f"istio namespace: {options.istio_namespace}",
        f"time range: {options.times.describe()}",
        *options.selection.describe(),
        f"timeout: {options.timeout:g}s, max size: {options.max_bytes // (1024 * 1024)} MB"
        + (f", last {options.tail_lines} lines per log" if options.tail_lines else ""),
        *([f"skipped: {', '.join(sorted(options.skip))}"] if options.skip else []),
    ]


def _print_outcome(cli: CliContext, report: Any) -> None:
    size = f"{report.size / (1024 * 1024):.1f} MiB" if report.size >= 1024 * 1024 else f"{report.size / 1024:.0f} KiB"
    failed = len(report.failed) + len(report.discovery_problems)
    cli.info(f"Wrote {report.path}: {report.files} files, {size}; "
             f"{len(report.results) - len(report.failed)} of {len(report.results)} parts collected"
             + (f", {failed} failed (see summary.txt in the archive)" if failed else "") + ".")
    for problem in report.discovery_problems:
        cli.warn(problem)
    for result in report.failed[:20]:
        cli.warn(f"{result.title}: {'; '.join(result.problems) or 'failed'}")
    if len(report.failed) > 20:
        cli.warn(f"... and {len(report.failed) - 20} more failures (summary.txt)")
    if report.cut:
        cli.warn(f"{len(report.cut)} file(s) cut or left out to stay within --max-size (summary.txt)")


class _PlainProgress:
    """One line per finished part on a pipe or in CI."""

    def __init__(self, cli: CliContext) -> None:
        import threading

        self.cli = cli
        self.total = 0
        self.count = 0
        self.lock = threading.Lock()  # parts finish on worker threads: one line, one number at a time

    def start(self, total: int) -> None:
        self.total = total
        self.cli.info(f"Collecting {total} parts ...")

    def done(self, result: Any) -> None:
        mark = "✔" if result.ok and not result.problems else ("!" if result.ok else "✘")
        why = f": {result.problems[0]}" if result.problems else ""
        with self.lock:
            self.count += 1
            self.cli.info(f"[{self.count}/{self.total}] {mark} {result.title}{why}")


class _LiveProgress:
    """A progress bar on a terminal (rich), with the last finished part."""

    def __init__(self, cli: CliContext) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("Collecting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            TextColumn("{task.description}"), console=cli.err, transient=True)
        self.task = self.bar.add_task("", total=None)
        self.failures = 0

    def start(self, total: int) -> None:
        self.bar.update(self.task, total=total)

    def done(self, result: Any) -> None:
        self.failures += 0 if result.ok else 1
        note = f"{result.title[:60]}" + (f"  ({self.failures} failed)" if self.failures else "")
        self.bar.update(self.task, advance=1, description=note)


class _progress:
    def __init__(self, cli: CliContext) -> None:
        self.cli = cli
        self.live: Optional[_LiveProgress] = None

    def __enter__(self) -> Any:
        if self.cli.interactive:
            self.live = _LiveProgress(self.cli)
            self.live.bar.start()
            return self.live
        return _PlainProgress(self.cli)

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.bar.stop()


def register(root: typer.Typer) -> None:
    root.command("bug-report", cls=BoolValuesCommand)(bug_report)
