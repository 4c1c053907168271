"""A waypoint's request metrics (the guide's step 10): istio_requests_total from :15020/stats/prometheus.

Fetching goes through the API server's port-forward to each of the
waypoint's pods; parsing uses prometheus-client's text parser; the rest
(summing series into rows, deltas between refreshes) is pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

from ambientctl.errors import AmbientctlError, InvalidInputError, NotFoundError
from ambientctl.labels import GATEWAY_NAME_LABEL

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient

STATS_PORT = 15020
STATS_PATH = "/stats/prometheus"
REQUESTS_TOTAL = "istio_requests_total"
# The labels a row is keyed by, in column order.
ROW_LABELS = ("source_workload", "source_workload_namespace", "source_principal", "destination_service",
              "destination_workload", "response_code", "connection_security_policy")


class MetricsDependencyError(AmbientctlError):
    """prometheus-client is not installed."""


@dataclass(frozen=True, order=True)
class RequestKey:
    """One row: who called which service, with what answer and what transport security."""

    source_workload: str
    source_workload_namespace: str
    source_principal: str
    destination_service: str
    destination_workload: str
    response_code: str
    connection_security_policy: str

    @property
    def source(self) -> str:
        if self.source_workload and self.source_workload != "unknown":
            ns = f".{self.source_workload_namespace}" if self.source_workload_namespace not in ("", "unknown") else ""
            return f"{self.source_workload}{ns}"
        return "unknown"


def parse_requests(text: str) -> dict[RequestKey, float]:
    """Sum istio_requests_total by the row labels (other labels, like reporter or flags, are folded in)."""
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        raise MetricsDependencyError(
            "reading metrics needs the prometheus-client package",
            "install it into ambientctl's environment: pip install prometheus-client",
        ) from None
    totals: dict[RequestKey, float] = {}
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name != REQUESTS_TOTAL:
                    continue
                key = RequestKey(*(sample.labels.get(label, "") for label in ROW_LABELS))
                totals[key] = totals.get(key, 0.0) + float(sample.value)
    except ValueError as exc:
        raise InvalidInputError(f"the waypoint's {STATS_PATH} is not Prometheus text: {exc}",
                                "check that port 15020 is the waypoint's merged stats port") from None
    return totals


def merge(totals: Iterable[dict[RequestKey, float]]) -> dict[RequestKey, float]:
    """Sum the series of several pods of the same waypoint."""
    merged: dict[RequestKey, float] = {}
    for per_pod in totals:
        for key, value in per_pod.items():
            merged[key] = merged.get(key, 0.0) + value
    return merged


def records(totals: dict[RequestKey, float], previous: dict[RequestKey, float] | None = None) -> list[dict[str, Any]]:
    """Rows sorted by destination, source, code; `new` is the increase since `previous` (watch mode)."""
    rows = []
    for key in sorted(totals, key=lambda k: (k.destination_service, k.source, k.response_code, k.source_principal)):
        row: dict[str, Any] = {
            "source": key.source,
            "sourcePrincipal": key.source_principal,
            "destinationService": key.destination_service,
            "destinationWorkload": key.destination_workload,
            "responseCode": key.response_code,
            "connectionSecurityPolicy": key.connection_security_policy,
            "requests": _number(totals[key]),
        }
        if previous is not None:
            row["new"] = _number(totals[key] - previous.get(key, 0.0))
        rows.append(row)
    return rows


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


HEADERS = ("SOURCE", "SOURCE PRINCIPAL", "DESTINATION SERVICE", "DESTINATION WORKLOAD", "CODE", "SECURITY",
           "REQUESTS")


def table_rows(rows: list[dict[str, Any]]) -> list[list[Any]]:
    out = []
    for r in rows:
        cells = [r["source"], r["sourcePrincipal"] or "-", r["destinationService"] or "-",
                 r["destinationWorkload"] or "-", r["responseCode"] or "-", r["connectionSecurityPolicy"] or "-",
                 r["requests"]]
        if "new" in r:
            cells.append(r["new"])
        out.append(cells)
    return out


# --------------------------------------------------------------------------- cluster


def waypoint_pods(kube: KubeClient, waypoint: str, namespace: str) -> list[dict[str, Any]]:
    """The running pods istiod deployed for the waypoint."""
    pods = kube.list("v1", "Pod", namespace, label_selector=f"{GATEWAY_NAME_LABEL}={waypoint}")
    live = [p for p in pods if (p.get("status") or {}).get("phase") == "Running"
            and not p["metadata"].get("deletionTimestamp")]
    if not live:
        raise NotFoundError(
            f"no running pods of waypoint {namespace}/{waypoint} (label {GATEWAY_NAME_LABEL}={waypoint})",
            f"check the name and -n, and `ambientctl waypoint status {waypoint} -n {namespace}`",
        )
    return sorted(live, key=lambda p: p["metadata"]["name"])


def fetch(kube: KubeClient, pods: list[dict[str, Any]]) -> dict[RequestKey, float]:
    """istio_requests_total of every pod, summed."""
    from ambientctl.kube.portforward import http_get

    per_pod = []
    for pod in pods:
        body = http_get(kube, pod["metadata"]["name"], pod["metadata"]["namespace"], STATS_PORT, STATS_PATH)
        per_pod.append(parse_requests(body.decode("utf-8", "replace")))
    return merge(per_pod)
