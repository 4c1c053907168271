"""Endpoints two ways, as istioctl shows them.

* `pc endpoint` reads Envoy's `/clusters?format=json` (live host state):
  ENDPOINT, STATUS (EDS health; `UNKNOWN` when Envoy reports none), OUTLIER CHECK,
  CLUSTER, sorted by address, port, cluster.  Internal addresses print as
  `envoy://LISTENER/ENDPOINT_ID` (a waypoint's `connect_originate` endpoints).
* `pc all` (and `pc endpoint --file` on a config dump) reads the EDS section of
  `/config_dump?include_eds`: NAME, STATUS, LOCALITY, CLUSTER, grouped by cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ambientctl.proxy.envoy import dump as envoydump
from ambientctl.proxy.envoy.clusters import parse_subset_key
from ambientctl.proxy.envoy.dump import EnvoyDump, dict_of, field_of, list_of
from ambientctl.proxy.envoy.gosort import sort_by_key
from ambientctl.proxy.envoy.protojson import resource_json, to_proto_json
from ambientctl.proxy.envoy.tabwriter import tabwrite

PADDING = 5
HEALTH_NAMES = ("UNKNOWN", "HEALTHY", "UNHEALTHY", "DRAINING", "TIMEOUT", "DEGRADED")


@dataclass(frozen=True)
class EndpointFilter:
    """`--address`, `--port`, `--cluster`, `--status` (case-insensitive, as istioctl compares them)."""

    address: str = ""
    port: int = 0
    cluster: str = ""
    status: str = ""

    @property
    def empty(self) -> bool:
        return not (self.address or self.port or self.cluster or self.status)


def health_name(value: Any) -> str:
    """An EDS health status as its enum name (numbers too); absent is UNKNOWN."""
    if value.__class__ is str:
        return value or "UNKNOWN"
    if isinstance(value, int) and 0 <= value < len(HEALTH_NAMES):
        return HEALTH_NAMES[value]
    return "UNKNOWN"


def _socket(address: Any) -> dict[str, Any] | None:
    sock = field_of(address, "socket_address")
    return sock if isinstance(sock, dict) else None


def _port(sock: dict[str, Any] | None) -> int:
    value = sock.get("port_value", 0) if sock else 0
    return value if value.__class__ is int else int(value) if str(value).isdigit() else 0


def _internal(address: Any) -> str | None:
    internal = field_of(address, "envoy_internal_address")
    if not isinstance(internal, dict):
        return None
    listener = field_of(internal, "server_listener_name")
    if listener is None:
        return None
    return f"envoy://{listener}/{field_of(internal, 'endpoint_id', '')}"


# -- /clusters?format=json ----------------------------------------------------------------------------------


def is_clusters_document(doc: Any) -> bool:
    return isinstance(doc, dict) and ("cluster_statuses" in doc or "clusterStatuses" in doc)


def _host_address(host: dict[str, Any]) -> str:
    address = dict_of(host, "address")
    sock = _socket(address)
    if sock is not None:
        return str(sock.get("address", ""))
    pipe = field_of(address, "pipe")
    if isinstance(pipe, dict):
        return "unix://" + str(pipe.get("path", ""))
    return _internal(address) or "unknown"


def _host_matches(flt: EndpointFilter, host: dict[str, Any], cluster: str) -> bool:
    if flt.empty:
        return True
    if flt.address and _host_address(host).lower() != flt.address.lower():
        return False
    if flt.port and _port(_socket(dict_of(host, "address"))) != flt.port:
        return False
    if flt.cluster and cluster.lower() != flt.cluster.lower():
        return False
    status = health_name(field_of(dict_of(host, "health_status"), "eds_health_status"))
    return not flt.status or status.lower() == flt.status.lower()


def host_rows(doc: dict[str, Any], flt: EndpointFilter = EndpointFilter()) -> list[list[str]]:
    found = []
    for status in list_of(doc, "cluster_statuses"):
        cluster = str(field_of(status, "name", ""))
        for host in list_of(status, "host_statuses"):
            if not _host_matches(flt, host, cluster):
                continue
            health = dict_of(host, "health_status")
            found.append((_host_address(host), _port(_socket(dict_of(host, "address"))), cluster,
                          health_name(field_of(health, "eds_health_status")),
                          "FAILED" if field_of(health, "failed_outlier_check") is True else "OK"))
    sort_by_key(found, lambda row: (row[0], row[1], row[2]))
    return [[f"{a}:{p}" if p else a, status, outlier, cluster] for a, p, cluster, status, outlier in found]


def format_hosts(doc: dict[str, Any], flt: EndpointFilter = EndpointFilter()) -> str:
    return tabwrite([["ENDPOINT", "STATUS", "OUTLIER CHECK", "CLUSTER"], *host_rows(doc, flt)], padding=PADDING)


def hosts_document(doc: dict[str, Any], flt: EndpointFilter = EndpointFilter()) -> list[Any]:
    """`-o json|yaml`: every ClusterStatus with at least one matching host (all its hosts), as istioctl prints."""
    out = []
    for status in list_of(doc, "cluster_statuses"):
        cluster = str(field_of(status, "name", ""))
        if any(_host_matches(flt, h, cluster) for h in list_of(status, "host_statuses")):
            out.append(to_proto_json(status))
    return out


# -- the EDS section of a config dump ---------------------------------------------------------------------------


def _address_text(address: Any) -> str:
    if address.__class__ is not dict:
        return "unknown"
    sock = address.get("socket_address")
    if sock.__class__ is dict:
        return f"{sock.get('address', '')}:{_port(sock)}"
    pipe = address.get("pipe")
    if pipe.__class__ is dict:
        return str(pipe.get("path", ""))
    return _internal(address) or "unknown"


def _lb_addresses(lb_endpoint: dict[str, Any]) -> list[str]:
    endpoint = lb_endpoint.get("endpoint")
    if endpoint.__class__ is not dict:
        return ["unknown"]
    out = [_address_text(endpoint.get("address"))]
    for extra in endpoint.get("additional_addresses") or ():
        out.append(_address_text(extra.get("address") if extra.__class__ is dict else None))
    return out


def _lb_matches(flt: EndpointFilter, lb_endpoint: dict[str, Any], cluster: str) -> bool:
    if flt.empty:
        return True
    if flt.address and not any(a.lower() == flt.address.lower() for a in _lb_addresses(lb_endpoint)):
        return False
    if flt.port and _port(_socket(dict_of(dict_of(lb_endpoint, "endpoint"), "address"))) != flt.port:
        return False
    if flt.cluster and cluster.lower() != flt.cluster.lower():
        return False
    return not flt.status or health_name(field_of(lb_endpoint, "health_status")).lower() == flt.status.lower()


def _locality(locality: Any) -> str:
    """`region[/zone[/sub_zone]]`, as istiod's LocalityToString."""
    if locality.__class__ is not dict or not locality:
        return ""
    region, zone, sub_zone = locality.get("region") or "", locality.get("zone") or "", locality.get("sub_zone") or ""
    if not zone:
        return str(region)
    return f"{region}/{zone}/{sub_zone}" if sub_zone else f"{region}/{zone}"


