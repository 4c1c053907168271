"""istioctl's analyzers that matter in an ambient mesh, reporting istioctl's IST codes and levels.

Each check reads the same `MeshState` as the AMB checks and follows the rule
of the istioctl analyzer named in its docstring (Istio 1.31), so a script that
greps or suppresses an IST code sees it where istioctl would report it. The
texts are ambientctl's own and say what to do in an ambient mesh (enrol the
namespace, rather than only "enable injection"). Where ambientctl knows more
than istioctl (objects in files that istioctl ignores without a cluster, pods
from Deployments in files) it uses it; docs/analyze.md lists every difference.
"""

from __future__ import annotations

from typing import Any, Iterator

from ambientctl.analyze.checks import Check
from ambientctl.analyze.codes import IST_CODES
from ambientctl.analyze.messages import Level, Message
from ambientctl.gateways import GATEWAY_GROUP
from ambientctl.labels import (
    AMBIENT_MODE,
    DATAPLANE_MODE_LABEL,
    GATEWAY_NAME_LABEL,
    INJECTION_LABEL,
    REDIRECTION_ANNOTATION,
    REVISION_LABEL,
    SIDECAR_CONTAINER,
    annotations_of,
    labels_of,
    name_of,
    namespace_of,
)
from ambientctl.mesh.model import MeshState, ref

# Namespaces istioctl never analyzes (its injector's ignored list) and the one it skips for injection checks.
IGNORED_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease", "local-path-storage"})
ISTIO_SYSTEM = "istio-system"
SIDECAR_INJECT = "sidecar.istio.io/inject"
NETWORKING_GROUP = "networking.istio.io"


def _msg(state: MeshState, code: str, obj: dict[str, Any], text: str, *path: Any) -> Message:
    """A message at istioctl's level for the code, pointing at a field of a file object when there is one."""
    return Message(IST_CODES[code][1], code, ref(obj), text, state.origin(obj), state.line_of(obj, *path))


def _analyzed(state: MeshState, obj: dict[str, Any]) -> bool:
    ns = namespace_of(obj) or (name_of(obj) if obj.get("kind") == "Namespace" else "")
    return ns not in IGNORED_NAMESPACES and (not namespace_of(obj) or state.in_scope(ns))


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod.get("spec") or {}
    return (spec.get("containers") or []) + (spec.get("initContainers") or [])


def _has_proxy(pod: dict[str, Any]) -> bool:
    return any(c.get("name") == SIDECAR_CONTAINER and c.get("image") for c in _containers(pod))


def pod_in_sidecar_mesh(state: MeshState, pod: dict[str, Any]) -> bool:
    """istioctl's in-mesh rule: a proxy container, else the pod's inject label/annotation, else the namespace label."""
    if _has_proxy(pod):
        return True
    for meta in (labels_of(pod), annotations_of(pod)):
        if SIDECAR_INJECT in meta:
            return meta[SIDECAR_INJECT] == "true"
    ns = state.namespaces.get(namespace_of(pod))
    return ns is not None and labels_of(ns).get(INJECTION_LABEL) == "enabled"


def pod_in_ambient(state: MeshState, pod: dict[str, Any]) -> bool:
    """istio-cni's redirection annotation (istioctl's rule), or, before istio-cni saw it, the ambient labels."""
    return annotations_of(pod).get(REDIRECTION_ANNOTATION) == "enabled" or state.pod_in_ambient(pod)


# --------------------------------------------------------------------------- injection.Analyzer


def namespace_labels(state: MeshState) -> Iterator[Message]:
    """IST0123 and IST0102 (istioctl's injection.Analyzer): conflicting mesh labels; a namespace in no mesh."""
    for name, ns in sorted(state.namespaces.items()):
        if name == ISTIO_SYSTEM or not _analyzed(state, ns):
            continue
        labels = labels_of(ns)
        injection = labels.get(INJECTION_LABEL)
        found = [f"{INJECTION_LABEL}={injection}"] if injection is not None else []
        for key in (REVISION_LABEL, DATAPLANE_MODE_LABEL):
            if key in labels and (injection is None or injection == "enabled"):
                found.append(f"{key}={labels[key]}")
        if len(found) > 1:
            yield _msg(state, "IST0123", ns,
                       f"The namespace has more than one mesh label ({', '.join(found)}): sidecar injection and "
                       f"ambient compete for its pods. Keep one: `kubectl label namespace {name} "
                       f"{INJECTION_LABEL}- {REVISION_LABEL}-` for ambient, or remove {DATAPLANE_MODE_LABEL} "
                       "for sidecars.")
        if labels.get(DATAPLANE_MODE_LABEL) == AMBIENT_MODE:
            continue
        if injection is None and REVISION_LABEL not in labels:
            yield _msg(state, "IST0102", ns,
                       f"The namespace is in no mesh: neither ambient ({DATAPLANE_MODE_LABEL}={AMBIENT_MODE}) nor "
                       f"sidecar injection is enabled. Run `ambientctl dataplane enroll {name}` to add it to the "
                       f"ambient mesh, or `kubectl label namespace {name} {INJECTION_LABEL}=disabled` to mark it "
                       "as outside the mesh on purpose.", "metadata", "name")


