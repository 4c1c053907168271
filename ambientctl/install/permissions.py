"""What install and uninstall need permission for, as `Permission`s for the pre-flight (kube/permissions.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ambientctl.errors import CRDMissingError
from ambientctl.install.kinds import prune_kinds
from ambientctl.kube.permissions import Permission, for_kind, for_objects

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient


def install_permissions(kube: KubeClient, objects: list[dict[str, Any]], namespaces: list[str],
                        lock_namespace: str) -> list[Permission]:
    """Namespaces, every rendered object (read, create, apply), the lock, and listing+deleting for prune."""
    needed = [Permission("get", "", "namespaces"), Permission("create", "", "namespaces")]
    needed += for_objects(kube, objects, ("get", "create", "patch"))
    needed += [Permission(verb, "", "configmaps", lock_namespace) for verb in ("create", "get", "patch", "delete")]
    for api_version, kind in prune_kinds(objects):
        try:
            needed += for_kind(kube, api_version, kind, ("list", "delete"))
        except CRDMissingError:
            continue  # a kind the cluster does not serve has nothing to prune
    if any(o.get("kind") == "CustomResourceDefinition" for o in objects):  # install lists ours (issue 7)
        needed.append(Permission("list", "apiextensions.k8s.io", "customresourcedefinitions"))
    return needed


def uninstall_permissions(kube: KubeClient, objects: list[dict[str, Any]],
                          namespaces: list[dict[str, Any]]) -> list[Permission]:
    """Deleting every planned object (in its namespace) and the namespaces we created."""
    needed = for_objects(kube, objects, ("delete",))
    if namespaces:
        needed.append(Permission("delete", "", "namespaces"))
    return needed
