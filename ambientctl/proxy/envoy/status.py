"""`proxy-status` (alias `ps`): istiod's xDS sync state of every proxy, and one proxy's config diff.

Where the data comes from: istioctl asks each istiod over XDS (port 15012,
type `istio.io/debug/syncz`) for a CSDS ClientConfig per connected proxy.
istiod serves the same per-proxy, per-type nonces on its HTTP debug endpoint
`/debug/syncz` (port 15014, open to localhost, hence to a port-forward), as a
JSON list of `{proxy, proxy_type, cluster_id, istio_version, resources:
{typeUrl: {sent, acked, sentTime, lastError}}}`. This module derives the
status istiod's own CSDS code derives from those fields (ERROR if there is a
last error, NOT SENT if nothing was sent, SYNCED if the last sent nonce was
acked, else STALE) and prints istioctl's tables.

`proxy-status POD` compares istiod's `/debug/config_dump?proxyID=POD.NS` with
the proxy's own `/config_dump`: dynamic clusters, listeners and routes,
version stamps stripped and sorted by name, as a unified diff (7 lines of
context), as istioctl does. Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from dataclasses import dataclass, field
from typing import Any, Iterable

from ambientctl.errors import InvalidInputError
from ambientctl.proxy.envoy.dump import CLUSTERS, LISTENERS, ROUTES, EnvoyDump, dict_of, field_of, list_of
from ambientctl.proxy.envoy.protojson import to_proto_json
from ambientctl.proxy.envoy.tabwriter import tabwrite

SYNCZ_PATH = "/debug/syncz"
CONFIG_DUMP_PATH = "/debug/config_dump"
MONITORING_PORT = 15014
TABLE_PADDING = 5

_PREFIX = "type.googleapis.com/"
CLUSTER_TYPE = _PREFIX + "envoy.config.cluster.v3.Cluster"
LISTENER_TYPE = _PREFIX + "envoy.config.listener.v3.Listener"
ENDPOINT_TYPE = _PREFIX + "envoy.config.endpoint.v3.ClusterLoadAssignment"
ROUTE_TYPE = _PREFIX + "envoy.config.route.v3.RouteConfiguration"
ECDS_TYPE = _PREFIX + "envoy.config.core.v3.TypedExtensionConfig"
SHORT_TYPES = {
    CLUSTER_TYPE: "CDS",
    LISTENER_TYPE: "LDS",
    ROUTE_TYPE: "RDS",
    ENDPOINT_TYPE: "EDS",
    _PREFIX + "envoy.extensions.transport_sockets.tls.v3.Secret": "SDS",
    _PREFIX + "istio.networking.nds.v1.NameTable": "NDS",
    _PREFIX + "istio.mesh.v1alpha1.ProxyConfig": "PCDS",
    ECDS_TYPE: "ECDS",
    _PREFIX + "istio.workload.Address": "WDS",
    _PREFIX + "istio.workload.Workload": "WDS",
    _PREFIX + "istio.security.Authorization": "WADS",
}
CORE_ORDER = (CLUSTER_TYPE, LISTENER_TYPE, ENDPOINT_TYPE, ROUTE_TYPE)      # istioctl's legacy column order
VERBOSE_TYPES = (CLUSTER_TYPE, LISTENER_TYPE, ENDPOINT_TYPE, ROUTE_TYPE, ECDS_TYPE)  # always shown with -v 1
SYNCED, STALE, NOT_SENT, ERROR, IGNORED = "SYNCED", "STALE", "NOT SENT", "ERROR", "IGNORED"


def short_type(type_url: str) -> str:
    return SHORT_TYPES.get(type_url, type_url)


@dataclass(frozen=True)
class TypeSync:
    """istiod's view of one xDS type for one proxy."""

    type_url: str
    sent: str
    acked: str
    sent_time: dt.datetime | None
    error: str = ""

    @property
    def status(self) -> str:
        if self.error:
            return ERROR
        if not self.sent:
            return NOT_SENT
        return SYNCED if self.acked == self.sent else STALE


