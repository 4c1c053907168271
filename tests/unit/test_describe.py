"""`x describe pod|service`: the mesh model and the pod's ztunnel side by side, on a fake cluster
with ztunnel's admin stand-in serving a dump (tests/support/adminstandin.py)."""

from __future__ import annotations

import json

import pytest

from ambientctl.errors import ExitCode
from tests.support import dumpgen, golden
from tests.support.adminstandin import ZtunnelAdmin, patch_portforward
from tests.support.fakekube import FakeKube, invoke_with

GW = "gateway.networking.k8s.io/v1"
PROGRAMMED = [{"type": "Programmed", "status": "True", "reason": "Programmed", "observedGeneration": 1}]
AMBIENT_NS = {"istio.io/dataplane-mode": "ambient"}
CAPTURED = {"ambient.istio.io/redirection": "enabled"}


def obj(kind, name, ns="default", api="v1", labels=None, annotations=None, **rest):
    meta = {"name": name, "labels": labels or {}, "annotations": annotations or {}}
    if ns:
        meta["namespace"] = ns
    return {"apiVersion": api, "kind": kind, "metadata": meta, **rest}


def app_pod(name, app, sa, node="n1", annotations=CAPTURED, labels=None):
    return obj("Pod", name, labels={"app": app, **(labels or {})}, annotations=annotations,
               spec={"serviceAccountName": sa, "nodeName": node, "containers": [{"name": app}]},
               status={"phase": "Running"})


def policy(name, spec):
    return obj("AuthorizationPolicy", name, api="security.istio.io/v1", spec=spec)


@pytest.fixture
def cluster() -> FakeKube:
    ztunnel_labels = {"app": "ztunnel"}
    return FakeKube([
        obj("Namespace", "default", ns=None, labels=AMBIENT_NS),
        obj("Namespace", "istio-system", ns=None),
        obj("DaemonSet", "ztunnel", ns="istio-system", api="apps/v1", spec={"selector": {"matchLabels": ztunnel_labels}}),
        obj("Pod", "ztunnel-n1", ns="istio-system", labels=ztunnel_labels, spec={"nodeName": "n1", "containers": []},
            status={"phase": "Running"}),
        app_pod("productpage-v1-abc", "productpage", "bookinfo-productpage"),
        app_pod("ratings-v1-xyz", "ratings", "bookinfo-ratings", annotations={}),
        obj("Service", "productpage", labels={"istio.io/use-waypoint": "waypoint"},
            spec={"selector": {"app": "productpage"}, "clusterIP": "10.96.0.20",
                  "ports": [{"name": "http", "port": 9080, "protocol": "TCP"}]}),
        obj("Service", "ratings", labels={"istio.io/use-waypoint": "ghost"},
            spec={"selector": {"app": "ratings"}, "clusterIP": "10.96.0.21", "ports": [{"port": 9080}]}),
        obj("Gateway", "waypoint", api=GW, spec={"gatewayClassName": "istio-waypoint", "listeners": []},
            status={"conditions": PROGRAMMED}),
        policy("productpage-l4", {"selector": {"matchLabels": {"app": "productpage"}}, "action": "ALLOW",
                                  "rules": [{"from": [{"source": {"principals": ["cluster.local/ns/default/sa/sleep"]}}]}]}),
        policy("productpage-get", {"targetRefs": [{"kind": "Service", "group": "", "name": "productpage"}],
                                   "action": "ALLOW", "rules": [{"to": [{"operation": {"methods": ["GET"]}}]}]}),
    ])


@pytest.fixture
def ztunnel(monkeypatch):
    dump = dumpgen.generate_dump([("default", "bookinfo-productpage")], node="n1", with_workloads=False)
    dump["workloads"] = [dumpgen.workload_entry("default", "bookinfo-productpage", node="n1",
                                                name="productpage-v1-abc")]
    dump["certificates"][0]["certChain"][0]["expirationTime"] = "2030-01-02T03:04:05Z"
    admin = ZtunnelAdmin(dump=json.dumps(dump).encode())
    calls = patch_portforward(monkeypatch, {("ztunnel-n1", 15000): admin})
    return calls


