"""`pc listener`: Envoy listeners as istioctl lists them, and the waypoint view (`--waypoint`).

The default (istioctl's verbose view) prints one row per filter chain:
ADDRESSES, PORT, MATCH (`SNI: …; Trans: …; App: …; Addr: …`, or `ALL`) and
DESTINATION (`Route: NAME` for RDS, `Inline Route: …` or `Cluster: …` for inline
config, `Non-HTTP/Non-TCP`).  `--verbose=false` prints one row per listener with its
TYPE (HTTP, TCP, HTTP+TCP, UNKNOWN).  `--waypoint` walks a listener's
filter-chain matcher tree (a waypoint's `main_internal`: VIP -> port -> chain) and
prints LISTENER, CHAIN, MATCH, DESTINATION.  Only active and static listeners are
shown, as in istioctl.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from ambientctl.proxy.envoy import dump as envoydump
from ambientctl.proxy.envoy.dump import EnvoyDump, dict_of, field_of, list_of
from ambientctl.proxy.envoy.gosort import sort_by_key, sort_slice
from ambientctl.proxy.envoy.protojson import resource_json
from ambientctl.proxy.envoy.tabwriter import tabwrite

HCM = "envoy.filters.network.http_connection_manager"
TCP_PROXY = "envoy.filters.network.tcp_proxy"
BLACKHOLE = "BlackHoleCluster"
IP_MATCHER = "type.googleapis.com/xds.type.matcher.v3.IPMatcher"
PADDING = 1

# Named ALPN sets (istioctl prints the name when a chain's application_protocols equal one exactly).
_ALPN_NAMES = (
    ("App: HTTP TLS", ["http/1.0", "http/1.1", "h2c", "istio-http/1.0", "istio-http/1.1", "istio-h2"]),
    ("App: Istio HTTP Plain", ["istio", "istio-http/1.0", "istio-http/1.1", "istio-h2"]),
    ("App: TCP TLS", ["istio-peer-exchange", "istio"]),
    ("App: HTTP", ["http/1.0", "http/1.1", "h2c"]),
)


@dataclass(frozen=True)
class ListenerFilter:
    """`--address` (also matches additional addresses), `--port`, `--type`; case-insensitive like istioctl."""

    address: str = ""
    port: int = 0
    type: str = ""

    def matches(self, listener: dict[str, Any]) -> bool:
        if self.address and not any(a.lower() == self.address.lower()
                                    for a in [*additional_addresses(listener), listener_address(listener)]):
            return False
        if self.port and listener_port(listener) != self.port:
            return False
        return not self.type or listener_type(listener).lower() == self.type.lower()


# -- reading a listener ------------------------------------------------------------------------------------


def filter_chains(listener: dict[str, Any]) -> list[dict[str, Any]]:
    chains = [c for c in list_of(listener, "filter_chains") if isinstance(c, dict)]
    default = field_of(listener, "default_filter_chain")
    return chains + [default] if isinstance(default, dict) else chains


def listener_address(listener: dict[str, Any]) -> str:
    """The socket address, a pipe's path, or "" (internal listeners)."""
    address = dict_of(listener, "address")
    sock = field_of(address, "socket_address")
    if isinstance(sock, dict):
        return str(sock.get("address", ""))
    pipe = field_of(address, "pipe")
    return str(pipe.get("path", "")) if isinstance(pipe, dict) else ""


def additional_addresses(listener: dict[str, Any]) -> list[str]:
    return [str(dict_of(dict_of(item, "address"), "socket_address").get("address", ""))
            for item in list_of(listener, "additional_addresses")]


def listener_port(listener: dict[str, Any]) -> int:
    port = field_of(dict_of(dict_of(listener, "address"), "socket_address"), "port_value", 0)
    return port if isinstance(port, int) else _int(port)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def is_internal(listener: dict[str, Any]) -> bool:
    return field_of(listener, "internal_listener") is not None


def _filters(chain: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in list_of(chain, "filters") if isinstance(f, dict)]


