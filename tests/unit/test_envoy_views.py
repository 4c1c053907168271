"""The Envoy `pc` views (cluster, listener, route, endpoint, bootstrap, ecds, all) on real-shaped dumps.

Golden files pin the exact text (Go tabwriter spacing included); the other tests
state the rules that text follows, so a golden update cannot quietly change them.
UPDATE_GOLDEN=1 rewrites the golden files."""

from __future__ import annotations

import datetime as dt
import os
import random
from pathlib import Path

import pytest

from ambientctl.errors import InvalidInputError, NotFoundError
from ambientctl.proxy.envoy import bootstrap, clusters, ecds, endpoints, listeners, routes, summary
from ambientctl.proxy.envoy import dump as envoydump
from ambientctl.proxy.envoy.gosort import sort_by_key, sort_slice
from ambientctl.proxy.envoy.protojson import to_proto_json
from tests.support import envoydump as fixtures
from tests.support.dumpshapes import GOLDEN_NOW

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "envoy"


def assert_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return
    assert path.exists(), f"{path} is missing: run the tests with UPDATE_GOLDEN=1"
    assert text == path.read_text(), f"output differs from {path} (UPDATE_GOLDEN=1 rewrites it)"


@pytest.fixture(scope="module")
def docs() -> dict[str, dict]:
    return {name: build() for name, build in fixtures.ALL.items()}


def load(docs: dict, name: str) -> envoydump.EnvoyDump:
    return envoydump.from_document(docs[name], f"{name}.json")


def rows(text: str) -> list[list[str]]:
    """Cells of a Go-tabwriter table: split on runs of 2+ spaces after the header (enough for these tests)."""
    import re

    return [re.split(r"\s{2,}", line.strip()) for line in text.splitlines()[1:] if line.strip()]


# -- golden files ------------------------------------------------------------------------------------

VIEWS = {
    "cluster": lambda d: clusters.format_clusters(d),
    "listener": lambda d: listeners.format_listeners(d),
    "listener_short": lambda d: listeners.format_listeners(d, verbose=False),
    "route": lambda d: routes.format_routes(d),
    "route_short": lambda d: routes.format_routes(d, verbose=False),
    "eds": lambda d: endpoints.format_eds(d),
    "bootstrap": lambda d: bootstrap.format_summary(d),
    "all": lambda d: summary.format_summary(d, now=GOLDEN_NOW, with_headers=True),
}


@pytest.mark.parametrize("view", sorted(VIEWS))
@pytest.mark.parametrize("name", ["waypoint", "gateway", "sidecar"])
def test_golden_views(docs, name, view):
    assert_golden(f"pc_{view}_{name}.txt", VIEWS[view](load(docs, name)))


@pytest.mark.parametrize("name", ["waypoint", "gateway", "sidecar"])
def test_golden_endpoint_from_clusters_json(docs, name):
    assert_golden(f"pc_endpoint_{name}.txt", endpoints.format_hosts(fixtures.clusters_json(docs[name])))


def test_golden_waypoint_view_and_ecds(docs):
    assert_golden("pc_listener_waypoint_view.txt", listeners.format_waypoint(load(docs, "waypoint")))
    assert_golden("pc_ecds_sidecar.txt", ecds.format_ecds(load(docs, "sidecar")))


# -- the rules behind the text ------------------------------------------------------------------------


def test_cluster_rows_sorted_by_fqdn_subset_port_direction_and_warming_left_out(docs):
    table = rows(clusters.format_clusters(load(docs, "waypoint")))
    reviews = [r for r in table if r[0] == "reviews.default.svc.cluster.local"]
    assert [r[2] for r in reviews] == ["http", "http/v1", "http/v2", "tcp", "tcp/v1", "tcp/v2"]
    assert all(r[3] == "inbound-vip" and r[4] == "EDS" and r[5] == "reviews.default" for r in reviews)
    assert not any("http/v3" in r for r in table)  # the warming cluster
    assert ["BlackHoleCluster", "-", "-", "-", "STATIC"] in table  # no metadata: empty last cell


@pytest.mark.parametrize("flt,expected", [
    (clusters.ClusterFilter(fqdn="reviews"), 6),
    (clusters.ClusterFilter(subset="v1"), 2),
    (clusters.ClusterFilter(port=9090), 1),
    (clusters.ClusterFilter(direction="inbound"), 11),   # a substring: inbound-vip matches
    (clusters.ClusterFilter(fqdn="ratings", port=9080, direction="inbound-vip", subset="tcp"), 1),
])
def test_cluster_filters_are_substring_tests_on_the_name(docs, flt, expected):
    assert len(clusters.cluster_rows(load(docs, "waypoint"), flt)) == expected


