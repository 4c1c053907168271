"""A read-only picture of the mesh: the objects `analyze`, `x authz check` and `x graph` reason about.

The state is plain data (namespaces, pods, Services, Gateways, policies) so
every rule over it is a pure function, tested without a cluster. It is filled
from the cluster (`load_cluster`), from local YAML files (`load_files`), or
both: file objects replace cluster objects of the same kind and name, as if
the files had been applied (istioctl analyze's "simulate applying").

Waypoint resolution follows current Istio: a Service or pod uses the waypoint
named by its own `istio.io/use-waypoint` label, else its namespace's; the
value `none` opts out; `istio.io/use-waypoint-namespace` points at another
namespace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

from ambientctl.gateways import GATEWAY_API_VERSION, GATEWAY_GROUP, is_waypoint, traffic_type
from ambientctl.labels import (
    AMBIENT_MODE,
    DATAPLANE_MODE_LABEL,
    GATEWAY_NAME_LABEL,
    NO_WAYPOINT,
    USE_WAYPOINT_LABEL,
    USE_WAYPOINT_NAMESPACE_LABEL,
    labels_of,
)
from ambientctl.workloads import is_live, selector_matches

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient

AUTHZ_KIND = "AuthorizationPolicy"
SECURITY_GROUP = "security.istio.io"
GATEWAY_API_CRDS = ("gateways.gateway.networking.k8s.io", "gatewayclasses.gateway.networking.k8s.io",
                    "httproutes.gateway.networking.k8s.io")


def name(obj: dict[str, Any]) -> str:
    return (obj.get("metadata") or {}).get("name", "")


def namespace_of(obj: dict[str, Any]) -> str:
    return (obj.get("metadata") or {}).get("namespace") or ""


def ref(obj: dict[str, Any]) -> str:
    """`Kind namespace/name`, how analyze names a resource."""
    ns = namespace_of(obj)
    return f"{obj.get('kind')} {ns}/{name(obj)}" if ns else f"{obj.get('kind')} {name(obj)}"


@dataclass(frozen=True)
class WaypointRef:
    """A waypoint named by a use-waypoint label, and where the label sits."""

    name: str
    namespace: str
    source: str  # "Service default/productpage", "Namespace default", ...

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)


@dataclass
class MeshState:
    """What the rules look at. Lists hold raw Kubernetes objects (dicts)."""

    namespaces: dict[str, dict[str, Any]] = field(default_factory=dict)
    pods: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    gateways: list[dict[str, Any]] = field(default_factory=list)
    policies: list[dict[str, Any]] = field(default_factory=list)
    root_namespace: str = "istio-system"
    # None: unknown (files only); False: the cluster does not serve the Gateway API.
    gateway_api: bool | None = None
    # Namespaces the caller asked about (None: all); rules report only on these.
    scope: set[str] | None = None
    # Namespaces whose pods are known (principal checks only judge those).
    pods_known_in: set[str] | None = None
    origins: dict[int, str] = field(default_factory=dict)  # id(obj) -> "file.yaml" for file objects
    unreadable: list[str] = field(default_factory=list)  # kinds RBAC kept from us: their checks saw nothing

    # ------------------------------------------------------------------ building

    def add(self, obj: dict[str, Any], origin: str | None = None) -> None:
        """Add or replace (same kind, namespace and name) one object."""
        kind = obj.get("kind")
        if kind == "Namespace":
            self.namespaces[name(obj)] = obj
        else:
            bucket = self._bucket(obj)
            if bucket is None:
                return
            key = (namespace_of(obj), name(obj))
            bucket[:] = [o for o in bucket if (namespace_of(o), name(o)) != key]
            bucket.append(obj)
        if origin:
            self.origins[id(obj)] = origin

    def _bucket(self, obj: dict[str, Any]) -> list[dict[str, Any]] | None:
        kind, group = obj.get("kind"), str(obj.get("apiVersion", "")).rpartition("/")[0]
        if kind == "Pod":
            return self.pods
        if kind == "Service" and group == "":
            return self.services
        if kind == "Gateway" and group == GATEWAY_GROUP:
            return self.gateways
        if kind == AUTHZ_KIND and group == SECURITY_GROUP:
            return self.policies
        return None

    def in_scope(self, namespace: str) -> bool:
        return self.scope is None or namespace in self.scope

    def origin(self, obj: dict[str, Any]) -> str | None:
        return self.origins.get(id(obj))

    # ------------------------------------------------------------------ lookups

    def namespace_labels(self, namespace: str) -> dict[str, str]:
        return labels_of(self.namespaces.get(namespace) or {})

    def is_enrolled(self, namespace: str) -> bool:
        return self.namespace_labels(namespace).get(DATAPLANE_MODE_LABEL) == AMBIENT_MODE

    def pod_in_ambient(self, pod: dict[str, Any]) -> bool:
        """Enrolled namespace (or pod label ambient), unless the pod opts out."""
        mode = labels_of(pod).get(DATAPLANE_MODE_LABEL)
        if mode:
            return mode == AMBIENT_MODE
        return self.is_enrolled(namespace_of(pod))

    def live_pods(self, namespace: str | None = None) -> list[dict[str, Any]]:
        return [p for p in self.pods if is_live(p) and (namespace is None or namespace_of(p) == namespace)]

    def gateway(self, namespace: str, gateway_name: str) -> dict[str, Any] | None:
        for gw in self.gateways:
            if namespace_of(gw) == namespace and name(gw) == gateway_name:
                return gw
        return None

    def waypoints(self, namespace: str | None = None) -> list[dict[str, Any]]:
        return [g for g in self.gateways if is_waypoint(g) and (namespace is None or namespace_of(g) == namespace)]

    def service(self, namespace: str, service_name: str) -> dict[str, Any] | None:
        for svc in self.services:
            if namespace_of(svc) == namespace and name(svc) == service_name:
                return svc
        return None

    def services_of_pod(self, pod: dict[str, Any]) -> list[dict[str, Any]]:
        ns = namespace_of(pod)
        return [s for s in self.services
                if namespace_of(s) == ns and selector_matches((s.get("spec") or {}).get("selector"), labels_of(pod))]

    def pods_of_service(self, service: dict[str, Any]) -> list[dict[str, Any]]:
        selector = (service.get("spec") or {}).get("selector")
        return [p for p in self.live_pods(namespace_of(service)) if selector_matches(selector, labels_of(p))]

    def waypoint_pods(self, gateway: dict[str, Any]) -> list[dict[str, Any]]:
        """The pods istiod runs for a waypoint (labelled with the Gateway's name)."""
        return [p for p in self.live_pods(namespace_of(gateway)) if labels_of(p).get(GATEWAY_NAME_LABEL) == name(gateway)]

    # ------------------------------------------------------------------ waypoints

    def _use_waypoint(self, obj: dict[str, Any], source: str) -> WaypointRef | None | str:
        value = labels_of(obj).get(USE_WAYPOINT_LABEL)
        if not value:
            return ""  # no opinion: fall back to the namespace
        if value == NO_WAYPOINT:
            return None
        ns = labels_of(obj).get(USE_WAYPOINT_NAMESPACE_LABEL) or (namespace_of(obj) or name(obj))
        return WaypointRef(value, ns, source)

    def _resolve(self, obj: dict[str, Any]) -> WaypointRef | None:
        own = self._use_waypoint(obj, ref(obj))
        if own != "":
            return own  # type: ignore[return-value]
        ns = namespace_of(obj)
        ns_obj = self.namespaces.get(ns)
        if ns_obj is None:
            return None
        inherited = self._use_waypoint(ns_obj, f"Namespace {ns}")
        return inherited or None  # type: ignore[return-value]

    def waypoint_of_service(self, service: dict[str, Any]) -> WaypointRef | None:
        """The waypoint a Service's traffic goes through (by label), existing or not."""
        return self._resolve(service)

    def waypoint_of_pod(self, pod: dict[str, Any]) -> WaypointRef | None:
        """The waypoint named for a pod's own (workload-addressed) traffic, existing or not."""
        return self._resolve(pod)

    def serving_waypoints(self, pod: dict[str, Any]) -> list[tuple[WaypointRef, dict[str, Any] | None, str]]:
        """(waypoint, its Gateway or None, how: `Service NAME` / `workload`) for traffic that reaches a pod."""
        found = []
        for svc in self.services_of_pod(pod):
            wp = self.waypoint_of_service(svc)
            if wp:
                found.append((wp, self.gateway(wp.namespace, wp.name), f"Service {name(svc)}"))
        wp = self.waypoint_of_pod(pod)
        if wp and USE_WAYPOINT_LABEL in labels_of(pod):
            found.append((wp, self.gateway(wp.namespace, wp.name), "workload"))
        return found

    def service_has_working_waypoint(self, service: dict[str, Any]) -> bool:
        """The Service names a waypoint that exists and takes service traffic."""
        wp = self.waypoint_of_service(service)
        if not wp:
            return False
        gw = self.gateway(wp.namespace, wp.name)
        return gw is not None and traffic_type(gw) in ("service", "all")


# ---------------------------------------------------------------------- loading


def parse_documents(text: str, origin: str) -> list[dict[str, Any]]:
    """Kubernetes objects from a YAML stream; `List` kinds are flattened."""
    import yaml

    from ambientctl.errors import InvalidInputError

    try:
        docs = [d for d in yaml.safe_load_all(text) if d]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise InvalidInputError(f"{origin}{where}: not valid YAML ({getattr(exc, 'problem', exc)})",
                                "fix the file and re-run") from None
    objects: list[dict[str, Any]] = []
    for doc in docs:
        if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
            raise InvalidInputError(f"{origin}: a document is not a Kubernetes object (no kind/apiVersion)",
                                    "each YAML document needs apiVersion, kind and metadata.name")
        if doc["kind"].endswith("List") and isinstance(doc.get("items"), list):
            objects.extend(i for i in doc["items"] if isinstance(i, dict))
            continue
        if not (doc.get("metadata") or {}).get("name"):
            raise InvalidInputError(f"{origin}: {doc['kind']} without metadata.name",
                                    "each object needs metadata.name")
        objects.append(doc)
    return objects


def add_files(state: MeshState, documents: Iterable[tuple[str, list[dict[str, Any]]]], default_namespace: str) -> None:
    """Overlay file objects on the state; objects without a namespace get the default one."""
    for origin, objects in documents:
        for obj in objects:
            if obj.get("kind") not in ("Namespace",) and not namespace_of(obj):
                obj.setdefault("metadata", {})["namespace"] = default_namespace
            if obj.get("kind") == "Namespace" and name(obj) in state.namespaces:
                merged = dict(state.namespaces[name(obj)])
                merged["metadata"] = {**merged.get("metadata", {}), **obj.get("metadata", {})}
                obj = merged
            state.add(obj, origin)
            template_pod = pod_from_template(obj)
            if template_pod is not None and not _has_pods_like(state, template_pod):
                state.add(template_pod, origin)
            if obj.get("kind") == "Namespace" and state.scope is not None:
                state.scope.add(name(obj))
            elif state.scope is not None and namespace_of(obj):
                state.scope.add(namespace_of(obj))


_WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job")


def pod_from_template(obj: dict[str, Any]) -> dict[str, Any] | None:
    """A stand-in pod for a workload from a file, so rules see the pods it will run (name: WORKLOAD-template)."""
    if obj.get("kind") not in _WORKLOAD_KINDS:
        return None
    template = (obj.get("spec") or {}).get("template") or {}
    meta = template.get("metadata") or {}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"{name(obj)}-template", "namespace": namespace_of(obj),
                     "labels": dict(meta.get("labels") or {}), "annotations": dict(meta.get("annotations") or {})},
        "spec": template.get("spec") or {},
        "status": {"phase": "Pending"},
    }


