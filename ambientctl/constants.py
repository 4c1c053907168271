"""Istio's label, annotation and class names that ambient mode relies on."""

from __future__ import annotations

DATAPLANE_MODE_LABEL = "istio.io/dataplane-mode"
AMBIENT_MODE = "ambient"
USE_WAYPOINT_LABEL = "istio.io/use-waypoint"
WAYPOINT_FOR_LABEL = "istio.io/waypoint-for"
REVISION_LABEL = "istio.io/rev"
INJECTION_LABEL = "istio-injection"
SERVICE_ACCOUNT_ANNOTATION = "istio.io/service-account"
REDIRECTION_ANNOTATION = "ambient.istio.io/redirection"
SIDECAR_STATUS_ANNOTATION = "sidecar.istio.io/status"
SIDECAR_CONTAINER = "istio-proxy"

WAYPOINT_CLASS = "istio-waypoint"
LEGACY_WAYPOINT_CLASS = "istio-mesh"
WAYPOINT_CLASSES = (WAYPOINT_CLASS, LEGACY_WAYPOINT_CLASS)
GATEWAY_API_VERSION = "gateway.networking.k8s.io/v1"
