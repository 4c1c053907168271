"""What install owns: the kinds it may render, how to select its objects, object identity and prune sets.

Pure functions and data (no cluster): the installer, uninstall, verify and the
permission pre-flight all ask these the same questions.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from ambientctl.kube.resources import ResourceType, sort_for_apply
from ambientctl.labels import labels_of
from ambientctl.ownership import (
    COMPONENT_LABEL,
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    OWNER_REVISION_LABEL,
    is_owned,
    owned_selector,
)
from ambientctl.render.components import COMPONENT_ORDER

# The components install owns (the renderer's). Other features (samples, waypoints,
# policies) put the same managed-by label on their objects with other component
# values: install, prune and uninstall must never touch those.
INSTALL_COMPONENTS = COMPONENT_ORDER

# Labels of a namespace install created (no revision: it is shared by all of them).
CREATED_NAMESPACE_LABELS = {MANAGED_BY_LABEL: MANAGED_BY_VALUE, COMPONENT_LABEL: "Base"}


# Every kind the Istio charts render for an ambient install (where to list it, its
# RBAC resource). Prune and uninstall list exactly these (plus any kind in the
# current render), so an object of ours whose kind left the render is still found.
MANAGED_KINDS: tuple[ResourceType, ...] = (
    ResourceType("apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", False),
    ResourceType("v1", "ServiceAccount", "serviceaccounts", True),
    ResourceType("v1", "Secret", "secrets", True),
    ResourceType("v1", "ConfigMap", "configmaps", True),
    ResourceType("v1", "ResourceQuota", "resourcequotas", True),
    ResourceType("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", False),
    ResourceType("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", False),
    ResourceType("rbac.authorization.k8s.io/v1", "Role", "roles", True),
    ResourceType("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", True),
    ResourceType("v1", "Service", "services", True),
    ResourceType("discovery.k8s.io/v1", "EndpointSlice", "endpointslices", True),  # remote: the remote istiod
    ResourceType("apps/v1", "DaemonSet", "daemonsets", True),
    ResourceType("apps/v1", "Deployment", "deployments", True),
    ResourceType("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", True),
    ResourceType("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", True),
    ResourceType("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", True),
    # Multus's (platform openshift); a cluster without Multus does not serve it, and that is skipped.
    ResourceType("k8s.cni.cncf.io/v1", "NetworkAttachmentDefinition", "network-attachment-definitions", True),
    ResourceType("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy", "validatingadmissionpolicies", False),
    ResourceType("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding",
                 "validatingadmissionpolicybindings", False),
    ResourceType("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration",
                 "mutatingwebhookconfigurations", False),
    ResourceType("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration",
                 "validatingwebhookconfigurations", False),
)
# Never pruned: deleting a CRD deletes every resource of its kind (only
# `uninstall --purge` does that), and namespaces are handled on their own.
NEVER_PRUNED = frozenset({"CustomResourceDefinition", "Namespace"})


def install_selector(revision: str | None = None) -> str:
    """Label selector for objects install created (optionally of one revision)."""
    return f"{owned_selector(revision=revision)},{COMPONENT_LABEL} in ({','.join(INSTALL_COMPONENTS)})"


# Kubernetes' EndpointSlice controller copies a Service's labels (ours included) onto the slices it
# makes for it; only a slice whose manager label names ambientctl (the remote profile's) is ours.
ENDPOINTSLICE_MANAGER_LABEL = "endpointslice.kubernetes.io/managed-by"


def is_installed(obj: dict[str, Any]) -> bool:
    """Ours, and made by install (not by `samples`, `waypoint` or another feature, nor a controller's copy)."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    if obj.get("kind") == "EndpointSlice" and labels.get(ENDPOINTSLICE_MANAGER_LABEL) != MANAGED_BY_VALUE:
        return False
    return is_owned(obj) and labels.get(COMPONENT_LABEL) in INSTALL_COMPONENTS


ObjectKey = tuple[str, str, str, str]


def object_key(obj: dict[str, Any]) -> ObjectKey:
    """(group, kind, namespace, name): the identity of an object, whatever API version lists it."""
    meta = obj.get("metadata") or {}
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    return group, str(obj.get("kind", "")), meta.get("namespace") or "", str(meta.get("name", ""))


def prune_kinds(rendered_objects: Iterable[dict[str, Any]]) -> list[tuple[str, str]]:
    """(apiVersion, kind) pairs to list when looking for objects to prune: MANAGED_KINDS plus rendered kinds."""
    kinds = [(k.api_version, k.kind) for k in MANAGED_KINDS]
    for obj in rendered_objects:
        pair = (obj.get("apiVersion", ""), obj.get("kind", ""))
        if pair not in kinds:
            kinds.append(pair)
    return [k for k in kinds if k[1] not in NEVER_PRUNED]


def listed_kinds(rendered_objects: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    """(apiVersion, kind) pairs install lists before applying: the prune kinds, plus CRDs when it renders some.

    CRDs are never pruned, but listing ours tells a re-applied CRD (unchanged
    or configured) from a new one without a GET per CRD.
    """
    crds = [("apiextensions.k8s.io/v1", "CustomResourceDefinition")]
    has_crds = any(o.get("kind") == "CustomResourceDefinition" for o in rendered_objects)
    return (crds if has_crds else []) + prune_kinds(rendered_objects)


def prune_set(rendered_objects: Iterable[dict[str, Any]], live_owned: Iterable[dict[str, Any]],
              revision: str | None = None) -> list[dict[str, Any]]:
    """Live objects of ours (of `revision`, if given) that the render no longer contains, in delete order.

    Objects without our owner label and an install component are never
    returned, whatever selector found them; CRDs and namespaces are never pruned.
    """
    wanted = {object_key(o) for o in rendered_objects}
    stale = [o for o in live_owned
             if is_installed(o) and o.get("kind") not in NEVER_PRUNED and object_key(o) not in wanted
             and (revision is None or labels_of(o).get(OWNER_REVISION_LABEL) == revision)]
    return list(reversed(sort_for_apply(stale)))