def pods_missing_proxy(state: MeshState) -> Iterator[Message]:
    """IST0103 (istioctl's injection.Analyzer): a pod of an injected namespace runs without its sidecar."""
    injected = {name for name, ns in state.namespaces.items()
                if name != ISTIO_SYSTEM and labels_of(ns).get(DATAPLANE_MODE_LABEL) != AMBIENT_MODE
                and labels_of(ns).get(INJECTION_LABEL) == "enabled"}
    for pod in state.live_pods():
        if namespace_of(pod) not in injected or not _analyzed(state, pod) or id(pod) in state.templates:
            continue
        inject = labels_of(pod).get(SIDECAR_INJECT, annotations_of(pod).get(SIDECAR_INJECT, ""))
        if inject.lower() == "false" or (pod.get("spec") or {}).get("hostNetwork"):
            continue
        if not _has_proxy(pod):
            yield _msg(state, "IST0103", pod,
                       f"The pod {namespace_of(pod)}/{name_of(pod)} runs without the Istio sidecar although its "
                       f"namespace enables injection: it started before injection was on, or the webhook did not "
                       f"reach istiod. Restart its workload, or move the namespace to ambient "
                       f"(`ambientctl dataplane enroll {namespace_of(pod)}`), which needs no restart.")


# --------------------------------------------------------------------------- auth.AuthorizationPoliciesAnalyzer


def _selector_text(selector: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))


def _mesh_pod_labels(state: MeshState) -> dict[str, list[dict[str, str]]]:
    table: dict[str, list[dict[str, str]]] = {}
    for pod in state.live_pods():
        if pod_in_sidecar_mesh(state, pod) or pod_in_ambient(state, pod):
            table.setdefault(namespace_of(pod), []).append(labels_of(pod))
    return table


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def policy_without_workloads(state: MeshState) -> Iterator[Message]:
    """IST0127 (istioctl's AuthorizationPoliciesAnalyzer): a policy whose selector matches no pod in the mesh."""
    if not state.cluster_read and not state.pods:
        return  # files alone without workloads: nothing to judge against (istioctl skips this analyzer too)
    pods = _mesh_pod_labels(state)
    for policy in state.policies:
        if not _analyzed(state, policy):
            continue
        ns = namespace_of(policy)
        selector = ((policy.get("spec") or {}).get("selector") or {}).get("matchLabels")
        if ns == state.root_namespace:
            if selector is None or any(_matches(selector, labels) for group in pods.values() for labels in group):
                continue
        elif selector is None:
            if pods.get(ns):
                continue
        elif any(_matches(selector, labels) for labels in pods.get(ns, [])):
            continue
        shown = _selector_text(selector or {})
        what = f"its selector {shown}" if shown else "it (namespace-wide)"
        yield _msg(state, "IST0127", policy,
                   f"No pod in the mesh (sidecar or ambient) matches {what}"
                   f"{'' if ns == state.root_namespace else f' in namespace {ns}'}: the policy applies to nothing. "
                   f"Check the labels, or enrol the workloads (`ambientctl dataplane enroll {ns}`).")


def _is_wildcard(pattern: str) -> bool:
    """`*`, `*suffix` or `prefix*`: matched by _namespace_matches against every name; others are exact."""
    return pattern.startswith("*") or pattern.endswith("*")


def _namespace_matches(namespace: str, pattern: str) -> bool:
    if pattern == "*":
        return True
    if pattern.startswith("*"):
        return namespace.endswith(pattern[1:])
    if pattern.endswith("*"):
        return namespace.startswith(pattern[:-1])
    return namespace.lower() == pattern.lower()