def test_cluster_type_defaults_to_static_and_odd_names_parse_like_istiod():
    assert clusters.cluster_type({"name": "x"}) == "STATIC"
    assert clusters.parse_subset_key("outbound|80||a.b") == clusters.SubsetKey(fqdn="a.b", subset="", port=80, direction="outbound")
    assert clusters.parse_subset_key("outbound|x|s|a|b").fqdn == ""          # a 5th part empties the FQDN
    assert clusters.parse_subset_key("outbound|http|s|a.b").port == 0        # not a number: 0
    assert clusters.parse_subset_key("outbound_.80_._.a.b") == clusters.SubsetKey(fqdn="outbound_.80_._.a.b", subset="", port=0, direction="")


def test_destination_rule_cell():
    meta = fixtures.istio_config("destination-rule", "ns", "dr")
    assert clusters.describe_management(meta) == "dr.ns"
    assert clusters.describe_management({"filter_metadata": {"istio": {"config": "/apis/x/y"}}}) == "<unknown>"
    assert clusters.describe_management({"filter_metadata": {"istio": {"config": "/apis/networking.istio.io/v1"}}}) == ""
    assert clusters.describe_management({"filter_metadata": {"istio": {}}}) == ""


def test_listener_cells(docs):
    table = listeners.listener_rows(load(docs, "sidecar"), listeners.ListenerFilter())
    cells = {(r[0], r[1], r[2]): r[3] for r in table}
    assert cells[("0.0.0.0", "80", "ALL")] == "Route: 80"
    assert cells[("10.96.0.1", "443", "SNI: kubernetes.default.svc.cluster.local")].startswith("Cluster: outbound|443")
    assert cells[("0.0.0.0", "15090", "ALL")] == "Inline Route: /stats/prometheus*"
    assert cells[("0.0.0.0", "15001", "ALL")] == "PassthroughCluster"          # `…Cluster` names shown bare
    assert cells[("0.0.0.0", "15001", "Addr: *:15001")] == "Non-HTTP/Non-TCP"  # the blackhole chain
    assert ("0.0.0.0", "15006", "Trans: tls; App: HTTP TLS; Addr: 0.0.0.0/0") in cells
    assert ("10.96.0.20,fd00:10:96::14", "8000", "ALL") in cells              # additional addresses
    assert ("/var/run/app.sock", "0", "ALL") in cells                         # a pipe


def test_listener_types_and_filters(docs):
    sidecar = load(docs, "sidecar")
    short = {(r[0], r[1]): r[2] for r in listeners.listener_rows(sidecar, listeners.ListenerFilter(), verbose=False)}
    assert short[("0.0.0.0", "9080")] == "HTTP+TCP"
    assert short[("0.0.0.0", "15001")] == "TCP"      # the blackhole chain does not count
    assert short[("0.0.0.0", "80")] == "HTTP"
    only = listeners.listener_rows(sidecar, listeners.ListenerFilter(address="FD00:10:96::14"), verbose=False)
    assert only == [["10.96.0.20,fd00:10:96::14", "8000", "TCP"]]
    assert len(listeners.listener_rows(sidecar, listeners.ListenerFilter(type="http"), verbose=False)) == 4
    assert listeners.listener_rows(sidecar, listeners.ListenerFilter(port=15010), verbose=False) == [
        ["0.0.0.0", "15010", "HTTP"]]


def test_waypoint_view_walks_the_main_internal_matcher_tree(docs):
    table = listeners.waypoint_rows(load(docs, "waypoint"))
    by_chain = {}
    for lname, chain, match, destination in table:
        by_chain.setdefault((lname, chain), []).append((match, destination))
    reviews = by_chain[("envoy://main_internal", f"inbound-vip|9080|http|{fixtures.SVC.format('reviews')}")]
    assert reviews == [("ip=10.96.0.11 -> port=9080", "Inline Route: /*")]
    assert ("ip=10.244.3.0/24 -> ANY", "Cluster: encap") in by_chain[("envoy://main_internal", "direct-tcp")]
    assert ("ip=10.244.1.10 -> application-protocol='h2c'", "Cluster: encap") in \
        by_chain[("envoy://main_internal", "direct-http")]
    assert by_chain[("envoy://main_internal", f"inbound-vip|9080|tcp|{fixtures.SVC.format('reviews')}")] == [
        ("NONE", f"Cluster: inbound-vip|9080|tcp|{fixtures.SVC.format('reviews')}")]
    assert table[0][:2] == ["internal", "envoy://connect_originate"]  # its one chain is named like it


