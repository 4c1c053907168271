"""`zc workload|service|policy|connections|all` text: istioctl's ztunnel-config tables and documents.

Columns, row order and filters follow istioctl's ztunnel config writer so a
user's scripts and habits carry over. JSON/YAML documents keep every field
ztunnel printed (already redacted by `proxy.shapes.parse`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Iterable

from ambientctl.proxy.model import ConfigDump, Identity
from ambientctl.output import format_table
from ambientctl.proxy.printers.secret import format_short

TABLE_GAP = 1  # istioctl's tabwriter padding for the ztunnel-config tables

WORKLOAD_HEADERS = ["NAMESPACE", "POD NAME", "ADDRESS", "NODE", "WAYPOINT", "PROTOCOL"]
SERVICE_HEADERS = ["NAMESPACE", "SERVICE NAME", "SERVICE VIP", "WAYPOINT", "ENDPOINTS"]
POLICY_HEADERS = ["NAMESPACE", "POLICY NAME", "ACTION", "SCOPE"]
CONNECTION_HEADERS = ["WORKLOAD", "DIRECTION", "LOCAL", "REMOTE", "REMOTE TARGET", "PROTOCOL"]


def _s(value: Any) -> str:
    """A JSON value as Go's %v prints a string field: null becomes empty."""
    return "" if value is None else str(value)


def _eq(a: Any, b: str) -> bool:
    return _s(a).casefold() == b.casefold()


# -- workloads --------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkloadFilter:
    namespace: str = ""
    node: str = ""
    address: str = ""
    name: str = ""

    def matches(self, wl: dict[str, Any]) -> bool:
        if self.name and not _eq(wl.get("name"), self.name):
            return False
        if self.namespace and not _eq(wl.get("namespace"), self.namespace):
            return False
        if self.address and not any(_eq(ip, self.address) for ip in wl.get("workloadIps") or []):
            return False
        return not (self.node and not _eq(wl.get("node"), self.node))


def select_workloads(dump: ConfigDump, flt: WorkloadFilter) -> list[dict[str, Any]]:
    """Filtered, sorted by namespace.name then node (istioctl's order)."""
    found = [wl for wl in dump.workloads if flt.matches(wl)]
    return sorted(found, key=lambda w: (f"{_s(w.get('namespace'))}.{_s(w.get('name'))}", _s(w.get("node"))))


def _waypoint_name(ref: Any, services: list[dict[str, Any]]) -> str:
    if not isinstance(ref, dict):
        return "None"
    destination = _s(ref.get("destination"))
    for svc in services:
        if f"{_s(svc.get('namespace'))}/{_s(svc.get('hostname'))}" == destination:
            return _s(svc.get("name"))
        if destination in (svc.get("vips") or []):
            return _s(svc.get("name"))
    return "NA"


def format_workloads(dump: ConfigDump, flt: WorkloadFilter) -> str:
    rows = []
    for wl in select_workloads(dump, flt):
        address = ",".join(_s(ip) for ip in wl.get("workloadIps") or []) or _s(wl.get("hostname"))
        rows.append([_s(wl.get("namespace")), _s(wl.get("name")), address, _s(wl.get("node")),
                     _waypoint_name(wl.get("waypoint"), dump.services), _s(wl.get("protocol"))])
    return format_table(WORKLOAD_HEADERS, rows, gap=TABLE_GAP)


# -- services ---------------------------------------------------------------------------------


def select_services(dump: ConfigDump, namespace: str = "") -> list[dict[str, Any]]:
    found = [s for s in dump.services if not namespace or _eq(s.get("namespace"), namespace)]
    return sorted(found, key=lambda s: (_s(s.get("namespace")), _s(s.get("name")), _s(s.get("hostname"))))


def format_services(dump: ConfigDump, namespace: str = "") -> str:
    health = {_s(w.get("uid")): _s(w.get("status")) for w in dump.workloads}
    rows = []
    for svc in select_services(dump, namespace):
        ips = [_s(vip).partition("/")[2] for vip in svc.get("vips") or []]
        endpoints = svc.get("endpoints") or {}
        endpoint_list = list(endpoints.values()) if isinstance(endpoints, dict) else list(endpoints)
        healthy = sum(1 for ep in endpoint_list
                      if isinstance(ep, dict) and health.get(_s(ep.get("workloadUid"))) == "Healthy")
        rows.append([_s(svc.get("namespace")), _s(svc.get("name")), ",".join(ips),
                     _waypoint_name(svc.get("waypoint"), dump.services), f"{healthy}/{len(endpoint_list)}"])
    return format_table(SERVICE_HEADERS, rows, gap=TABLE_GAP)


# -- policies ---------------------------------------------------------------------------------


