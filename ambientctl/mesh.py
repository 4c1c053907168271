"""What is installed in the cluster: control-plane and data-plane versions read from their workloads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient

# (component, kind, label selector) of the workloads whose image tag is the version.
_COMPONENTS = (
    ("istiod", "Deployment", "app=istiod"),
    ("ztunnel", "DaemonSet", "app=ztunnel"),
    ("istio-cni", "DaemonSet", "k8s-app=istio-cni-node"),
)


def image_tag(image: str) -> str:
    """The tag of an image reference (`hub/name:tag` or `@sha256:...`)."""
    if "@" in image:
        return image.split("@", 1)[1]
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else "latest"


def mesh_versions(kube: KubeClient, istio_namespace: str) -> list[dict[str, Any]]:
    """One entry per Istio component workload found: version (image tag), revision, ready pods."""
    found = []
    for component, kind, selector in _COMPONENTS:
        for obj in kube.list("apps/v1", kind, istio_namespace, label_selector=selector):
            containers = obj.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
            if not containers:
                continue
            status = obj.get("status", {})
            found.append({
                "component": component,
                "name": obj["metadata"]["name"],
                "revision": obj["metadata"].get("labels", {}).get("istio.io/rev", "default"),
                "version": image_tag(containers[0].get("image", "")),
                "pods": status.get("readyReplicas", status.get("numberReady", 0)),
            })
    return found
