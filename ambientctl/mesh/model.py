"""A read-only picture of the mesh: the objects `analyze`, `x authz check` and `x graph` reason about.

The state is plain data (namespaces, pods, Services, Gateways, policies) so
every rule over it is a pure function, tested without a cluster. It is filled
from the cluster (`load.load_cluster`), from local YAML files
(`files.add_files`), or both: file objects replace cluster objects of the same
kind and name, as if the files had been applied (istioctl analyze's
"simulate applying").

Waypoint resolution follows current Istio: a Service or pod uses the waypoint
named by its own `istio.io/use-waypoint` label, else its namespace's; the
value `none` opts out; `istio.io/use-waypoint-namespace` points at another
namespace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ambientctl.gateways import GATEWAY_GROUP, is_waypoint, traffic_type
from ambientctl.labels import (
    AMBIENT_MODE,
    DATAPLANE_MODE_LABEL,
    GATEWAY_NAME_LABEL,
    NO_WAYPOINT,
    USE_WAYPOINT_LABEL,
    USE_WAYPOINT_NAMESPACE_LABEL,
    labels_of,
    name_of,
    namespace_of,
)
from ambientctl.workloads import is_live, selector_matches

AUTHZ_KIND = "AuthorizationPolicy"
SECURITY_GROUP = "security.istio.io"


def _group(obj: dict[str, Any]) -> str:
    return str(obj.get("apiVersion", "")).rpartition("/")[0]


def _other_key(obj: dict[str, Any]) -> tuple[str, str, str, str]:
    return (_group(obj), str(obj.get("kind")), namespace_of(obj), name_of(obj))


def ref(obj: dict[str, Any]) -> str:
    """`Kind namespace/name`, how analyze names a resource."""
    ns = namespace_of(obj)
    return f"{obj.get('kind')} {ns}/{name_of(obj)}" if ns else f"{obj.get('kind')} {name_of(obj)}"


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
    # id(obj) -> where a file object's fields are: (first line, {field path: line}); see files.LineMap
    lines: dict[int, tuple[int, dict[tuple, int]]] = field(default_factory=dict)
    # Every other kind (VirtualService, DestinationRule, HTTPRoute, Deployment, ...), for istioctl's analyzers.
    # ids of stand-in pods made from workload templates in files (they run once applied)
    templates: set[int] = field(default_factory=set)
    # The cluster was read (not files alone): a name missing from the state really does not exist.
    cluster_read: bool = False
    _others: dict[tuple[str, str, str, str], dict[str, Any]] = field(default_factory=dict, repr=False)
    unreadable: list[str] = field(default_factory=list)  # kinds RBAC kept from us: their checks saw nothing
    # Lookup tables derived from the lists (see _lookup): a mesh of 10,000 pods is never scanned per object.
    _index: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    # ------------------------------------------------------------------ building

    def add(self, obj: dict[str, Any], origin: str | None = None) -> None:
        """Add or replace (same kind, namespace and name) one object."""
        kind = obj.get("kind")
        if kind == "Namespace":
            self.namespaces[name_of(obj)] = obj
        else:
            bucket = self._bucket(obj)
            if bucket is None:
                self._add_other(obj)
                if origin:
                    self.origins[id(obj)] = origin
                return
            key = (namespace_of(obj), name_of(obj))
            keys = self._keys(bucket)
            if key in keys:  # a replacement (a file over the cluster's copy): the rare, linear case
                bucket[:] = [o for o in bucket if (namespace_of(o), name_of(o)) != key]
            keys.add(key)
            bucket.append(obj)
            self._index = {"keys": self._index.get("keys", {})}
        if origin:
            self.origins[id(obj)] = origin

    def _add_other(self, obj: dict[str, Any]) -> None:
        key = _other_key(obj)
        self._others.pop(key, None)  # a replacement goes last, as in the other buckets
        self._others[key] = obj

    def remove_other(self, obj: dict[str, Any]) -> None:
        self._others.pop(_other_key(obj), None)

    @property
    def others(self) -> list[dict[str, Any]]:
        return list(self._others.values())

    def objects(self, kind: str, group: str | None = None, namespace: str | None = None) -> list[dict[str, Any]]:
        """Objects of a kind kept in `others` (group: the apiVersion's group; None: any)."""
        return [o for o in self._others.values() if o.get("kind") == kind
                and (group is None or _group(o) == group)
                and (namespace is None or namespace_of(o) == namespace)]

    def line_of(self, obj: dict[str, Any], *path: Any) -> int:
        """The file line of a field of a file object (its first line when the field is not found; 0: no file)."""
        located = self.lines.get(id(obj))
        if located is None:
            return 0
        first, fields = located
        return fields.get(tuple(path), first) if path else first

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

    def _keys(self, bucket: list[dict[str, Any]]) -> set[tuple[str, str]]:
        """The (namespace, name) keys of a bucket, kept beside it (rebuilt if the list was changed directly)."""
        table = self._index.setdefault("keys", {})
        keys = table.get(id(bucket))
        if keys is None or len(keys) != len(bucket):
            keys = table[id(bucket)] = {(namespace_of(o), name_of(o)) for o in bucket}
        return keys

    def _lookup(self, what: str, build: Callable[[], Any]) -> Any:
        """A table derived from the lists, built once and rebuilt when a list changed."""
        stamp = tuple((id(lst), len(lst)) for lst in (self.pods, self.services, self.gateways, self.policies)) + (
            len(self._others),)
        cached = self._index.get(what)
        if cached is None or cached[0] != stamp:
            cached = self._index[what] = (stamp, build())
        return cached[1]

    def _by_namespace(self, what: str, objects: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        def build() -> dict[str, list[dict[str, Any]]]:
            table: dict[str, list[dict[str, Any]]] = {}
            for obj in objects:
                table.setdefault(namespace_of(obj), []).append(obj)
            return table
        return self._lookup(what, build)

    def _by_key(self, what: str, objects: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
        def build() -> dict[tuple[str, str], dict[str, Any]]:
            table: dict[tuple[str, str], dict[str, Any]] = {}
            for obj in objects:
                table.setdefault((namespace_of(obj), name_of(obj)), obj)  # the first, as a scan would find
            return table
        return self._lookup(what, build)

    def services_in(self, namespace: str) -> list[dict[str, Any]]:
        """The Services of a namespace, in list order."""
        return self._by_namespace("services", self.services).get(namespace, [])

    def pods_in(self, namespace: str | None) -> list[dict[str, Any]]:
        """Every pod of a namespace (None: of every namespace), in list order."""
        return self.pods if namespace is None else self._by_namespace("pods", self.pods).get(namespace, [])

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
        return [p for p in self.pods_in(namespace) if is_live(p)]

    def gateway(self, namespace: str, gateway_name: str) -> dict[str, Any] | None:
        return self._by_key("gateway", self.gateways).get((namespace, gateway_name))

    def waypoints(self, namespace: str | None = None) -> list[dict[str, Any]]:
        """The waypoint Gateways of a namespace (None: of every namespace), in list order.

        From a table by namespace: `x graph -A` asks once per namespace, and a scan of
        every Gateway each time was 1,000 x 500 checks (1.5 s) on a 500-waypoint mesh."""
        if namespace is None:
            return [g for g in self.gateways if is_waypoint(g)]
        return self._lookup("waypoints", self._waypoints_by_namespace).get(namespace, [])

    def _waypoints_by_namespace(self) -> dict[str, list[dict[str, Any]]]:
        table: dict[str, list[dict[str, Any]]] = {}
        for gateway in self.gateways:
            if is_waypoint(gateway):
                table.setdefault(namespace_of(gateway), []).append(gateway)
        return table

    def service(self, namespace: str, service_name: str) -> dict[str, Any] | None:
        return self._by_key("service", self.services).get((namespace, service_name))

    def services_of_pod(self, pod: dict[str, Any]) -> list[dict[str, Any]]:
        return [s for s in self.services_in(namespace_of(pod))
                if selector_matches((s.get("spec") or {}).get("selector"), labels_of(pod))]

    def pods_of_service(self, service: dict[str, Any]) -> list[dict[str, Any]]:
        selector = (service.get("spec") or {}).get("selector")
        return [p for p in self.live_pods(namespace_of(service)) if selector_matches(selector, labels_of(p))]

    def waypoint_pods(self, gateway: dict[str, Any]) -> list[dict[str, Any]]:
        """The pods istiod runs for a waypoint (labelled with the Gateway's name)."""
        return [p for p in self.live_pods(namespace_of(gateway))
                if labels_of(p).get(GATEWAY_NAME_LABEL) == name_of(gateway)]

    # ------------------------------------------------------------------ waypoints

    def _use_waypoint(self, obj: dict[str, Any], source: str) -> WaypointRef | None | str:
        value = labels_of(obj).get(USE_WAYPOINT_LABEL)
        if not value:
            return ""  # no opinion: fall back to the namespace
        if value == NO_WAYPOINT:
            return None
        ns = labels_of(obj).get(USE_WAYPOINT_NAMESPACE_LABEL) or (namespace_of(obj) or name_of(obj))
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
                found.append((wp, self.gateway(wp.namespace, wp.name), f"Service {name_of(svc)}"))
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
