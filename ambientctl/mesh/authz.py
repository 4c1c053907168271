"""AuthorizationPolicies in ambient mode: who enforces each one, and writing the guide's policies.

In ambient mode two proxies enforce policies, and they see different things:

* ztunnel enforces policies that select workloads (`selector`, or none:
  namespace-wide; mesh-wide in the root namespace). It sees only L4: peer
  identity, namespace, IPs and ports. HTTP attributes (methods, paths,
  hosts, request principals, header `when` keys) cannot be matched there:
  istiod drops such ALLOW rules (so the policy denies more than written) and
  enforces DENY rules without their HTTP parts.
* a waypoint enforces policies that target it with `targetRefs`: the
  waypoint's Gateway, or a Service whose traffic goes through the waypoint.
  Waypoints never use `selector`.

These rules follow istiod's ambient policy conversion at the pinned release.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ambientctl.errors import InvalidInputError
from ambientctl.gateways import GATEWAY_GROUP
from ambientctl.labels import labels_of, name_of, namespace_of
from ambientctl.mesh.model import MeshState
from ambientctl.workloads import TRUST_DOMAIN, selector_matches

API_VERSION = "security.istio.io/v1"
# `when` keys ztunnel can evaluate; every other key needs a waypoint.
L4_WHEN_KEYS = frozenset({"source.ip", "source.namespace", "source.principal", "destination.ip", "destination.port"})
_L7_OPERATION_FIELDS = ("hosts", "notHosts", "methods", "notMethods", "paths", "notPaths")
_L7_SOURCE_FIELDS = ("remoteIpBlocks", "notRemoteIpBlocks", "requestPrincipals", "notRequestPrincipals")
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE")

ZTUNNEL = "ztunnel"
WAYPOINT = "waypoint"


# --------------------------------------------------------------------------- reading policies


def spec(policy: dict[str, Any]) -> dict[str, Any]:
    return policy.get("spec") or {}


def target_refs(policy: dict[str, Any]) -> list[dict[str, Any]]:
    """`targetRefs`, plus the older single `targetRef`."""
    refs = list(spec(policy).get("targetRefs") or [])
    if spec(policy).get("targetRef"):
        refs.append(spec(policy)["targetRef"])
    return refs


def enforcer(policy: dict[str, Any]) -> str:
    """`waypoint` for policies with targetRefs, else `ztunnel`."""
    return WAYPOINT if target_refs(policy) else ZTUNNEL


def action(policy: dict[str, Any]) -> str:
    return spec(policy).get("action") or "ALLOW"


def l7_attributes(policy: dict[str, Any]) -> list[str]:
    """The HTTP-only fields a policy uses (sorted), as istiod lists them in its ztunnel warning."""
    found: set[str] = set()
    for rule in spec(policy).get("rules") or []:
        for to in rule.get("to") or []:
            operation = to.get("operation") or {}
            found.update(f for f in _L7_OPERATION_FIELDS if operation.get(f))
        for source in rule.get("from") or []:
            src = source.get("source") or {}
            found.update(f for f in _L7_SOURCE_FIELDS if src.get(f))
        for when in rule.get("when") or []:
            key = when.get("key", "")
            if key and key not in L4_WHEN_KEYS:
                found.add(key)
    return sorted(found)


def principals(policy: dict[str, Any]) -> list[str]:
    """Every principal the policy's rules name (from.source.principals and notPrincipals)."""
    found: list[str] = []
    for rule in spec(policy).get("rules") or []:
        for source in rule.get("from") or []:
            src = source.get("source") or {}
            for key in ("principals", "notPrincipals"):
                found.extend(p for p in src.get(key) or [] if p not in found)
    return found


def parse_principal(principal: str) -> tuple[str, str] | None:
    """(namespace, service account) of `TRUST_DOMAIN/ns/NS/sa/SA`; None for wildcards or other shapes."""
    if "*" in principal:
        return None
    parts = principal.split("/")
    if len(parts) == 5 and parts[1] == "ns" and parts[3] == "sa" and parts[2] and parts[4]:
        return parts[2], parts[4]
    return None