def policy_namespace_not_found(state: MeshState) -> Iterator[Message]:
    """IST0101 (istioctl's AuthorizationPoliciesAnalyzer): a rule names a source namespace that does not exist."""
    if not state.cluster_read:
        return  # without the cluster, a namespace missing from the files may well exist
    lowered = {name.lower() for name in state.namespaces}  # exact names: a set lookup, not a scan per pattern
    for policy in state.policies:
        if not _analyzed(state, policy):
            continue
        for i, rule in enumerate((policy.get("spec") or {}).get("rules") or []):
            for j, source in enumerate((rule or {}).get("from") or []):
                src = (source or {}).get("source") or {}
                for field in ("namespaces", "notNamespaces"):
                    for k, pattern in enumerate(src.get(field) or []):
                        if _is_wildcard(pattern):
                            if any(_namespace_matches(n, pattern) for n in state.namespaces):
                                continue
                        elif pattern.lower() in lowered:
                            continue
                        yield _msg(state, "IST0101", policy,
                                   f'Referenced namespace not found: "{pattern}" (rules[{i}].from[{j}].source.'
                                   f"{field}): no namespace has that name, so the rule never matches as meant. "
                                   "Check the spelling.", "spec", "rules", i, "from", j, "source", field, k)


# --------------------------------------------------------------------------- k8sgateway.SelectorAnalyzer

_SELECTOR_POLICIES = (("AuthorizationPolicy", "security.istio.io"), ("RequestAuthentication", "security.istio.io"),
                      ("Telemetry", "telemetry.istio.io"), ("WasmPlugin", "extensions.istio.io"))


def _policies_with_selectors(state: MeshState) -> Iterator[dict[str, Any]]:
    yield from state.policies
    for kind, group in _SELECTOR_POLICIES[1:]:
        yield from state.objects(kind, group)


def ineffective_selector(state: MeshState) -> Iterator[Message]:
    """IST0166 (istioctl's k8sgateway.SelectorAnalyzer): a policy selects the pods of a Gateway API gateway."""
    gateway_pods: dict[str, list[dict[str, str]]] = {}
    for pod in state.live_pods():
        if GATEWAY_NAME_LABEL in labels_of(pod):
            gateway_pods.setdefault(namespace_of(pod), []).append(labels_of(pod))
    for policy in _policies_with_selectors(state):
        spec = policy.get("spec") or {}
        selector = (spec.get("selector") or {}).get("matchLabels")
        if spec.get("targetRef") or spec.get("targetRefs") or not selector or not _analyzed(state, policy):
            continue
        for labels in gateway_pods.get(namespace_of(policy), []):
            if _matches(selector, labels):
                gateway = labels[GATEWAY_NAME_LABEL]
                yield _msg(state, "IST0166", policy,
                           f"The selector matches the pods of Gateway {gateway}, a Kubernetes Gateway (a waypoint or "
                           f"ingress) whose pods istiod configures from targetRefs only: the selector has no "
                           f"effect. Use spec.targetRefs: [{{kind: Gateway, group: {GATEWAY_GROUP}, name: "
                           f"{gateway}}}].")


# --------------------------------------------------------------------------- conditions.ConditionAnalyzer

_NEGATIVE = {
    ("Service", ""): ("istio.io/WaypointBound",),
    ("ServiceEntry", NETWORKING_GROUP): ("istio.io/WaypointBound",),
    ("WorkloadEntry", NETWORKING_GROUP): ("istio.io/WaypointBound",),
    ("AuthorizationPolicy", "security.istio.io"): ("ZtunnelAccepted", "WaypointAccepted"),
    ("Gateway", GATEWAY_GROUP): ("Accepted", "Programmed", "ResolvedRefs"),
    ("HTTPRoute", GATEWAY_GROUP): ("Accepted", "Programmed", "ResolvedRefs"),
    ("GRPCRoute", GATEWAY_GROUP): ("Accepted", "Programmed", "ResolvedRefs"),
}


def _conditions(obj: dict[str, Any]) -> list[dict[str, Any]]:
    status = obj.get("status") or {}
    if obj.get("kind") in ("HTTPRoute", "GRPCRoute"):
        return [c for parent in status.get("parents") or [] for c in (parent or {}).get("conditions") or []]
    return [c for c in status.get("conditions") or [] if isinstance(c, dict)]


def negative_conditions(state: MeshState) -> Iterator[Message]:
    """IST0171 (istioctl's ConditionAnalyzer): a waypoint binding, policy, Gateway or route reports a False condition."""
    candidates = [*state.services, *state.policies, *state.gateways, *state.others]
    for obj in candidates:
        group = str(obj.get("apiVersion", "")).rpartition("/")[0]
        watched = _NEGATIVE.get((str(obj.get("kind")), group))
        if not watched or not _analyzed(state, obj):
            continue
        for cond in _conditions(obj):
            partially = (obj.get("kind") == "AuthorizationPolicy" and cond.get("type") == "WaypointAccepted"
                         and cond.get("reason") == "PartiallyInvalid")
            if (cond.get("type") in watched and cond.get("status") == "False") or partially:
                yield _msg(state, "IST0171", obj,
                           f"Condition {cond.get('type')} is {cond.get('status')} (reason {cond.get('reason')}: "
                           f"{cond.get('message') or 'no message'}): istiod did not accept or program this as "
                           "written. Fix what the reason names; `ambientctl waypoint status` shows waypoints.")