def _has_pods_like(state: MeshState, pod: dict[str, Any]) -> bool:
    """A live pod with the same labels already exists (the workload is running in the cluster)."""
    wanted = labels_of(pod)
    return bool(wanted) and any(selector_matches(wanted, labels_of(p)) for p in state.live_pods(namespace_of(pod)))


def _served(kube: KubeClient, state: MeshState, api_version: str, kind: str,
            namespace: str | None) -> list[dict[str, Any]] | None:
    """List a kind; None when the cluster does not serve it (its CRDs are missing).

    A kind the user may not read is recorded in `state.unreadable` and
    treated as empty, so a read-only user still gets the other checks.
    """
    from ambientctl.errors import CRDMissingError, ForbiddenError, NotFoundError

    try:
        return kube.list(api_version, kind, namespace, all_namespaces=namespace is None)
    except (CRDMissingError, NotFoundError):
        return None
    except ForbiddenError:
        where = f" in namespace {namespace}" if namespace else ""
        note = f"not allowed to list {kind} objects ({api_version}){where}"
        if note not in state.unreadable:
            state.unreadable.append(note)
        return []


def _namespaces(kube: KubeClient, state: MeshState, namespace: str | None) -> list[dict[str, Any]]:
    """Every Namespace; a user who may not list them still gets their own (namespace labels only)."""
    from ambientctl.errors import ForbiddenError

    try:
        return kube.list("v1", "Namespace")
    except ForbiddenError:
        if namespace is None:
            raise
        state.unreadable.append("not allowed to list Namespaces (namespace-level waypoints elsewhere are unknown)")
        try:
            return [kube.get("v1", "Namespace", namespace)]
        except ForbiddenError:
            state.unreadable.append(f"not allowed to read Namespace {namespace} (its labels are unknown)")
            return []


