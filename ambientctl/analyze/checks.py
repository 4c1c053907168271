"""The ambient-aware checks of `ambientctl analyze`, one small object each.

Every check is a pure function of a `MeshState` and yields `Message`s; it
reports only on objects in the state's scope (the namespaces asked about).
Codes are stable: scripts may suppress or grep them (docs/analyze.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

from ambientctl.analyze.messages import Level, Message
from ambientctl.gateways import GATEWAY_API_CRDS, is_programmed, traffic_type
from ambientctl.labels import (
    GATEWAY_NAME_LABEL,
    INJECTION_LABEL,
    REVISION_LABEL,
    USE_WAYPOINT_LABEL,
    labels_of,
    name_of,
    namespace_of,
)
from ambientctl.mesh import authz as az
from ambientctl.mesh.model import MeshState, WaypointRef, ref
from ambientctl.workloads import has_sidecar, pod_service_account

WAYPOINT_SA_ANNOTATION = "gateway.istio.io/service-account"


@dataclass(frozen=True)
class Check:
    """A named rule: its code, worst level, one-line summary, and the function that runs it."""

    code: str
    level: Level
    summary: str
    run: Callable[[MeshState], Iterator[Message]]


def _msg(state: MeshState, level: Level, code: str, obj: dict, text: str) -> Message:
    return Message(level, code, ref(obj), text, state.origin(obj), state.line_of(obj))


# --------------------------------------------------------------------------- AMB0001


def l7_policy_in_ztunnel(state: MeshState) -> Iterator[Message]:
    """AMB0001: HTTP rules in a policy that ztunnel enforces (the guide's step 9 pitfall)."""
    for policy in state.policies:
        if not state.in_scope(namespace_of(policy)) or az.enforcer(policy) != az.ZTUNNEL:
            continue
        l7 = az.l7_attributes(policy)
        if not l7:
            continue
        pods = [p for p in state.pods_in(az.reachable_namespace(state, policy))
                if az.ztunnel_scope(state, policy, p) is not None]
        # A namespace we know nothing about (files alone) may well be in ambient: report.
        ambient_pods = [p for p in pods if state.pod_in_ambient(p) or namespace_of(p) not in state.namespaces]
        if pods and not ambient_pods:
            continue  # only sidecar or out-of-mesh pods: their sidecars enforce HTTP rules
        policy_ns = namespace_of(policy)
        if not pods and policy_ns in state.namespaces and not state.is_enrolled(policy_ns):
            continue
        allow = az.action(policy) == "ALLOW"
        effect = ("istiod drops these ALLOW rules, so requests they should allow are denied" if allow
                  else "the DENY rules are enforced without their HTTP parts, so they deny more than written")
        served = sorted({name_of(s) for p in ambient_pods for s in state.services_of_pod(p)
                         if state.service_has_working_waypoint(s)})
        if served:
            fix = (f"Service {served[0]} has a waypoint: target it instead of selecting pods (spec.targetRefs: "
                   f"[{{kind: Service, group: \"\", name: {served[0]}}}]), e.g. `ambientctl x authz allow "
                   f"--to service/{served[0]} ...`")
        else:
            accounts = sorted({pod_service_account(p) for p in ambient_pods})
            services = sorted({name_of(s) for p in ambient_pods for s in state.services_of_pod(p)})
            sa = f" --service-account {accounts[0]}" if accounts else ""
            wp_name = f" --name {services[0]}-waypoint" if services else ""
            fix = (f"no waypoint serves these workloads: deploy one (`ambientctl waypoint apply{sa}{wp_name} -n "
                   f"{namespace_of(policy)}`) and target its Service with spec.targetRefs")
        yield _msg(state, Level.Error if allow else Level.Warning, "AMB0001", policy,
                   f"ztunnel enforces this policy (it selects workloads) and cannot match HTTP attributes "
                   f"({', '.join(l7)}): {effect}. Fix: {fix}.")


# --------------------------------------------------------------------------- AMB0002


def policy_target_without_waypoint(state: MeshState) -> Iterator[Message]:
    """AMB0002: a policy targets a Service or Gateway that no waypoint stands behind."""
    for policy in state.policies:
        if not state.in_scope(namespace_of(policy)) or az.enforcer(policy) != az.WAYPOINT:
            continue
        for problem in az.unreached_targets(state, policy):
            yield _msg(state, Level.Error, "AMB0002", policy,
                       f"The policy {problem}. Fix: give the Service a waypoint (`ambientctl waypoint apply "
                       f"--service-account ACCOUNT -n {namespace_of(policy)}` or label it {USE_WAYPOINT_LABEL}), "
                       "or select the workloads instead if the rules are L4 only.")


# --------------------------------------------------------------------------- AMB0003


def sidecars_in_ambient_namespace(state: MeshState) -> Iterator[Message]:
    """AMB0003: an enrolled namespace whose pods keep sidecars, or that also enables injection."""
    for ns_name, ns in sorted(state.namespaces.items()):
        if not state.in_scope(ns_name) or not state.is_enrolled(ns_name):
            continue
        ns_labels = labels_of(ns)
        if ns_labels.get(INJECTION_LABEL) == "enabled" or REVISION_LABEL in ns_labels:
            yield _msg(state, Level.Warning, "AMB0003", ns,
                       f"The namespace is enrolled in ambient and also enables sidecar injection: new pods get "
                       f"sidecars and ambient skips them. Fix: `kubectl label namespace {ns_name} "
                       f"{INJECTION_LABEL}- {REVISION_LABEL}-`, then restart the pods.")
        # Gateway and waypoint pods run Envoy in a container named istio-proxy too: not sidecars.
        with_sidecars = sorted(name_of(p) for p in state.live_pods(ns_name)
                               if has_sidecar(p) and GATEWAY_NAME_LABEL not in labels_of(p))
        if with_sidecars:
            shown = ", ".join(with_sidecars[:5]) + (" ..." if len(with_sidecars) > 5 else "")
            yield _msg(state, Level.Warning, "AMB0003", ns,
                       f"{len(with_sidecars)} pod(s) keep their Istio sidecars although the namespace is enrolled "
                       f"in ambient ({shown}): ztunnel does not capture them. Fix: disable injection and restart "
                       f"them (`kubectl rollout restart deploy -n {ns_name}`).")


# --------------------------------------------------------------------------- AMB0004, AMB0005, AMB0008


def _waypoint_users(state: MeshState) -> Iterator[tuple[dict, WaypointRef, str]]:
    """(object carrying use-waypoint, the waypoint it names, traffic kind) for objects in scope."""
    for ns_name, ns in sorted(state.namespaces.items()):
        if state.in_scope(ns_name) and USE_WAYPOINT_LABEL in labels_of(ns):
            wp = state.waypoint_of_service({"metadata": {"name": "", "namespace": ns_name}})
            if wp:
                yield ns, wp, "namespace"
    for svc in state.services:
        if state.in_scope(namespace_of(svc)) and USE_WAYPOINT_LABEL in labels_of(svc):
            wp = state.waypoint_of_service(svc)
            if wp:
                yield svc, wp, "service"
    for pod in state.live_pods():
        if state.in_scope(namespace_of(pod)) and USE_WAYPOINT_LABEL in labels_of(pod):
            wp = state.waypoint_of_pod(pod)
            if wp:
                yield pod, wp, "workload"


def missing_waypoint(state: MeshState) -> Iterator[Message]:
    """AMB0004: istio.io/use-waypoint names a waypoint that does not exist."""
    if state.gateway_api is False:
        return  # AMB0007 says why
    for obj, wp, _ in _waypoint_users(state):
        if state.gateway(wp.namespace, wp.name) is None:
            yield _msg(state, Level.Error, "AMB0004", obj,
                       f"{USE_WAYPOINT_LABEL}={wp.name} names waypoint {wp.namespace}/{wp.name}, which does not "
                       f"exist: its traffic gets no L7 processing and L7 policies for it are not enforced. Fix: "
                       f"`ambientctl waypoint apply --name {wp.name} -n {wp.namespace}`, or remove the label.")


def waypoint_not_programmed(state: MeshState) -> Iterator[Message]:
    """AMB0005: the waypoint exists but istiod has not programmed it (yet)."""
    seen: set[tuple[str, str]] = set()
    for obj, wp, _ in _waypoint_users(state):
        gw = state.gateway(wp.namespace, wp.name)
        if gw is None or is_programmed(gw) or wp.key in seen:
            continue
        seen.add(wp.key)
        yield _msg(state, Level.Warning, "AMB0005", gw,
                   f"The waypoint is used ({ref(obj)} names it) but is not Programmed: traffic sent to it fails "
                   f"until istiod deploys it. Fix: check `ambientctl waypoint status {wp.name} -n {wp.namespace}` "
                   "and that istiod runs with ambient enabled.")


def waypoint_traffic_type(state: MeshState) -> Iterator[Message]:
    """AMB0008: a Service uses a workload-only waypoint, or a pod a service-only one."""
    for obj, wp, kind in _waypoint_users(state):
        gw = state.gateway(wp.namespace, wp.name)
        if gw is None or kind == "namespace":
            continue
        handles = traffic_type(gw)
        if handles == "all" or handles == kind:
            continue
        yield _msg(state, Level.Warning, "AMB0008", obj,
                   f"{USE_WAYPOINT_LABEL}={wp.name} but waypoint {wp.namespace}/{wp.name} handles "
                   f"{handles!r} traffic (istio.io/waypoint-for), not {kind} traffic: istiod ignores the binding. "
                   f"Fix: `kubectl label gateway {wp.name} -n {wp.namespace} istio.io/waypoint-for=all "
                   "--overwrite`, or use another waypoint.")


# --------------------------------------------------------------------------- AMB0006


def unknown_principal(state: MeshState) -> Iterator[Message]:
    """AMB0006: a policy names a service account that no pod runs as."""
    for policy in state.policies:
        if not state.in_scope(namespace_of(policy)):
            continue
        for principal in az.principals(policy):
            parsed = az.parse_principal(principal)
            if parsed is None:
                continue
            ns, account = parsed
            if state.pods_known_in is not None and ns not in state.pods_known_in:
                continue
            if any(pod_service_account(p) == account for p in state.live_pods(ns)):
                continue
            if any(name_of(g) == account or (g.get("metadata", {}).get("annotations") or {}).get(
                    WAYPOINT_SA_ANNOTATION) == account for g in state.waypoints(ns)):
                continue  # a waypoint's identity: its pods may not be listed yet
            where = f"namespace {ns}" if ns in state.namespaces else f"namespace {ns}, which does not exist"
            yield _msg(state, Level.Warning, "AMB0006", policy,
                       f"Principal {principal} matches no running pod: no pod in {where} runs as service account "
                       f"{account}. Fix: check the name and namespace (sa/NAME means this namespace), or deploy "
                       "the workload first.")


# --------------------------------------------------------------------------- AMB0007


def gateway_api_missing(state: MeshState) -> Iterator[Message]:
    """AMB0007: the cluster does not serve the Gateway API, so no waypoint can exist."""
    if state.gateway_api is False:
        yield Message(Level.Error, "AMB0007", "CustomResourceDefinition gateways.gateway.networking.k8s.io",
                      f"The Gateway API CRDs are not installed ({', '.join(GATEWAY_API_CRDS)}): waypoints cannot be "
                      "created and L7 features of ambient do not work. Fix: install the standard Gateway API CRDs "
                      "(`ambientctl precheck` names the release).")


# --------------------------------------------------------------------------- AMB0009


def waypoint_identity_denied(state: MeshState) -> Iterator[Message]:
    """AMB0009: an L4 ALLOW policy on pods behind a waypoint that does not admit the waypoint's identity."""
    for policy in state.policies:
        if not state.in_scope(namespace_of(policy)) or az.enforcer(policy) != az.ZTUNNEL \
                or az.action(policy) != "ALLOW" or az.l7_attributes(policy):
            continue
        blocked: dict[str, tuple[str, str]] = {}
        for pod in state.live_pods(az.reachable_namespace(state, policy)):
            if az.ztunnel_scope(state, policy, pod) is None or not state.pod_in_ambient(pod):
                continue
            for wp, gw, _ in state.serving_waypoints(pod):
                if gw is None:
                    continue
                account = (gw.get("metadata", {}).get("annotations") or {}).get(WAYPOINT_SA_ANNOTATION) or wp.name
                if not az.allows_principal(policy, f"{az.TRUST_DOMAIN}/ns/{wp.namespace}/sa/{account}"):
                    blocked[f"{wp.namespace}/{wp.name}"] = (wp.namespace, account)
        for waypoint, (ns, account) in sorted(blocked.items()):
            yield _msg(state, Level.Warning, "AMB0009", policy,
                       f"Traffic through waypoint {waypoint} reaches these pods with the waypoint's identity "
                       f"{az.TRUST_DOMAIN}/ns/{ns}/sa/{account}, which this policy does not allow: ztunnel denies "
                       f"it. Fix: add that principal (`ambientctl x authz allow ... --from sa/{ns}/{account}`).")


# --------------------------------------------------------------------------- AMB0010


def waypoint_outside_ambient(state: MeshState) -> Iterator[Message]:
    """AMB0010: use-waypoint on a Service whose pods are not in the ambient mesh."""
    for svc in state.services:
        if not state.in_scope(namespace_of(svc)) or USE_WAYPOINT_LABEL not in labels_of(svc):
            continue
        if not state.waypoint_of_service(svc):
            continue
        pods = state.pods_of_service(svc)
        if pods and not any(state.pod_in_ambient(p) for p in pods):
            yield _msg(state, Level.Warning, "AMB0010", svc,
                       f"The Service uses a waypoint but none of its pods is in the ambient mesh: the waypoint "
                       f"sees none of their traffic. Fix: `ambientctl dataplane enroll {namespace_of(svc)}`.")


# --------------------------------------------------------------------------- AMB0011


def waypoint_name_taken(state: MeshState) -> Iterator[Message]:
    """AMB0011: a waypoint named like an existing Service: istiod cannot create the waypoint's own Service."""
    for gw in state.waypoints():
        if not state.in_scope(namespace_of(gw)):
            continue
        svc = state.service(namespace_of(gw), name_of(gw))
        if svc is None or labels_of(svc).get(GATEWAY_NAME_LABEL) == name_of(gw):
            continue
        yield _msg(state, Level.Error, "AMB0011", gw,
                   f"Service {namespace_of(gw)}/{name_of(gw)} already exists and is not the waypoint's: istiod names "
                   f"the waypoint's Service after the Gateway, cannot create it, and never programs the waypoint. "
                   f"Fix: delete the waypoint and re-create it under another name (e.g. `ambientctl waypoint apply "
                   f"--name {name_of(gw)}-waypoint`).")


# --------------------------------------------------------------------------- AMB0012


def waypoint_shares_account(state: MeshState) -> Iterator[Message]:
    """AMB0012: a waypoint whose service account is also an application's."""
    for gw in state.waypoints():
        ns = namespace_of(gw)
        if not state.in_scope(ns):
            continue
        account = (gw.get("metadata", {}).get("annotations") or {}).get(WAYPOINT_SA_ANNOTATION) or name_of(gw)
        apps = sorted(name_of(p) for p in state.live_pods(ns)
                      if pod_service_account(p) == account and labels_of(p).get(GATEWAY_NAME_LABEL) != name_of(gw))
        if not apps:
            continue
        yield _msg(state, Level.Error, "AMB0012", gw,
                   f"istiod runs the waypoint as service account {account}, which application pods also use "
                   f"({', '.join(apps[:3])}): the waypoint shares their identity, and istiod marks the account as "
                   f"owned by the Gateway, so deleting the waypoint deletes the application's ServiceAccount. Fix: "
                   f"re-create the waypoint under another name "
                   f"(`ambientctl waypoint apply --name {name_of(gw)}-waypoint`).")


AMB_CHECKS: tuple[Check, ...] = (
    Check("AMB0001", Level.Error, "L7 rules in a policy that ztunnel enforces (no waypoint)", l7_policy_in_ztunnel),
    Check("AMB0002", Level.Error, "policy targetRefs a Service/Gateway no waypoint serves",
          policy_target_without_waypoint),
    Check("AMB0003", Level.Warning, "enrolled namespace whose pods keep sidecars", sidecars_in_ambient_namespace),
    Check("AMB0004", Level.Error, "istio.io/use-waypoint names a waypoint that does not exist", missing_waypoint),
    Check("AMB0005", Level.Warning, "used waypoint is not Programmed", waypoint_not_programmed),
    Check("AMB0006", Level.Warning, "policy principal names a service account no pod runs as", unknown_principal),
    Check("AMB0007", Level.Error, "Gateway API CRDs missing", gateway_api_missing),
    Check("AMB0008", Level.Warning, "waypoint does not handle the bound traffic type", waypoint_traffic_type),
    Check("AMB0009", Level.Warning, "L4 policy denies the waypoint's own identity", waypoint_identity_denied),
    Check("AMB0010", Level.Warning, "Service uses a waypoint but its pods are not in ambient",
          waypoint_outside_ambient),
    Check("AMB0011", Level.Error, "waypoint named like an existing Service", waypoint_name_taken),
    Check("AMB0012", Level.Error, "waypoint shares its service account with application pods",
          waypoint_shares_account),
)


ALL_CHECKS = AMB_CHECKS  # the AMB checks; analyze.ALL_CHECKS adds istioctl's


def run_checks(state: MeshState, checks: tuple[Check, ...] = AMB_CHECKS) -> list[Message]:
    """Every message of every check, in istioctl's order (worst first, then code, then resource)."""
    return sorted((m for check in checks for m in check.run(state)), key=Message.sort_key)


__all__ = ["ALL_CHECKS", "AMB_CHECKS", "Check", "run_checks"]