# --------------------------------------------------------------------------- annotations.K8sAnalyzer

# Istio's resource annotations at 1.31: name -> (kinds it belongs on, deprecated). Facts from istio.io/api.
ANNOTATIONS: dict[str, tuple[tuple[str, ...], bool]] = {
    "prometheus.istio.io/merge-metrics": (("Pod",), False),
    "alpha.istio.io/kubernetes-serviceaccounts": (("Service",), True),
    "alpha.istio.io/canonical-serviceaccounts": (("Service",), True),
    "networking.istio.io/exportTo": (("Service",), False),
    "sidecar.istio.io/inject": (("Pod",), True),
    "sidecar.istio.io/status": (("Pod",), False),
    "sidecar.istio.io/rewriteAppHTTPProbers": (("Pod",), False),
    "sidecar.istio.io/discoveryAddress": (("Pod",), True),
    "sidecar.istio.io/proxyImage": (("Pod",), False),
    "sidecar.istio.io/proxyImageType": (("Pod",), False),
    "sidecar.istio.io/proxyCPU": (("Pod",), False),
    "sidecar.istio.io/proxyCPULimit": (("Pod",), False),
    "sidecar.istio.io/proxyMemory": (("Pod",), False),
    "sidecar.istio.io/proxyMemoryLimit": (("Pod",), False),
    "sidecar.istio.io/interceptionMode": (("Pod",), False),
    "sidecar.istio.io/bootstrapOverride": (("Pod",), False),
    "sidecar.istio.io/statsInclusionPrefixes": (("Pod",), True),
    "sidecar.istio.io/statsInclusionSuffixes": (("Pod",), True),
    "sidecar.istio.io/statsInclusionRegexps": (("Pod",), True),
    "sidecar.istio.io/statsHistogramBuckets": (("Pod",), False),
    "sidecar.istio.io/statsFlushInterval": (("Pod",), False),
    "sidecar.istio.io/statsEvictionInterval": (("Pod",), False),
    "sidecar.istio.io/statsHistogramBins": (("Pod",), False),
    "sidecar.istio.io/userVolume": (("Pod",), False),
    "sidecar.istio.io/userVolumeMount": (("Pod",), False),
    "status.sidecar.istio.io/port": (("Pod",), False),
    "sidecar.istio.io/logLevel": (("Pod",), False),
    "sidecar.istio.io/componentLogLevel": (("Pod",), False),
    "sidecar.istio.io/agentLogLevel": (("Pod",), False),
    "sidecar.istio.io/nativeSidecar": (("Pod",), False),
    "readiness.status.sidecar.istio.io/initialDelaySeconds": (("Pod",), False),
    "readiness.status.sidecar.istio.io/periodSeconds": (("Pod",), False),
    "readiness.status.sidecar.istio.io/failureThreshold": (("Pod",), False),
    "readiness.status.sidecar.istio.io/applicationPorts": (("Pod",), False),
    "traffic.istio.io/nodeSelector": (("Service",), False),
    "traffic.sidecar.istio.io/includeOutboundIPRanges": (("Pod",), False),
    "traffic.sidecar.istio.io/excludeOutboundIPRanges": (("Pod",), False),
    "traffic.sidecar.istio.io/includeInboundPorts": (("Pod",), False),
    "traffic.sidecar.istio.io/excludeInboundPorts": (("Pod",), False),
    "traffic.sidecar.istio.io/excludeInterfaces": (("Pod",), False),
    "traffic.sidecar.istio.io/includeOutboundPorts": (("Pod",), False),
    "traffic.sidecar.istio.io/excludeOutboundPorts": (("Pod",), False),
    "traffic.sidecar.istio.io/kubevirtInterfaces": (("Pod",), True),
    "kubernetes.io/ingress.class": (("Ingress",), False),
    "galley.istio.io/analyze-suppress": (("Any",), False),
    "proxy.istio.io/config": (("Pod",), False),
    "istio.io/dry-run": (("AuthorizationPolicy",), False),
    "istio.io/rev": (("Pod",), False),
    "proxy.istio.io/overrides": (("Pod",), False),
    "inject.istio.io/templates": (("Pod",), False),
    "sidecar.istio.io/extraStatTags": (("Pod",), True),
    "istio.io/autoRegistrationGroup": (("WorkloadEntry",), False),
    "istio.io/workloadController": (("WorkloadEntry",), False),
    "istio.io/connectedAt": (("WorkloadEntry",), False),
    "istio.io/disconnectedAt": (("WorkloadEntry",), False),
    "topology.istio.io/controlPlaneClusters": (("Namespace",), False),
    "gateway.istio.io/controller-version": (("Any",), False),
    "ambient.istio.io/redirection": (("Pod",), False),
    "ambient.istio.io/waypoint-inbound-binding": (("GatewayClass", "Gateway"), False),
    "gateway.istio.io/service-account": (("Gateway",), False),
    "gateway.istio.io/name-override": (("Gateway",), False),
    "networking.istio.io/service-type": (("Gateway",), False),
    "networking.istio.io/traffic-distribution": (("Namespace", "Service", "ServiceEntry"), False),
    "istio.io/use-waypoint-canary-weight": (("Service", "ServiceEntry", "Namespace"), False),
    "ambient.istio.io/bypass-inbound-capture": (("Pod",), False),
    "istio.io/reroute-virtual-interfaces": (("Pod",), False),
    "ambient.istio.io/dns-capture": (("Pod",), False),
    "sidecar.istio.io/statsCompression": (("Pod",), True),
}
# Set by istiod or its webhooks on every object: never reported.
_ALWAYS_IGNORED = frozenset({"sidecar.istio.io/status", "gateway.istio.io/controller-version", "istio.io/rev"})