@dataclass
class ProxySync:
    """One proxy connected to one istiod."""

    proxy_id: str
    istiod: str
    cluster_id: str = ""
    istio_version: str = ""
    proxy_type: str = ""
    types: dict[str, TypeSync] = field(default_factory=dict)

    @property
    def namespace(self) -> str:
        """Proxy IDs are `POD.NAMESPACE` (sidecars, gateways, waypoints, ztunnels alike)."""
        return self.proxy_id.rpartition(".")[2] if "." in self.proxy_id else ""


# -- reading istiod's /debug/syncz ------------------------------------------------------------------


def parse_syncz(data: bytes, istiod: str, source: str) -> list[ProxySync]:
    """istiod's `/debug/syncz` answer; a one-line InvalidInputError when it is not one."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InvalidInputError(f"{source} did not answer JSON on {SYNCZ_PATH}",
                                "check that it is istiod and that ENABLE_DEBUG_ON_HTTP is not false") from None
    if doc is None:
        return []
    if not isinstance(doc, list):
        raise InvalidInputError(f"{source}: {SYNCZ_PATH} is a {type(doc).__name__}, expected a list of proxies",
                                "check that it is istiod")
    return [_proxy(item, istiod) for item in doc if isinstance(item, dict) and item.get("proxy")]


def _proxy(item: dict[str, Any], istiod: str) -> ProxySync:
    proxy = ProxySync(proxy_id=str(item["proxy"]), istiod=istiod, cluster_id=str(item.get("cluster_id") or ""),
                      istio_version=str(item.get("istio_version") or ""), proxy_type=str(item.get("proxy_type") or ""))
    resources = item.get("resources")
    for type_url, state in (resources.items() if isinstance(resources, dict) else ()):
        if isinstance(state, dict):
            proxy.types[type_url] = TypeSync(type_url, str(state.get("sent") or ""), str(state.get("acked") or ""),
                                             _time(state.get("sentTime")), str(state.get("lastError") or ""))
    return proxy


def _time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    if "." in text:  # Go writes up to 9 fractional digits; Python reads 6
        head, _, tail = text.partition(".")
        digits = "".join(c for c in tail if c.isdigit())
        text = f"{head}.{digits[:6].ljust(6, '0')}{tail[len(digits):]}"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def in_namespace(proxies: Iterable[ProxySync], namespace: str | None) -> list[ProxySync]:
    return [p for p in proxies if not namespace or p.namespace == namespace]


# -- istioctl's tables ----------------------------------------------------------------------------------


def _all_types(proxies: list[ProxySync]) -> list[str]:
    """Core types in istioctl's order (CDS, LDS, EDS, RDS), then the others by type URL."""
    seen = {t for p in proxies for t in p.types}
    return [t for t in CORE_ORDER if t in seen] + sorted(seen - set(CORE_ORDER))


def format_table(proxies: list[ProxySync]) -> str:
    """`istioctl ps`: NAME, CLUSTER, ISTIOD, VERSION, SUBSCRIBED TYPES (`4 (CDS,LDS,EDS,RDS)`)."""
    proxies = sorted(proxies, key=lambda p: p.proxy_id)
    types = _all_types(proxies)
    lines = [["NAME", "CLUSTER", "ISTIOD", "VERSION", "SUBSCRIBED TYPES"]]
    for proxy in proxies:
        subscribed = [short_type(t) for t in types if t in proxy.types]
        count = f"{len(subscribed)} ({','.join(subscribed)})" if subscribed else "0"
        lines.append([proxy.proxy_id, proxy.cluster_id, proxy.istiod, proxy.istio_version, count])
    return tabwrite(lines, padding=TABLE_PADDING)