def filtered_assignments(dump: EnvoyDump, flt: EndpointFilter) -> list[dict[str, Any]]:
    """ClusterLoadAssignments that keep at least one matching endpoint (others dropped), istioctl's order."""
    ordered = envoydump.active_then_static(dump.endpoint_configs())
    kept = []
    for cla in ordered:
        cluster = str(cla.get("cluster_name") or "")
        if flt.empty:
            if any(group.__class__ is dict and group.get("lb_endpoints") for group in cla.get("endpoints") or ()):
                kept.append((cluster, cla))
            continue
        groups, count = [], 0
        for group in list_of(cla, "endpoints"):
            matching = [e for e in list_of(group, "lb_endpoints") if _lb_matches(flt, e, cluster)]
            count += len(matching)
            rest = {k: v for k, v in group.items() if k not in ("lb_endpoints", "lbEndpoints")}
            groups.append({**rest, "lb_endpoints": matching} if matching else rest)
        if count:
            kept.append((cluster, {**cla, "endpoints": groups}))

    return [cla for _, cla in sort_by_key(kept, lambda pair: parse_subset_key(pair[0]))]


def eds_rows(dump: EnvoyDump, flt: EndpointFilter = EndpointFilter(), config_type: bool = False) -> list[list[str]]:
    rows = []
    prefix = "endpoint/" if config_type else ""
    for cla in filtered_assignments(dump, flt):
        cluster = str(cla.get("cluster_name") or "")
        for group in cla.get("endpoints") or ():
            if group.__class__ is not dict:
                continue
            locality = _locality(group.get("locality"))
            for lb_endpoint in group.get("lb_endpoints") or ():
                if lb_endpoint.__class__ is dict:
                    rows.append([prefix + ",".join(_lb_addresses(lb_endpoint)),
                                 health_name(lb_endpoint.get("health_status")), locality, cluster])
    return rows


def format_eds(dump: EnvoyDump, flt: EndpointFilter = EndpointFilter(), config_type: bool = False) -> str:
    return tabwrite([["NAME", "STATUS", "LOCALITY", "CLUSTER"], *eds_rows(dump, flt, config_type)], padding=PADDING)


def eds_document(dump: EnvoyDump, flt: EndpointFilter = EndpointFilter()) -> list[Any]:
    return [resource_json(cla) for cla in filtered_assignments(dump, flt)]
