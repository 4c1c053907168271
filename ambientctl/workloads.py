"""Facts about a pod object that every reader agrees on: live or not, its service account, sidecar, capture.

`waypoint`, the mesh model, `analyze`, `x graph`, `dataplane status` and the
`pc secret` hints all ask these; this module is their one answer. Pure.
"""

from __future__ import annotations

from typing import Any

from ambientctl.labels import REDIRECTION_ANNOTATION, SIDECAR_CONTAINER, SIDECAR_STATUS_ANNOTATION, annotations_of

TRUST_DOMAIN = "cluster.local"  # Istio's default trust domain (meshConfig.trustDomain)


def spiffe_id(namespace: str, service_account: str, trust_domain: str = TRUST_DOMAIN) -> str:
    """The SPIFFE ID istiod issues to a workload running as NAMESPACE/SERVICE_ACCOUNT."""
    return f"spiffe://{trust_domain}/ns/{namespace}/sa/{service_account}"


def selector_matches(selector: dict[str, str] | None, labels: dict[str, str]) -> bool:
    """A Service's equality selector against a pod's labels; an empty selector selects nothing."""
    if not selector:
        return False
    return all(labels.get(key) == value for key, value in selector.items())


def pod_service_account(pod: dict[str, Any]) -> str:
    spec = pod.get("spec") or {}
    return spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"


def is_live(pod: dict[str, Any]) -> bool:
    """Neither finished (Succeeded/Failed) nor being deleted."""
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and not (pod.get("metadata") or {}).get("deletionTimestamp")


def has_sidecar(pod: dict[str, Any]) -> bool:
    """True when the pod runs Istio's sidecar (ambient leaves such pods alone).

    ztunnel's own container is named istio-proxy too; a ztunnel pod is not a sidecar.
    """
    if SIDECAR_STATUS_ANNOTATION in annotations_of(pod):
        return True
    from ambientctl.meshparts import PART, ZTUNNEL  # here: reading a dump loads this module, never needs that one

    if PART[ZTUNNEL].matches_pod(pod):
        return False
    spec = pod.get("spec") or {}
    containers = (spec.get("containers") or []) + (spec.get("initContainers") or [])
    return any(c.get("name") == SIDECAR_CONTAINER for c in containers)


def is_captured(pod: dict[str, Any]) -> bool:
    """ztunnel redirects the pod's traffic (istio-cni's annotation says so)."""
    return annotations_of(pod).get(REDIRECTION_ANNOTATION) == "enabled"


# istiod's HTTP monitoring port (/metrics, /debug); the pod's prometheus.io/port annotation may move it.
ISTIOD_MONITORING_PORT = 15014


def monitoring_port(pod: dict[str, Any]) -> int:
    """Where an istiod pod serves /metrics and /debug: its `prometheus.io/port` annotation, else 15014."""
    value = annotations_of(pod).get("prometheus.io/port", "")
    return int(value) if value.isdigit() and 0 < int(value) < 65536 else ISTIOD_MONITORING_PORT
