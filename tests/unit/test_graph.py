"""x graph: the bookinfo mesh after the guide's step 11, as a tree, Mermaid and Graphviz (golden files)."""

from __future__ import annotations


import pytest

from ambientctl.mesh import graph as gr
from ambientctl.mesh.model import MeshState
from tests.support.fakekube import FakeKube, invoke_with
from tests.support.golden import GOLDEN_ROOT, assert_golden
from tests.unit.test_analyze import ns, pod, service, waypoint

GOLDEN = GOLDEN_ROOT / "graph"


def _owned(p: dict, deployment: str) -> dict:
    p["metadata"]["ownerReferences"] = [{"kind": "ReplicaSet", "name": f"{deployment}-7d9f8c"}]
    p["metadata"]["annotations"] = {"ambient.istio.io/redirection": "enabled"}
    return p


def guide_state(all_namespaces: bool = True) -> MeshState:
    state = MeshState(scope=None if all_namespaces else {"default"})
    for obj in [
        ns("default", **{"istio.io/dataplane-mode": "ambient"}),
        ns("istio-system"),
        ns("legacy", **{"istio-injection": "enabled"}),
        _owned(pod("productpage-v1-7d9f8c-x1", "bookinfo-productpage", "productpage", version="v1"), "productpage-v1"),
        _owned(pod("reviews-v1-7d9f8c-a", "bookinfo-reviews", "reviews", version="v1"), "reviews-v1"),
        _owned(pod("reviews-v2-7d9f8c-b", "bookinfo-reviews", "reviews", version="v2"), "reviews-v2"),
        _owned(pod("sleep-7d9f8c-s", "sleep", "sleep"), "sleep"),
        pod("productpage-wp-1", "productpage", "productpage-wp",
            **{"gateway.networking.k8s.io/gateway-name": "productpage"}),
        service("productpage", "productpage", **{"istio.io/use-waypoint": "productpage"}),
        service("reviews", "reviews", **{"istio.io/use-waypoint": "reviews"}),
        service("sleep", "sleep"),
        service("ratings", "ratings", **{"istio.io/use-waypoint": "ratings"}),
        waypoint("productpage"),
        waypoint("reviews", programmed=False),
        pod("old-app", "old", "old", namespace="legacy"),
    ]:
        state.add(obj)
    return state


@pytest.mark.parametrize("fmt,render", [("tree.txt", gr.tree_text), ("mesh.mmd", gr.mermaid), ("mesh.dot", gr.dot)])
def test_guide_mesh_matches_golden(fmt, render) -> None:
    assert_golden(f"graph/{fmt}", render(gr.build(guide_state(), all_namespaces=True)))


def test_build_groups_pods_into_workloads_and_services_into_waypoints() -> None:
    [default] = gr.build(guide_state(), all_namespaces=True)  # legacy and istio-system are not in the mesh
    assert [w.name for w in default.workloads] == ["productpage-v1", "reviews-v1", "reviews-v2", "sleep"]
    assert all(w.in_ambient and w.captured == 1 for w in default.workloads)
    assert [(w.name, w.programmed, w.pods) for w in default.waypoints] == [("productpage", True, 1),
                                                                          ("reviews", False, 0)]
    services = {s.name: s for s in default.services}
    assert services["reviews"].workloads == ["reviews-v1", "reviews-v2"]
    assert services["ratings"].waypoint == "default/ratings" and services["ratings"].waypoint_missing
    assert services["sleep"].waypoint is None


def test_one_namespace_is_shown_even_outside_the_mesh() -> None:
    state = guide_state(all_namespaces=False)
    state.scope = {"legacy"}
    [legacy] = gr.build(state, all_namespaces=False)
    assert legacy.mode == "sidecar" and [w.in_ambient for w in legacy.workloads] == [False]
    assert "not in ambient" in gr.tree_text([legacy])


def test_services_without_selector_are_left_out() -> None:
    state = guide_state()
    state.add({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "kubernetes", "namespace": "default"},
               "spec": {}})
    [default] = gr.build(state, all_namespaces=True)
    assert "kubernetes" not in [s.name for s in default.services]


def test_empty_mesh_says_how_to_enrol() -> None:
    assert "ambientctl dataplane enroll" in gr.tree_text([])


def mesh_kube(state: MeshState, extra: list[dict] | None = None) -> FakeKube:
    """The in-memory API server holding a MeshState's objects, for `x graph` and `x authz check`."""
    return FakeKube([*state.namespaces.values(), *state.pods, *state.services, *state.gateways, *state.policies,
                     *(extra or [])])


def _run(fake, *args):
    return tuple(invoke_with(fake, *args))


def test_graph_command_prints_the_tree_and_mermaid_from_the_cluster() -> None:
    fake = mesh_kube(guide_state())
    code, out, err = _run(fake, "x", "graph", "-A")
    assert code == 0, err
    assert out == (GOLDEN / "tree.txt").read_text()
    code, out, _ = _run(fake, "x", "graph", "-A", "-o", "mermaid")
    assert out == (GOLDEN / "mesh.mmd").read_text()
    code, out, _ = _run(fake, "x", "graph", "-n", "legacy", "-o", "json")
    assert [n["name"] for n in __import__("json").loads(out)["namespaces"]] == ["legacy"]


def test_authz_check_command_lists_policies_and_enforcers() -> None:
    from tests.unit.test_analyze import policy

    state = guide_state()
    state.add(policy("l4", selector={"app": "productpage"}, principals=["cluster.local/ns/default/sa/sleep"]))
    state.add(policy("l7", target="Service/productpage", methods=["GET"]))
    code, out, err = _run(mesh_kube(state), "x", "authz", "check", "productpage-v1-7d9f8c-x1", "-n", "default")
    assert code == 0, err
    rows = [line.split()[:4] for line in out.splitlines()[1:]]
    assert rows == [["default/l4", "ALLOW", "selector", "ztunnel"],
                    ["default/l7", "ALLOW", "Service", "productpage"]]
    assert "waypoint default/productpage" in out.splitlines()[2]
    code, out, err = _run(mesh_kube(state), "x", "authz", "check", "old-app.legacy")
    assert code == 0 and "no AuthorizationPolicy applies to pod legacy/old-app" in out
    assert "is not in the ambient mesh" in err


def test_waypoints_of_every_namespace_are_read_once_not_per_namespace(monkeypatch) -> None:
    """Issue 17: `x graph -A` asked each of 1,000 namespaces for its waypoints by scanning all 500 Gateways."""
    from ambientctl.mesh import model

    calls = []
    real = model.is_waypoint
    monkeypatch.setattr(model, "is_waypoint", lambda gw: calls.append(gw) or real(gw))
    state = MeshState()
    for i in range(40):
        state.add(ns(f"ns-{i}", **{"istio.io/dataplane-mode": "ambient"}))
        state.add(waypoint("waypoint", namespace=f"ns-{i}"))
    nodes = gr.build(state, all_namespaces=True)
    assert [n.waypoints[0].name for n in nodes] == ["waypoint"] * 40
    assert len(calls) == 40  # each Gateway checked once, not 40 x 40
    state.add(waypoint("second", namespace="ns-3"))  # the table follows a change to the list
    assert [w["metadata"]["name"] for w in state.waypoints("ns-3")] == ["waypoint", "second"]