def load_cluster(kube: KubeClient, namespace: str | None, root_namespace: str) -> MeshState:
    """The state of one namespace (or all, when None) plus what rules need from elsewhere.

    Namespaced objects come from the chosen namespace; the root namespace's
    policies are always read (they apply mesh-wide), and every Namespace
    object is read so namespace-level waypoint labels resolve.
    """
    state = MeshState(root_namespace=root_namespace, scope=None if namespace is None else {namespace})
    for ns in _namespaces(kube, state, namespace):
        state.add(ns)
    for pod in kube.list("v1", "Pod", namespace, all_namespaces=namespace is None):
        state.add(pod)
    for svc in kube.list("v1", "Service", namespace, all_namespaces=namespace is None):
        state.add(svc)
    gateways = _served(kube, state, GATEWAY_API_VERSION, "Gateway", namespace)
    state.gateway_api = gateways is not None
    for gw in gateways or []:
        state.add(gw)
    policy_namespaces = [namespace] if namespace is None or namespace == root_namespace else [namespace, root_namespace]
    for ns in policy_namespaces:
        for pol in _served(kube, state, f"{SECURITY_GROUP}/v1", AUTHZ_KIND, ns) or []:
            state.add(pol)
    state.pods_known_in = None if namespace is None else {namespace}
    return state