def _is_istio_annotation(key: str) -> bool:
    return key == "kubernetes.io/ingress.class" or key.split("/", 1)[0].endswith("istio.io")


def _annotated(state: MeshState) -> Iterator[dict[str, Any]]:
    """Namespaces, Services, Pods and Deployments, as istioctl; not the ones istiod makes for a Gateway (a
    waypoint's): their annotations are copied from the Gateway, which is where a user would change them."""
    yield from state.namespaces.values()
    for obj in (*state.services, *state.pods, *state.objects("Deployment", "apps")):
        if id(obj) not in state.templates and GATEWAY_NAME_LABEL not in labels_of(obj):
            yield obj


def annotations(state: MeshState) -> Iterator[Message]:
    """IST0108, IST0135, IST0107 (istioctl's annotations.K8sAnalyzer): unknown, deprecated, misplaced annotations."""
    for obj in _annotated(state):
        if not _analyzed(state, obj):
            continue
        kind = str(obj.get("kind"))
        for key in sorted(annotations_of(obj)):
            if not _is_istio_annotation(key) or key in _ALWAYS_IGNORED:
                continue
            where = ("metadata", "annotations", key)
            known = ANNOTATIONS.get(key)
            if known is None:
                yield _msg(state, "IST0108", obj,
                           f"Unknown annotation {key}: Istio does not read it, so it has no effect. Check the "
                           "spelling (names are case-sensitive) or remove it.", *where)
                continue
            kinds, deprecated = known
            if deprecated and not (key == SIDECAR_INJECT and SIDECAR_INJECT in labels_of(obj)):
                extra = " (use the sidecar.istio.io/inject label)" if key == SIDECAR_INJECT else ""
                yield _msg(state, "IST0135", obj,
                           f"Annotation {key} is deprecated{extra} and may stop working in a later Istio "
                           "release.", *where)
            if "Any" in kinds or kind in kinds:
                continue
            yield _msg(state, "IST0107", obj,
                       f"Misplaced annotation: {key} only has an effect on {', '.join(kinds)} objects, not on a "
                       f"{kind}" + (" (put it on the pod template's metadata)" if kind == "Deployment" else "")
                       + ".", *where)


# --------------------------------------------------------------------------- service.PortNameAnalyzer

_PROTOCOLS = frozenset({"tcp", "udp", "grpc", "grpc-web", "http", "http_proxy", "http2", "https", "tls", "mongo",
                        "redis", "mysql", "doublehbone"})
_WELL_KNOWN_TCP_PORTS = frozenset({25, 53, 3306, 27017})  # SMTP, DNS, MySQL, MongoDB
_MANAGED_GATEWAY_LABEL = "gateway.istio.io/managed"
_MANAGED_BY_ISTIO = frozenset({"istio.io-gateway-controller", "istio.io-mesh-controller",
                               "istio.io-eastwest-controller"})