def format_verbose(proxies: list[ProxySync], now: dt.datetime) -> str:
    """`istioctl ps -v 1`: one column per xDS type (CDS, ECDS, EDS, LDS, RDS always), state and age."""
    proxies = sorted(proxies, key=lambda p: p.proxy_id)
    types = sorted(set(_all_types(proxies)) | set(VERBOSE_TYPES))
    lines = [["NAME", "CLUSTER", *(short_type(t) for t in types), "ISTIOD", "VERSION"]]
    for proxy in proxies:
        cells = [_cell(proxy.types.get(t), now) for t in types]
        lines.append([proxy.proxy_id, proxy.cluster_id, *cells, proxy.istiod, proxy.istio_version])
    return tabwrite(lines, padding=TABLE_PADDING)


def _cell(sync: TypeSync | None, now: dt.datetime) -> str:
    if sync is None:
        return IGNORED
    status = sync.status
    if status == NOT_SENT:
        return status
    sent = sync.sent_time or dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc)  # Go's zero time
    return f"{status} ({kube_duration(now - sent)})"


_MAX_GO_DURATION = dt.timedelta(microseconds=(2**63 - 1) // 1000)


def kube_duration(delta: dt.timedelta) -> str:
    """Kubernetes' HumanDuration (what istioctl prints after a state): 90s, 5m30s, 3h, 2d4h, 400d, 3y10d."""
    delta = min(delta, _MAX_GO_DURATION)  # time.Since saturates
    seconds = int(delta.total_seconds())
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = seconds // 3600
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        years, days = divmod(hours // 24, 365)
        return f"{years}y{days}d" if days else f"{years}y"
    return f"{hours // 24 // 365}y"


def status_document(proxies: list[ProxySync]) -> list[dict[str, Any]]:
    """`-o json|yaml`: one list of proxies, each with its istiod and per-type state (one document)."""
    out = []
    for proxy in sorted(proxies, key=lambda p: p.proxy_id):
        out.append({
            "proxy": proxy.proxy_id,
            "proxyType": proxy.proxy_type,
            "clusterId": proxy.cluster_id,
            "istiod": proxy.istiod,
            "istioVersion": proxy.istio_version,
            "types": [{"typeUrl": t, "shortType": short_type(t), "status": s.status, "sent": s.sent,
                       "acked": s.acked, "lastSent": _stamp(s.sent_time), **({"error": s.error} if s.error else {})}
                      for t, s in sorted(proxy.types.items())],
        })
    return out


def _stamp(value: dt.datetime | None) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""


# -- proxy-status POD: istiod's config vs the proxy's ------------------------------------------------------


def ztunnel_message(pod: str, namespace: str) -> str:
    return f"Sync diff is not available for ztunnel pod {pod}.{namespace}\n"


def format_diff(istiod: EnvoyDump, envoy: EnvoyDump, local_zone: dt.tzinfo | None = None) -> str:
    """istioctl's three verdicts (`Clusters Match`, `Listeners Don't Match` + unified diff, ...)."""
    out = []
    for title, view in (("Clusters", _clusters_view), ("Listeners", _listeners_view), ("Routes", _routes_view)):
        text = _unified(title, _render(view(istiod)), _render(view(envoy)))
        suffix = _rds_loaded(envoy, local_zone) if title == "Routes" else ""
        out.append(f"{title} Don't Match{suffix}\n{text}\n" if text else f"{title} Match{suffix}\n")
    return "".join(out)


def diff_matches(istiod: EnvoyDump, envoy: EnvoyDump) -> bool:
    return all(_render(view(istiod)) == _render(view(envoy))
               for view in (_clusters_view, _listeners_view, _routes_view))


def _unified(title: str, istiod_text: str, envoy_text: str) -> str:
    lines_a = _split_lines(istiod_text)
    lines_b = _split_lines(envoy_text)
    if lines_a == lines_b:
        return ""
    return "".join(difflib.unified_diff(lines_a, lines_b, f"Istiod {title}", f"Envoy {title}", n=7))


def _split_lines(text: str) -> list[str]:
    """go-difflib's SplitLines: every line ends with a newline, the last one too."""
    lines = text.split("\n")
    return [line + "\n" for line in lines]


def _render(view: dict[str, Any] | str) -> str:
    """A section view as indented JSON (camelCase keys, so Envoy's snake_case equals istiod's protojson)."""
    if isinstance(view, str):
        return view
    return json.dumps(to_proto_json(view), indent=4, sort_keys=True, ensure_ascii=False)


def _missing(section: str) -> str:
    return f"config dump has no configuration type {section}"


def _clusters_view(dump: EnvoyDump) -> dict[str, Any] | str:
    if not dump.has(CLUSTERS):
        return _missing(CLUSTERS)
    items = [_strip(h) for h in list_of(dump.section(CLUSTERS), "dynamic_active_clusters") if isinstance(h, dict)]
    items.sort(key=lambda h: str(field_of(dict_of(h, "cluster"), "name") or ""))
    return {"dynamic_active_clusters": items} if items else {}


def _listeners_view(dump: EnvoyDump) -> dict[str, Any] | str:
    """Active listeners only: a reloaded listener's draining state is dropped, as is Envoy's own `name`."""
    if not dump.has(LISTENERS):
        return _missing(LISTENERS)
    items = []
    for holder in list_of(dump.section(LISTENERS), "dynamic_listeners"):
        active = dict_of(holder, "active_state")
        if not active:
            continue
        kept = {k: v for k, v in holder.items() if k not in ("draining_state", "drainingState", "name")}
        kept["active_state" if "active_state" in holder else "activeState"] = _strip(active)
        items.append(kept)
    items.sort(key=lambda h: str(field_of(dict_of(dict_of(h, "active_state"), "listener"), "name") or ""))
    return {"dynamic_listeners": items} if items else {}


def _routes_view(dump: EnvoyDump) -> dict[str, Any] | str:
    """Route configurations by name, and their virtual hosts by name (Envoy may reorder them)."""
    if not dump.has(ROUTES):
        return _missing(ROUTES)
    items = []
    for holder in list_of(dump.section(ROUTES), "dynamic_route_configs"):
        if not isinstance(holder, dict):
            continue
        kept = _strip(holder)
        route_key = "route_config" if "route_config" in holder else "routeConfig"
        route = dict(dict_of(holder, "route_config"))
        hosts_key = "virtual_hosts" if "virtual_hosts" in route else "virtualHosts"
        if isinstance(route.get(hosts_key), list):
            route[hosts_key] = sorted(route[hosts_key], key=lambda v: str(field_of(v, "name") or ""))
        kept[route_key] = route
        items.append(kept)
    items.sort(key=lambda h: str(field_of(dict_of(h, "route_config"), "name") or ""))
    return {"dynamic_route_configs": items} if items else {}


_STAMPS = ("version_info", "versionInfo", "last_updated", "lastUpdated")


def _strip(holder: dict[str, Any]) -> dict[str, Any]:
    """A resource wrapper without its version and time stamps (they always differ between the two sides)."""
    return {k: v for k, v in holder.items() if k not in _STAMPS}


def _rds_loaded(envoy: EnvoyDump, local_zone: dt.tzinfo | None) -> str:
    """` (RDS last loaded at Mon, 02 Jan 2006 15:04:05 UTC)`: the newest dynamic route update of the proxy."""
    stamps = [_time(field_of(h, "last_updated")) for h in list_of(envoy.section(ROUTES), "dynamic_route_configs")]
    known = [s for s in stamps if s is not None]
    if not known:
        return ""
    newest = max(known).astimezone(local_zone) if local_zone else max(known).astimezone()
    return f" (RDS last loaded at {newest.strftime('%a, %d %b %Y %H:%M:%S')} {newest.tzname() or 'UTC'})"
