"""Pure parts of the kube layer: pod references, apply order, readiness, dataplane rows."""

from __future__ import annotations

import pytest

from ambientctl.mesh.dataplane import namespace_mode, namespace_status, sidecar_warnings
from ambientctl.workloads import has_sidecar
from ambientctl.errors import InvalidInputError
from ambientctl.kube.pods import is_service_ref, parse_pod_ref, parse_service_ref
from ambientctl.kube.resources import KNOWN_RESOURCES, sort_for_apply, sort_for_delete
from ambientctl.kube.wait import workload_readiness


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("ds/ztunnel", ("ds", "ztunnel", "def")),
        ("deploy/istiod", ("deploy", "istiod", "def")),
        ("pod/ztunnel-abc", ("pod", "ztunnel-abc", "def")),
        ("ztunnel-abc", ("pod", "ztunnel-abc", "def")),
        ("ztunnel-abc.istio-system", ("pod", "ztunnel-abc", "istio-system")),
        ("daemonset/ztunnel.kube-system", ("daemonset", "ztunnel", "kube-system")),
    ],
)
def test_parse_pod_ref(ref, expected):
    assert parse_pod_ref(ref, "def") == expected


@pytest.mark.parametrize("ref", ["", "svc/foo", "ds/", " pod", "x."])
def test_parse_pod_ref_rejects(ref):
    with pytest.raises(InvalidInputError):
        parse_pod_ref(ref, "def")


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("productpage", ("productpage", "def")),
        ("productpage.bookinfo", ("productpage", "bookinfo")),
        ("svc/productpage", ("productpage", "def")),
        ("SVC/productpage.bookinfo", ("productpage", "bookinfo")),
        ("service/ratings", ("ratings", "def")),
        ("services/ratings.ns", ("ratings", "ns")),
    ],
)
def test_parse_service_ref(ref, expected):
    assert parse_service_ref(ref, "def") == expected


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("deploy/productpage", "'deploy/productpage' is not a Service reference"),
        ("pod/x", "'pod/x' is not a Service reference"),
        ("", "invalid Service reference ''"),
        ("svc/", "invalid Service reference 'svc/'"),
        ("svc/x.", "invalid Service reference 'svc/x.'"),
        (".ns", "invalid Service reference '.ns'"),
        ("svc/a/b", "invalid Service reference 'svc/a/b'"),
        (" svc/x", "invalid Service reference ' svc/x'"),
        ("pod /x", "'pod /x' is not a Service reference"),
    ],
)
def test_parse_service_ref_rejects(ref, message):
    with pytest.raises(InvalidInputError) as raised:
        parse_service_ref(ref, "def")
    assert raised.value.message == message
    assert "svc/NAME" in raised.value.hint


@pytest.mark.parametrize(("ref", "expected"), [("svc/x", True), ("Service/x.ns", True), ("services/x", True),
                                               ("svc", False), ("x", False), ("deploy/svc", False)])
def test_is_service_ref_needs_the_kind_and_a_slash(ref, expected):
    assert is_service_ref(ref) is expected


def _obj(kind, name="x"):
    return {"kind": kind, "metadata": {"name": name}}


def test_apply_order_by_kind_and_reverse_for_delete():
    objs = [_obj("Deployment"), _obj("ValidatingWebhookConfiguration"), _obj("ClusterRoleBinding"),
            _obj("ServiceAccount"), _obj("Namespace"), _obj("CustomResourceDefinition"), _obj("ConfigMap"),
            _obj("ClusterRole"), _obj("Gateway")]
    kinds = [o["kind"] for o in sort_for_apply(objs)]
    assert kinds == ["CustomResourceDefinition", "Namespace", "ServiceAccount", "ConfigMap", "ClusterRole",
                     "ClusterRoleBinding", "Deployment", "Gateway", "ValidatingWebhookConfiguration"]
    assert [o["kind"] for o in sort_for_delete(objs)] == list(reversed(kinds))


def test_resource_paths():
    dep = KNOWN_RESOURCES[("apps/v1", "Deployment")]
    assert dep.object_path("istiod", "istio-system") == "/apis/apps/v1/namespaces/istio-system/deployments/istiod"
    ns = KNOWN_RESOURCES[("v1", "Namespace")]
    assert ns.object_path("x", "ignored") == "/api/v1/namespaces/x"


def test_workload_readiness():
    ds = {"kind": "DaemonSet", "metadata": {"generation": 2},
          "status": {"observedGeneration": 2, "desiredNumberScheduled": 3, "numberReady": 2, "updatedNumberScheduled": 3}}
    assert workload_readiness(ds) == (False, "2/3 ready, 3/3 updated")
    ds["status"]["numberReady"] = 3
    assert workload_readiness(ds)[0]
    dep = {"kind": "Deployment", "metadata": {"generation": 5}, "spec": {"replicas": 1},
           "status": {"observedGeneration": 4, "readyReplicas": 1, "updatedReplicas": 1, "replicas": 1}}
    assert not workload_readiness(dep)[0]
    dep["status"]["observedGeneration"] = 5
    assert workload_readiness(dep)[0]
    dep["status"]["replicas"] = 2  # an old pod still around
    assert not workload_readiness(dep)[0]


def _ns(name, **labels):
    return {"metadata": {"name": name, "labels": labels}}


def _pod(name, sidecar=False, captured=False, phase="Running"):
    annotations = {}
    if captured:
        annotations["ambient.istio.io/redirection"] = "enabled"
    containers = [{"name": "app"}] + ([{"name": "istio-proxy"}] if sidecar else [])
    return {"metadata": {"name": name, "annotations": annotations}, "spec": {"containers": containers},
            "status": {"phase": phase}}


def test_dataplane_mode_and_warnings():
    assert namespace_mode(_ns("a", **{"istio.io/dataplane-mode": "ambient"})) == "ambient"
    assert namespace_mode(_ns("b", **{"istio-injection": "enabled"})) == "sidecar"
    assert namespace_mode(_ns("c")) == "none"
    pods = [_pod("p1", sidecar=True), _pod("p2")]
    assert has_sidecar(pods[0]) and not has_sidecar(pods[1])
    warnings = sidecar_warnings(_ns("b", **{"istio-injection": "enabled"}), pods)
    assert len(warnings) == 2 and "p1" in warnings[1]
    assert sidecar_warnings(_ns("c"), [_pod("p2")]) == []


def test_namespace_status_counts_captured():
    row = namespace_status(_ns("d", **{"istio.io/dataplane-mode": "ambient"}),
                           [_pod("a", captured=True), _pod("b"), _pod("c", phase="Succeeded")])
    assert row == {"namespace": "d", "mode": "ambient", "pods": 2, "captured": 1, "sidecars": 0, "waypoint": ""}
