"""The describe documents, built from the mesh model and what the pod's ztunnel reports. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ambientctl.gateways import is_programmed, traffic_type
from ambientctl.labels import (
    AMBIENT_MODE,
    DATAPLANE_MODE_LABEL,
    REDIRECTION_ANNOTATION,
    annotations_of,
    labels_of,
    name_of,
    namespace_of,
)
from ambientctl.mesh import authz
from ambientctl.mesh.model import MeshState
from ambientctl.workloads import has_sidecar, is_captured, is_live, pod_service_account, spiffe_id

@dataclass(frozen=True)
class ZtunnelView:
    """What the ztunnel on the pod's node says about it; `error` when it could not be read."""

    pod: str                          # "istio-system/ztunnel-x", "" when no ztunnel runs on the node
    protocol: str | None = None       # the workload's protocol in ztunnel (HBONE, TCP), None: unknown to it
    waypoint: str | None = None       # the waypoint ztunnel sends the workload's traffic to
    certificate_state: str | None = None  # Available, Initializing, Unavailable: ..., None: holds none
    certificate_expires: str | None = None
    error: str | None = None


def pod_spiffe_id(pod: dict[str, Any]) -> str:
    return spiffe_id(namespace_of(pod), pod_service_account(pod))


def data_plane(state: MeshState, pod: dict[str, Any]) -> dict[str, Any]:
    """Which data plane carries the pod's traffic, and why (the label that decides)."""
    namespace = namespace_of(pod)
    own = labels_of(pod).get(DATAPLANE_MODE_LABEL)
    if has_sidecar(pod):
        mode, reason = "sidecar", "the pod runs Istio's sidecar (ambient leaves it alone)"
    elif own:
        mode = "ambient" if own == AMBIENT_MODE else "none"
        reason = f"pod label {DATAPLANE_MODE_LABEL}={own}"
    elif state.is_enrolled(namespace):
        mode, reason = "ambient", f"namespace {namespace} has {DATAPLANE_MODE_LABEL}={AMBIENT_MODE}"
    else:
        mode, reason = "none", f"namespace {namespace} is not enrolled (ambientctl dataplane enroll {namespace})"
    redirection = annotations_of(pod).get(REDIRECTION_ANNOTATION)
    return {"mode": mode, "reason": reason, "captured": is_captured(pod), "redirection": redirection}


def _waypoints(state: MeshState, pod: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for wp, gateway, how in state.serving_waypoints(pod):
        found.append({"waypoint": f"{wp.namespace}/{wp.name}", "for": how, "labelOn": wp.source,
                      "exists": gateway is not None,
                      "programmed": gateway is not None and is_programmed(gateway),
                      "trafficType": traffic_type(gateway) if gateway is not None else None})
    return found


def _policies(state: MeshState, pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"policy": a.ref, "action": authz.action(a.policy), "scope": a.scope, "enforcedBy": a.enforced_by,
             "l7Attributes": a.l7, "note": a.note} for a in authz.policies_for_pod(state, pod)]


def _ztunnel(view: ZtunnelView | None) -> dict[str, Any] | None:
    if view is None:
        return None
    return {"pod": view.pod or None, "protocol": view.protocol, "waypoint": view.waypoint,
            "certificate": None if view.certificate_state is None else
            {"state": view.certificate_state, "expires": view.certificate_expires},
            "error": view.error}


def pod_problems(document: dict[str, Any]) -> list[str]:
    """What a user should fix, from the document's own facts (the printer lists them last)."""
    problems = []
    plane, zt = document["dataPlane"], document["ztunnel"]
    if plane["mode"] == "ambient" and not plane["captured"]:
        problems.append("the pod is in an ambient namespace but not captured (no "
                        f"{REDIRECTION_ANNOTATION}=enabled): istio-cni has not processed it; restart it or check "
                        "istio-cni-node on its node")
    if plane["mode"] == "ambient" and zt is not None and not zt["error"]:
        if not zt["pod"]:
            problems.append(f"no ztunnel runs on node {document['node']}: the pod's traffic is not in the mesh")
        elif zt["protocol"] not in (None, "HBONE"):
            problems.append(f"ztunnel knows the pod as {zt['protocol']}, not HBONE: istiod has not seen it captured yet")
        elif zt["pod"] and zt["certificate"] is None:
            problems.append(f"ztunnel holds no certificate for {document['identity']} yet")
        elif zt["certificate"] and zt["certificate"]["state"] != "Available":
            problems.append(f"ztunnel's certificate for {document['identity']} is {zt['certificate']['state']}")
    for wp in document["waypoints"]:
        if not wp["exists"]:
            problems.append(f"{wp['labelOn']} names waypoint {wp['waypoint']}, which does not exist "
                            f"(ambientctl waypoint apply -n {wp['waypoint'].split('/')[0]})")
        elif not wp["programmed"]:
            problems.append(f"waypoint {wp['waypoint']} is not programmed yet (ambientctl waypoint status)")
    for policy in document["policies"]:
        if policy["note"]:
            problems.append(f"{policy['policy']}: {policy['note']}")
    if plane["mode"] != "ambient" and document["policies"]:
        problems.append("policies are listed as they would apply in ambient mode; the pod is not in it")
    return problems