def allows_principal(policy: dict[str, Any], principal: str) -> bool:
    """True when some rule of an ALLOW policy lets this identity through at L4.

    A rule with no `from` allows everyone; a `from` with principals must
    list it (exactly, or by a `*` prefix/suffix pattern).
    """
    for rule in spec(policy).get("rules") or []:
        sources = rule.get("from") or []
        if not sources:
            return True
        for source in sources:
            src = source.get("source") or {}
            listed = src.get("principals")
            if listed is None and not src.get("namespaces"):
                return True
            if listed and any(_pattern_matches(p, principal) for p in listed):
                return True
            ns = principal.split("/ns/")[-1].split("/")[0] if "/ns/" in principal else None
            if ns and ns in (src.get("namespaces") or []):
                return True
    return False


def _pattern_matches(pattern: str, value: str) -> bool:
    if pattern == "*":
        return True
    if pattern.startswith("*"):
        return value.endswith(pattern[1:])
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    return pattern == value


# --------------------------------------------------------------------------- which policies apply to a pod


@dataclass(frozen=True)
class AppliedPolicy:
    """One policy that applies to a pod, why, and who enforces it."""

    policy: dict[str, Any]
    scope: str  # "namespace", "selector", "mesh (root namespace)", "Service NAME", "waypoint NAME"
    enforced_by: str  # "ztunnel" or "waypoint NS/NAME"
    l7: list[str]
    note: str = ""

    @property
    def ref(self) -> str:
        return f"{namespace_of(self.policy)}/{name_of(self.policy)}"


def _selector(policy: dict[str, Any]) -> dict[str, str] | None:
    sel = spec(policy).get("selector")
    if sel is None:
        return None
    return sel.get("matchLabels") or {}


def reachable_namespace(state: MeshState, policy: dict[str, Any]) -> str | None:
    """The only namespace whose pods `ztunnel_scope` can find the policy in (None: every one, root namespace)."""
    return None if namespace_of(policy) == state.root_namespace else namespace_of(policy)


def ztunnel_scope(state: MeshState, policy: dict[str, Any], pod: dict[str, Any]) -> str | None:
    """How a selector/namespace policy reaches a pod in ztunnel, or None if it does not."""
    if target_refs(policy):
        return None
    pol_ns, pod_ns = namespace_of(policy), namespace_of(pod)
    root = pol_ns == state.root_namespace
    if pol_ns != pod_ns and not root:
        return None
    selector = _selector(policy)
    if selector is None:
        return "mesh (root namespace)" if root and pol_ns != pod_ns else "namespace"
    if not selector:
        return "namespace"
    if selector_matches(selector, labels_of(pod)):
        return "selector" if not (root and pol_ns != pod_ns) else "selector (root namespace)"
    return None


def waypoint_targets(state: MeshState, policy: dict[str, Any], pod: dict[str, Any]) -> list[tuple[str, str]]:
    """(scope, waypoint NS/NAME) for each targetRef through which the policy reaches traffic to the pod."""
    reached = []
    pol_ns = namespace_of(policy)
    serving = state.serving_waypoints(pod)
    for target in target_refs(policy):
        kind, group, target_name = target.get("kind"), target.get("group", ""), target.get("name", "")
        target_ns = target.get("namespace") or pol_ns
        if kind == "Service" and group in ("", "core"):
            for wp, gw, how in serving:
                if how == f"Service {target_name}" and target_ns == namespace_of(pod):
                    reached.append((f"Service {target_name}", f"{wp.namespace}/{wp.name}"))
        elif kind == "Gateway" and group == GATEWAY_GROUP:
            for wp, gw, how in serving:
                if wp.name == target_name and wp.namespace == target_ns:
                    reached.append((f"waypoint {target_name}", f"{wp.namespace}/{wp.name}"))
        elif kind == "GatewayClass" and group == GATEWAY_GROUP and pol_ns == state.root_namespace:
            for wp, gw, how in serving:
                if gw is not None and (gw.get("spec") or {}).get("gatewayClassName") == target_name:
                    reached.append((f"GatewayClass {target_name}", f"{wp.namespace}/{wp.name}"))
    return sorted(set(reached))