def _protocol_known(port: dict[str, Any]) -> bool:
    """Istio's protocol selection: UDP, appProtocol, else the port name's prefix (`http-web` is http)."""
    if port.get("protocol") == "UDP":
        return True
    name = str(port.get("appProtocol") or port.get("name") or "")
    if name in ("kubernetes.io/h2c", "kubernetes.io/ws", "kubernetes.io/wss") or name.lower().startswith("grpc-web"):
        return True
    if name.split("-", 1)[0].lower() in _PROTOCOLS:
        return True
    return port.get("port") in _WELL_KNOWN_TCP_PORTS


def port_names(state: MeshState) -> Iterator[Message]:
    """IST0118, IST0150 (istioctl's service.PortNameAnalyzer): a Service port whose protocol Istio must guess."""
    for svc in state.services:
        labels = labels_of(svc)
        if not _analyzed(state, svc) or "istio" in labels or labels.get("release") == "istio" \
                or labels.get(_MANAGED_GATEWAY_LABEL) in _MANAGED_BY_ISTIO:
            continue
        spec = svc.get("spec") or {}
        for i, port in enumerate(spec.get("ports") or []):
            external = spec.get("type") == "ExternalName"
            if _protocol_known(port) and not (external and port.get("name") == "tcp"):
                continue
            if external:
                yield _msg(state, "IST0150", svc,
                           f"Port {port.get('name') or port.get('port')} of this ExternalName Service does not name "
                           "a protocol Istio can forward for an external name: TCP traffic to it may not reach the "
                           "destination. Name it after its protocol (http-..., https-..., tls-...).",
                           "spec", "ports", i)
                continue
            yield _msg(state, "IST0118", svc,
                       f"Port {port.get('name') or '(unnamed)'} (port {port.get('port')}, targetPort "
                       f"{port.get('targetPort', port.get('port'))}) names no protocol, so Istio guesses it; a "
                       "waypoint applies HTTP rules only to ports it knows are HTTP. Name the port "
                       "<protocol>[-suffix] (http-web, grpc, tcp-db) or set appProtocol.", "spec", "ports", i)


# --------------------------------------------------------------------------- virtualservice.*Analyzer


def _gateway_ref(vs: dict[str, Any], text: str) -> tuple[str, str]:
    ns, _, name = text.rpartition("/")
    return (ns or namespace_of(vs), name)


def _host_matches(pattern: str, host: str) -> bool:
    if pattern == "*" or pattern == host:
        return True
    if pattern.startswith("*"):
        return host.endswith(pattern[1:]) or (host.startswith("*") and host.endswith(pattern[1:]))
    return False


def virtual_service_gateways(state: MeshState) -> Iterator[Message]:
    """IST0101, IST0132 (istioctl's virtualservice.GatewayAnalyzer): a VirtualService names a missing Gateway,
    or hosts that its Gateway does not serve."""
    gateways = {(namespace_of(g), name_of(g)): g for g in state.objects("Gateway", NETWORKING_GROUP)}
    for vs in state.objects("VirtualService", NETWORKING_GROUP):
        if not _analyzed(state, vs):
            continue
        spec = vs.get("spec") or {}
        for i, text in enumerate(spec.get("gateways") or []):
            if text == "mesh":
                continue
            key = _gateway_ref(vs, text)
            gateway = gateways.get(key)
            if gateway is None:
                yield _msg(state, "IST0101", vs,
                           f'Referenced gateway not found: "{text}": no networking.istio.io Gateway '
                           f"{key[0]}/{key[1]} exists, so these routes are never served there. Check the name (a "
                           "Gateway in another namespace is NAMESPACE/NAME).", "spec", "gateways", i)
            served = [h.rpartition("/")[2] for server in ((gateway or {}).get("spec") or {}).get("servers") or []
                      for h in (server or {}).get("hosts") or []
                      if h.partition("/")[0] in (".", "*", key[0], h) or "/" not in h]
            missing = [h for h in spec.get("hosts") or [] if not any(_host_matches(p, h) for p in served)]
            if missing:
                yield _msg(state, "IST0132", vs,
                           f"Hosts {', '.join(missing)} of this VirtualService are not served by Gateway "
                           f"{key[0]}/{key[1]}: the routes for them never apply there. Add the hosts to the "
                           "Gateway's servers or remove them here.", "spec", "gateways", i)


def _entry_hosts(state: MeshState) -> list[str]:
    """Every ServiceEntry host, read once per check (not once per route)."""
    return state._lookup("serviceentry-hosts", lambda: [
        h for se in state.objects("ServiceEntry", NETWORKING_GROUP) for h in (se.get("spec") or {}).get("hosts") or []])


