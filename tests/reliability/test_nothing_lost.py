"""Nothing lost: objects that look like ours but are not survive install, prune, uninstall and waypoint delete.

Look-alikes: the same names in another namespace, the same kinds without our
owner label, a Gateway of another class, labels a person set, a ConfigMap
named `istio` elsewhere, a ClusterRole named almost like ours. Their uids
(and labels) are recorded before and compared after every step.

One documented exception (`test_same_name_cluster_object_is_adopted`): an
unlabelled cluster-scoped object with EXACTLY the name install renders is
taken over by server-side apply (it then carries our label), so uninstall
removes it. precheck warns about foreign Istio installations; see
tests/RELIABILITY.md.
"""

from __future__ import annotations

import pytest

from tests.reliability import clusterops as ops
from tests.reliability.clusterops import INSTALL, REL_NS, UNINSTALL

pytestmark = pytest.mark.e2e

LOOK = "e2e-rel-lookalike"
RBAC = "rbac.authorization.k8s.io/v1"
GW = "gateway.networking.k8s.io/v1"
USE_WAYPOINT = "istio.io/use-waypoint"

LOOKALIKES = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": LOOK, "labels": {USE_WAYPOINT: "waypoint"}}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "istio", "namespace": LOOK}, "data": {"a": "b"}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "istio-rel", "namespace": LOOK}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "istio-sidecar-injector-rel", "namespace": LOOK}},
    {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "ztunnel", "namespace": LOOK}},
    {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "istiod-rel", "namespace": LOOK}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "istiod-rel", "namespace": LOOK,
                                                         "labels": {"app": "istiod", USE_WAYPOINT: "waypoint"}},
     "spec": {"selector": {"app": "istiod"}, "ports": [{"port": 15012}]}},
    {"apiVersion": RBAC, "kind": "Role", "metadata": {"name": "istiod-rel", "namespace": LOOK}, "rules": []},
    {"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": f"istiod-clusterrole-rel-{REL_NS}-copy",
                                                             "labels": {"app": "istiod"}}, "rules": []},
    {"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": "istio-cni-lookalike",
                                                             "labels": {"app.kubernetes.io/part-of": "istio"}},
     "rules": []},
    {"apiVersion": GW, "kind": "Gateway", "metadata": {"name": "waypoint", "namespace": LOOK},
     "spec": {"gatewayClassName": "someone-elses-class", "listeners": [{"name": "http", "port": 80,
                                                                       "protocol": "HTTP"}]}},
    {"apiVersion": GW, "kind": "Gateway", "metadata": {"name": "ingress", "namespace": LOOK,
                                                       "labels": {"istio.io/rev": "rel"}},
     "spec": {"gatewayClassName": "istio", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]}},
]


def _key(obj):
    meta = obj["metadata"]
    return obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace")


@pytest.fixture(scope="module")
def kube(cluster):
    return ops.admin(cluster)


@pytest.fixture(scope="module")
def lookalikes(kube, cluster):
    ops.cleanup_rel_install(cluster)
    for obj in LOOKALIKES:
        kube.apply(obj)
    yield
    ops.cleanup_rel_install(cluster)
    for obj in reversed(LOOKALIKES):
        api_version, kind, name, namespace = _key(obj)
        kube.delete(api_version, kind, name, namespace)


def record(kube) -> dict:
    found = {}
    for obj in LOOKALIKES:
        live = kube.get_or_none(*_key(obj))
        found[_key(obj)] = None if live is None else (live["metadata"]["uid"], live["metadata"].get("labels") or {})
    return found


def assert_all_survived(kube, before: dict, step: str) -> None:
    after = record(kube)
    lost = [key for key in before if after[key] is None or after[key][0] != before[key][0]]
    relabelled = [key for key in before if after[key] is not None and after[key][1] != before[key][1]]
    assert not lost, f"{step} deleted or replaced objects it does not own: {lost}"
    assert not relabelled, f"{step} changed labels it did not set: {relabelled}"


def test_lookalikes_survive_every_step(cluster, kube, lookalikes):
    before = record(kube)
    assert all(before.values())
    steps = [
        ("install", INSTALL),
        ("re-install", INSTALL),
        ("install that prunes the ingress gateway",
         [*INSTALL, "--set", "components.ingressGateways[name:istio-ingressgateway].enabled=false"]),
        ("waypoint apply", ["waypoint", "apply", "-n", LOOK, "--name", "ours", "--enroll-namespace", "--overwrite"]),
        ("waypoint delete by name (another class)", ["waypoint", "delete", "waypoint", "ingress", "-n", LOOK]),
        ("waypoint delete --all", ["waypoint", "delete", "--all", "-n", LOOK]),
        ("uninstall", UNINSTALL),
        ("install again", INSTALL),
        ("uninstall --dry-run", ["-i", REL_NS, "uninstall", "-r", "rel", "--dry-run"]),
        ("uninstall again", UNINSTALL),
    ]
    for step, args in steps:
        result = ops.run(cluster.kubeconfig, *args)
        assert result.exit_code == 0, f"{step}: {result.stderr}"
        if step == "waypoint apply":
            # we repointed the namespace with --overwrite: that one label is ours now, the rest must hold
            original = before[_key(LOOKALIKES[0])]
            assert kube.get("v1", "Namespace", LOOK)["metadata"]["labels"][USE_WAYPOINT] == "ours"
            before[_key(LOOKALIKES[0])] = record(kube)[_key(LOOKALIKES[0])]
        if step == "waypoint delete --all":
            labels = kube.get("v1", "Namespace", LOOK)["metadata"].get("labels") or {}
            assert labels[USE_WAYPOINT] == "waypoint"  # the value --overwrite replaced is given back...
            assert "set back to 'waypoint'" in result.stdout
            before[_key(LOOKALIKES[0])] = original
        if step.startswith("waypoint delete by name"):
            assert "is not a waypoint; left alone" in result.stderr
        assert_all_survived(kube, before, step)
    service = kube.get("v1", "Service", "istiod-rel", LOOK)
    assert service["metadata"]["labels"][USE_WAYPOINT] == "waypoint"  # ...a person's label stays


def test_same_name_cluster_object_is_adopted(cluster, kube):
    """Documents server-side apply's adoption: an unlabelled ClusterRole with the exact rendered name."""
    name = f"istio-reader-clusterrole-rel-{REL_NS}"
    ops.cleanup_rel_install(cluster)
    kube.apply({"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": name}, "rules": []})
    try:
        uid = kube.get(RBAC, "ClusterRole", name)["metadata"]["uid"]
        assert ops.run(cluster.kubeconfig, *INSTALL).exit_code == 0
        adopted = kube.get(RBAC, "ClusterRole", name)
        assert adopted["metadata"]["uid"] == uid  # the same object, now carrying our owner label
        assert adopted["metadata"]["labels"]["ambientctl.dev/managed-by"] == "ambientctl"
        assert ops.run(cluster.kubeconfig, *UNINSTALL).exit_code == 0
        assert kube.get_or_none(RBAC, "ClusterRole", name) is None  # so uninstall removes it
    finally:
        kube.delete(RBAC, "ClusterRole", name)
