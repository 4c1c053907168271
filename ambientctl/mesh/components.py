"""What is installed in the cluster: control-plane and data-plane versions read from their workloads.

The workloads are found by `ambientctl.meshparts` (the one lookup, which knows
istioctl's and Helm's labels as well as ours), so a mesh ambientctl did not
install reports its versions too, with the tool that installed it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ambientctl.meshparts import find_installed, image_tag

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient

__all__ = ["image_tag", "mesh_versions"]


def mesh_versions(kube: KubeClient, istio_namespace: str) -> list[dict[str, Any]]:
    """One entry per Istio component workload found: version, image tag, revision, ready pods, installer."""
    return [{
        "component": entry.component,
        "name": entry.name,
        "revision": entry.revision,
        "version": entry.version,
        "tag": image_tag(entry.image),
        "pods": entry.ready,
        "installedBy": entry.installer,
    } for entry in find_installed(kube, istio_namespace)]
