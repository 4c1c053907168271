"""`pc route`: route configurations as istioctl lists them.

Verbose (istioctl's default): one row per route, NAME, VHOST NAME, DOMAINS (the
shortest forms, `a, b + N more...`), MATCH (`/prefix*`, `PathPrefix:/get`, exact
path, `regex …`) and VIRTUAL SERVICE (`NAME.NAMESPACE` from istiod's metadata);
routes to PassthroughCluster are left out, and a virtual host without routes is
one `/*` row answered `404`.  `--verbose=false`: NAME and the number of VIRTUAL HOSTS.
Inline route configs of listeners are listed too: Envoy dumps them as static ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ambientctl.proxy.envoy import dump as envoydump
from ambientctl.proxy.envoy.clusters import describe_management
from ambientctl.proxy.envoy.dump import EnvoyDump, field_of, list_of
from ambientctl.proxy.envoy.gosort import sort_slice
from ambientctl.proxy.envoy.listeners import describe_route_match
from ambientctl.proxy.envoy.protojson import resource_json
from ambientctl.proxy.envoy.tabwriter import tabwrite

PADDING = 5
PASSTHROUGH = "PassthroughCluster"
MAX_DOMAINS = 2


@dataclass(frozen=True)
class RouteFilter:
    """`--name`: the exact route config name."""

    name: str = ""

    def matches(self, config: dict[str, Any]) -> bool:
        return not self.name or self.name == str(field_of(config, "name", ""))


def _numeric(name: str) -> int | None:
    """Go's strconv.Atoi, or None where it fails."""
    body = name[1:] if name[:1] in "+-" else name
    return int(name) if body.isascii() and body.isdigit() else None


def _less(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """istioctl's comparator: numeric names by value; any non-numeric name compares as "not less"."""
    x, y = _numeric(str(field_of(a, "name", ""))), _numeric(str(field_of(b, "name", "")))
    return x is not None and y is not None and x < y


def sorted_route_configs(dump: EnvoyDump) -> list[dict[str, Any]]:
    envoydump.require(dump, envoydump.ROUTES)
    found = envoydump.active_then_static(dump.route_configs())
    if not found:
        raise envoydump.nothing_found(dump, "routes")
    return sort_slice(found, _less)


def describe_domains(domains: list[Any]) -> str:
    """One domain as it is; several: those without a port (IPv6 literals kept), short forms only, at most 2."""
    if not domains:
        return ""
    if len(domains) == 1:
        return str(domains[0])
    without_port = [d for d in map(str, domains) if ":" not in d or (d[-1:] == "]" and d.count(":") > 2)]
    short = _unexpand(without_port)
    if len(short) > MAX_DOMAINS:
        return f"{short[0]}, {short[1]} + {len(short) - MAX_DOMAINS} more..."
    return ", ".join(short)


_LONG_FORMS = (".svc.cluster.local", ".svc")


def _unexpand(domains: list[str]) -> list[str]:
    """Drop `x.svc.cluster.local` and `x.svc` where the shorter `x` is also there."""
    present = set(domains)
    out = []
    for name in domains:
        if name.endswith(_LONG_FORMS) and ((name.endswith(".svc") and name[:-4] in present)
                                           or (name.endswith(".svc.cluster.local") and name[:-18] in present)):
            continue
        out.append(name)
    return out


def _is_passthrough(route: dict[str, Any]) -> bool:
    action = route.get("route")
    return action.__class__ is dict and action.get("cluster") == PASSTHROUGH


def route_rows(dump: EnvoyDump, flt: RouteFilter, verbose: bool = True, config_type: bool = False) -> list[list[str]]:
    rows = []
    for config in sorted_route_configs(dump):
        if not flt.matches(config):
            continue
        name = str(field_of(config, "name", ""))
        if config_type:
            name = f"route/{name}"
        vhosts = list_of(config, "virtual_hosts")
        if not verbose:
            rows.append([name, str(len(vhosts))])
            continue
        for vh in vhosts:
            if vh.__class__ is not dict:
                continue
            vname = str(vh.get("name") or "")
            domains = describe_domains(vh.get("domains") or ())
            routes = vh.get("routes") or ()
            for r in routes:
                if r.__class__ is not dict:
                    continue
                action = r.get("route")
                if action.__class__ is dict and action.get("cluster") == PASSTHROUGH:
                    continue
                metadata = r.get("metadata")
                rows.append([name, vname, domains, describe_route_match(r.get("match")),
                             describe_management(metadata) if metadata else ""])
            if not routes:
                rows.append([name, vname, domains, "/*", "404"])
    return rows


def format_routes(dump: EnvoyDump, flt: RouteFilter = RouteFilter(), verbose: bool = True,
                  config_type: bool = False) -> str:
    headers = ["NAME", "VHOST NAME", "DOMAINS", "MATCH", "VIRTUAL SERVICE"] if verbose else ["NAME", "VIRTUAL HOSTS"]
    return tabwrite([headers, *route_rows(dump, flt, verbose, config_type)], padding=PADDING)


def routes_document(dump: EnvoyDump, flt: RouteFilter = RouteFilter()) -> list[Any]:
    return [resource_json(c) for c in sorted_route_configs(dump) if flt.matches(c)]
