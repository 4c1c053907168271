"""Attaching workloads to a waypoint: the `istio.io/use-waypoint` label on Services and namespaces, and removing it.

Each label we add is recorded (`records`) so `delete` removes exactly ours,
and puts back a user's value that `--overwrite` replaced. Writes carry the
resourceVersion they read and are retried on a conflict. Every call goes
through the `KubeClient` passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from ambientctl.errors import ConflictError, ForbiddenError
from ambientctl.labels import AMBIENT_MODE, DATAPLANE_MODE_LABEL, USE_WAYPOINT_LABEL, labels_of, name_of
from ambientctl.ownership import ADDED_LABELS_ANNOTATION, REPLACED_LABELS_ANNOTATION
from ambientctl.waypoint.match import match_service_account
from ambientctl.waypoint.records import encode_label_record, read_added_labels, read_replaced_labels

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient


@dataclass
class LabelChange:
    """One object we labelled (or chose not to), for the report."""

    kind: str  # "service" or "namespace"
    name: str
    outcome: str  # "labeled", "unchanged", "kept" (another waypoint, no --overwrite), "removed", "restored"
    previous: str | None = None


def _set_use_waypoint(kube: KubeClient, obj: dict[str, Any], waypoint: str) -> None:
    """Label one object and record the label as ours; the resourceVersion guards against races.

    A value the user set (not one we recorded) is kept in REPLACED_LABELS_ANNOTATION, so
    deleting the waypoint later gives it back instead of leaving the object unlabelled.
    """
    added = read_added_labels(obj)
    current = labels_of(obj).get(USE_WAYPOINT_LABEL)
    annotations = {ADDED_LABELS_ANNOTATION: encode_label_record({**added, USE_WAYPOINT_LABEL: waypoint})}
    if current and USE_WAYPOINT_LABEL not in added:
        replaced = {**read_replaced_labels(obj), USE_WAYPOINT_LABEL: current}
        annotations[REPLACED_LABELS_ANNOTATION] = encode_label_record(replaced)
    meta = obj["metadata"]
    patch = {"metadata": {
        "resourceVersion": meta["resourceVersion"],
        "labels": {USE_WAYPOINT_LABEL: waypoint},
        "annotations": annotations,
    }}
    kube.merge_patch(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"), patch)


def _attach(kube: KubeClient, obj: dict[str, Any], waypoint: str, overwrite: bool) -> LabelChange:
    kind = obj["kind"].lower()
    current = labels_of(obj).get(USE_WAYPOINT_LABEL)
    if current == waypoint:
        return LabelChange(kind, name_of(obj), "unchanged")
    if current and not overwrite:
        return LabelChange(kind, name_of(obj), "kept", current)
    _set_use_waypoint(kube, obj, waypoint)
    return LabelChange(kind, name_of(obj), "labeled", current)


@dataclass
class AttachResult:
    changes: list[LabelChange] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def attach_service_account(
    kube: KubeClient, namespace: str, service_account: str, waypoint: str, *, overwrite: bool = False,
    traffic_type: str | None = None,
) -> AttachResult:
    """Label the Services that front `service_account`'s pods with istio.io/use-waypoint=<waypoint>."""
    result = AttachResult()
    if kube.get_or_none("v1", "ServiceAccount", service_account, namespace) is None:
        result.warnings.append(f"service account {namespace}/{service_account} does not exist (yet)")
    services = kube.list("v1", "Service", namespace)
    pods = kube.list("v1", "Pod", namespace)
    match = match_service_account(service_account, services, pods)
    by_name = {name_of(s): s for s in services}
    for name in match.exclusive:
        result.changes.append(_with_retry(kube, by_name[name], lambda o: _attach(kube, o, waypoint, overwrite)))
    for name, others in match.shared.items():
        result.warnings.append(
            f"service {namespace}/{name} also fronts pods of {', '.join(others)}; not labeled (its traffic to those "
            f"pods would go through this waypoint too); to attach it anyway: "
            f"kubectl label service {name} -n {namespace} {USE_WAYPOINT_LABEL}={waypoint}"
        )
    if match.pods == 0:
        result.warnings.append(
            f"no running pods use service account {service_account} in {namespace}, so no Service was labeled; "
            "re-run this command after deploying them"
        )
    elif match.unfronted_pods:
        shown = ", ".join(match.unfronted_pods[:5]) + (" ..." if len(match.unfronted_pods) > 5 else "")
        result.warnings.append(
            f"{len(match.unfronted_pods)} pod(s) of {service_account} are behind no Service ({shown}): only "
            f"workload traffic reaches them; to send it through the waypoint, apply it with --for workload|all "
            f"and add the label {USE_WAYPOINT_LABEL}={waypoint} to their pod template (this restarts them)"
        )
    if traffic_type in ("workload", "none"):
        result.warnings.append(
            f"this waypoint is --for {traffic_type}: istiod sends no Service traffic through it, "
            "so the Service labels take effect only if you re-apply with --for service or --for all"
        )
    for change in result.changes:
        if change.outcome == "kept":
            result.warnings.append(
                f"service {namespace}/{change.name} already uses waypoint {change.previous}; left unchanged "
                "(pass --overwrite to switch it)"
            )
    return result


