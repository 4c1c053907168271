"""`pc cluster`: Envoy clusters as istioctl lists them (SERVICE FQDN, PORT, SUBSET, DIRECTION, TYPE, DESTINATION RULE).

Cluster names istiod generates are subset keys, `DIRECTION|PORT|SUBSET|FQDN`
(`outbound|9080|v1|reviews.default.svc.cluster.local`, a waypoint's
`inbound-vip|9080|http/v1|…`); other names (`BlackHoleCluster`, `main_internal`)
are shown whole with `-` in the other columns.  Like istioctl: active and static
clusters only (warming ones are not listed), sorted by FQDN, subset, port, direction.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from typing import Any, NamedTuple

from ambientctl.proxy.envoy import dump as envoydump
from ambientctl.proxy.envoy.dump import EnvoyDump, dict_of, field_of
from ambientctl.proxy.envoy.gosort import sort_by_key
from ambientctl.proxy.envoy.protojson import resource_json
from ambientctl.proxy.envoy.tabwriter import tabwrite

HEADERS = ["SERVICE FQDN", "PORT", "SUBSET", "DIRECTION", "TYPE", "DESTINATION RULE"]
PADDING = 5


class SubsetKey(NamedTuple):
    """A cluster name read as istiod's subset key (empty parts for names that are not one).

    The fields are in istioctl's sort order (FQDN, subset, port, direction), so keys sort as tuples."""

    fqdn: str
    subset: str
    port: int
    direction: str


@functools.lru_cache(maxsize=None)
def parse_subset_key(name: str) -> SubsetKey:
    """`DIR|PORT|SUBSET|FQDN`; a name with fewer than four `|` parts is all FQDN.

    A fourth part that holds another `|` leaves the FQDN empty, and a port that is
    not a number reads as 0: both as istiod's parser does."""
    parts = name.split("|")
    if len(parts) <= 3:
        return SubsetKey(name, "", 0, "")
    return SubsetKey(parts[3] if len(parts) == 4 else "", parts[2], _atoi(parts[1]), parts[0])


def _atoi(text: str) -> int:
    """Go's strconv.Atoi: an optional sign and decimal digits, anything else is 0."""
    if text.isdigit() and text.isascii():
        return int(text)
    body = text[1:] if text[:1] in "+-" else text
    if not body.isascii() or not body.isdigit():
        return 0
    return int(text)


@dataclass(frozen=True)
class ClusterFilter:
    """`--fqdn`, `--port`, `--subset`, `--direction`: substring tests on the cluster name, as istioctl does."""

    fqdn: str = ""
    port: int = 0
    subset: str = ""
    direction: str = ""

    def matches(self, name: str) -> bool:
        if self.fqdn and self.fqdn not in name:
            return False
        if self.direction and self.direction not in name:
            return False
        if self.subset and self.subset not in name:
            return False
        return not self.port or f"|{self.port}|" in name


def cluster_type(cluster: dict[str, Any]) -> str:
    """The discovery type; absent means STATIC (the enum's zero value, also for `cluster_type` clusters)."""
    value = field_of(cluster, "type")
    return value if isinstance(value, str) and value else "STATIC"


def describe_management(metadata: Any) -> str:
    """DESTINATION RULE / VIRTUAL SERVICE: `NAME.NAMESPACE` from istiod's `istio.config` metadata."""
    istio = dict_of(dict_of(metadata, "filter_metadata"), "istio")
    config = istio.get("config") if istio else None
    if config is None:
        return ""
    path = config if isinstance(config, str) else ""
    if path.startswith("/apis/networking.istio.io/"):
        pieces = path.split("/")
        return f"{pieces[7]}.{pieces[5]}" if len(pieces) == 8 else ""
    return "<unknown>"


def sorted_clusters(dump: EnvoyDump) -> list[dict[str, Any]]:
    """Active then static clusters, sorted as istioctl sorts them; errors as istioctl's do."""
    return [cluster for _, cluster in _keyed_clusters(dump)]


def _keyed_clusters(dump: EnvoyDump) -> list[tuple[SubsetKey, dict[str, Any]]]:
    envoydump.require(dump, envoydump.CLUSTERS)
    section = dump.section(envoydump.CLUSTERS)
    chosen = [holder["cluster"] for kind in ("dynamic_active_clusters", "static_clusters")
              for holder in section.get(kind) or () if holder.__class__ is dict and holder.get("cluster")]
    chosen = [c for c in chosen if c.__class__ is dict]
    if not chosen:
        raise envoydump.nothing_found(dump, "clusters")
    keyed = [(parse_subset_key(str(c.get("name") or "")), c) for c in chosen]
    return sort_by_key(keyed, operator.itemgetter(0))


def cluster_rows(dump: EnvoyDump, flt: ClusterFilter, config_type: bool = False) -> list[list[str]]:
    rows = []
    unfiltered = flt == ClusterFilter()
    for key, cluster in _keyed_clusters(dump):
        name = str(cluster.get("name") or "")
        if not unfiltered and not flt.matches(name):
            continue
        metadata = cluster.get("metadata")
        rule = describe_management(metadata) if metadata else ""
        kind = cluster.get("type") or "STATIC"
        if name.count("|") > 2:
            row = [key.fqdn, str(key.port), key.subset or "-", key.direction, kind, rule]
        else:
            # istioctl renames the cluster before printing it, so with NAME both columns show `cluster/…`
            shown = f"cluster/{name}" if config_type and name else name
            row = [shown, "-", "-", "-", kind, rule]
        if config_type and name:
            row.insert(0, f"cluster/{name}")
        rows.append(row)
    return rows


def format_clusters(dump: EnvoyDump, flt: ClusterFilter = ClusterFilter(), config_type: bool = False) -> str:
    headers = (["NAME"] if config_type else []) + HEADERS
    return tabwrite([headers, *cluster_rows(dump, flt, config_type)], padding=PADDING)


def clusters_document(dump: EnvoyDump, flt: ClusterFilter = ClusterFilter()) -> list[Any]:
    """`-o json|yaml`: the matching Cluster resources, in the table's order, in istioctl's JSON names."""
    return [resource_json(c) for c in sorted_clusters(dump) if flt.matches(str(field_of(c, "name", "")))]