def policies_for_pod(state: MeshState, pod: dict[str, Any]) -> list[AppliedPolicy]:
    """Every AuthorizationPolicy that applies to traffic reaching the pod, ztunnel ones first."""
    applied: list[AppliedPolicy] = []
    for policy in state.policies:
        l7 = l7_attributes(policy)
        scope = ztunnel_scope(state, policy, pod)
        if scope is not None:
            note = ""
            if l7:
                note = (f"ztunnel cannot match {', '.join(l7)}: "
                        + ("these rules are dropped, so the policy denies more than written"
                           if action(policy) == "ALLOW" else "the rules are enforced without their HTTP parts"))
            applied.append(AppliedPolicy(policy, scope, ZTUNNEL, l7, note))
        for target_scope, waypoint in waypoint_targets(state, policy, pod):
            applied.append(AppliedPolicy(policy, target_scope, f"waypoint {waypoint}", l7))
    return sorted(applied, key=lambda a: (a.enforced_by != ZTUNNEL, a.enforced_by, a.ref))


def unreached_targets(state: MeshState, policy: dict[str, Any]) -> list[str]:
    """targetRefs of a policy that no waypoint will act on (why, one line each)."""
    problems = []
    pol_ns = namespace_of(policy)
    for target in target_refs(policy):
        kind, group, target_name = target.get("kind"), target.get("group", ""), target.get("name", "")
        target_ns = target.get("namespace") or pol_ns
        if kind == "Service" and group in ("", "core"):
            svc = state.service(target_ns, target_name)
            if svc is None:
                problems.append(f"targets Service {target_ns}/{target_name}, which does not exist")
            elif not state.waypoint_of_service(svc):
                problems.append(f"targets Service {target_ns}/{target_name}, which uses no waypoint: nothing "
                                "enforces the policy")
            elif state.gateway(*state.waypoint_of_service(svc).key) is None:  # type: ignore[union-attr]
                wp = state.waypoint_of_service(svc)
                problems.append(f"targets Service {target_ns}/{target_name}, whose waypoint "
                                f"{wp.namespace}/{wp.name} does not exist")  # type: ignore[union-attr]
        elif kind == "Gateway" and group == GATEWAY_GROUP:
            if state.gateway(target_ns, target_name) is None:
                problems.append(f"targets Gateway {target_ns}/{target_name}, which does not exist")
    return problems


# --------------------------------------------------------------------------- writing policies


@dataclass(frozen=True)
class Target:
    """What `--to` names: pods by labels (ztunnel) or a Service/waypoint by targetRefs (waypoint)."""

    selector: dict[str, str] | None = None
    kind: str | None = None  # "Service" or "Gateway"
    name: str | None = None

    @property
    def short_name(self) -> str:
        if self.name:
            return self.name
        assert self.selector
        return self.selector.get("app") or next(iter(self.selector.values()))


_TARGET_KINDS = {"service": "Service", "svc": "Service", "gateway": "Gateway", "waypoint": "Gateway",
                 "gw": "Gateway"}


def parse_target(text: str) -> Target:
    """`app=productpage[,version=v1]`, `service/NAME` or `waypoint/NAME` (also gateway/NAME)."""
    if "=" in text:
        selector: dict[str, str] = {}
        for term in text.split(","):
            key, sep, value = term.partition("=")
            if not sep or not key.strip() or not value.strip():
                raise InvalidInputError(f"--to {text!r}: {term!r} is not KEY=VALUE",
                                        "use --to app=productpage or --to service/productpage")
            selector[key.strip()] = value.strip()
        return Target(selector=selector)
    kind, sep, target_name = text.partition("/")
    if sep and kind.lower() in _TARGET_KINDS and target_name and "/" not in target_name:
        return Target(kind=_TARGET_KINDS[kind.lower()], name=target_name)
    raise InvalidInputError(f"--to {text!r} is not a target",
                            "use LABEL=VALUE (pods, enforced by ztunnel), service/NAME or waypoint/NAME "
                            "(enforced by the waypoint)")