def _service_for_host(state: MeshState, vs_namespace: str, host: str) -> bool:
    """A Service (short name in the VirtualService's namespace, NAME.NS[.svc[.cluster.local]]) or ServiceEntry host."""
    parts = host.split(".")
    if len(parts) == 1:
        name, ns = host, vs_namespace
    elif len(parts) == 2 or (len(parts) >= 3 and parts[2] == "svc"):
        name, ns = parts[0], parts[1]
    else:
        name, ns = "", ""
    if name and state.service(ns, name) is not None:
        return True
    return any(_host_matches(h, host) for h in _entry_hosts(state))


def _destinations(spec: dict[str, Any]) -> Iterator[tuple[str, tuple, str]]:
    """(what, field path, host) of every route destination and mirror of a VirtualService spec."""
    for section in ("http", "tcp", "tls"):
        for i, rule in enumerate(spec.get(section) or []):
            for j, route in enumerate((rule or {}).get("route") or []):
                host = ((route or {}).get("destination") or {}).get("host")
                if host:
                    yield "host", ("spec", section, i, "route", j, "destination", "host"), host
            if section != "http":
                continue
            mirror = ((rule or {}).get("mirror") or {}).get("host")
            if mirror:
                yield "mirror host", ("spec", section, i, "mirror", "host"), mirror
            for j, item in enumerate((rule or {}).get("mirrors") or []):
                host = ((item or {}).get("destination") or {}).get("host")
                if host:
                    yield "mirror host", ("spec", section, i, "mirrors", j, "destination", "host"), host


def virtual_service_hosts(state: MeshState) -> Iterator[Message]:
    """IST0101 (istioctl's virtualservice.DestinationHostAnalyzer): a route or mirror sends to a host that no Service
    or ServiceEntry defines."""
    if not state.cluster_read:
        return  # without the cluster, a Service missing from the files may well exist (istioctl skips it too)
    for vs in state.objects("VirtualService", NETWORKING_GROUP):
        if not _analyzed(state, vs):
            continue
        for what, path, host in _destinations(vs.get("spec") or {}):
            if _service_for_host(state, namespace_of(vs), host):
                continue
            yield _msg(state, "IST0101", vs,
                       f'Referenced {what} not found: "{host}": no Service or ServiceEntry defines it, so requests '
                       "routed there fail (503). Check the name, or use the FQDN NAME.NAMESPACE.svc.cluster.local "
                       "for a Service in another namespace.", *path)


def hosts_to_fetch(state: MeshState) -> set[tuple[str, str]]:
    """(namespace, name) of Services that VirtualServices name in namespaces the loader did not read."""
    wanted = set()
    for vs in state.objects("VirtualService", NETWORKING_GROUP):
        for _, _, host in _destinations(vs.get("spec") or {}):
            parts = host.split(".")
            if 2 <= len(parts) and (len(parts) == 2 or parts[2] == "svc") and state.service(parts[1], parts[0]) is None:
                wanted.add((parts[1], parts[0]))
    return wanted


# --------------------------------------------------------------------------- destinationrule.PodNotSelectedAnalyzer


def _service_of_host(state: MeshState, namespace: str, host: str) -> dict[str, Any] | None:
    parts = host.split(".")
    if len(parts) == 1:
        return state.service(namespace, host)
    if len(parts) == 2 or parts[2] == "svc":
        return state.service(parts[1], parts[0])
    return None


def destination_rules(state: MeshState) -> Iterator[Message]:
    """IST0174, IST0173 (istioctl's destinationrule.PodNotSelectedAnalyzer): a DestinationRule for a host nothing
    defines, or a subset whose labels select no pod of the host's Service (a waypoint routes it to nothing)."""
    if not state.cluster_read:
        return  # without the cluster, Services and pods missing from the files may exist
    for dr in state.objects("DestinationRule", NETWORKING_GROUP):
        if not _analyzed(state, dr):
            continue
        spec = dr.get("spec") or {}
        host = str(spec.get("host") or "")
        if not _service_for_host(state, namespace_of(dr), host):
            yield _msg(state, "IST0174", dr,
                       f"The host {host} matches no Service or ServiceEntry: this DestinationRule applies to nothing. "
                       "Check the name (a Service in another namespace is NAME.NAMESPACE.svc.cluster.local).",
                       "spec", "host")
            continue
        svc = _service_of_host(state, namespace_of(dr), host)
        if svc is None:
            continue  # a ServiceEntry: its workloads may be outside the cluster
        base = (svc.get("spec") or {}).get("selector") or {}
        pods = state.live_pods(namespace_of(svc))
        for i, subset in enumerate(spec.get("subsets") or []):
            wanted = {**base, **((subset or {}).get("labels") or {})}
            if wanted and not any(_matches(wanted, labels_of(p)) for p in pods):
                yield _msg(state, "IST0173", dr,
                           f"The subset {(subset or {}).get('name')} selects no pod of Service "
                           f"{namespace_of(svc)}/{name_of(svc)} ({_selector_text(wanted)}): requests routed to it "
                           "fail with 503 (no healthy upstream). Check the subset's labels against the pods'.",
                           "spec", "subsets", i)


