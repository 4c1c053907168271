"""`ambientctl x envoy-stats` (alias `es`): a proxy's Envoy metrics, or a ztunnel's.

The rules (which port and path answer each format and type, and the printing)
live in `ambientctl.proxy.envoy.stats`; this module finds the pods, sends the
GETs and prints.
"""

# No `from __future__ import annotations`: typer would eval every annotation string at every start.
from enum import Enum
from typing import Any, Optional

import typer

from ambientctl.cli.common import cli_context
from ambientctl.cli.options import DEFAULT_PROXY_ADMIN_PORT, output_option
from ambientctl.context import CliContext
from ambientctl.errors import AmbientctlError, UsageError, raise_first


class StatsFormat(str, Enum):
    short = "short"
    json = "json"
    yaml = "yaml"
    prom = "prom"
    prom_merged = "prom-merged"


def _read(cli: CliContext, pod: dict[str, Any], request: Any) -> bytes:
    from ambientctl.kube.portforward import http_get

    meta = pod["metadata"]
    return bytes(http_get(cli.kube, meta["name"], meta["namespace"], request.port, request.path))


def envoy_stats(
    ctx: typer.Context,
    pod_ref: Optional[str] = typer.Argument(
        None, metavar="[<type>/]<name>[.<namespace>]",
        help="pod/NAME, NAME[.NS], deploy/NAME, ds/NAME, sts/NAME, svc/NAME or a waypoint name: every pod."),
    output: StatsFormat = output_option(StatsFormat.short, "short (Envoy's text), json, yaml, prom (Prometheus "
                                        "text) or prom-merged (the agent's merged metrics, port 15020)."),
    stats_type: str = typer.Option("server", "--type", "-t", help="Where to read the stats: server or clusters."),
    selector: Optional[str] = typer.Option(None, "--selector", "-l", help="Every pod matching this label selector."),
    proxy_admin_port: int = typer.Option(DEFAULT_PROXY_ADMIN_PORT, "--proxy-admin-port", min=1, max=65535,
                                         help="The Envoy admin port (/stats, /clusters)."),
) -> None:
    """Show a proxy's Envoy metrics (server stats or per-cluster stats); on a ztunnel, its Prometheus metrics.

    \b
    Examples:
      ambientctl x envoy-stats deploy/waypoint -n bookinfo
      ambientctl x es waypoint -n bookinfo -o prom
      ambientctl x es deploy/waypoint -o prom-merged
      ambientctl x es deploy/waypoint --type clusters -o json
      ambientctl x es ds/ztunnel.istio-system -o prom
    """
    from ambientctl.cli.proxyadmin import is_ztunnel, target_pods
    from ambientctl.proxy.envoy import stats

    fmt, kind = output.value, stats.stats_type(stats_type)
    stats.check_flags(fmt, kind)
    if not pod_ref and not selector:
        raise UsageError("envoy-stats needs a pod or --selector", "e.g. `ambientctl x envoy-stats deploy/waypoint`")
    cli = cli_context(ctx)
    pods = target_pods(cli, pod_ref, selector)
    requests = [(pod, stats.plan(pod, fmt, kind, proxy_admin_port, ztunnel=is_ztunnel(pod))) for pod in pods]
    if fmt in stats.DOCUMENT_FORMATS:
        _print_document(cli, requests, fmt)
    else:
        _print_text(cli, requests, fmt)


def _where(pod: dict[str, Any]) -> str:
    return f"{pod['metadata']['name']}.{pod['metadata']['namespace']}"


def _print_text(cli: CliContext, requests: list[Any], fmt: str) -> None:
    """Each pod's text as it comes; one failing pod does not stop the others (the first error is raised last)."""
    from ambientctl.output import write_stdout
    from ambientctl.proxy.envoy import stats

    failed: list[tuple[str, AmbientctlError]] = []
    for pod, request in requests:
        if request.note:
            cli.info(request.note)
        try:
            text = _read(cli, pod, request).decode("utf-8", "replace")
        except AmbientctlError as exc:
            failed.append((_where(pod), exc))
            continue
        if fmt == "short":
            ztunnel_text = request.path == stats.ZTUNNEL_METRICS_PATH
            write_stdout(stats.short_header(pod["metadata"]["name"]) + (stats.samples_only(text) if ztunnel_text
                                                                         else text))
        else:
            write_stdout((stats.prometheus_header(_where(pod)) if len(requests) > 1 else "") + text)
    raise_first(failed)


def _print_document(cli: CliContext, requests: list[Any], fmt: str) -> None:
    """One JSON/YAML document: the pod's answer, or an object keyed by POD.NAMESPACE for several pods."""
    from ambientctl.output import print_document
    from ambientctl.proxy.envoy import stats

    answers: dict[str, Any] = {}
    failed: list[tuple[str, AmbientctlError]] = []
    for pod, request in requests:
        try:
            answers[_where(pod)] = stats.decode_document(_read(cli, pod, request), _where(pod))
        except AmbientctlError as exc:
            failed.append((_where(pod), exc))
    if len(requests) > 1:
        cli.info(f"{len(requests)} pods: one document keyed by POD.NAMESPACE")
    if answers:
        print_document(stats.document_of(answers, len(requests) > 1), fmt)
    raise_first(failed)


def register(root: typer.Typer) -> None:
    """Attach to `x` (the experimental module adds the group to the root)."""
    from ambientctl.cli.experimental import x_app

    x_app.command("envoy-stats")(envoy_stats)
    x_app.command("es", hidden=True, help="Alias of envoy-stats.")(envoy_stats)