def _mentions(node: Any, text: str) -> bool:
    """Whether any string value inside `node` contains `text` (istioctl greps the filter's proto bytes)."""
    if isinstance(node, str):
        return text in node
    if isinstance(node, dict):
        return any(_mentions(v, text) for k, v in node.items() if k != "@type")
    if isinstance(node, list):
        return any(_mentions(v, text) for v in node)
    return False


def _is_blackhole_tcp(flt: dict[str, Any]) -> bool:
    return _mentions(field_of(flt, "typed_config"), BLACKHOLE)


def listener_type(listener: dict[str, Any]) -> str:
    """HTTP, TCP, HTTP+TCP or UNKNOWN, by the HCM and (non-blackhole) TCP proxy filters it holds."""
    n_http = n_tcp = 0
    for chain in filter_chains(listener):
        for flt in _filters(chain):
            if flt.get("name") == HCM:
                n_http += 1
            elif flt.get("name") == TCP_PROXY and not _is_blackhole_tcp(flt):
                n_tcp += 1
    if n_http:
        return "HTTP+TCP" if n_tcp else "HTTP"
    return "TCP" if n_tcp else "UNKNOWN"


# -- MATCH and DESTINATION cells -------------------------------------------------------------------------------


def describe_chain_match(match: Any) -> str:
    """A filter_chain_match as istioctl's MATCH cell."""
    match = match if isinstance(match, dict) else {}
    parts = []
    names = list_of(match, "server_names")
    if names:
        parts.append("SNI: " + ",".join(map(str, names)))
    transport = field_of(match, "transport_protocol")
    if transport:
        parts.append(f"Trans: {transport}")
    alpns = list_of(match, "application_protocols")
    if alpns:
        named = next((label for label, wanted in _ALPN_NAMES if alpns == wanted), None)
        parts.append(named or "App: " + ",".join(map(str, alpns)))
    port_value = field_of(match, "destination_port")
    port = f":{_int(port_value)}" if port_value is not None else ""
    ranges = list_of(match, "prefix_ranges")
    if ranges:
        cidrs = ",".join(f"{field_of(r, 'address_prefix', '')}/{_int(field_of(r, 'prefix_len', 0))}" for r in ranges)
        parts.append(f"Addr: {cidrs}{port}")
    elif port:
        parts.append(f"Addr: *{port}")
    return "; ".join(parts) if parts else "ALL"


def describe_destination(filters: list[dict[str, Any]]) -> str:
    """DESTINATION: the first HCM or (non-blackhole) TCP proxy decides."""
    for flt in filters:
        config = dict_of(flt, "typed_config")
        if flt.get("name") == HCM:
            inline = field_of(config, "route_config")
            if isinstance(inline, dict):
                return describe_route_config(inline)
            rds_name = field_of(dict_of(config, "rds"), "route_config_name")
            return f"Route: {rds_name}" if rds_name else "HTTP"
        if flt.get("name") == TCP_PROXY and not _is_blackhole_tcp(flt):
            return _cluster_cell(str(field_of(config, "cluster", "")))
    return "Non-HTTP/Non-TCP"


def _cluster_cell(cluster: str) -> str:
    """`Cluster: NAME`, except Istio's special clusters, which already say `…Cluster`."""
    return cluster if "Cluster" in cluster else f"Cluster: {cluster}"


def describe_route_config(config: dict[str, Any]) -> str:
    """An inline route config: its one catch-all cluster, or `Inline Route: DOMAINS MATCHES; …`."""
    single = _match_all_cluster(config)
    if single:
        return single
    hosts = []
    for vh in list_of(config, "virtual_hosts"):
        domains = _vhost_domains(vh)
        routes = ", ".join(describe_route_match(field_of(r, "match")) for r in list_of(vh, "routes"))
        hosts.append(routes if not domains else f"{domains} {routes}")
    return "Inline Route: " + "; ".join(hosts)