def test_pod_text_puts_every_source_together(cluster, ztunnel):
    result = invoke_with(cluster, "x", "describe", "pod", "productpage-v1-abc")
    assert result.exit_code == 0, result.stderr
    golden.assert_golden("describe/pod.txt", result.stdout)
    assert [c[2:] for c in ztunnel()] == [(15000, "GET", "/config_dump")]


def test_pod_json_is_one_document_with_the_ztunnels_view(cluster, ztunnel):
    result = invoke_with(cluster, "x", "describe", "pod", "productpage-v1-abc.default", "-o", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["identity"] == "spiffe://cluster.local/ns/default/sa/bookinfo-productpage"
    assert doc["dataPlane"]["mode"] == "ambient" and doc["dataPlane"]["captured"] is True
    assert doc["ztunnel"] == {"pod": "istio-system/ztunnel-n1", "protocol": "HBONE", "waypoint": None,
                              "certificate": {"state": "Available", "expires": "2030-01-02T03:04:05Z"}, "error": None}
    assert [w["waypoint"] for w in doc["waypoints"]] == ["default/waypoint"] and doc["waypoints"][0]["programmed"]
    assert [(p["policy"], p["enforcedBy"]) for p in doc["policies"]] == [
        ("default/productpage-l4", "ztunnel"), ("default/productpage-get", "waypoint default/waypoint")]
    assert doc["problems"] == []


def test_an_uncaptured_pod_and_a_missing_waypoint_are_problems(cluster, ztunnel):
    result = invoke_with(cluster, "x", "describe", "pod", "ratings-v1-xyz", "-o", "yaml", "--no-ztunnel")
    assert result.exit_code == 0, result.stderr
    problems = result.yaml["problems"]
    assert any("not captured" in p for p in problems)
    assert any("names waypoint default/ghost, which does not exist" in p for p in problems)
    assert result.yaml["ztunnel"] is None and ztunnel() == []


def test_an_unreachable_ztunnel_is_reported_not_fatal(cluster, monkeypatch):
    patch_portforward(monkeypatch, {})
    result = invoke_with(cluster, "x", "describe", "pod", "productpage-v1-abc", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert "connection refused" in result.json["ztunnel"]["error"]


def test_a_pod_on_a_node_without_ztunnel(cluster, ztunnel):
    cluster.add(app_pod("reviews-v1-q", "reviews", "bookinfo-reviews", node="n2"))
    result = invoke_with(cluster, "x", "describe", "pod", "reviews-v1-q", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json["ztunnel"]["pod"] is None
    assert "no ztunnel runs on node n2" in " ".join(result.json["problems"])


def test_service_text(cluster):
    result = invoke_with(cluster, "x", "describe", "service", "productpage")
    assert result.exit_code == 0, result.stderr
    golden.assert_golden("describe/service.txt", result.stdout)


def test_service_with_policies_but_no_waypoint(cluster):
    result = invoke_with(cluster, "x", "describe", "service", "svc/ratings", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json["waypoint"]["exists"] is False
    assert "names waypoint default/ghost, which does not exist" in result.json["problems"][0]


def test_missing_pod_is_not_found_in_one_line(cluster):
    result = invoke_with(cluster, "x", "describe", "pod", "nothing")
    assert result.exit_code == ExitCode.NOT_FOUND
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_a_reference_to_another_kind_is_invalid_input_in_one_line(cluster):
    result = invoke_with(cluster, "x", "describe", "service", "deploy/ratings")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "'deploy/ratings' is not a Service reference" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_service_in_another_namespace_by_name_dot_namespace(cluster):
    here = invoke_with(cluster, "x", "describe", "service", "svc/ratings", "-o", "json")
    there = invoke_with(cluster, "-n", "elsewhere", "x", "describe", "service", "ratings.default", "-o", "json")
    assert here.exit_code == there.exit_code == 0, there.stderr
    assert there.json["service"] == here.json["service"] == "default/ratings"
