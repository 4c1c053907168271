"""`ambientctl waypoint metrics [NAME]` (also `x metrics`): a waypoint's requests as a table (guide step 10)."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

import typer

from ambientctl.waypoint import metrics as mx
from ambientctl.cli.common import cli_context
from ambientctl.cli.options import table_output_option
from ambientctl.cli.completion import complete_waypoints
from ambientctl.context import CliContext
from ambientctl.durations import parse_duration
from ambientctl.errors import UsageError
from ambientctl.output import OutputFormat, format_table, print_records, write_stdout

DEFAULT_WAYPOINT = "waypoint"
MIN_INTERVAL_SECONDS = 0.2


def metrics(
    ctx: typer.Context,
    name: str = typer.Argument(DEFAULT_WAYPOINT, help="The waypoint (Gateway) name.", autocompletion=complete_waypoints),
    watch: bool = typer.Option(False, "--watch", "-w", help="Refresh every --interval."),
    interval_text: str = typer.Option("2s", "--interval", help="Time between refreshes with --watch (e.g. 2s, 500ms; at least 200ms)."),
    count: int = typer.Option(0, "--count", min=0, help="With --watch: stop after this many refreshes (0: never)."),
    output: OutputFormat = table_output_option(),
) -> None:
    """Requests the waypoint handled (istio_requests_total from its :15020/stats/prometheus).

    One row per source, destination, response code and transport security,
    summed over the waypoint's pods. With --watch the table refreshes in
    place on a terminal, and is printed once per interval otherwise (JSON:
    one document per line); NEW counts requests since the previous refresh.

    \b
    Examples:
      ambientctl waypoint metrics productpage -n default
      ambientctl waypoint metrics productpage --watch --interval 5
      ambientctl x metrics productpage -o json
    """
    cli = cli_context(ctx)
    interval = parse_duration(interval_text, "--interval", minimum=MIN_INTERVAL_SECONDS)
    if count and not watch:
        raise UsageError("--count needs --watch", "add --watch, or drop --count")
    namespace = cli.namespace
    kube = cli.kube
    pods = mx.waypoint_pods(kube, name, namespace)
    if not watch:
        rows = mx.records(mx.fetch(kube, pods))
        _print_once(cli, output, name, namespace, rows)
        return
    if cli.out.is_terminal and output == OutputFormat.table:
        _watch_live(cli, name, namespace, interval, count)
    else:
        _watch_plain(cli, output, name, namespace, interval, count)


def _document(name: str, namespace: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"waypoint": f"{namespace}/{name}", "requests": rows}


def _headers(watching: bool) -> list[str]:
    return [*mx.HEADERS, "NEW"] if watching else list(mx.HEADERS)


def _print_once(cli: CliContext, output: OutputFormat, name: str, namespace: str, rows: list[dict[str, Any]]) -> None:
    if not rows and output == OutputFormat.table:
        cli.info(f"waypoint {namespace}/{name} has handled no requests yet")
        return
    print_records(cli, output.value, _headers(False), mx.table_rows(rows), _document(name, namespace, rows))


def _refreshes(count: int):
    n = 0
    while not count or n < count:
        yield n
        n += 1


def _watch_plain(cli: CliContext, output: OutputFormat, name: str, namespace: str, interval: float, count: int) -> None:
    """One table (or one JSON line) per interval: readable in logs and pipes."""
    previous: dict[mx.RequestKey, float] | None = None
    for n in _refreshes(count):
        if n:
            time.sleep(interval)
        pods = mx.waypoint_pods(cli.kube, name, namespace)
        totals = mx.fetch(cli.kube, pods)
        rows = mx.records(totals, previous if previous is not None else {})
        previous = totals
        if output == OutputFormat.table:
            stamp = datetime.now().strftime("%H:%M:%S")
            write_stdout(f"{'' if n == 0 else chr(10)}# {stamp} waypoint {namespace}/{name}\n"
                         + format_table(_headers(True), mx.table_rows(rows)))
        elif output == OutputFormat.json:
            write_stdout(json.dumps(_document(name, namespace, rows), ensure_ascii=False) + "\n")
        else:
            from ambientctl.output import format_yaml

            write_stdout("---\n" + format_yaml(_document(name, namespace, rows)))


def _watch_live(cli: CliContext, name: str, namespace: str, interval: float, count: int) -> None:
    """The table redrawn in place (rich Live), only on a terminal."""
    from rich.live import Live
    from rich.table import Table

    def render(rows: list[dict[str, Any]]) -> Table:
        stamp = datetime.now().strftime("%H:%M:%S")
        table = Table(title=f"waypoint {namespace}/{name}  (every {interval:g}s, {stamp})", box=None,
                      header_style="bold", pad_edge=False)
        for header in _headers(True):
            table.add_column(header, justify="right" if header in ("REQUESTS", "NEW", "CODE") else "left")
        for cells in mx.table_rows(rows):
            table.add_row(*(str(c) for c in cells))
        return table

    previous: dict[mx.RequestKey, float] = {}
    with Live(console=cli.out, auto_refresh=False) as live:
        for n in _refreshes(count):
            if n:
                time.sleep(interval)
            totals = mx.fetch(cli.kube, mx.waypoint_pods(cli.kube, name, namespace))
            live.update(render(mx.records(totals, previous)), refresh=True)
            previous = totals


def register(root: typer.Typer) -> None:
    """`x metrics`, and `waypoint metrics` when the waypoint group exists."""
    from ambientctl.cli.experimental import x_app

    x_app.command("metrics")(metrics)
    try:
        from ambientctl.cli.waypoint import app as waypoint_app
    except ImportError:
        return
    waypoint_app.command("metrics")(metrics)