def _match_all_cluster(config: dict[str, Any]) -> str:
    vhosts = list_of(config, "virtual_hosts")
    if len(vhosts) != 1 or list_of(vhosts[0], "domains") != ["*"]:
        return ""
    routes = list_of(vhosts[0], "routes")
    if len(routes) != 1 or field_of(dict_of(routes[0], "match"), "prefix") != "/":
        return ""
    action = field_of(routes[0], "route")
    cluster = field_of(action, "cluster") if isinstance(action, dict) else None
    return _cluster_cell(cluster) if isinstance(cluster, str) and cluster else ""


def _vhost_domains(vh: Any) -> str:
    domains = list_of(vh, "domains")
    return "" if domains == ["*"] else "/".join(map(str, domains))


def describe_route_match(match: Any) -> str:
    """A route's match: `PREFIX*`, `PathPrefix:/p`, an exact path, `regex R` (headers are not shown)."""
    if match.__class__ is not dict:
        return ""
    conds = []
    prefix = match.get("prefix")
    if prefix:
        conds.append(f"{prefix}*")
    separated = match.get("path_separated_prefix")
    if separated:
        conds.append(f"PathPrefix:{separated}")
    path = match.get("path")
    if path:
        conds.append(str(path))
    regex = match.get("safe_regex")
    if regex.__class__ is dict:
        conds.append(f"regex {regex.get('regex') or ''}")
    return " ".join(conds)


# -- the tables -----------------------------------------------------------------------------------------------


def active_listeners(dump: EnvoyDump) -> list[dict[str, Any]]:
    """Dynamic active listeners, then static ones (istioctl's order before sorting)."""
    envoydump.require(dump, envoydump.LISTENERS)
    found = envoydump.active_then_static(dump.listeners())
    if not found:
        raise envoydump.nothing_found(dump, "listeners")
    return found


def _sort_key(listener: dict[str, Any]) -> tuple[int, str, str]:
    return listener_port(listener), listener_address(listener), listener_type(listener)


def listener_rows(dump: EnvoyDump, flt: ListenerFilter, verbose: bool = True,
                  config_type: bool = False) -> list[list[str]]:
    rows = []
    chosen = sort_by_key([item for item in active_listeners(dump) if flt.matches(item)], _sort_key)
    for item in chosen:
        addresses = ",".join([listener_address(item), *additional_addresses(item)])
        port = str(listener_port(item))
        lead = [f"listener/{field_of(item, 'name', '')}"] if config_type else []
        if not verbose:
            rows.append([*lead, addresses, port, listener_type(item)])
            continue
        matches = [(describe_chain_match(field_of(c, "filter_chain_match")), describe_destination(_filters(c)))
                   for c in filter_chains(item)]
        sort_by_key(matches, lambda m: m[1], reverse=True)  # by destination, descending
        rows.extend([*lead, addresses, port, match, destination] for match, destination in matches)
    return rows


def format_listeners(dump: EnvoyDump, flt: ListenerFilter = ListenerFilter(), verbose: bool = True,
                     config_type: bool = False) -> str:
    headers = (["NAME"] if config_type else []) + ["ADDRESSES", "PORT"] + \
              (["MATCH", "DESTINATION"] if verbose else ["TYPE"])
    return tabwrite([headers, *listener_rows(dump, flt, verbose, config_type)], padding=PADDING)


def listeners_document(dump: EnvoyDump, flt: ListenerFilter = ListenerFilter()) -> list[Any]:
    """`-o json|yaml`: the matching Listener resources (dump order, like istioctl), in istioctl's JSON names."""
    return [resource_json(item) for item in active_listeners(dump) if flt.matches(item)]


# -- the waypoint view ----------------------------------------------------------------------------------------


