"""The one answer to "is this Gateway a waypoint?" and "is it programmed?" (ambientctl.gateways).

Every reader uses it: a waypoint made with `waypoint apply --gateway-class X`
is a waypoint to `waypoint list`, analyze's model, `x graph`, `dataplane
unenroll` and uninstall's remaining-waypoints check alike.
"""

from __future__ import annotations

from typing import Any

from ambientctl.mesh import graph
from ambientctl.waypoint import manifest
from ambientctl.mesh.model import MeshState
from ambientctl.gateways import is_programmed, is_waypoint, traffic_type
from ambientctl.install.uninstall import blockers

OURS = {"ambientctl.dev/managed-by": "ambientctl", "ambientctl.dev/component": "waypoint"}


def gateway(name: str = "w", klass: str = "istio-waypoint", labels: dict[str, str] | None = None,
            conditions: list[dict[str, Any]] | None = None, generation: int = 1) -> dict[str, Any]:
    gw: dict[str, Any] = {
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
        "metadata": {"name": name, "namespace": "default", "labels": labels or {}, "generation": generation},
        "spec": {"gatewayClassName": klass, "listeners": [{"name": "mesh", "port": 15008, "protocol": "HBONE"}]},
    }
    if conditions is not None:
        gw["status"] = {"conditions": conditions}
    return gw


def programmed(status: str = "True", observed: int | None = 1) -> list[dict[str, Any]]:
    cond: dict[str, Any] = {"type": "Programmed", "status": status, "reason": "Programmed", "message": ""}
    if observed is not None:
        cond["observedGeneration"] = observed
    return [{"type": "Accepted", "status": "True"}, cond]


def test_waypoint_by_class() -> None:
    assert is_waypoint(gateway(klass="istio-waypoint"))
    assert is_waypoint(gateway(klass="istio-mesh"))  # the ambient preview's class
    assert not is_waypoint(gateway(klass="istio"))  # an ingress gateway
    assert not is_waypoint({"metadata": {"name": "x"}})  # no spec at all


def test_waypoint_by_our_ownership_whatever_its_class() -> None:
    assert is_waypoint(gateway(klass="custom", labels=OURS))
    # both labels are needed: the component label alone (not ours) or ours for another component is not enough
    assert not is_waypoint(gateway(klass="custom", labels={"ambientctl.dev/component": "waypoint"}))
    assert not is_waypoint(gateway(klass="custom", labels={**OURS, "ambientctl.dev/component": "samples"}))


def test_waypoint_apply_makes_what_the_rule_accepts() -> None:
    spec, _ = manifest.make_spec(namespace="default", gateway_class="custom")
    assert is_waypoint(manifest.owned_gateway_manifest(spec))
    assert not is_waypoint(manifest.gateway_manifest(spec))  # `generate` output carries no ownership


def test_programmed_needs_true_for_the_current_generation() -> None:
    assert is_programmed(gateway(conditions=programmed()))
    assert is_programmed(gateway(conditions=programmed(observed=None)))  # controllers that do not report it
    assert is_programmed(gateway(conditions=programmed(observed=3), generation=2))
    assert not is_programmed(gateway(conditions=programmed(observed=1), generation=2))
    assert not is_programmed(gateway(conditions=programmed(status="False")))
    assert not is_programmed(gateway(conditions=[]))
    assert not is_programmed(gateway())


def test_traffic_type_defaults_to_service() -> None:
    assert traffic_type(gateway()) == "service"
    assert traffic_type(gateway(labels={"istio.io/waypoint-for": "all"})) == "all"


def test_every_reader_sees_a_custom_class_waypoint_and_the_stale_generation() -> None:
    """analyze's model, x graph and uninstall's blockers agree with the rule (issue 13)."""
    custom = gateway("custom-wp", klass="custom", labels=OURS, conditions=programmed(observed=1), generation=2)
    ingress = gateway("ingress", klass="istio")
    state = MeshState()
    state.add({"apiVersion": "v1", "kind": "Namespace",
               "metadata": {"name": "default", "labels": {"istio.io/dataplane-mode": "ambient"}}})
    state.add(custom)
    state.add(ingress)
    assert [g["metadata"]["name"] for g in state.waypoints()] == ["custom-wp"]
    [node] = graph.build(state, all_namespaces=True)
    assert [(w.name, w.programmed) for w in node.waypoints] == [("custom-wp", False)]
    lines = blockers([], [], [g for g in (custom, ingress) if is_waypoint(g)], "default", purge=True)
    assert lines == ["waypoint default/custom-wp (class custom) exists"]