def check_namespace_enrollment(kube: KubeClient, namespace: str, waypoint: str, overwrite: bool) -> list[str]:
    """Before applying: refuse to silently repoint a namespace at another waypoint; warn if not ambient."""
    ns = kube.get("v1", "Namespace", namespace)
    current = labels_of(ns).get(USE_WAYPOINT_LABEL)
    if current and current != waypoint and not overwrite:
        raise ConflictError(
            f"namespace {namespace} already uses waypoint {current!r}",
            f"pass --overwrite to switch it to {waypoint!r}",
        )
    return ambient_warnings(ns)


def namespace_ambient_warnings(kube: KubeClient, namespace: str) -> list[str]:
    """The not-enrolled warning, if the user may read the Namespace at all."""
    try:
        return ambient_warnings(kube.get("v1", "Namespace", namespace))
    except ForbiddenError:
        return []


def ambient_warnings(ns: dict[str, Any]) -> list[str]:
    name = name_of(ns)
    if labels_of(ns).get(DATAPLANE_MODE_LABEL) == AMBIENT_MODE:
        return []
    return [f"namespace {name} is not enrolled in ambient, so no traffic reaches the waypoint; "
            f"run `ambientctl dataplane enroll {name}`"]


def enroll_namespace(kube: KubeClient, namespace: str, waypoint: str, *, overwrite: bool = False) -> LabelChange:
    ns = kube.get("v1", "Namespace", namespace)
    return _with_retry(kube, ns, lambda o: _attach(kube, o, waypoint, overwrite))


def _remove_use_waypoint(kube: KubeClient, obj: dict[str, Any], waypoint: str) -> LabelChange | None:
    """Remove the label only if we recorded adding it and it still names this waypoint.

    When `--overwrite` replaced a value the user had set, that value is put back instead.
    """
    added = read_added_labels(obj)
    if added.get(USE_WAYPOINT_LABEL) != waypoint:
        return None
    remaining = {k: v for k, v in added.items() if k != USE_WAYPOINT_LABEL}
    replaced = read_replaced_labels(obj)
    previous = replaced.pop(USE_WAYPOINT_LABEL, None)
    meta = obj["metadata"]
    annotations = {ADDED_LABELS_ANNOTATION: encode_label_record(remaining)}
    if previous is not None:
        annotations[REPLACED_LABELS_ANNOTATION] = encode_label_record(replaced)
    patch: dict[str, Any] = {"metadata": {"resourceVersion": meta["resourceVersion"], "annotations": annotations}}
    still_ours = labels_of(obj).get(USE_WAYPOINT_LABEL) == waypoint
    if still_ours:
        patch["metadata"]["labels"] = {USE_WAYPOINT_LABEL: previous}
    kube.merge_patch(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"), patch)
    if not still_ours:
        return None
    outcome = "restored" if previous is not None else "removed"
    return LabelChange(obj["kind"].lower(), meta["name"], outcome, previous)


def detach(kube: KubeClient, namespace: str, waypoint: str) -> tuple[list[LabelChange], list[str]]:
    """Remove the use-waypoint labels `apply` added for this waypoint; report the ones others set."""
    removed: list[LabelChange] = []
    remaining: list[str] = []
    candidates = kube.list("v1", "Service", namespace)
    try:  # a namespace-scoped user may not read the Namespace; then only Services can be ours to clean
        candidates.insert(0, kube.get("v1", "Namespace", namespace))
    except ForbiddenError:
        pass
    for obj in candidates:
        change = _with_retry(kube, obj, lambda o: _remove_use_waypoint(kube, o, waypoint))
        if change:
            removed.append(change)
        elif labels_of(obj).get(USE_WAYPOINT_LABEL) == waypoint:
            remaining.append(f"{obj['kind'].lower()} {name_of(obj)}")
    return removed, remaining


def _with_retry(kube: KubeClient, obj: dict[str, Any], action: Callable[[dict[str, Any]], Any], attempts: int = 3) -> Any:
    """Run `action`; on a resourceVersion conflict re-read the object and try again."""
    for attempt in range(attempts):
        try:
            return action(obj)
        except ConflictError:
            if attempt == attempts - 1:
                raise
            meta = obj["metadata"]
            obj = {"apiVersion": obj["apiVersion"], "kind": obj["kind"],
                   **kube.get(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))}
    return None
