"""`x envoy-stats`: which port and path answer each output format and stats type, and how answers print.

Envoy's admin (15000 by default) serves `/stats` (text `name: value` lines),
`/stats?format=json`, `/stats/prometheus`, `/clusters` and `/clusters?format=json`.
`prom-merged` is istio-agent's merged endpoint (Envoy's metrics plus the
application's), on the port and path of the pod's `prometheus.io/port` and
`prometheus.io/path` annotations (15020 `/stats/prometheus` for an injected
proxy or a waypoint). istioctl reads those annotations but then sends the path
to the admin port, so its `prom-merged` is Envoy's own metrics; here it is the
merged endpoint.

ztunnel has no Envoy `/stats`: its metrics are Prometheus text on 15020
`/metrics`, served here for `prom`, `prom-merged` and `short` (samples only,
no `# HELP`/`# TYPE` lines); JSON/YAML and the clusters type are refused in
one line before any request. Pure: no I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ambientctl.errors import InvalidInputError, UsageError
from ambientctl.labels import annotations_of

SERVER = "server"
CLUSTERS = "clusters"
STATS_TYPES = (SERVER, CLUSTERS)
TYPE_ALIASES = {"": SERVER, "cluster": CLUSTERS}  # istioctl accepts these too
FORMATS = ("short", "json", "yaml", "prom", "prom-merged")
DOCUMENT_FORMATS = ("json", "yaml")
PROMETHEUS_FORMATS = ("prom", "prom-merged")

AGENT_METRICS_PORT = 15020          # istio-agent's merged metrics; ztunnel's metrics port
AGENT_METRICS_PATH = "/stats/prometheus"
ZTUNNEL_METRICS_PATH = "/metrics"
PROMETHEUS_PORT_ANNOTATION = "prometheus.io/port"
PROMETHEUS_PATH_ANNOTATION = "prometheus.io/path"


@dataclass(frozen=True)
class StatsRequest:
    """One GET on one pod: `port`, `path`, and a note for stderr (why this port, when not the admin's)."""

    port: int
    path: str
    note: str = ""


def stats_type(text: str) -> str:
    """istioctl's `--type` values (`server`, `clusters`; `cluster` and empty accepted)."""
    value = TYPE_ALIASES.get(text.strip().lower(), text.strip().lower())
    if value not in STATS_TYPES:
        raise UsageError(f"unknown stats type {text!r}", "use --type server or --type clusters")
    return value


def check_flags(fmt: str, kind: str) -> None:
    """Refuse a format the stats type has no form for, before any request."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown output format {fmt!r}", f"use one of {', '.join(FORMATS)}")
    if kind == CLUSTERS and fmt in PROMETHEUS_FORMATS:
        raise UsageError(f"--type clusters has no Prometheus form (-o {fmt})", "use -o short, json or yaml")


def merged_endpoint(pod: dict[str, Any]) -> tuple[int, str]:
    """Where the pod's agent serves merged metrics: its prometheus.io annotations, else 15020 /stats/prometheus."""
    notes = annotations_of(pod)
    port_text = notes.get(PROMETHEUS_PORT_ANNOTATION, "")
    port = int(port_text) if port_text.isdigit() and 0 < int(port_text) < 65536 else AGENT_METRICS_PORT
    path = notes.get(PROMETHEUS_PATH_ANNOTATION) or AGENT_METRICS_PATH
    return port, path if path.startswith("/") else "/" + path


def plan(pod: dict[str, Any], fmt: str, kind: str, admin_port: int, *, ztunnel: bool) -> StatsRequest:
    """The request that answers (format, type) on this pod; InvalidInputError if a ztunnel has no such form."""
    where = f"{pod['metadata']['name']}.{pod['metadata']['namespace']}"
    if ztunnel:
        if kind == CLUSTERS:
            raise InvalidInputError(f"{where} is a ztunnel: it has no Envoy clusters to show",
                                    "use `ambientctl zc services` or `zc workloads` for what it routes to")
        if fmt in DOCUMENT_FORMATS:
            raise InvalidInputError(f"{where} is a ztunnel: its metrics are Prometheus text only, not -o {fmt}",
                                    "use -o prom or -o short")
        return StatsRequest(AGENT_METRICS_PORT, ZTUNNEL_METRICS_PATH,
                            f"{where} is a ztunnel (no Envoy /stats): showing its Prometheus metrics from "
                            f"port {AGENT_METRICS_PORT} {ZTUNNEL_METRICS_PATH}")
    if kind == CLUSTERS:
        return StatsRequest(admin_port, "/clusters" + ("?format=json" if fmt in DOCUMENT_FORMATS else ""))
    if fmt == "prom":
        return StatsRequest(admin_port, "/stats/prometheus")
    if fmt == "prom-merged":
        port, path = merged_endpoint(pod)
        return StatsRequest(port, path, f"{where}: merged metrics from port {port} {path}")
    return StatsRequest(admin_port, "/stats" + ("?format=json" if fmt in DOCUMENT_FORMATS else ""))


def samples_only(text: str) -> str:
    """Prometheus text without its `# HELP` / `# TYPE` comments (ztunnel's `-o short`)."""
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith("#") and line.strip())


def decode_document(body: bytes, where: str) -> Any:
    """The admin's JSON answer, or one line naming the pod."""
    try:
        return json.loads(body)
    except ValueError as exc:
        raise InvalidInputError(f"{where} answered something that is not JSON ({exc})",
                                "check --proxy-admin-port: it must be the Envoy admin port") from None


def short_header(pod_name: str) -> str:
    """istioctl's line before each pod's text output."""
    return f"\nThe result of pod {pod_name}:\n\n"


def prometheus_header(where: str) -> str:
    """A comment before each pod's block when several pods print Prometheus text (a scraper ignores it)."""
    return f"# pod {where}\n"


def document_of(answers: dict[str, Any], several: bool) -> Any:
    """One document: the pod's own answer when one pod was asked, else an object keyed by POD.NAMESPACE."""
    if not several and len(answers) == 1:
        return next(iter(answers.values()))
    return answers
