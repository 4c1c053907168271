"""Readiness of workloads, and why a pod is not ready (never just "not ready").

`workload_readiness` is pure (it reads an object's status); `explain_pods`
gathers the reasons from pods and their Warning events; `wait_ready` polls
until every workload is ready or the deadline passes.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable, Iterable

from ambientctl.errors import KubeTimeoutError
from ambientctl.kube.pods import selector_string
from ambientctl.kube.resources import object_ref

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient

WORKLOAD_KINDS = {"Deployment", "DaemonSet", "StatefulSet"}


def workload_readiness(obj: dict[str, Any]) -> tuple[bool, str]:
    """(ready, short status) for a Deployment, DaemonSet or StatefulSet as read from the API."""
    kind = obj.get("kind")
    spec, status = obj.get("spec", {}), obj.get("status") or {}
    generation = obj.get("metadata", {}).get("generation", 0)
    if status.get("observedGeneration", 0) < generation:
        return False, "waiting for the controller to observe the new spec"
    if kind == "DaemonSet":
        desired = status.get("desiredNumberScheduled", 0)
        updated = status.get("updatedNumberScheduled", 0)
        ready = status.get("numberReady", 0)
        if desired == 0:
            return False, "no node is scheduled a pod yet"
        return (updated >= desired and ready >= desired), f"{ready}/{desired} ready, {updated}/{desired} updated"
    if kind in ("Deployment", "StatefulSet"):
        want = spec.get("replicas", 1)
        updated = status.get("updatedReplicas", 0)
        ready = status.get("readyReplicas", 0)
        total = status.get("replicas", 0)
        done = updated >= want and ready >= want and total <= want
        return done, f"{ready}/{want} ready, {updated}/{want} updated"
    return True, "ready"


def _pod_problems(pod: dict[str, Any]) -> list[str]:
    status = pod.get("status", {})
    problems: list[str] = []
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            problems.append(f"unschedulable: {cond.get('message') or cond.get('reason')}")
    for cs in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
        state = cs.get("state") or {}
        if "waiting" in state:
            waiting = state["waiting"]
            detail = f": {waiting['message']}" if waiting.get("message") else ""
            problems.append(f"container {cs['name']} waiting ({waiting.get('reason', 'unknown')}{detail})")
        elif "terminated" in state:
            term = state["terminated"]
            problems.append(f"container {cs['name']} terminated ({term.get('reason')}, exit {term.get('exitCode')})")
        elif not cs.get("ready"):
            problems.append(f"container {cs['name']} running but not ready (readiness probe failing)")
    if not problems and status.get("phase") not in ("Running", "Succeeded"):
        problems.append(f"phase {status.get('phase', 'Unknown')}")
    return problems


def explain_pods(kube: KubeClient, namespace: str, match_labels: dict[str, str], limit: int = 5) -> list[str]:
    """One line per unready pod of a workload: its reasons and latest Warning events."""
    pods = kube.list("v1", "Pod", namespace, label_selector=selector_string(match_labels))
    if not pods:
        return ["no pods created yet (check the ReplicaSet/DaemonSet events and quotas)"]
    lines = []
    for pod in pods:
        ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                    for c in pod.get("status", {}).get("conditions") or [])
        if ready:
            continue
        name = pod["metadata"]["name"]
        reasons = _pod_problems(pod) + _warning_events(kube, namespace, name)
        lines.append(f"pod {namespace}/{name}: {'; '.join(reasons) or 'not ready, no reason reported'}")
        if len(lines) >= limit:
            break
    return lines


def _warning_events(kube: KubeClient, namespace: str, pod_name: str, limit: int = 2) -> list[str]:
    events = kube.list(
        "v1", "Event", namespace, field_selector=f"involvedObject.name={pod_name},type=Warning"
    )
    events.sort(key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "", reverse=True)
    return [f"event {e.get('reason')}: {e.get('message', '').strip()}" for e in events[:limit]]


def wait_ready(
    kube: KubeClient,
    workloads: Iterable[dict[str, Any]],
    timeout: float,
    on_progress: Callable[[str], None] | None = None,
    interval: float = 1.0,
) -> None:
    """Poll until every workload is ready; on timeout, raise with the reasons per pod."""
    pending = {object_ref(w): w for w in workloads if w.get("kind") in WORKLOAD_KINDS}
    deadline = time.monotonic() + timeout
    last: dict[str, dict[str, Any]] = {}
    while pending:
        for ref, obj in list(pending.items()):
            live = kube.get(obj["apiVersion"], obj["kind"], obj["metadata"]["name"], obj["metadata"].get("namespace"))
            last[ref] = live
            ready, summary = workload_readiness(live)
            if on_progress:
                on_progress(f"{ref}: {summary}")
            if ready:
                del pending[ref]
        if not pending:
            return
        if time.monotonic() >= deadline:
            raise KubeTimeoutError(_timeout_text(kube, pending, last, timeout), "fix the causes above and re-run")
        time.sleep(interval)


def _timeout_text(kube: KubeClient, pending: dict[str, Any], last: dict[str, dict[str, Any]], timeout: float) -> str:
    parts = []
    for ref in pending:
        live = last[ref]
        _, summary = workload_readiness(live)
        labels = live.get("spec", {}).get("selector", {}).get("matchLabels") or {}
        reasons = explain_pods(kube, live["metadata"].get("namespace", ""), labels)
        parts.append(f"{ref} ({summary}): " + " | ".join(reasons))
    return f"not ready after {timeout:g}s: " + " || ".join(parts)
