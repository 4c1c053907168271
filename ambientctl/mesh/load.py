"""Fill a MeshState from the cluster: the one place the mesh model is fetched (through the `KubeClient` given).

Reads one namespace (or all) plus what the rules need from elsewhere: every
Namespace (namespace-level waypoint labels), the root namespace's policies,
and waypoints other namespaces point at. A kind RBAC hides is recorded in
`state.unreadable` instead of failing the whole analysis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable

from ambientctl.gateways import GATEWAY_API_VERSION
from ambientctl.labels import USE_WAYPOINT_LABEL, labels_of
from ambientctl.mesh.model import AUTHZ_KIND, SECURITY_GROUP, MeshState

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient


READERS = 4  # LISTs of different kinds in flight at once (client-go's informers list theirs in parallel too)


def _served(kube: KubeClient, notes: list[str], api_version: str, kind: str,
            namespace: str | None) -> list[dict[str, Any]] | None:
    """List a kind; None when the cluster does not serve it (its CRDs are missing).

    A kind the user may not read is noted (for `state.unreadable`) and
    treated as empty, so a read-only user still gets the other checks.
    """
    from ambientctl.errors import CRDMissingError, ForbiddenError, NotFoundError

    try:
        return kube.list(api_version, kind, namespace, all_namespaces=namespace is None)
    except (CRDMissingError, NotFoundError):
        return None
    except ForbiddenError:
        where = f" in namespace {namespace}" if namespace else ""
        notes.append(f"not allowed to list {kind} objects ({api_version}){where}")
        return []


def _namespaces(kube: KubeClient, notes: list[str], namespace: str | None) -> list[dict[str, Any]]:
    """Every Namespace; a user who may not list them still gets their own (namespace labels only)."""
    from ambientctl.errors import ForbiddenError

    try:
        return kube.list("v1", "Namespace")
    except ForbiddenError:
        if namespace is None:
            raise
        notes.append("not allowed to list Namespaces (namespace-level waypoints elsewhere are unknown)")
        try:
            return [kube.get("v1", "Namespace", namespace)]
        except ForbiddenError:
            notes.append(f"not allowed to read Namespace {namespace} (its labels are unknown)")
            return []


Read = Callable[[list[str]], Any]


def read_concurrently(reads: list[Read]) -> list[tuple[Any, list[str]]]:
    """Run independent reads READERS at a time; (result, notes) of each, in the order given.

    Why: `analyze -A` made its ~15 LISTs one after the other, so every kind waited for the
    10,000 pods' 21 pages; the API server answers other kinds meanwhile. The first failing
    read (in the order given) raises, as it would have one after the other, and so does
    Ctrl-C, at once: reads not started are cancelled and the ones in flight are not waited
    for (the process leaves without joining them, cli.main).
    """
    from concurrent.futures import ThreadPoolExecutor

    if len(reads) < 2:
        return [(read(notes), notes) for read, notes in ((r, []) for r in reads)]
    pool = ThreadPoolExecutor(max_workers=READERS, thread_name_prefix="list")
    try:
        started = [(pool.submit(read, notes), notes) for read, notes in ((r, []) for r in reads)]
        return [(future.result(), notes) for future, notes in started]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _note(state: MeshState, notes: Iterable[str]) -> None:
    for note in notes:
        if note not in state.unreadable:
            state.unreadable.append(note)


def load_cluster(kube: KubeClient, namespace: str | None, root_namespace: str,
                 istio_analyzer_kinds: bool = False) -> MeshState:
    """The state of one namespace (or all, when None) plus what rules need from elsewhere.

    Namespaced objects come from the chosen namespace; the root namespace's
    policies are always read (they apply mesh-wide), and every Namespace
    object is read so namespace-level waypoint labels resolve.
    `istio_analyzer_kinds` also reads what istioctl's analyzers need (routes,
    DestinationRules, Telemetry, Deployments, ...): analyze asks for them,
    the other readers of the model do not pay for them.
    The kinds are listed concurrently (read_concurrently) and added in this order.
    """
    state = MeshState(root_namespace=root_namespace, scope=None if namespace is None else {namespace})
    every = namespace is None
    policy_namespaces = [namespace] if namespace is None or namespace == root_namespace else [namespace, root_namespace]
    reads: list[Read] = [
        lambda notes: _namespaces(kube, notes, namespace),
        lambda notes: kube.list("v1", "Pod", namespace, all_namespaces=every),
        lambda notes: kube.list("v1", "Service", namespace, all_namespaces=every),
        lambda notes: _served(kube, notes, GATEWAY_API_VERSION, "Gateway", namespace),
    ]
    reads += [_served_read(kube, f"{SECURITY_GROUP}/v1", AUTHZ_KIND, ns) for ns in policy_namespaces]
    reads += [_served_read(kube, api_version, kind, None if where == "all" else namespace)
              for api_version, kind, where in (_ISTIO_ANALYZER_KINDS if istio_analyzer_kinds else ())]
    results = read_concurrently(reads)
    for index, (objects, notes) in enumerate(results):
        _note(state, notes)
        if index == 3:
            state.gateway_api = objects is not None
        for obj in objects or []:
            state.add(obj)
    state.pods_known_in = None if namespace is None else {namespace}
    state.cluster_read = True
    return state


def _served_read(kube: KubeClient, api_version: str, kind: str, namespace: str | None) -> Read:
    return lambda notes: _served(kube, notes, api_version, kind, namespace)


# Kinds istioctl's analyzers read besides the ones above ("all": every namespace, as references cross them).
_ISTIO_ANALYZER_KINDS = (
    ("networking.istio.io/v1", "VirtualService", "ns"),
    ("networking.istio.io/v1", "DestinationRule", "ns"),
    ("networking.istio.io/v1", "Gateway", "all"),
    ("networking.istio.io/v1", "ServiceEntry", "all"),
    ("security.istio.io/v1", "RequestAuthentication", "ns"),
    ("telemetry.istio.io/v1", "Telemetry", "ns"),
    ("extensions.istio.io/v1alpha1", "WasmPlugin", "ns"),
    (GATEWAY_API_VERSION, "HTTPRoute", "ns"),
    ("apps/v1", "Deployment", "ns"),
)


def load_services(kube: KubeClient, state: MeshState, wanted: Iterable[tuple[str, str]]) -> None:
    """Fetch Services that routes name in namespaces not read (cross-namespace hosts); skips forbidden ones."""
    from ambientctl.errors import ForbiddenError

    for ns, name in sorted(wanted):
        if ns not in state.namespaces:
            continue  # no such namespace: the host does not exist
        try:
            svc = kube.get_or_none("v1", "Service", name, ns)
        except ForbiddenError:
            continue
        if svc is not None:
            svc.setdefault("apiVersion", "v1")
            svc.setdefault("kind", "Service")
            state.add(svc)


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