def test_matcher_fallback_chain_is_unmatched():
    chain = {"name": "fallback"}
    matcher = {"on_no_match": {"action": {"name": "fallback"}}, "matcher_tree": {"input": {"name": "port"},
               "exact_match_map": {"map": {}}}}
    assert listeners.chain_matches(matcher, chain) == ["UNMATCHED"]
    assert listeners.chain_matches({"matcher_list": {}}, chain) == ["NONE"]


def test_route_cells(docs):
    gateway = rows(routes.format_routes(load(docs, "gateway")))
    matches = [r[3] for r in gateway if r[0] == "http.80" and r[1] == "bookinfo.example.com:80"]
    assert matches == ["/productpage", "PathPrefix:/static", "PathPrefix:/get", "regex /api/v1/products/[0-9]+", "/*"]
    assert ["http.80", "blackhole:80", "*", "/*", "404"] in gateway
    assert all(r[4] == "bookinfo-0-istio-autogenerated-k8s-gateway.default" for r in gateway
               if r[1] == "bookinfo.example.com:80")
    sidecar = rows(routes.format_routes(load(docs, "sidecar")))
    assert ["80", "httpbin.default.svc.cluster.local:80", "httpbin, httpbin.default + 2 more...", "/*"] in sidecar
    assert not any(r[1] == "allow_any" for r in sidecar)  # PassthroughCluster routes are not listed


def test_domains_cell():
    assert routes.describe_domains(["a"]) == "a"
    assert routes.describe_domains(["a.ns.svc.cluster.local", "a", "a.ns.svc", "a.ns"]) == "a, a.ns"
    assert routes.describe_domains(["a", "b", "c", "d:80"]) == "a, b + 1 more..."
    assert routes.describe_domains(["x.ns.svc.cluster.local", "x.ns.svc.cluster.local:80", "x.ns", "x.ns.svc"]) == \
        "x.ns"
    assert routes.describe_domains(["[fd00:10:96::7fc7]", "[fd00:10:96::7fc7]:80", "b:80"]) == "[fd00:10:96::7fc7]"
    assert routes.describe_domains(["[fd00::1]", "b:80"]) == ""  # two colons only: read as HOST:PORT, as istioctl does
    assert routes.describe_domains([]) == ""


def test_route_order_follows_gos_comparator_numbers_only():
    configs = [{"name": n} for n in ["9080", "b", "80", "15010", "a"]]
    ordered = [c["name"] for c in sort_slice(configs, routes._less)]
    assert ordered == ["9080", "b", "80", "15010", "a"]  # non-numeric names stop numbers moving past them
    assert [c["name"] for c in sort_slice([{"name": n} for n in ["9080", "80", "15010"]], routes._less)] == \
        ["80", "9080", "15010"]


def test_endpoint_rows_health_outlier_and_internal_addresses(docs):
    waypoint = rows(endpoints.format_hosts(fixtures.clusters_json(docs["waypoint"])))
    assert ["envoy://connect_originate/10.244.2.13:9080", "UNKNOWN", "OK",
            f"inbound-vip|9080|http|{fixtures.SVC.format('ratings')}"] in waypoint  # no health status: UNKNOWN
    gateway = rows(endpoints.format_hosts(fixtures.clusters_json(docs["gateway"])))
    assert ["10.244.2.12:9080", "UNHEALTHY", "FAILED", "outbound|9080||reviews.default.svc.cluster.local"] in gateway
    assert [r[0] for r in gateway] == sorted(r[0] for r in gateway)


@pytest.mark.parametrize("flt,count", [
    (endpoints.EndpointFilter(status="healthy"), 4),
    (endpoints.EndpointFilter(port=9080), 4),
    (endpoints.EndpointFilter(address="10.244.1.11"), 1),
    (endpoints.EndpointFilter(cluster="AGENT"), 1),
])
def test_endpoint_filters(docs, flt, count):
    assert len(endpoints.host_rows(fixtures.clusters_json(docs["gateway"]), flt)) == count


def test_eds_rows_locality_and_filters(docs):
    table = endpoints.eds_rows(load(docs, "gateway"))
    assert ["10.244.1.10:9080", "HEALTHY", "us-east1/us-east1-b/rack1",
            "outbound|9080||productpage.default.svc.cluster.local"] in table
    only = endpoints.eds_rows(load(docs, "gateway"), endpoints.EndpointFilter(address="10.244.2.12:9080"))
    assert only == [["10.244.2.12:9080", "UNHEALTHY", "us-east1/us-east1-c",
                     "outbound|9080||reviews.default.svc.cluster.local"]]
    assert endpoints.eds_rows(envoydump.from_document(fixtures.waypoint_dump(include_eds=False))) == []