def _waypoint_less(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two internal listeners by name; otherwise by port, address, type (internal ones have port 0)."""
    if is_internal(a) and is_internal(b):
        return str(field_of(a, "name", "")) < str(field_of(b, "name", ""))
    return _sort_key(a) < _sort_key(b)


def waypoint_rows(dump: EnvoyDump) -> list[list[str]]:
    rows = []
    for item in sort_slice(active_listeners(dump), _waypoint_less):
        chains = filter_chains(item)
        lname = "envoy://" + str(field_of(item, "name", ""))
        if is_internal(item) and len(chains) == 1 and field_of(chains[0], "name") == lname:
            lname = "internal"
        matcher = field_of(item, "filter_chain_matcher")
        for fc in chains:
            name = str(field_of(fc, "name", ""))
            destination = describe_destination(_filters(fc))
            matches = chain_matches(matcher, fc) if isinstance(matcher, dict) else \
                [describe_chain_match(field_of(fc, "filter_chain_match"))]
            rows.extend([lname, name, m, destination] for m in matches)
    return rows


def format_waypoint(dump: EnvoyDump) -> str:
    return tabwrite([["LISTENER", "CHAIN", "MATCH", "DESTINATION"], *waypoint_rows(dump)], padding=PADDING)


def _on_match(node: Any) -> tuple[str, Any]:
    """An OnMatch: ("action", chain name) or ("matcher", the nested matcher) or ("", None)."""
    if not isinstance(node, dict):
        return "", None
    action = field_of(node, "action")
    if isinstance(action, dict):
        return "action", field_of(action, "name", "")
    nested = field_of(node, "matcher")
    if isinstance(nested, dict):
        return "matcher", nested
    return "", None


def chain_matches(matcher: dict[str, Any], chain: dict[str, Any]) -> list[str]:
    """How traffic reaches `chain` through the listener's matcher tree (`ip=VIP -> port=9080`),
    `UNMATCHED` for the fallback chain, `NONE` when nothing leads to it."""
    name = str(field_of(chain, "name", ""))
    kind, target = _on_match(field_of(matcher, "on_no_match"))
    if kind == "action" and target == name:
        return ["UNMATCHED"]
    if kind == "matcher":
        found, ok = _walk(name, target)
        return found if ok else ["NONE"]
    found, ok = _walk(name, matcher)
    return found if ok else ["NONE"]


def _walk(name: str, matcher: dict[str, Any]) -> tuple[list[str], bool]:
    kind, target = _on_match(field_of(matcher, "on_no_match"))
    if kind == "action" and target == name:
        return ["ANY"], True
    if kind == "matcher":
        found, ok = _walk(name, target)
        return (found, True) if ok else (["NONE"], True)
    tree = dict_of(matcher, "matcher_tree")
    input_name = str(field_of(dict_of(tree, "input"), "name", ""))
    branches, equality = _branches(tree)
    outputs = []
    for key, on_match in branches:
        kind, target = _on_match(on_match)
        if kind == "action":
            if target == name:
                outputs.append(f"{input_name}{equality}{key}")
        elif kind == "matcher":
            children, ok = _walk(name, target)
            if ok:
                outputs.extend(f"{input_name}{equality}{key} -> {child}" for child in children)
    return outputs, bool(outputs)


def _branches(tree: dict[str, Any]) -> tuple[Iterable[tuple[str, Any]], str]:
    """The (key, OnMatch) pairs of an exact/prefix map or an IP matcher's ranges (prefix /32 and /128 elided)."""
    exact = field_of(tree, "exact_match_map")
    if isinstance(exact, dict):
        return dict_of(exact, "map").items(), "="
    prefix = field_of(tree, "prefix_match_map")
    if isinstance(prefix, dict):
        return dict_of(prefix, "map").items(), "^"
    custom = dict_of(dict_of(tree, "custom_match"), "typed_config")
    if custom.get("@type") != IP_MATCHER:
        return [], "="
    by_cidr: dict[str, Any] = {}
    for range_matcher in list_of(custom, "range_matchers"):
        for cidr in list_of(range_matcher, "ranges"):
            text = str(field_of(cidr, "address_prefix", ""))
            length = _int(field_of(cidr, "prefix_len", 0))
            if length not in (32, 128):
                text += f"/{length}"
            by_cidr[text] = field_of(range_matcher, "on_match")
    return by_cidr.items(), "="
