"""The text form of the describe documents: kubectl-describe-like sections, problems last. Pure."""

from __future__ import annotations

from typing import Any

from ambientctl.labels import REDIRECTION_ANNOTATION


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def format_pod(doc: dict[str, Any]) -> str:
    plane = doc["dataPlane"]
    lines = [
        f"Pod:              {doc['pod']}" + ("" if doc["live"] else "  (not running)"),
        f"Node:             {doc['node'] or '(not scheduled)'}",
        f"Identity:         {doc['identity']}",
        f"Data plane:       {plane['mode']} ({plane['reason']})",
        f"Captured:         {_yes(plane['captured'])}"
        + (f" ({REDIRECTION_ANNOTATION}={plane['redirection']})" if plane["redirection"] else ""),
        f"Services:         {', '.join(doc['services']) or '(none)'}",
    ]
    lines += _ztunnel_lines(doc["ztunnel"])
    lines.append("Waypoints:" + ("" if doc["waypoints"] else "        (none: ztunnel handles its traffic at L4 only)"))
    for wp in doc["waypoints"]:
        state = "missing" if not wp["exists"] else ("programmed" if wp["programmed"] else "not programmed")
        lines.append(f"  {wp['waypoint']}  for {wp['for']}, label on {wp['labelOn']}: {state}")
    lines += _policy_lines(doc["policies"])
    lines += _problem_lines(doc["problems"])
    return "\n".join(lines) + "\n"


def _ztunnel_lines(zt: dict[str, Any] | None) -> list[str]:
    if zt is None:
        return ["ztunnel:          (not read: --ztunnel=false)"]
    if zt["error"]:
        return [f"ztunnel:          {zt['pod'] or '?'} (could not read its configuration: {zt['error']})"]
    if not zt["pod"]:
        return ["ztunnel:          (none on this node)"]
    lines = [f"ztunnel:          {zt['pod']}",
             f"  workload:       {zt['protocol'] or '(unknown to ztunnel)'}"
             + (f", waypoint {zt['waypoint']}" if zt["waypoint"] else "")]
    cert = zt["certificate"]
    lines.append("  certificate:    " + ("(none held)" if cert is None else
                                        cert["state"] + (f", expires {cert['expires']}" if cert["expires"] else "")))
    return lines


def _policy_lines(policies: list[dict[str, Any]]) -> list[str]:
    if not policies:
        return ["Policies:         (none: all traffic is allowed)"]
    lines = ["Policies:"]
    for p in policies:
        l7 = f", L7: {','.join(p['l7Attributes'])}" if p["l7Attributes"] else ""
        lines.append(f"  {p['policy']}  {p['action']}, {p['scope']}, enforced by {p['enforcedBy']}{l7}")
    return lines


def _problem_lines(problems: list[str]) -> list[str]:
    if not problems:
        return ["Problems:         none found"]
    return ["Problems:"] + [f"  - {p}" for p in problems]


def format_service(doc: dict[str, Any]) -> str:
    lines = [
        f"Service:          {doc['service']}",
        f"Cluster IP:       {doc['clusterIP'] or '(none)'}",
        f"Ports:            {', '.join(doc['ports']) or '(none)'}",
        "Pods:" + ("" if doc["pods"] else "             (none)"),
    ]
    for pod in doc["pods"]:
        lines.append(f"  {pod['pod']}  {pod['dataPlane']}" + (", captured" if pod["captured"] else ""))
    wp = doc["waypoint"]
    if wp is None:
        lines.append("Waypoint:         (none: L4 only, enforced by ztunnel)")
    else:
        state = "missing" if not wp["exists"] else ("programmed" if wp["programmed"] else "not programmed")
        lines.append(f"Waypoint:         {wp['waypoint']} (label on {wp['labelOn']}): {state}"
                     + (f", for {wp['trafficType']} traffic" if wp["trafficType"] else ""))
    if doc["policies"]:
        lines.append("Policies:")
        lines += [f"  {p['policy']}  {p['action']}" + (f", L7: {','.join(p['l7Attributes'])}" if p["l7Attributes"]
                                                       else "") for p in doc["policies"]]
    else:
        lines.append("Policies:         (none target this Service)")
    lines += _problem_lines(doc["problems"])
    return "\n".join(lines) + "\n"