def parse_source(text: str, namespace: str, trust_domain: str = TRUST_DOMAIN) -> tuple[str, str]:
    """(`principals`|`namespaces`, value) for `sa/NAME`, `sa/NS/NAME`, `ns/NAME` or a full principal."""
    parts = text.split("/")
    if parts[0] in ("sa", "serviceaccount") and len(parts) in (2, 3) and all(parts[1:]):
        ns, account = (namespace, parts[1]) if len(parts) == 2 else (parts[1], parts[2])
        return "principals", f"{trust_domain}/ns/{ns}/sa/{account}"
    if parts[0] in ("ns", "namespace") and len(parts) == 2 and parts[1]:
        return "namespaces", parts[1]
    if parse_principal(text) is not None:
        return "principals", text
    raise InvalidInputError(f"--from {text!r} is not a source",
                            "use sa/NAME (this namespace), sa/NAMESPACE/NAME, ns/NAMESPACE or "
                            "cluster.local/ns/NS/sa/NAME")


def normalise_methods(methods: list[str]) -> list[str]:
    result = []
    for method in methods:
        for item in method.split(","):
            upper = item.strip().upper()
            if not upper:
                continue
            if upper not in HTTP_METHODS:
                raise InvalidInputError(f"--methods: {item!r} is not an HTTP method",
                                        f"use one of {', '.join(HTTP_METHODS)}")
            if upper not in result:
                result.append(upper)
    return result


def allow_policy(
    *,
    target: Target,
    sources: list[str],
    namespace: str,
    methods: list[str] | None = None,
    paths: list[str] | None = None,
    policy_name: str | None = None,
    trust_domain: str = TRUST_DOMAIN,
) -> dict[str, Any]:
    """An ALLOW AuthorizationPolicy: `from` the sources, optionally only `to` these methods/paths."""
    if not sources:
        raise InvalidInputError("no --from given", "name who may connect, e.g. --from sa/sleep")
    source: dict[str, list[str]] = {}
    for text in sources:
        key, value = parse_source(text, namespace, trust_domain)
        if value not in source.setdefault(key, []):
            source[key].append(value)
    rule: dict[str, Any] = {"from": [{"source": source}]}
    operation: dict[str, list[str]] = {}
    if methods:
        operation["methods"] = methods
    if paths:
        operation["paths"] = paths
    if operation:
        rule["to"] = [{"operation": operation}]
    body: dict[str, Any] = {}
    if target.selector is not None:
        body["selector"] = {"matchLabels": dict(target.selector)}
    else:
        group = "" if target.kind == "Service" else GATEWAY_GROUP
        body["targetRefs"] = [{"kind": target.kind, "group": group, "name": target.name}]
    body["action"] = "ALLOW"
    body["rules"] = [rule]
    return {
        "apiVersion": API_VERSION,
        "kind": "AuthorizationPolicy",
        "metadata": {"name": policy_name or f"{target.short_name}-viewer", "namespace": namespace},
        "spec": body,
    }


def generation_warnings(policy: dict[str, Any], state: MeshState | None) -> list[str]:
    """What will not work as written: L7 rules that ztunnel would enforce, targets no waypoint serves."""
    warnings = []
    l7 = l7_attributes(policy)
    if l7 and enforcer(policy) == ZTUNNEL:
        warnings.append(
            f"the policy selects pods, so ztunnel enforces it, and ztunnel cannot match {', '.join(l7)}: istiod drops "
            "these ALLOW rules and every request is denied; use --to service/NAME (or waypoint/NAME) so a "
            "waypoint enforces them")
        if state is not None:
            selector = _selector(policy) or {}
            pods = [p for p in state.live_pods(namespace_of(policy)) if selector_matches(selector, labels_of(p))]
            served = sorted({name_of(s) for p in pods for s in state.services_of_pod(p)
                             if state.service_has_working_waypoint(s)})
            if served:
                warnings.append(f"Service(s) {', '.join(served)} of these pods have a waypoint: target them with "
                                f"--to service/{served[0]}")
    if state is not None and enforcer(policy) == WAYPOINT:
        for problem in unreached_targets(state, policy):
            warnings.append(f"no waypoint serves the target: the policy {problem}; deploy one with "
                            "`ambientctl waypoint apply --service-account ...` or label the Service "
                            "istio.io/use-waypoint")
    return warnings
