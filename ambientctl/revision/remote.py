"""`version --remote`: the control plane per revision, ztunnel per node and waypoints per namespace.

The source of truth is each running pod's container image tag (the
variant suffix `-distroless`/`-debug` dropped): what is actually running,
mid-rollout versions included, and the only fact a cluster of simulated
pods (kwok) can give, since no real binary answers there. istioctl asks
istiod's xDS for proxy versions instead; image tags agree with that on a
real cluster unless an image was retagged.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ambientctl.errors import CRDMissingError
from ambientctl.gateways import GATEWAY_API_VERSION, is_waypoint
from ambientctl.kube.resources import condition
from ambientctl.labels import (
    DEFAULT_REVISION,
    GATEWAY_NAME_LABEL,
    REVISION_LABEL,
    SIDECAR_CONTAINER,
    labels_of,
    name_of,
    namespace_of,
)
from ambientctl.mesh.components import image_tag
from ambientctl.workloads import is_live

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient

_VARIANTS = ("-distroless", "-debug")
_PROXY_CONTAINERS = (SIDECAR_CONTAINER, "istio-proxy", "agentgateway")


def version_of_image(image: str) -> str:
    """`docker.io/istio/pilot:1.31.0-distroless` → `1.31.0`; a digest stays as it is."""
    tag = image_tag(image)
    for variant in _VARIANTS:
        if tag.endswith(variant):
            return tag[: -len(variant)]
    return tag


def _ready(pod: dict[str, Any]) -> bool:
    return (condition(pod, "Ready") or {}).get("status") == "True"


def _image(pod: dict[str, Any], names: tuple[str, ...] = ()) -> str:
    containers = (pod.get("spec") or {}).get("containers") or []
    for container in containers:
        if not names or container.get("name") in names:
            return container.get("image") or ""
    return (containers[0].get("image") or "") if containers else ""


@dataclass
class ControlPlaneVersion:
    revision: str
    version: str
    pods: int
    ready: int
    deployment: str


@dataclass
class ZtunnelVersion:
    node: str
    pod: str
    version: str
    revision: str
    ready: bool


@dataclass
class WaypointVersion:
    namespace: str
    name: str
    revision: str
    version: str
    pods: int
    ready: int


@dataclass
class RemoteVersions:
    control_plane: list[ControlPlaneVersion] = field(default_factory=list)
    ztunnels: list[ZtunnelVersion] = field(default_factory=list)
    waypoints: list[WaypointVersion] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        return {"controlPlane": [asdict(c) for c in self.control_plane],
                "dataPlane": {"ztunnel": [asdict(z) for z in self.ztunnels],
                              "waypoints": [asdict(w) for w in self.waypoints]}}


def _istiod_pods(kube: KubeClient, namespace: str) -> list[ControlPlaneVersion]:
    from ambientctl.revision.lookup import control_planes

    pods = [p for p in kube.list("v1", "Pod", namespace, label_selector="app=istiod") if is_live(p)]
    found = []
    for plane in control_planes(kube, namespace):
        mine = [p for p in pods if (labels_of(p).get(REVISION_LABEL) or DEFAULT_REVISION) == plane.revision]
        by_version = Counter(version_of_image(_image(p, ("discovery",))) for p in mine)
        ready = Counter(version_of_image(_image(p, ("discovery",))) for p in mine if _ready(p))
        if not by_version:  # no pod (yet): the Deployment's image says what it will run
            by_version[version_of_image(plane.image)] = 0
        for version, count in sorted(by_version.items()):
            found.append(ControlPlaneVersion(plane.revision, version, count, ready[version], plane.name))
    return found


def _ztunnels(kube: KubeClient, namespace: str) -> list[ZtunnelVersion]:
    """ztunnel pods, found through the DaemonSet's own selector (istioctl's and Helm's labels differ from ours)."""
    found = []
    for ds in kube.list("apps/v1", "DaemonSet", namespace):
        if name_of(ds) != "ztunnel" and labels_of(ds).get("app.kubernetes.io/name") != "ztunnel":
            continue
        match = ((ds.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        selector = ",".join(f"{k}={v}" for k, v in sorted(match.items())) or "app=ztunnel"
        revision = labels_of(ds).get(REVISION_LABEL) or DEFAULT_REVISION
        for pod in kube.list("v1", "Pod", namespace, label_selector=selector):
            if is_live(pod):
                found.append(ZtunnelVersion(node=(pod.get("spec") or {}).get("nodeName") or "",
                                            pod=name_of(pod), version=version_of_image(_image(pod, ("istio-proxy",))),
                                            revision=labels_of(pod).get(REVISION_LABEL) or revision,
                                            ready=_ready(pod)))
    return sorted(found, key=lambda z: (z.node, z.pod))


def _waypoints(kube: KubeClient) -> list[WaypointVersion]:
    try:
        gateways = [g for g in kube.list(GATEWAY_API_VERSION, "Gateway", all_namespaces=True) if is_waypoint(g)]
    except CRDMissingError:
        return []
    if not gateways:
        return []
    pods = [p for p in kube.list("v1", "Pod", all_namespaces=True, label_selector=GATEWAY_NAME_LABEL) if is_live(p)]
    namespaces = {name_of(ns): labels_of(ns) for ns in kube.list("v1", "Namespace")}
    found = []
    for gw in gateways:
        ns, name = namespace_of(gw), name_of(gw)
        mine = [p for p in pods if namespace_of(p) == ns and labels_of(p).get(GATEWAY_NAME_LABEL) == name]
        revision = (labels_of(gw).get(REVISION_LABEL) or namespaces.get(ns, {}).get(REVISION_LABEL)
                    or DEFAULT_REVISION)
        versions = Counter(version_of_image(_image(p, _PROXY_CONTAINERS)) for p in mine)
        ready = Counter(version_of_image(_image(p, _PROXY_CONTAINERS)) for p in mine if _ready(p))
        if not versions:
            found.append(WaypointVersion(ns, name, revision, "", 0, 0))
        for version, count in sorted(versions.items()):
            found.append(WaypointVersion(ns, name, revision, version, count, ready[version]))
    return sorted(found, key=lambda w: (w.namespace, w.name, w.version))


def remote_versions(kube: KubeClient, istio_namespace: str, revision: str | None = None) -> RemoteVersions:
    """Every version running in the mesh; with `revision`, only what that revision serves."""
    report = RemoteVersions(_istiod_pods(kube, istio_namespace), _ztunnels(kube, istio_namespace), _waypoints(kube))
    if revision is not None:
        report.control_plane = [c for c in report.control_plane if c.revision == revision]
        report.ztunnels = [z for z in report.ztunnels if z.revision == revision]
        report.waypoints = [w for w in report.waypoints if w.revision == revision]
    return report


def format_remote(report: RemoteVersions, short: bool) -> str:
    """istioctl's lines (control plane, data plane), then ztunnel per node and waypoints per namespace."""
    from ambientctl.output import format_table

    lines = []
    if not report.control_plane:
        lines.append("control plane version: no running Istio control plane found")
    for cp in report.control_plane:
        lines.append(cp.version if short else f"control plane version: {cp.version} "
                     f"(revision {cp.revision}, {cp.ready}/{cp.pods} istiod pods ready)")
    proxies = Counter(z.version for z in report.ztunnels)
    for waypoint in report.waypoints:
        proxies[waypoint.version] += waypoint.pods
    proxies = +proxies  # a waypoint without pods adds no data-plane version
    if not proxies:
        lines.append("data plane version: none (no ztunnel or waypoint pods)")
    for version, count in sorted(proxies.items()):
        zt = sum(1 for z in report.ztunnels if z.version == version)
        wp = sum(w.pods for w in report.waypoints if w.version == version)
        lines.append(version if short else f"data plane version: {version} ({zt} ztunnel, {wp} waypoint pods)")
    text = "\n".join(lines) + "\n"
    if short:
        return text
    if report.ztunnels:
        text += "\nztunnel per node:\n" + format_table(
            ["NODE", "POD", "VERSION", "REVISION", "READY"],
            [[z.node or "-", z.pod, z.version, z.revision, "yes" if z.ready else "no"] for z in report.ztunnels])
    if report.waypoints:
        text += "\nwaypoints per namespace:\n" + format_table(
            ["NAMESPACE", "WAYPOINT", "VERSION", "REVISION", "READY"],
            [[w.namespace, w.name, w.version or "-", w.revision, f"{w.ready}/{w.pods}"] for w in report.waypoints])
    return text