def load_more_pods(kube: KubeClient, state: MeshState, namespaces: Iterable[str]) -> None:
    """Read pods of other namespaces that policies name (for principal checks); skips forbidden ones."""
    from ambientctl.errors import ForbiddenError

    if state.pods_known_in is None:
        return
    for ns in sorted(set(namespaces) - state.pods_known_in):
        if ns not in state.namespaces:
            state.pods_known_in.add(ns)  # the namespace does not exist: no pod can run there
            continue
        try:
            pods = kube.list("v1", "Pod", ns)
        except ForbiddenError:
            continue
        for pod in pods:
            state.add(pod)
        state.pods_known_in.add(ns)


def waypoints_by_key(state: MeshState) -> dict[tuple[str, str], dict[str, Any]]:
    return {(namespace_of(g), name(g)): g for g in state.waypoints()}


def load_referenced_waypoints(kube: KubeClient, state: MeshState) -> None:
    """Fetch waypoints that use-waypoint labels name in namespaces not read yet (cross-namespace waypoints)."""
    from ambientctl.errors import CRDMissingError, ForbiddenError

    if state.gateway_api is False:
        return
    wanted: set[tuple[str, str]] = set()
    for obj in [*state.namespaces.values(), *state.services, *state.pods]:
        if USE_WAYPOINT_LABEL in labels_of(obj):
            wp = state._resolve(obj)
            if wp and state.gateway(*wp.key) is None:
                wanted.add(wp.key)
    for ns, gw_name in sorted(wanted):
        try:
            gw = kube.get_or_none(GATEWAY_API_VERSION, "Gateway", gw_name, ns)
        except (CRDMissingError, ForbiddenError):
            return
        if gw is not None:
            gw.setdefault("apiVersion", GATEWAY_API_VERSION)
            gw.setdefault("kind", "Gateway")
            state.add(gw)
