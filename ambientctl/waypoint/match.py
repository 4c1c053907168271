"""Which Services front a service account's pods: what `apply --service-account` may label.

The guide deploys a waypoint per service account, as Istio's preview releases
did. Current Istio no longer attaches by service account, so the Services
that front only that account's pods are labelled instead. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from ambientctl.labels import labels_of, name_of
from ambientctl.workloads import is_live, pod_service_account, selector_matches


@dataclass
class ServiceAccountMatch:
    """Which Services front a service account's pods, and what cannot be attached by Service."""

    exclusive: list[str] = field(default_factory=list)  # Services whose pods all run as the account
    shared: dict[str, list[str]] = field(default_factory=dict)  # Service -> the other accounts it also fronts
    unfronted_pods: list[str] = field(default_factory=list)  # the account's pods no Service selects
    pods: int = 0  # live pods running as the account


def match_service_account(
    service_account: str, services: Iterable[dict[str, Any]], pods: Iterable[dict[str, Any]]
) -> ServiceAccountMatch:
    """Classify the Services of one namespace against the pods running as `service_account`.

    A Service is attached when every pod it selects runs as the account (the
    preview-era waypoint only saw that account's traffic). A Service that also
    fronts other accounts' pods is reported instead: labelling it would send
    their traffic through this waypoint too.
    """
    live = [p for p in pods if is_live(p)]
    mine = [p for p in live if pod_service_account(p) == service_account]
    result = ServiceAccountMatch(pods=len(mine))
    fronted: set[str] = set()
    for service in sorted(services, key=name_of):
        selector = (service.get("spec") or {}).get("selector")
        selected = [p for p in live if selector_matches(selector, labels_of(p))]
        selected_mine = [p for p in selected if pod_service_account(p) == service_account]
        if not selected_mine:
            continue
        fronted.update(name_of(p) for p in selected_mine)
        others = sorted({pod_service_account(p) for p in selected} - {service_account})
        if others:
            result.shared[name_of(service)] = others
        else:
            result.exclusive.append(name_of(service))
    result.unfronted_pods = sorted(name_of(p) for p in mine if name_of(p) not in fronted)
    return result