# --------------------------------------------------------------------------- telemetry.*SelectorAnalyzer


def telemetry_selectors(state: MeshState) -> Iterator[Message]:
    """IST0101, IST0159, IST0160 (istioctl's telemetry analyzers): a Telemetry selector that matches no pod, two
    Telemetries selecting one pod, several namespace-wide Telemetries in a namespace (which one wins is undefined)."""
    telemetries = [t for t in state.objects("Telemetry", "telemetry.istio.io") if _analyzed(state, t)]
    by_pod: dict[tuple[str, str], list[dict[str, Any]]] = {}
    namespace_wide: dict[str, list[dict[str, Any]]] = {}
    for tel in telemetries:
        selector = ((tel.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        if not (tel.get("spec") or {}).get("selector"):
            namespace_wide.setdefault(namespace_of(tel), []).append(tel)
        if not selector:
            continue
        pods = [p for p in state.pods_in(namespace_of(tel)) if _matches(selector, labels_of(p))]
        for p in pods:
            by_pod.setdefault((namespace_of(p), name_of(p)), []).append(tel)
        if not pods and (state.cluster_read or state.pods_in(namespace_of(tel))):
            yield _msg(state, "IST0101", tel,
                       f'Referenced selector not found: "{_selector_text(selector)}": no pod in namespace '
                       f"{namespace_of(tel)} has these labels, so this Telemetry applies to nothing.",
                       "spec", "selector")
    for (ns, pod_name), group in sorted(by_pod.items()):
        if len(group) < 2:
            continue
        names = ", ".join(sorted(f"{ns}/{name_of(t)}" for t in group))
        for tel in group:
            yield _msg(state, "IST0159", tel,
                       f"The Telemetries {names} all select pod {ns}/{pod_name}: which one applies is undefined. "
                       "Merge them, or make their selectors disjoint.", "metadata", "name")
    for ns, group in sorted(namespace_wide.items()):
        if len(group) < 2:
            continue
        names = ", ".join(sorted(name_of(t) for t in group))
        for tel in group:
            yield _msg(state, "IST0160", tel,
                       f"The Telemetries {names} in namespace {ns} have no selector: which one applies to the "
                       "namespace is undefined. Keep one namespace-wide Telemetry.")


def _summary(code: str) -> str:
    return IST_CODES[code][0]


ISTIO_CHECKS: tuple[Check, ...] = (
    Check("IST0101", Level.Error, "ReferencedResourceNotFound: AuthorizationPolicy source namespace",
          policy_namespace_not_found),
    Check("IST0101", Level.Error, "ReferencedResourceNotFound: VirtualService gateway (and IST0132 hosts)",
          virtual_service_gateways),
    Check("IST0101", Level.Error, "ReferencedResourceNotFound: VirtualService destination or mirror host",
          virtual_service_hosts),
    Check("IST0101", Level.Error, "ReferencedResourceNotFound: Telemetry selector (and IST0159, IST0160)",
          telemetry_selectors),
    Check("IST0102", Level.Info, f"{_summary('IST0102')} (and IST0123 {_summary('IST0123')}): in no mesh",
          namespace_labels),
    Check("IST0103", Level.Warning, f"{_summary('IST0103')}: injected namespace, no sidecar", pods_missing_proxy),
    Check("IST0108", Level.Warning, "UnknownAnnotation (and IST0107 Misplaced, IST0135 Deprecated)", annotations),
    Check("IST0118", Level.Info, f"{_summary('IST0118')} (and IST0150 for ExternalName)", port_names),
    Check("IST0127", Level.Warning, f"{_summary('IST0127')}: AuthorizationPolicy selects no pod",
          policy_without_workloads),
    Check("IST0173", Level.Error, f"{_summary('IST0173')} (and IST0174 {_summary('IST0174')})", destination_rules),
    Check("IST0166", Level.Warning, f"{_summary('IST0166')}: policy selector on a Gateway API gateway's pods",
          ineffective_selector),
    Check("IST0171", Level.Warning, f"{_summary('IST0171')}: waypoint binding, policy, Gateway or route",
          negative_conditions),
)


__all__ = ["ISTIO_CHECKS", "hosts_to_fetch"]