def test_bootstrap_summary_and_version_label(docs):
    assert bootstrap.summary_rows(load(docs, "gateway")) == [
        ["Istio Version:", "1.31.0"], ["Istio Proxy Version:", "6b2c1a3f0e9d"],
        ["Envoy Version:", "1.37.1-dev/Clean/RELEASE/BoringSSL"]]


def test_ecds_merges_every_section_and_keeps_unknown_types(docs):
    table = ecds.ecds_rows(load(docs, "sidecar"))
    assert ["istio-system.future-filter", "example.future.v9.SomethingNew"] in table
    assert len(table) == 4 and len(ecds.ecds_document(load(docs, "sidecar"))["ecdsFilters"]) == 4


def test_documents_use_istioctls_json_names_and_keep_map_and_struct_keys(docs):
    doc = clusters.clusters_document(load(docs, "waypoint"), clusters.ClusterFilter(fqdn="reviews", subset="http/v1"))
    assert len(doc) == 1 and "@type" not in doc[0]
    assert doc[0]["edsClusterConfig"]["edsConfig"]["initialFetchTimeout"] == "0s"
    assert doc[0]["metadata"]["filterMetadata"]["istio"]["config"].endswith("/reviews")
    boot = bootstrap.bootstrap_document(load(docs, "waypoint"))
    assert boot["bootstrap"]["node"]["metadata"]["ISTIO_VERSION"] == "1.31.0"  # a Struct: keys as they are
    assert "userAgentBuildVersion" in boot["bootstrap"]["node"]
    assert to_proto_json({"json_format": {"start_time": 1}, "typed_per_filter_config": {"envoy.x_y": {"a_b": 1}}}) == \
        {"jsonFormat": {"start_time": 1}, "typedPerFilterConfig": {"envoy.x_y": {"aB": 1}}}
    lst = listeners.listeners_document(load(docs, "waypoint"), listeners.ListenerFilter(port=15008))
    assert [item["name"] for item in lst] == ["connect_terminate"]


def test_missing_and_empty_sections_are_one_line_errors(docs):
    no_clusters = envoydump.from_document(fixtures.without(docs["gateway"], "ClustersConfigDump"), "g.json")
    with pytest.raises(InvalidInputError, match="no clusters section"):
        clusters.format_clusters(no_clusters)
    empty = envoydump.from_document({"configs": [{"@type": envoydump.LISTENERS}]}, "e.json")
    with pytest.raises(NotFoundError, match="no listeners found"):
        listeners.format_listeners(empty)


def test_all_stops_at_the_first_section_it_cannot_show(docs):
    no_routes = envoydump.from_document(fixtures.without(docs["gateway"], "RoutesConfigDump"), "g.json")
    printed = []
    with pytest.raises(InvalidInputError, match="no routes section"):
        for piece in summary.iter_summary(no_routes, summary.AllFilters(), GOLDEN_NOW):
            printed.append(piece)
    assert "listener/0.0.0.0_80" in "".join(printed)


def test_all_applies_port_and_address_to_clusters_listeners_and_endpoints(docs):
    flt = summary.AllFilters(cluster=clusters.ClusterFilter(port=9080), listener=listeners.ListenerFilter(port=9080),
                             endpoint=endpoints.EndpointFilter(port=9080))
    text = summary.format_summary(load(docs, "sidecar"), flt, now=GOLDEN_NOW)
    assert "cluster/outbound|80||httpbin" not in text and "cluster/outbound|9080||reviews" in text
    assert "listener/0.0.0.0_80 " not in text and "listener/0.0.0.0_9080" in text


def test_gosort_matches_go_on_ties():
    """Go 1.19+ sort.Slice on these inputs (orders recorded from Go): ties are not kept in input order above 12."""
    items = [(i % 3, i) for i in range(20)]
    got = sort_slice(list(items), lambda a, b: a[0] < b[0])
    assert [k for k, _ in got] == sorted(k for k, _ in items)   # sorted by key, whatever the ties
    small = [(i % 2, i) for i in range(10)]
    assert sort_slice(list(small), lambda a, b: a[0] < b[0]) == sorted(small)  # insertion sort: stable
    data = list(range(200))
    random.Random(7).shuffle(data)
    assert sort_by_key(list(data), lambda x: x) == sorted(data)
    assert sort_slice(list(data), lambda a, b: a < b) == sorted(data)
