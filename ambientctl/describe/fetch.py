"""What describe reads: the mesh model around the object, and the pod's ztunnel (through a port-forward)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ambientctl.describe.model import ZtunnelView, pod_spiffe_id
from ambientctl.errors import AmbientctlError, NotFoundError
from ambientctl.labels import name_of, namespace_of

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient
    from ambientctl.mesh.model import MeshState

def load_pod(kube: KubeClient, ref: str, namespace: str, istio_namespace: str) -> tuple[MeshState, dict[str, Any]]:
    """The pod a reference names, and the mesh model of its namespace (and the root namespace's policies)."""
    from ambientctl.kube.pods import resolve_pod
    from ambientctl.mesh.load import load_cluster

    pod = resolve_pod(kube, ref, namespace)
    state = load_cluster(kube, namespace_of(pod), istio_namespace)
    state.add(pod)
    return state, pod


def load_service(kube: KubeClient, ref: str, namespace: str,
                 istio_namespace: str) -> tuple[MeshState, dict[str, Any]]:
    """The Service a reference (`[svc/]NAME[.NAMESPACE]`) names, and the mesh model of its namespace."""
    from ambientctl.kube.pods import parse_service_ref
    from ambientctl.mesh.load import load_cluster

    name, namespace = parse_service_ref(ref, namespace)
    service = kube.get("v1", "Service", name, namespace)
    state = load_cluster(kube, namespace, istio_namespace)
    state.add(service)
    return state, service


def ztunnel_view(kube: KubeClient, pod: dict[str, Any], istio_namespace: str, admin_port: int) -> ZtunnelView:
    """The ztunnel on the pod's node: how it knows the workload and whether it holds the pod's certificate.

    Never raises for the ztunnel's sake: describe still shows everything else, with the reason."""
    from ambientctl.proxy.target import read_pod, ztunnel_pod
    from ambientctl.proxy.ztunneldump import Request, WorkloadFilter

    node = (pod.get("spec") or {}).get("nodeName")
    if not node:
        return ZtunnelView(pod="", error="the pod is not scheduled to a node")
    try:
        ztunnel = ztunnel_pod(kube, istio_namespace, node)  # by app=ztunnel, whoever installed it (meshparts)
    except NotFoundError:
        return ZtunnelView(pod="")
    where = f"{namespace_of(ztunnel)}/{name_of(ztunnel)}"
    request = Request(workloads=WorkloadFilter(namespace=namespace_of(pod), name=name_of(pod)))
    try:
        loaded = read_pod(kube, ztunnel, admin_port, request=request)
    except AmbientctlError as exc:
        return ZtunnelView(pod=where, error=exc.message)
    return _view(where, loaded, pod_spiffe_id(pod))


def _view(where: str, loaded: Any, identity: str) -> ZtunnelView:
    views = loaded.views
    protocol = waypoint = None
    if views is not None and views.workloads:
        record = views.workloads[0]  # (sort key, node, namespace, name, address, waypoint destination, protocol)
        protocol = record[6] or None
        if record[5] is not None:
            waypoint = views.waypoints.name(record[5])
    held = next((ident for ident in loaded.dump.identities if ident.name == identity), None)
    expires = held.chain[0].expiration if held is not None and held.chain else None
    return ZtunnelView(pod=where, protocol=protocol, waypoint=waypoint,
                       certificate_state=held.state if held is not None else None, certificate_expires=expires)
