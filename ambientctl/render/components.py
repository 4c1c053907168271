"""What rendering produces: components in install order, each with its objects (pure data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

COMPONENT_ORDER = ("Base", "Pilot", "Cni", "Ztunnel", "IngressGateways", "EgressGateways")
COMPONENT_TITLES = {
    "Base": "Istio core",
    "Pilot": "Istiod",
    "Cni": "CNI",
    "Ztunnel": "Ztunnel",
    "IngressGateways": "Ingress gateways",
    "EgressGateways": "Egress gateways",
}


@dataclass
class Component:
    """One Istio component's rendered objects, all carrying ambientctl's owner labels."""

    name: str
    namespace: str
    objects: list[dict[str, Any]] = field(default_factory=list)

    @property
    def title(self) -> str:
        """istioctl's name for the component in progress and reports (`Istiod`, `CNI`, ...)."""
        return COMPONENT_TITLES.get(self.name, self.name)


@dataclass
class Rendered:
    """What `render` produced: the merged config and the enabled components in install order."""

    profile: str
    revision: str | None
    config: dict[str, Any]
    components: list[Component]

    def all_objects(self) -> list[dict[str, Any]]:
        """Every object of every component, components in COMPONENT_ORDER."""
        return [obj for component in self.components for obj in component.objects]

    def component(self, name: str) -> Component | None:
        return next((c for c in self.components if c.name == name), None)


def istio_namespace_of(config: dict[str, Any]) -> str:
    """spec.namespace if set, else values.global.istioNamespace, else istio-system."""
    spec = config.get("spec", {})
    glob = ((spec.get("values") or {}).get("global") or {})
    return str(spec.get("namespace") or glob.get("istioNamespace") or "istio-system")