def select_policies(dump: ConfigDump, namespace: str = "") -> list[dict[str, Any]]:
    found = [p for p in dump.policies if not namespace or _eq(p.get("namespace"), namespace)]
    return sorted(found, key=lambda p: (_s(p.get("namespace")), _s(p.get("name"))))


def format_policies(dump: ConfigDump, namespace: str = "") -> str:
    rows = [[_s(p.get("namespace")), _s(p.get("name")), _s(p.get("action")), _s(p.get("scope"))]
            for p in select_policies(dump, namespace)]
    return format_table(POLICY_HEADERS, rows, gap=TABLE_GAP)


# -- connections ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectionFilter:
    namespace: str = ""
    direction: str = ""  # "", "inbound" or "outbound"
    raw: bool = False
    workload: str = ""   # pod name, or NAME.NAMESPACE

    def normalized(self) -> ConnectionFilter:
        if self.workload and not self.namespace and "." in self.workload:
            name, _, namespace = self.workload.partition(".")
            return ConnectionFilter(namespace, self.direction, self.raw, name)
        return self


def select_connections(dump: ConfigDump, flt: ConnectionFilter) -> list[dict[str, Any]]:
    flt = flt.normalized()
    states = sorted(dump.workload_state, key=lambda s: (_s(_info(s).get("namespace")), _s(_info(s).get("name"))))
    return [s for s in states
            if not (flt.namespace and flt.namespace != _s(_info(s).get("namespace")))
            and not (flt.workload and not _eq(_info(s).get("name"), flt.workload))]


def _info(state: dict[str, Any]) -> dict[str, Any]:
    info = state.get("info")
    return info if isinstance(info, dict) else {}


def _split_host_port(addr: str) -> tuple[str, str] | None:
    if addr.startswith("["):
        host, sep, rest = addr[1:].partition("]")
        return (host, rest[1:]) if sep and rest.startswith(":") else None
    host, sep, port = addr.rpartition(":")
    if not sep or ":" in host:
        return None
    return host, port


def _join_host_port(host: str, port: str) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def format_connections(dump: ConfigDump, flt: ConnectionFilter) -> str:
    flt = flt.normalized()
    service_names: dict[str, str] = {}
    for svc in dump.services:
        vips = svc.get("vips") or []
        ip = _s(vips[0]).partition("/")[2] if vips else ""
        service_names[ip or "None"] = _s(svc.get("hostname"))
    workload_names: dict[str, str] = {}
    for wl in dump.workloads:
        ips = wl.get("workloadIps") or []
        workload_names[_s(ips[0]) if ips else "None"] = f"{_s(wl.get('name'))}.{_s(wl.get('namespace'))}"

    def lookup(addr: Any) -> str:
        text = _s(addr)
        if flt.raw:
            return text
        split = _split_host_port(text)
        if split is None:
            return text
        host, port = split
        if host in service_names:
            return _join_host_port(service_names[host], port)
        if host in workload_names:
            return _join_host_port(workload_names[host], port)
        return text

    rows = []
    for state in select_connections(dump, flt):
        info = _info(state)
        name = f"{_s(info.get('name'))}.{_s(info.get('namespace'))}"
        connections = state.get("connections") if isinstance(state.get("connections"), dict) else {}
        if flt.direction != "outbound":
            for c in connections.get("inbound") or []:
                rows.append([name, "Inbound", lookup(c.get("actualDst")), lookup(c.get("src")),
                             _s(c.get("originalDst")), _s(c.get("protocol"))])
        if flt.direction != "inbound":
            for c in connections.get("outbound") or []:
                rows.append([name, "Outbound", lookup(c.get("src")), lookup(c.get("actualDst")),
                             lookup(c.get("originalDst")), _s(c.get("protocol"))])
    return format_table(CONNECTION_HEADERS, rows, gap=TABLE_GAP)


# -- all --------------------------------------------------------------------------------------


def format_all(dump: ConfigDump, identities: Iterable[Identity], now: dt.datetime, with_headers: bool = False) -> str:
    """istioctl's `zc all`: every summary, each preceded by a blank line (and a title with --with-headers)."""
    sections = [
        ("WORKLOAD INFO", format_workloads(dump, WorkloadFilter())),
        ("SERVICE INFO", format_services(dump)),
        ("POLICY INFO", format_policies(dump)),
        ("SECRET INFO", format_short(identities, now)),
        ("CONNECTIONS INFO", format_connections(dump, ConnectionFilter())),
    ]
    out = []
    for title, text in sections:
        out.append("\n")
        if with_headers:
            out.append(f"------ {title} ------\n\n")
        out.append(text)
    return "".join(out)

