"""Waypoint Gateways in the cluster: list, apply (server-side), wait until programmed, delete.

Only Gateways that `gateways.is_waypoint` accepts are listed, changed or
deleted; other Gateways in a namespace are never touched. Every call goes
through the `KubeClient` passed in (never imported at module level).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from ambientctl.errors import (
    ConflictError,
    CRDMissingError,
    ForbiddenError,
    KubeTimeoutError,
    NotFoundError,
    UsageError,
)
from ambientctl.gateways import GATEWAY_API_VERSION, WAYPOINT_CLASS, gateway_class, is_programmed, is_waypoint
from ambientctl.kube import FIELD_MANAGER
from ambientctl.labels import GATEWAY_NAME_LABEL, REVISION_LABEL, labels_of, name_of
from ambientctl.ownership import is_owned
from ambientctl.versions import GATEWAY_API_RELEASE
from ambientctl.waypoint.attach import LabelChange, detach
from ambientctl.waypoint.manifest import WaypointSpec, owned_gateway_manifest
from ambientctl.waypoint.report import not_programmed_reasons, untouched_by_controller

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient

DEFAULT_TIMEOUT_SECONDS = 90.0
CRD_INSTALL_HINT = (
    f"install the Gateway API {GATEWAY_API_RELEASE} CRDs: kubectl apply -f https://github.com/kubernetes-sigs/"
    f"gateway-api/releases/download/{GATEWAY_API_RELEASE}/standard-install.yaml"
)


def _gateway_api(action: Callable[[], Any]) -> Any:
    """Run a Gateway API call; a missing CRD becomes an error that says which CRDs to install."""
    try:
        return action()
    except CRDMissingError:
        raise CRDMissingError(
            "the cluster does not serve Gateway API Gateways (gateway.networking.k8s.io/v1)", CRD_INSTALL_HINT
        ) from None


def get_gateway(kube: KubeClient, name: str, namespace: str) -> dict[str, Any] | None:
    return _gateway_api(lambda: kube.get_or_none(GATEWAY_API_VERSION, "Gateway", name, namespace))


def list_gateways(kube: KubeClient, namespace: str | None, label_selector: str | None = None) -> list[dict[str, Any]]:
    """Every Gateway of a namespace (all namespaces when None)."""
    return _gateway_api(lambda: kube.list(
        GATEWAY_API_VERSION, "Gateway", namespace, all_namespaces=namespace is None, label_selector=label_selector,
    ))


def list_waypoints(kube: KubeClient, namespace: str | None, revision: str | None = None) -> list[dict[str, Any]]:
    """The waypoint Gateways only; other Gateways in the namespace are never listed or touched."""
    selector = f"{REVISION_LABEL}={revision}" if revision else None
    return [gw for gw in list_gateways(kube, namespace, selector) if is_waypoint(gw)]


def apply_gateway(kube: KubeClient, spec: WaypointSpec) -> tuple[dict[str, Any], list[str]]:
    """Server-side apply the waypoint Gateway; refuses to turn another Gateway into a waypoint."""
    assert spec.namespace, "apply needs a namespace"
    warnings = []
    existing = get_gateway(kube, spec.name, spec.namespace)
    if existing is not None and not is_waypoint(existing):
        klass = gateway_class(existing)
        raise ConflictError(
            f"gateway {spec.namespace}/{spec.name} exists and is not a waypoint (class {klass})",
            "choose another --name",
        )
    if existing is not None and not is_owned(existing):
        warnings.append(f"waypoint {spec.namespace}/{spec.name} was created by another tool; ambientctl now co-manages it")
    desired = owned_gateway_manifest(spec)
    if existing is not None and already_applied(existing, desired, getattr(kube, "field_manager", FIELD_MANAGER)):
        return existing, warnings
    try:
        live = _gateway_api(lambda: kube.apply(desired))
    except ConflictError as exc:
        raise ConflictError(exc.message, "another tool manages these fields; change them with that tool, "
                            "or delete the waypoint and apply it again") from None
    return live, warnings


def _owned_keys(fields: dict[str, Any], *path: str) -> set[str]:
    for step in path:
        fields = fields.get(step) or {}
    return {key[2:] if key.startswith("f:") else key for key in fields if key != "."}


def already_applied(live: dict[str, Any], desired: dict[str, Any], manager: str) -> bool:
    """True when applying `desired` would change nothing: same values, and our manager owns exactly these fields.

    Skipping the request keeps a re-run from writing at all (the API server
    would otherwise persist defaulted fields on the first update after create).
    """
    entry = next((m for m in (live["metadata"].get("managedFields") or [])
                  if m.get("manager") == manager and m.get("operation") == "Apply"), None)
    if entry is None:
        return False
    owned = entry.get("fieldsV1") or {}
    for field_name in ("labels", "annotations"):
        wanted = desired["metadata"].get(field_name) or {}
        have = live["metadata"].get(field_name) or {}
        if _owned_keys(owned, "f:metadata", f"f:{field_name}") != set(wanted):
            return False
        if any(have.get(key) != value for key, value in wanted.items()):
            return False
    live_spec, wanted_spec = live.get("spec") or {}, desired["spec"]
    if live_spec.get("gatewayClassName") != wanted_spec["gatewayClassName"]:
        return False
    wanted_listeners = {item["name"]: item for item in wanted_spec["listeners"]}
    owned_listeners = _owned_keys(owned, "f:spec", "f:listeners")
    if owned_listeners != {"k:" + json.dumps({"name": n}, separators=(",", ":")) for n in wanted_listeners}:
        return False
    live_listeners = {item.get("name"): item for item in live_spec.get("listeners") or []}
    return all(
        all(live_listeners.get(name, {}).get(key) == value for key, value in listener.items())
        for name, listener in wanted_listeners.items()
    )


def wait_programmed(
    kube: KubeClient,
    name: str,
    namespace: str,
    timeout: float,
    on_progress: Callable[[str], None] | None = None,
    interval: float = 0.5,
) -> dict[str, Any]:
    """Poll until the Gateway is Programmed; on timeout raise with why (conditions, pods, controller)."""
    deadline = time.monotonic() + timeout
    while True:
        gateway = get_gateway(kube, name, namespace)
        if gateway is None:
            raise NotFoundError(f"waypoint {namespace}/{name} was deleted while waiting for it")
        if is_programmed(gateway):
            return gateway
        if on_progress:
            on_progress(not_programmed_reasons(gateway)[0])
        if time.monotonic() >= deadline:
            reasons = not_programmed_reasons(gateway) + _deployment_reasons(kube, gateway)
            raise KubeTimeoutError(
                f"waypoint {namespace}/{name} not programmed after {timeout:g}s: " + "; ".join(reasons),
                "fix the cause above, then re-run with --wait (or raise --waypoint-timeout)",
            )
        time.sleep(max(0.05, min(interval, deadline - time.monotonic())))


def _deployment_reasons(kube: KubeClient, gateway: dict[str, Any]) -> list[str]:
    """What the waypoint's Deployment and pods say, or that its class does not exist (best effort)."""
    try:
        return _read_deployment_reasons(kube, gateway)
    except (ForbiddenError, CRDMissingError):
        return []


