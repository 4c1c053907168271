"""`waypoint list` and `waypoint status` rows, and why a Gateway is not programmed, from its status alone. Pure."""

from __future__ import annotations

from typing import Any

from ambientctl.gateways import PROGRAMMED, gateway_class, is_programmed
from ambientctl.kube.resources import condition
from ambientctl.labels import (
    REVISION_LABEL,
    SERVICE_ACCOUNT_ANNOTATION,
    WAYPOINT_FOR_LABEL,
    annotations_of,
    labels_of,
    name_of,
)

NO_CONTROLLER = "no controller has accepted this Gateway: is istiod running with ambient enabled?"


def list_rows(gateways: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`waypoint list` records, sorted by namespace and name (istioctl's defaults for empty labels)."""
    rows = []
    for gw in sorted(gateways, key=lambda g: (g["metadata"].get("namespace", ""), name_of(g))):
        labels = labels_of(gw)
        programmed = condition(gw, PROGRAMMED)
        rows.append({
            "namespace": gw["metadata"].get("namespace", ""),
            "name": name_of(gw),
            "revision": labels.get(REVISION_LABEL) or "default",
            "trafficType": labels.get(WAYPOINT_FOR_LABEL) or "none",
            "programmed": (programmed or {}).get("status") or "False",
            "gatewayClass": gateway_class(gw),
            "serviceAccount": annotations_of(gw).get(SERVICE_ACCOUNT_ANNOTATION, ""),
        })
    return rows


def untouched_by_controller(gateway: dict[str, Any]) -> bool:
    """True while only the API server's default status is there ("Waiting for controller")."""
    conditions = (gateway.get("status") or {}).get("conditions") or []
    return all(
        c.get("reason") == "Pending" and c.get("status") == "Unknown"
        and str(c.get("lastTransitionTime", "")).startswith("1970-01-01")
        for c in conditions
    )


def status_rows(gateways: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`waypoint status` records: one per condition, or one saying no controller has reported."""
    rows = []
    for gw in sorted(gateways, key=lambda g: (g["metadata"].get("namespace", ""), name_of(g))):
        base = {"namespace": gw["metadata"].get("namespace", ""), "name": name_of(gw)}
        if untouched_by_controller(gw):
            rows.append({**base, "status": "Unknown", "type": PROGRAMMED, "reason": "Pending", "message": NO_CONTROLLER})
            continue
        for cond in (gw.get("status") or {}).get("conditions") or []:
            rows.append({
                **base,
                "status": cond.get("status", ""),
                "type": cond.get("type", ""),
                "reason": cond.get("reason", ""),
                "message": " ".join(str(cond.get("message", "")).split()),
            })
    return rows


def not_programmed_reasons(gateway: dict[str, Any]) -> list[str]:
    """Why a Gateway is not Programmed, from its own status alone."""
    if untouched_by_controller(gateway):
        return [NO_CONTROLLER]
    reasons = []
    for cond in (gateway.get("status") or {}).get("conditions") or []:
        if cond.get("status") != "True":
            message = " ".join(str(cond.get("message", "")).split())
            reasons.append(f"{cond.get('type')}={cond.get('status')} ({cond.get('reason')}: {message})")
    cond = condition(gateway, PROGRAMMED)
    if cond and cond.get("status") == "True" and not is_programmed(gateway):
        reasons.append("Programmed=True is for an older generation; the controller has not caught up")
    return reasons or ["no Programmed condition reported yet"]
