"""`x envoy-stats` (`x es`) through the CLI and the real request code, against stand-ins of Envoy's admin,
the agent's merged metrics and ztunnel's metrics (tests/support/adminstandin.py) on a fake cluster."""

from __future__ import annotations

import json

import pytest
import yaml

from ambientctl.errors import ExitCode
from tests.support.adminstandin import ZTUNNEL_METRICS, EnvoyAdmin, MetricsServer, patch_portforward
from tests.support.fakekube import FakeKube, invoke_with
from tests.support.golden import assert_golden

ZTUNNEL = {"app": "ztunnel"}
WAYPOINT = {"gateway.networking.k8s.io/gateway-name": "waypoint"}
PROM_ANNOTATIONS = {"prometheus.io/port": "15020", "prometheus.io/path": "/stats/prometheus"}


def pod(name: str, namespace: str, labels: dict, annotations: dict | None = None) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": labels, "annotations": annotations or {}},
            "spec": {"containers": [{"name": "istio-proxy"}], "nodeName": "n1"}, "status": {"phase": "Running"}}


@pytest.fixture
def cluster() -> FakeKube:
    return FakeKube([
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "waypoint", "namespace": "default"},
         "spec": {"selector": {"matchLabels": WAYPOINT}}},
        pod("waypoint-1", "default", WAYPOINT, PROM_ANNOTATIONS),
        pod("waypoint-2", "default", WAYPOINT, PROM_ANNOTATIONS),
        pod("ztunnel-a", "istio-system", ZTUNNEL),
    ])


def run(fake: FakeKube, *args: str) -> tuple[int, str, str]:
    result = invoke_with(fake, *args)
    return result.exit_code, result.stdout, result.stderr


def test_short_prints_envoys_stats_under_istioctls_header(monkeypatch, cluster):
    admin = EnvoyAdmin()
    calls = patch_portforward(monkeypatch, {("waypoint-1", 15000): admin})
    code, out, err = run(cluster, "x", "envoy-stats", "waypoint-1", "-n", "default")
    assert code == 0, err
    assert_golden("envoystats/server-short.txt", out)
    assert [c[2:] for c in calls()] == [(15000, "GET", "/stats")]


def test_alias_es_json_is_envoys_document(monkeypatch, cluster):
    patch_portforward(monkeypatch, {("waypoint-1", 15000): EnvoyAdmin()})
    code, out, err = run(cluster, "x", "es", "waypoint-1.default", "-o", "json")
    assert code == 0, err
    assert_golden("envoystats/server.json", out)
    assert json.loads(out)["stats"][0] == {"name": "cluster_manager.active_clusters", "value": 12}


def test_yaml_of_several_pods_is_one_document_keyed_by_pod(monkeypatch, cluster):
    patch_portforward(monkeypatch, {("waypoint-1", 15000): EnvoyAdmin(), ("waypoint-2", 15000): EnvoyAdmin()})
    code, out, err = run(cluster, "x", "es", "deploy/waypoint", "-n", "default", "-o", "yaml")
    assert code == 0, err
    documents = list(yaml.safe_load_all(out))
    assert len(documents) == 1 and sorted(documents[0]) == ["waypoint-1.default", "waypoint-2.default"]
    assert "2 pods: one document keyed by POD.NAMESPACE" in err


def test_prom_of_one_pod_is_pure_exposition_text(monkeypatch, cluster):
    patch_portforward(monkeypatch, {("waypoint-1", 15000): EnvoyAdmin()})
    code, out, err = run(cluster, "x", "es", "waypoint-1", "-n", "default", "-o", "prom")
    assert code == 0, err
    assert_golden("envoystats/server.prom", out)
    assert out.startswith("# TYPE envoy_cluster_manager_active_clusters gauge\n")


def test_prom_of_several_pods_names_each_in_a_comment(monkeypatch, cluster):
    patch_portforward(monkeypatch, {("waypoint-1", 15000): EnvoyAdmin(), ("waypoint-2", 15000): EnvoyAdmin()})
    code, out, err = run(cluster, "x", "es", "-l", "gateway.networking.k8s.io/gateway-name=waypoint",
                         "-n", "default", "-o", "prom")
    assert code == 0, err
    assert out.startswith("# pod waypoint-1.default\n") and "\n# pod waypoint-2.default\n" in out


def test_prom_merged_reads_the_agents_endpoint_from_the_pods_annotations(monkeypatch, cluster):
    agent = MetricsServer()
    calls = patch_portforward(monkeypatch, {("waypoint-1", 15020): agent, ("waypoint-1", 15000): EnvoyAdmin()})
    code, out, err = run(cluster, "x", "es", "waypoint-1", "-n", "default", "-o", "prom-merged")
    assert code == 0, err
    assert out == agent.text
    assert [c[2:] for c in calls()] == [(15020, "GET", "/stats/prometheus")]
    assert "merged metrics from port 15020 /stats/prometheus" in err


def test_prom_merged_follows_annotations_elsewhere(monkeypatch):
    moved = pod("app-1", "default", {"app": "x"}, {"prometheus.io/port": "9100", "prometheus.io/path": "metrics"})
    server = MetricsServer(path="/metrics")
    calls = patch_portforward(monkeypatch, {("app-1", 9100): server})
    code, _, err = run(FakeKube([moved]), "x", "es", "app-1", "-n", "default", "-o", "prom-merged")
    assert code == 0, err
    assert [c[2:] for c in calls()] == [(9100, "GET", "/metrics")]


