"""Enrolling namespaces in the ambient data plane (the guide's step 5), and their status.

Enrolment is one namespace label, `istio.io/dataplane-mode=ambient`: ztunnel
captures the pods that are already running, so nothing restarts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ambientctl.errors import ConflictError, CRDMissingError, UsageError
from ambientctl.gateways import GATEWAY_API_VERSION, is_waypoint
from ambientctl.labels import (
    AMBIENT_MODE,
    DATAPLANE_MODE_LABEL,
    INJECTION_LABEL,
    REVISION_LABEL,
    USE_WAYPOINT_LABEL,
    labels_of,
)
from ambientctl.ownership import (
    ADDED_LABELS_ANNOTATION,
    REPLACED_LABELS_ANNOTATION,
    encode_label_record,
    read_added_labels,
    read_replaced_labels,
)
from ambientctl.workloads import has_sidecar, is_captured

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient


@dataclass
class EnrollResult:
    namespace: str
    changed: bool
    pods: int
    warnings: list[str] = field(default_factory=list)


def namespace_mode(namespace: dict[str, Any]) -> str:
    """`ambient`, `sidecar` (injection on), `none`, or another dataplane-mode value."""
    labels = labels_of(namespace)
    mode = labels.get(DATAPLANE_MODE_LABEL)
    if mode:
        return mode
    if labels.get(INJECTION_LABEL) == "enabled" or REVISION_LABEL in labels:
        return "sidecar"
    return "none"


def sidecar_warnings(namespace: dict[str, Any], pods: list[dict[str, Any]]) -> list[str]:
    """What stops ambient from capturing some of the namespace's pods."""
    name = namespace["metadata"]["name"]
    labels = labels_of(namespace)
    warnings = []
    if labels.get(INJECTION_LABEL) == "enabled" or REVISION_LABEL in labels:
        warnings.append(
            f"namespace {name} also has sidecar injection enabled: new pods get sidecars and ambient skips them; "
            f"remove the label with `kubectl label namespace {name} {INJECTION_LABEL}- {REVISION_LABEL}-`"
        )
    with_sidecars = sorted(p["metadata"]["name"] for p in pods if has_sidecar(p))
    if with_sidecars:
        shown = ", ".join(with_sidecars[:5]) + (" ..." if len(with_sidecars) > 5 else "")
        warnings.append(
            f"{len(with_sidecars)} pod(s) in {name} keep their sidecars and stay out of ambient until restarted "
            f"without injection: {shown}"
        )
    return warnings


def enroll(kube: KubeClient, namespace: str, *, dry_run: bool = False, revision: str | None = None,
           overwrite: bool = False) -> EnrollResult:
    """Label the namespace for ambient (and with `revision`, `istio.io/rev`); report pods that ambient will skip.

    The revision label is recorded as ours (ADDED_LABELS_ANNOTATION) so unenroll
    removes exactly it; a value the user had set is refused without `overwrite`
    and, with it, kept in REPLACED_LABELS_ANNOTATION to be put back on unenroll.
    """
    ns = kube.get("v1", "Namespace", namespace)
    pods = kube.list("v1", "Pod", namespace)
    labels = labels_of(ns)
    warnings = sidecar_warnings(ns, pods) if revision is None else revision_warnings(ns, pods, revision)
    patch_labels: dict[str, str] = {}
    annotations: dict[str, str | None] = {}
    if labels.get(DATAPLANE_MODE_LABEL) != AMBIENT_MODE:
        patch_labels[DATAPLANE_MODE_LABEL] = AMBIENT_MODE
    if revision is not None and labels.get(REVISION_LABEL) != revision:
        patch_labels[REVISION_LABEL] = revision
        annotations.update(_revision_record(ns, revision, overwrite))
    if not patch_labels:
        return EnrollResult(namespace, False, len(pods), warnings)
    patch: dict[str, Any] = {"metadata": {"labels": patch_labels}}
    if annotations:
        patch["metadata"]["annotations"] = annotations
        patch["metadata"]["resourceVersion"] = ns["metadata"].get("resourceVersion")
    kube.merge_patch("v1", "Namespace", namespace, None, patch, dry_run=dry_run)
    return EnrollResult(namespace, True, len(pods), warnings)


def _revision_record(ns: dict[str, Any], revision: str, overwrite: bool) -> dict[str, str | None]:
    """The annotations that record `istio.io/rev=revision` as ours (and the user's value it replaces)."""
    name = ns["metadata"]["name"]
    added = read_added_labels(ns)
    current = labels_of(ns).get(REVISION_LABEL)
    record: dict[str, str | None] = {ADDED_LABELS_ANNOTATION: encode_label_record({**added, REVISION_LABEL: revision})}
    if current and REVISION_LABEL not in added:
        if not overwrite:
            raise ConflictError(f"namespace {name} already uses revision {current} ({REVISION_LABEL}={current}), "
                                "set by someone else", f"pass --overwrite to move it to {revision}")
        record[REPLACED_LABELS_ANNOTATION] = encode_label_record({**read_replaced_labels(ns), REVISION_LABEL: current})
    return record


