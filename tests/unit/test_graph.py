"""x graph: the bookinfo mesh after the guide's step 11, as a tree, Mermaid and Graphviz (golden files)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ambientctl import graph as gr
from ambientctl.analyze.model import MeshState
from tests.unit.test_analyze import ns, pod, service, waypoint

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "graph"


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


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"no golden file {path}; run with UPDATE_GOLDEN=1"
    assert text == path.read_text(), f"{name} changed; review and re-run with UPDATE_GOLDEN=1"


@pytest.mark.parametrize("fmt,render", [("tree.txt", gr.tree_text), ("mesh.mmd", gr.mermaid), ("mesh.dot", gr.dot)])
def test_guide_mesh_matches_golden(fmt, render) -> None:
    _golden(fmt, render(gr.build(guide_state(), all_namespaces=True)))


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


class ListingKube:
    """Just enough API for `x graph` and `x authz check`: list and get over a MeshState's objects."""

    default_namespace = "default"

    def __init__(self, state: MeshState, extra: list[dict] | None = None) -> None:
        self.objects = [*state.namespaces.values(), *state.pods, *state.services, *state.gateways, *state.policies,
                        *(extra or [])]

    def list(self, api_version, kind, namespace=None, *, all_namespaces=False, label_selector=None, **_):
        wanted = dict(t.split("=", 1) for t in (label_selector or "").split(",") if t)
        return [o for o in self.objects if o["kind"] == kind and o["apiVersion"] == api_version
                and (all_namespaces or kind == "Namespace" or o["metadata"].get("namespace") == namespace)
                and all((o["metadata"].get("labels") or {}).get(k) == v for k, v in wanted.items())]

    def get(self, api_version, kind, name, namespace=None):
        from ambientctl.errors import NotFoundError

        for o in self.objects:
            if o["kind"] == kind and o["metadata"]["name"] == name and o["metadata"].get("namespace") == namespace:
                return o
        raise NotFoundError(f'{kind} "{name}" not found')


def _run(fake, *args):
    import contextlib
    import io

    from ambientctl.cli.app import app
    from ambientctl.context import CliContext

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = app(args=list(args), prog_name="ambientctl", standalone_mode=False, obj=CliContext(_kube=fake))
    return int(code or 0), out.getvalue(), err.getvalue()


def test_graph_command_prints_the_tree_and_mermaid_from_the_cluster() -> None:
    fake = ListingKube(guide_state())
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
    code, out, err = _run(ListingKube(state), "x", "authz", "check", "productpage-v1-7d9f8c-x1", "-n", "default")
    assert code == 0, err
    rows = [line.split()[:4] for line in out.splitlines()[1:]]
    assert rows == [["default/l4", "ALLOW", "selector", "ztunnel"],
                    ["default/l7", "ALLOW", "Service", "productpage"]]
    assert "waypoint default/productpage" in out.splitlines()[2]
    code, out, err = _run(ListingKube(state), "x", "authz", "check", "old-app.legacy")
    assert code == 0 and "no AuthorizationPolicy applies to pod legacy/old-app" in out
    assert "is not in the ambient mesh" in err
