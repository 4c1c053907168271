"""`proxy-status`: istiod's `/debug/syncz` read into istioctl's sync states and tables (recorded
documents, golden files), and `proxy-status POD`'s istiod-vs-proxy diff."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ambientctl.errors import InvalidInputError
from ambientctl.proxy.envoy import dump as envoydump
from ambientctl.proxy.envoy import status
from tests.support import syncz
from tests.support.golden import assert_golden

ISTIOD = "istiod-6c8f7d9b4-qwert"


@pytest.fixture
def mesh() -> list[status.ProxySync]:
    return status.parse_syncz(syncz.encoded(syncz.ambient_mesh()), ISTIOD, "istiod")


# -- reading syncz ---------------------------------------------------------------------------------


def test_states_are_derived_as_istiod_derives_them(mesh):
    by_id = {p.proxy_id: p for p in mesh}
    gateway = by_id["bookinfo-gateway-istio-6b8d4c7f9-p5m2n.default"]
    assert gateway.types[status.ROUTE_TYPE].status == "ERROR"       # a last error wins over nonces
    assert gateway.types[syncz.SECRET].status == "NOT SENT"
    assert by_id["waypoint-7d9c8b9f5-x2kq4.default"].types[status.ENDPOINT_TYPE].status == "STALE"
    assert by_id["ztunnel-4kx9p.istio-system"].types[syncz.ADDRESS].status == "SYNCED"
    assert gateway.namespace == "default" and gateway.istiod == ISTIOD


def test_nanosecond_timestamps_are_read(mesh):
    sent = mesh[0].types[syncz.ADDRESS].sent_time
    assert sent == syncz.NOW - dt.timedelta(seconds=95) + dt.timedelta(microseconds=123456)


@pytest.mark.parametrize("body", [b"null", b"[]"])
def test_no_connected_proxies(body):
    proxies = status.parse_syncz(body, ISTIOD, "istiod")
    assert proxies == []
    assert status.format_table(proxies) == "NAME     CLUSTER     ISTIOD     VERSION     SUBSCRIBED TYPES\n"


@pytest.mark.parametrize("body, message", [
    (b"<html>not found</html>", "did not answer JSON"),
    (b'{"proxy": "x"}', "expected a list of proxies"),
])
def test_answers_that_are_not_syncz(body, message):
    with pytest.raises(InvalidInputError, match=message):
        status.parse_syncz(body, ISTIOD, "istiod")


def test_namespace_filter(mesh):
    assert [p.proxy_id for p in status.in_namespace(mesh, "istio-system")] == [
        "ztunnel-4kx9p.istio-system", "ztunnel-zq7rm.istio-system"]
    assert len(status.in_namespace(mesh, None)) == len(mesh)


# -- tables ------------------------------------------------------------------------------------------


def test_table_golden(mesh):
    assert_golden("envoy/proxy_status.txt", status.format_table(mesh))


def test_verbose_golden(mesh):
    assert_golden("envoy/proxy_status_verbose.txt", status.format_verbose(mesh, syncz.NOW))


def test_subscribed_types_are_in_istioctls_order(mesh):
    rows = {line.split()[0]: line for line in status.format_table(mesh).splitlines()[1:]}
    assert rows["waypoint-7d9c8b9f5-x2kq4.default"].endswith("4 (CDS,LDS,EDS,RDS)")
    assert rows["ztunnel-4kx9p.istio-system"].endswith("2 (WADS,WDS)")
    assert rows["bookinfo-gateway-istio-6b8d4c7f9-p5m2n.default"].endswith("5 (CDS,LDS,EDS,RDS,SDS)")


def test_a_proxy_without_types_subscribes_to_none():
    [proxy] = status.parse_syncz(json.dumps([syncz.proxy("bare.default", "sidecar", {})]).encode(), ISTIOD, "i")
    assert status.format_table([proxy]).splitlines()[1].endswith(" 0")


@pytest.mark.parametrize("seconds, text", [
    (0, "0s"), (119, "119s"), (120, "2m"), (330, "5m30s"), (600, "10m"), (179 * 60, "179m"), (3 * 3600, "3h"),
    (3 * 3600 + 600, "3h10m"), (8 * 3600, "8h"), (47 * 3600, "47h"), (48 * 3600, "2d"), (50 * 3600, "2d2h"),
    (8 * 86400, "8d"), (729 * 86400, "729d"), (730 * 86400, "2y"), (731 * 86400, "2y1d"), (9 * 365 * 86400, "9y"),
    (-1, "0s"), (-5, "<invalid>"),
])
def test_kubernetes_human_duration(seconds, text):
    assert status.kube_duration(dt.timedelta(seconds=seconds)) == text


def test_never_sent_time_is_go_zero_time_saturated():
    assert status.kube_duration(syncz.NOW - dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc)) == "292y"


def test_json_document_is_one_list(mesh):
    document = status.status_document(mesh)
    assert [d["proxy"] for d in document] == sorted(p.proxy_id for p in mesh)
    gateway = document[0]
    routes = next(t for t in gateway["types"] if t["shortType"] == "RDS")
    assert routes["status"] == "ERROR" and "duplicate" in routes["error"]
    json.dumps(document)


# -- proxy-status POD ------------------------------------------------------------------------------------


def _dump(clusters: list, listeners: list, routes: list, *, camel: bool = False) -> envoydump.EnvoyDump:
    def k(name: str) -> str:
        if not camel:
            return name
        head, *rest = name.split("_")
        return head + "".join(p.title() for p in rest)

    doc = {"configs": [
        {"@type": envoydump.CLUSTERS, k("dynamic_active_clusters"): [
            {k("version_info"): "v1", k("last_updated"): "2026-09-01T11:00:00Z",
             "cluster": {"@type": status.CLUSTER_TYPE, "name": name, k("connect_timeout"): "10s"}}
            for name in clusters]},
        {"@type": envoydump.LISTENERS, k("dynamic_listeners"): [
            {"name": name, k("active_state"): {k("version_info"): "v1", "listener": {
                "@type": status.LISTENER_TYPE, "name": name}},
             **({k("draining_state"): {"listener": {"name": name}}} if name == "main_internal" else {})}
            for name in listeners]},
        {"@type": envoydump.ROUTES, k("dynamic_route_configs"): [
            {k("version_info"): "v1", k("last_updated"): "2026-09-01T11:58:03.5Z", k("route_config"): {
                "@type": status.ROUTE_TYPE, "name": name,
                k("virtual_hosts"): [{"name": host, "domains": [host]} for host in hosts]}}
            for name, hosts in routes]},
    ]}
    return envoydump.from_document(doc)


def test_same_config_matches_despite_order_stamps_spelling_and_draining_listeners():
    istiod = _dump(["b", "a"], ["main_internal", "connect_originate"], [("80", ["x", "y"])], camel=True)
    envoy = _dump(["a", "b"], ["connect_originate", "main_internal"], [("80", ["y", "x"])])
    text = status.format_diff(istiod, envoy, dt.timezone.utc)
    assert text == ("Clusters Match\nListeners Match\n"
                    "Routes Match (RDS last loaded at Tue, 01 Sep 2026 11:58:03 UTC)\n")
    assert status.diff_matches(istiod, envoy)


def test_a_cluster_only_istiod_knows_is_a_unified_diff():
    istiod = _dump(["a", "outbound|9080||reviews.default.svc.cluster.local"], [], [])
    envoy = _dump(["a"], [], [])
    text = status.format_diff(istiod, envoy, dt.timezone.utc)
    assert text.startswith("Clusters Don't Match\n--- Istiod Clusters\n+++ Envoy Clusters\n@@ ")
    assert '-                "name": "outbound|9080||reviews.default.svc.cluster.local"\n' in text
    assert "Listeners Match\nRoutes Match\n" in text
    assert not status.diff_matches(istiod, envoy)


def test_diff_golden():
    istiod = _dump(["a", "b"], ["connect_originate"], [("80", ["x"])])
    envoy = _dump(["a"], ["connect_originate", "main_internal"], [("80", ["x", "z"])])
    assert_golden("envoy/proxy_status_diff.txt", status.format_diff(istiod, envoy, dt.timezone.utc))


def test_a_missing_section_is_named_in_the_diff():
    istiod = _dump(["a"], [], [])
    envoy = envoydump.from_document({"configs": []})
    text = status.format_diff(istiod, envoy, dt.timezone.utc)
    assert "+config dump has no configuration type type.googleapis.com/envoy.admin.v3.ClustersConfigDump\n" in text


def test_ztunnel_has_no_diff():
    assert status.ztunnel_message("ztunnel-a", "istio-system") == \
        "Sync diff is not available for ztunnel pod ztunnel-a.istio-system\n"


# -- a document recorded from the real istiod with three real ztunnels connected ----------------------------

REAL = Path(__file__).resolve().parents[1] / "resources" / "syncz-real-ztunnels.json"


def test_recorded_real_syncz_reads_as_three_synced_ztunnels():
    proxies = status.parse_syncz(REAL.read_bytes(), "istiod-local", "istiod")
    assert [p.proxy_type for p in proxies] == ["ztunnel"] * 3
    assert all(p.namespace == "istio-system" and p.cluster_id == "Kubernetes" for p in proxies)
    assert {s.status for p in proxies for s in p.types.values()} == {"SYNCED"}
    sent = max(s.sent_time for p in proxies for s in p.types.values())
    assert_golden("envoy/proxy_status_real.txt", status.format_table(proxies) +
                  status.format_verbose(proxies, sent + dt.timedelta(minutes=3)))
