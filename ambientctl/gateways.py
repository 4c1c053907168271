"""Gateway API facts every command agrees on: which Gateway is a waypoint, and whether it is programmed.

`waypoint list`, `analyze`, `x graph`, `x authz`, `dataplane unenroll` and
`uninstall` all ask these two questions; this module is their one answer.
A Gateway is a waypoint when its class is a waypoint class, or when
`ambientctl waypoint apply` made it (our owner labels with the waypoint
component), whatever `--gateway-class` it was given. It is programmed when its
`Programmed` condition is True for its current generation. Pure; imports only
`labels`, `ownership` and `kube.resources` (no client).
"""

from __future__ import annotations

from typing import Any

from ambientctl.kube.resources import condition
from ambientctl.labels import WAYPOINT_FOR_LABEL, labels_of
from ambientctl.ownership import COMPONENT_LABEL, is_owned

GATEWAY_GROUP = "gateway.networking.k8s.io"
GATEWAY_API_VERSION = f"{GATEWAY_GROUP}/v1"  # the apiVersion of Gateways and GatewayClasses we read and write
WAYPOINT_CLASS = "istio-waypoint"
LEGACY_WAYPOINT_CLASS = "istio-mesh"  # Istio's ambient preview
WAYPOINT_CLASSES = (WAYPOINT_CLASS, LEGACY_WAYPOINT_CLASS)
# The component label value on Gateways `ambientctl waypoint apply` creates.
WAYPOINT_COMPONENT = "waypoint"
PROGRAMMED = "Programmed"
# The CRDs a cluster needs before it can serve waypoints (analyze checks for them).
GATEWAY_API_CRDS = ("gateways.gateway.networking.k8s.io", "gatewayclasses.gateway.networking.k8s.io",
                    "httproutes.gateway.networking.k8s.io")
# What a waypoint handles when istio.io/waypoint-for is absent (istiod's default).
DEFAULT_TRAFFIC_TYPE = "service"


def gateway_class(gateway: dict[str, Any]) -> str:
    return (gateway.get("spec") or {}).get("gatewayClassName") or ""


def is_waypoint(gateway: dict[str, Any]) -> bool:
    """A waypoint class, or a Gateway `ambientctl waypoint apply` made (any --gateway-class)."""
    if gateway_class(gateway) in WAYPOINT_CLASSES:
        return True
    return is_owned(gateway) and labels_of(gateway).get(COMPONENT_LABEL) == WAYPOINT_COMPONENT


def is_programmed(gateway: dict[str, Any]) -> bool:
    """Programmed=True for the Gateway's current generation (an older generation's True does not count)."""
    cond = condition(gateway, PROGRAMMED)
    if not cond or cond.get("status") != "True":
        return False
    generation = (gateway.get("metadata") or {}).get("generation")
    observed = cond.get("observedGeneration")
    return generation is None or observed is None or observed >= generation


def traffic_type(gateway: dict[str, Any]) -> str:
    """What a waypoint handles (istio.io/waypoint-for; istiod's default is `service`)."""
    return labels_of(gateway).get(WAYPOINT_FOR_LABEL) or DEFAULT_TRAFFIC_TYPE