def _read_deployment_reasons(kube: KubeClient, gateway: dict[str, Any]) -> list[str]:
    from ambientctl.kube.wait import explain_pods, workload_readiness

    name, namespace = name_of(gateway), gateway["metadata"]["namespace"]
    reasons = []
    klass = gateway_class(gateway)
    if kube.get_or_none(GATEWAY_API_VERSION, "GatewayClass", klass) is None:
        reasons.append(f"GatewayClass {klass} does not exist (istiod creates {WAYPOINT_CLASS} when it runs)")
    deployments = kube.list("apps/v1", "Deployment", namespace, label_selector=f"{GATEWAY_NAME_LABEL}={name}")
    if not deployments and not untouched_by_controller(gateway):
        reasons.append(f"no Deployment created for the waypoint yet in {namespace}")
    for deployment in deployments:
        ready, summary = workload_readiness(deployment)
        if not ready:
            match = ((deployment.get("spec") or {}).get("selector") or {}).get("matchLabels") or {GATEWAY_NAME_LABEL: name}
            pods = explain_pods(kube, namespace, match)
            reasons.append(f"deployment {name_of(deployment)} {summary}: " + " | ".join(pods))
    return reasons


@dataclass
class DeleteResult:
    deleted: list[str] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    not_waypoints: list[str] = field(default_factory=list)  # "name (class X)"
    unlabeled: list[LabelChange] = field(default_factory=list)
    still_attached: list[str] = field(default_factory=list)  # objects whose label someone else set


def check_delete_args(names: list[str], delete_all: bool, revision: str | None) -> None:
    """istioctl's rule: names, or --all / --revision, never both and never neither."""
    if (delete_all or revision) and names:
        raise UsageError("cannot name waypoints together with --all or --revision",
                         "pass either names or --all/--revision")
    if not (delete_all or revision) and not names:
        raise UsageError("name the waypoints to delete", "or pass --all (every waypoint in the namespace) or --revision")


def delete_waypoints(
    kube: KubeClient, namespace: str, names: list[str], *, delete_all: bool = False, revision: str | None = None,
) -> DeleteResult:
    """Delete waypoint Gateways (only those), after removing the attach labels we added for them."""
    check_delete_args(names, delete_all, revision)
    result = DeleteResult()
    gateways = {name_of(g): g for g in list_gateways(kube, namespace)}
    targets: list[dict[str, Any]] = []
    if names:
        for name in dict.fromkeys(names):
            gw = gateways.get(name)
            if gw is None:
                result.not_found.append(name)
            elif not is_waypoint(gw):
                result.not_waypoints.append(f"{name} (class {gateway_class(gw)})")
            else:
                targets.append(gw)
    else:
        targets = [g for g in gateways.values() if is_waypoint(g)
                   and (not revision or labels_of(g).get(REVISION_LABEL) == revision)]
        targets.sort(key=name_of)
    for gw in targets:
        removed, remaining = detach(kube, namespace, name_of(gw))
        result.unlabeled.extend(removed)
        result.still_attached.extend(f"{item} still uses {name_of(gw)}" for item in remaining)
        uid = gw["metadata"].get("uid")
        if kube.delete(GATEWAY_API_VERSION, "Gateway", name_of(gw), namespace, uid=uid):
            result.deleted.append(name_of(gw))
        else:
            result.not_found.append(name_of(gw))
    return result