def revision_warnings(namespace: dict[str, Any], pods: list[dict[str, Any]], revision: str) -> list[str]:
    """With a revision label, the injection label is the only conflict left, plus pods that keep sidecars."""
    name = namespace["metadata"]["name"]
    warnings = []
    if labels_of(namespace).get(INJECTION_LABEL) == "enabled":
        warnings.append(f"namespace {name} has {INJECTION_LABEL}=enabled, which wins over {REVISION_LABEL}: new pods "
                        f"get sidecars of the default revision; remove it with "
                        f"`kubectl label namespace {name} {INJECTION_LABEL}-`")
    warnings.append(f"revision {revision}'s sidecar injector also matches {REVISION_LABEL}={revision}: new pods of "
                    f"{name} get sidecars (and ambient skips them) unless labelled sidecar.istio.io/inject=false")
    warnings += [w for w in sidecar_warnings(namespace, pods) if "keep their sidecars" in w]
    return warnings


def waypoint_users(kube: KubeClient, namespace: str) -> list[str]:
    """Waypoints in the namespace and what uses one: enrolment must not pull the rug from under them."""
    users = []
    ns = kube.get("v1", "Namespace", namespace)
    if USE_WAYPOINT_LABEL in labels_of(ns):
        users.append(f"namespace {namespace} ({USE_WAYPOINT_LABEL}={labels_of(ns)[USE_WAYPOINT_LABEL]})")
    for kind in ("Service", "Pod"):
        for obj in kube.list("v1", kind, namespace, label_selector=USE_WAYPOINT_LABEL):
            users.append(f"{kind.lower()} {obj['metadata']['name']} ({USE_WAYPOINT_LABEL}={labels_of(obj)[USE_WAYPOINT_LABEL]})")
    try:
        gateways = kube.list(GATEWAY_API_VERSION, "Gateway", namespace)
    except CRDMissingError:
        gateways = []
    for gw in gateways:
        if is_waypoint(gw):
            users.append(f"waypoint {gw['metadata']['name']}")
    return users


def unenroll(kube: KubeClient, namespace: str, *, force: bool = False, dry_run: bool = False) -> bool:
    """Remove the ambient label, and the `istio.io/rev` enroll set (restoring a replaced value); True if changed.

    Refuses while waypoints are in use unless forced. A revision label that
    enroll did not set (or that changed since) stays.
    """
    ns = kube.get("v1", "Namespace", namespace)
    enrolled = labels_of(ns).get(DATAPLANE_MODE_LABEL) == AMBIENT_MODE
    added = read_added_labels(ns)
    ours = REVISION_LABEL in added
    if not enrolled and not ours:
        return False
    if enrolled and not force:
        users = waypoint_users(kube, namespace)
        if users:
            raise UsageError(
                f"namespace {namespace} still uses waypoints: {', '.join(users[:5])}",
                "delete them first (ambientctl waypoint delete --all) or pass --force",
            )
    patch_labels: dict[str, str | None] = {DATAPLANE_MODE_LABEL: None} if enrolled else {}
    metadata: dict[str, Any] = {"labels": patch_labels}
    if ours:
        replaced = read_replaced_labels(ns)
        previous = replaced.pop(REVISION_LABEL, None)
        if labels_of(ns).get(REVISION_LABEL) == added[REVISION_LABEL]:
            patch_labels[REVISION_LABEL] = previous
        remaining = {k: v for k, v in added.items() if k != REVISION_LABEL}
        metadata["annotations"] = {ADDED_LABELS_ANNOTATION: encode_label_record(remaining),
                                   REPLACED_LABELS_ANNOTATION: encode_label_record(replaced)}
        metadata["resourceVersion"] = ns["metadata"].get("resourceVersion")
    kube.merge_patch("v1", "Namespace", namespace, None, {"metadata": metadata}, dry_run=dry_run)
    return True


def namespace_status(namespace: dict[str, Any], pods: list[dict[str, Any]]) -> dict[str, Any]:
    """One row of `dataplane status`: mode, pods, how many ztunnel captured."""
    running = [p for p in pods if p.get("status", {}).get("phase") in ("Running", "Pending")]
    captured = sum(
        1 for p in running if is_captured(p)
    )
    return {
        "namespace": namespace["metadata"]["name"],
        "mode": namespace_mode(namespace),
        "pods": len(running),
        "captured": captured,
        "sidecars": sum(1 for p in running if has_sidecar(p)),
        "waypoint": labels_of(namespace).get(USE_WAYPOINT_LABEL, ""),
    }


def status(kube: KubeClient, namespace: str | None) -> list[dict[str, Any]]:
    """Status rows for one namespace, or every namespace when `namespace` is None."""
    if namespace:
        namespaces = [kube.get("v1", "Namespace", namespace)]
        pods = kube.list("v1", "Pod", namespace)
    else:
        namespaces = kube.list("v1", "Namespace")
        pods = kube.list("v1", "Pod", all_namespaces=True)
    by_ns: dict[str, list[dict[str, Any]]] = {}
    for pod in pods:
        by_ns.setdefault(pod["metadata"]["namespace"], []).append(pod)
    rows = [namespace_status(ns, by_ns.get(ns["metadata"]["name"], [])) for ns in namespaces]
    return sorted(rows, key=lambda r: r["namespace"])