def describe_pod(state: MeshState, pod: dict[str, Any], ztunnel: ZtunnelView | None) -> dict[str, Any]:
    """Everything about one pod's place in the ambient mesh, as one document."""
    document = {
        "pod": f"{namespace_of(pod)}/{name_of(pod)}",
        "node": (pod.get("spec") or {}).get("nodeName"),
        "live": is_live(pod),
        "serviceAccount": pod_service_account(pod),
        "identity": pod_spiffe_id(pod),
        "dataPlane": data_plane(state, pod),
        "services": sorted(name_of(s) for s in state.services_of_pod(pod)),
        "ztunnel": _ztunnel(ztunnel),
        "waypoints": _waypoints(state, pod),
        "policies": _policies(state, pod),
    }
    document["problems"] = pod_problems(document)
    return document


def describe_service(state: MeshState, service: dict[str, Any]) -> dict[str, Any]:
    """A Service: its ports, the pods behind it and their data plane, its waypoint and the policies at it."""
    spec = service.get("spec") or {}
    pods = state.pods_of_service(service)
    wp = state.waypoint_of_service(service)
    gateway = state.gateway(wp.namespace, wp.name) if wp else None
    waypoint = None if wp is None else {
        "waypoint": f"{wp.namespace}/{wp.name}", "labelOn": wp.source, "exists": gateway is not None,
        "programmed": gateway is not None and is_programmed(gateway),
        "trafficType": traffic_type(gateway) if gateway is not None else None,
        "takesServiceTraffic": gateway is not None and traffic_type(gateway) in ("service", "all")}
    policies = [p for p in state.policies if _targets_service(p, service, state)]
    document = {
        "service": f"{namespace_of(service)}/{name_of(service)}",
        "clusterIP": spec.get("clusterIP"),
        "ports": [f"{p.get('port')}/{p.get('protocol') or 'TCP'}" + (f" ({p['name']})" if p.get("name") else "")
                  for p in spec.get("ports") or []],
        "pods": [{"pod": name_of(p), "dataPlane": data_plane(state, p)["mode"], "captured": is_captured(p)}
                 for p in sorted(pods, key=name_of)],
        "waypoint": waypoint,
        "policies": [{"policy": f"{namespace_of(p)}/{name_of(p)}", "action": authz.action(p),
                      "l7Attributes": authz.l7_attributes(p)} for p in sorted(policies, key=name_of)],
    }
    document["problems"] = service_problems(document)
    return document


def _targets_service(policy: dict[str, Any], service: dict[str, Any], state: MeshState) -> bool:
    """A waypoint policy whose targetRefs name this Service."""
    for target in authz.target_refs(policy):
        if (target.get("kind") == "Service" and target.get("group", "") in ("", "core")
                and target.get("name") == name_of(service)
                and (target.get("namespace") or namespace_of(policy)) == namespace_of(service)):
            return True
    return False


def service_problems(document: dict[str, Any]) -> list[str]:
    problems = []
    wp = document["waypoint"]
    if wp and not wp["exists"]:
        problems.append(f"{wp['labelOn']} names waypoint {wp['waypoint']}, which does not exist")
    elif wp and not wp["takesServiceTraffic"]:
        problems.append(f"waypoint {wp['waypoint']} handles {wp['trafficType']} traffic, not service traffic")
    elif wp and not wp["programmed"]:
        problems.append(f"waypoint {wp['waypoint']} is not programmed yet")
    if document["policies"] and not (wp and wp["exists"]):
        problems.append("policies target this Service but no waypoint serves it: nothing enforces them")
    if not document["pods"]:
        problems.append("no live pod matches the Service's selector")
    return problems
