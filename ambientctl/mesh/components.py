"""What is installed in the cluster: control-plane and data-plane versions read from their workloads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient

# component -> (kind, names or name prefix, label that marks it). Workloads are
# matched by name OR label, so installs made by istioctl or Helm (whose labels
# differ from ours) are found as well.
_COMPONENTS: tuple[tuple[str, str, str, tuple[str, str]], ...] = (
    ("istiod", "Deployment", "istiod", ("app", "istiod")),
    ("ztunnel", "DaemonSet", "ztunnel", ("app", "ztunnel")),
    ("istio-cni", "DaemonSet", "istio-cni-node", ("k8s-app", "istio-cni-node")),
)


def image_tag(image: str) -> str:
    """The tag of an image reference (`hub/name:tag` or `@sha256:...`)."""
    if "@" in image:
        return image.split("@", 1)[1]
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else "latest"


def _matches(obj: dict[str, Any], name: str, label: tuple[str, str]) -> bool:
    meta = obj.get("metadata", {})
    own = meta.get("name", "")
    labels = meta.get("labels") or {}
    return own == name or own.startswith(f"{name}-") or labels.get(label[0]) == label[1]


def mesh_versions(kube: KubeClient, istio_namespace: str) -> list[dict[str, Any]]:
    """One entry per Istio component workload found: version (image tag), revision, ready pods."""
    workloads = {kind: kube.list("apps/v1", kind, istio_namespace) for kind in ("Deployment", "DaemonSet")}
    found = []
    for component, kind, name, label in _COMPONENTS:
        for obj in workloads[kind]:
            containers = obj.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
            if not containers or not _matches(obj, name, label):
                continue
            status = obj.get("status", {})
            found.append({
                "component": component,
                "name": obj["metadata"]["name"],
                "revision": (obj["metadata"].get("labels") or {}).get("istio.io/rev", "default"),
                "version": image_tag(containers[0].get("image", "")),
                "pods": status.get("readyReplicas", status.get("numberReady", 0)),
            })
    return found