@pytest.mark.parametrize("fmt, path", [("short", "/clusters"), ("json", "/clusters?format=json"),
                                       ("yaml", "/clusters?format=json")])
def test_clusters_type(monkeypatch, cluster, fmt, path):
    calls = patch_portforward(monkeypatch, {("waypoint-1", 15000): EnvoyAdmin()})
    code, out, err = run(cluster, "x", "es", "waypoint-1", "-n", "default", "-t", "clusters", "-o", fmt)
    assert code == 0, err
    assert [c[4] for c in calls()] == [path]
    assert_golden(f"envoystats/clusters.{fmt}", out)


def test_type_cluster_is_accepted_as_istioctl_does(monkeypatch, cluster):
    patch_portforward(monkeypatch, {("waypoint-1", 15000): EnvoyAdmin()})
    code, out, _ = run(cluster, "x", "es", "waypoint-1", "-n", "default", "--type", "cluster")
    assert code == 0 and "outbound|9080||reviews.default.svc.cluster.local::10.244.0.7:9080" in out


def test_custom_proxy_admin_port(monkeypatch, cluster):
    calls = patch_portforward(monkeypatch, {("waypoint-1", 19000): EnvoyAdmin()})
    code, _, err = run(cluster, "x", "es", "waypoint-1", "-n", "default", "--proxy-admin-port", "19000")
    assert code == 0, err
    assert calls()[0][2] == 19000


def test_ztunnel_serves_its_prometheus_metrics_and_says_so(monkeypatch, cluster):
    metrics = MetricsServer(path="/metrics", text=ZTUNNEL_METRICS)
    calls = patch_portforward(monkeypatch, {("ztunnel-a", 15020): metrics})
    code, out, err = run(cluster, "x", "es", "ztunnel-a.istio-system", "-o", "prom")
    assert code == 0, err
    assert out == ZTUNNEL_METRICS
    assert "ztunnel-a.istio-system is a ztunnel (no Envoy /stats): showing its Prometheus metrics from port 15020 " \
           "/metrics" in err
    assert [c[2:] for c in calls()] == [(15020, "GET", "/metrics")]
    code, out, err = run(cluster, "x", "es", "ztunnel-a.istio-system")
    assert code == 0, err
    assert_golden("envoystats/ztunnel-short.txt", out)


@pytest.mark.parametrize("args, message", [
    (["-t", "clusters"], "ztunnel-a.istio-system is a ztunnel: it has no Envoy clusters to show"),
    (["-o", "json"], "ztunnel-a.istio-system is a ztunnel: its metrics are Prometheus text only, not -o json"),
])
def test_ztunnel_refuses_what_it_has_not_before_any_request(monkeypatch, cluster, args, message):
    calls = patch_portforward(monkeypatch, {})
    code, out, err = run(cluster, "x", "es", "ztunnel-a.istio-system", *args)
    assert code == ExitCode.INVALID_INPUT and message in err and out == "" and calls() == []
    assert err.count("\n") == 1


@pytest.mark.parametrize("args, code, message", [
    ([], ExitCode.USAGE, "envoy-stats needs a pod or --selector"),
    (["waypoint-1", "-l", "a=b"], ExitCode.USAGE, "give either a pod (waypoint-1) or --selector, not both"),
    (["waypoint-1", "-t", "listeners"], ExitCode.USAGE, "unknown stats type 'listeners'"),
    (["waypoint-1", "-t", "clusters", "-o", "prom"], ExitCode.USAGE, "--type clusters has no Prometheus form"),
    (["waypoint-1", "-o", "table"], ExitCode.USAGE, "Invalid value for '--output' / '-o'"),
    (["nothing"], ExitCode.NOT_FOUND, "no pod, waypoint or gateway named nothing"),
])
def test_mistakes_are_one_line_before_any_request(monkeypatch, cluster, args, code, message):
    calls = patch_portforward(monkeypatch, {})
    got, out, err = run(cluster, "x", "es", "-n", "default", *args)
    assert got == code and message in err and out == ""
    assert calls() == []


def test_one_failing_pod_does_not_hide_the_others(monkeypatch, cluster):
    patch_portforward(monkeypatch, {("waypoint-2", 15000): EnvoyAdmin()})
    code, out, err = run(cluster, "x", "es", "deploy/waypoint", "-n", "default")
    assert "The result of pod waypoint-2:" in out
    assert code == ExitCode.ERROR and err.count("Error:") == 1 and "waypoint-1.default: port-forward" in err


def test_a_port_that_is_not_envoys_admin_is_one_line(monkeypatch, cluster):
    patch_portforward(monkeypatch, {("waypoint-1", 15000): MetricsServer(path="/stats", text="not json")})
    code, out, err = run(cluster, "x", "es", "waypoint-1", "-n", "default", "-o", "json")
    assert code == ExitCode.INVALID_INPUT and out == ""
    assert "waypoint-1.default answered something that is not JSON" in err and "--proxy-admin-port" in err
