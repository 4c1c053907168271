"""Kinds ambientctl works with: REST paths and the order to apply and delete them.

Pure data and functions (no `kubernetes` import), so rendering and dry runs can
sort objects without a cluster. Kinds not listed here are resolved through API
discovery by the client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable


@dataclass(frozen=True)
class ResourceType:
    """Where a kind lives in the API: group/version, plural and scope."""

    api_version: str
    kind: str
    plural: str
    namespaced: bool

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    def collection_path(self, namespace: str | None) -> str:
        """The URL path of the collection, in a namespace or cluster-wide."""
        base = f"/api/{self.api_version}" if not self.group else f"/apis/{self.api_version}"
        if self.namespaced and namespace:
            return f"{base}/namespaces/{namespace}/{self.plural}"
        return f"{base}/{self.plural}"

    def object_path(self, name: str, namespace: str | None) -> str:
        return f"{self.collection_path(namespace)}/{name}"

    @property
    def group_resource(self) -> str:
        """`plural.group`, as RBAC and error messages name a resource."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


def _table(api_version: str, namespaced: bool, *kinds: tuple[str, str]) -> dict[tuple[str, str], ResourceType]:
    return {(api_version, kind): ResourceType(api_version, kind, plural, namespaced) for kind, plural in kinds}


KNOWN_RESOURCES: dict[tuple[str, str], ResourceType] = {
    **_table("v1", True, ("ServiceAccount", "serviceaccounts"), ("ConfigMap", "configmaps"),
             ("Secret", "secrets"), ("Service", "services"), ("Pod", "pods"), ("Event", "events"),
             ("Endpoints", "endpoints"), ("ResourceQuota", "resourcequotas")),
    **_table("discovery.k8s.io/v1", True, ("EndpointSlice", "endpointslices")),
    **_table("v1", False, ("Namespace", "namespaces"), ("Node", "nodes")),
    **_table("apps/v1", True, ("Deployment", "deployments"), ("DaemonSet", "daemonsets"),
             ("ReplicaSet", "replicasets"), ("StatefulSet", "statefulsets")),
    **_table("rbac.authorization.k8s.io/v1", True, ("Role", "roles"), ("RoleBinding", "rolebindings")),
    **_table("rbac.authorization.k8s.io/v1", False, ("ClusterRole", "clusterroles"),
             ("ClusterRoleBinding", "clusterrolebindings")),
    **_table("admissionregistration.k8s.io/v1", False,
             ("MutatingWebhookConfiguration", "mutatingwebhookconfigurations"),
             ("ValidatingWebhookConfiguration", "validatingwebhookconfigurations"),
             ("ValidatingAdmissionPolicy", "validatingadmissionpolicies"),
             ("ValidatingAdmissionPolicyBinding", "validatingadmissionpolicybindings")),
    **_table("networking.k8s.io/v1", True, ("NetworkPolicy", "networkpolicies")),
    **_table("apiextensions.k8s.io/v1", False, ("CustomResourceDefinition", "customresourcedefinitions")),
    **_table("policy/v1", True, ("PodDisruptionBudget", "poddisruptionbudgets")),
    **_table("autoscaling/v2", True, ("HorizontalPodAutoscaler", "horizontalpodautoscalers")),
    **_table("batch/v1", True, ("Job", "jobs")),
    **_table("gateway.networking.k8s.io/v1", True, ("Gateway", "gateways"), ("HTTPRoute", "httproutes")),
    **_table("gateway.networking.k8s.io/v1beta1", True, ("Gateway", "gateways"), ("HTTPRoute", "httproutes")),
    **_table("gateway.networking.k8s.io/v1", False, ("GatewayClass", "gatewayclasses")),
    **_table("security.istio.io/v1", True, ("AuthorizationPolicy", "authorizationpolicies"),
             ("PeerAuthentication", "peerauthentications"), ("RequestAuthentication", "requestauthentications")),
    **_table("security.istio.io/v1beta1", True, ("AuthorizationPolicy", "authorizationpolicies"),
             ("PeerAuthentication", "peerauthentications")),
    **_table("networking.istio.io/v1", True, ("VirtualService", "virtualservices"),
             ("DestinationRule", "destinationrules"), ("Gateway", "gateways"),
             ("ServiceEntry", "serviceentries"), ("Sidecar", "sidecars")),
    **_table("networking.istio.io/v1beta1", True, ("VirtualService", "virtualservices"),
             ("DestinationRule", "destinationrules")),
    **_table("authorization.k8s.io/v1", False, ("SelfSubjectAccessReview", "selfsubjectaccessreviews")),
}

# Apply order by kind, as lightkube's sort_objects: definitions and namespaces
# first, then identities and config, then RBAC, then workloads, webhooks last
# (so a webhook never points at a service that does not exist yet).
APPLY_ORDER: tuple[str, ...] = (
    "CustomResourceDefinition",
    "Namespace",
    # Before the workloads: GKE rejects system-node-critical pods until their quota exists.
    "ResourceQuota",
    "ServiceAccount",
    "Secret",
    "ConfigMap",
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
    "Service",
    "DaemonSet",
    "Deployment",
    "StatefulSet",
    "Job",
    "PodDisruptionBudget",
    "HorizontalPodAutoscaler",
)
_LATE_KINDS = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")


def kind_rank(kind: str) -> int:
    """Position of a kind in the apply order; unknown kinds go before webhooks."""
    if kind in APPLY_ORDER:
        return APPLY_ORDER.index(kind)
    if kind in _LATE_KINDS:
        return len(APPLY_ORDER) + 1 + _LATE_KINDS.index(kind)
    return len(APPLY_ORDER)


def sort_for_apply(objects: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stable sort into apply order (the input order breaks ties)."""
    return sorted(objects, key=lambda o: kind_rank(o.get("kind", "")))


def sort_for_delete(objects: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The reverse of the apply order: webhooks first, CRDs and namespaces last."""
    return list(reversed(sort_for_apply(objects)))


def object_ref(obj: dict[str, Any]) -> str:
    """`Kind/namespace/name` (or `Kind/name`), for messages."""
    meta = obj.get("metadata", {})
    ns = meta.get("namespace")
    return f"{obj.get('kind')}/{ns}/{meta.get('name')}" if ns else f"{obj.get('kind')}/{meta.get('name')}"


def condition(obj: dict[str, Any] | None, kind: str) -> dict[str, Any] | None:
    """The status condition of type `kind` (Programmed, Established, ...), or None."""
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return cond
    return None


def crd_established(crd: dict[str, Any] | None) -> bool:
    """Whether a CustomResourceDefinition's status says Established (its kinds can be applied)."""
    return (condition(crd, "Established") or {}).get("status") == "True"
