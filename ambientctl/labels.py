"""Label and annotation names that Istio and the Gateway API give meaning to, and how to read metadata off an object.

The one place these keys are spelled (ambientctl's own owner labels are in
`ownership`). `labels_of`, `annotations_of`, `name_of` and `namespace_of` read
a raw object whose metadata may be missing or null. Cluster-free; imports
nothing of ambientctl.
"""

from __future__ import annotations

from typing import Any

DATAPLANE_MODE_LABEL = "istio.io/dataplane-mode"
AMBIENT_MODE = "ambient"
USE_WAYPOINT_LABEL = "istio.io/use-waypoint"
USE_WAYPOINT_NAMESPACE_LABEL = "istio.io/use-waypoint-namespace"
NO_WAYPOINT = "none"  # `istio.io/use-waypoint: none` opts out of the namespace's waypoint
WAYPOINT_FOR_LABEL = "istio.io/waypoint-for"
# The Istio revision (control plane) a namespace, workload or waypoint uses.
REVISION_LABEL = "istio.io/rev"
# A revision tag's name on its webhook and Service (istioctl's `tag set`); `istio.io/rev` there names its revision.
TAG_LABEL = "istio.io/tag"
DEFAULT_REVISION = "default"
INJECTION_LABEL = "istio-injection"
# istiod labels the Deployment and pods it runs for a Gateway with the Gateway's name.
GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"
SERVICE_ACCOUNT_ANNOTATION = "istio.io/service-account"
REDIRECTION_ANNOTATION = "ambient.istio.io/redirection"
SIDECAR_STATUS_ANNOTATION = "sidecar.istio.io/status"
# Not a label, but what marks a sidecar pod as much as the annotation does.
SIDECAR_CONTAINER = "istio-proxy"


def labels_of(obj: dict[str, Any]) -> dict[str, str]:
    """An object's labels ({} when metadata or labels are absent or null)."""
    return (obj.get("metadata") or {}).get("labels") or {}


def annotations_of(obj: dict[str, Any]) -> dict[str, str]:
    """An object's annotations ({} when absent or null)."""
    return (obj.get("metadata") or {}).get("annotations") or {}


def name_of(obj: dict[str, Any]) -> str:
    """metadata.name ("" when absent)."""
    return (obj.get("metadata") or {}).get("name") or ""


def namespace_of(obj: dict[str, Any]) -> str:
    """metadata.namespace ("" for cluster-scoped objects, or when absent)."""
    return (obj.get("metadata") or {}).get("namespace") or ""
