"""Waypoints: the Gateway that puts an L7 proxy in front of a namespace's services (guide steps 8 and 11).

A waypoint is a Gateway API `Gateway` of class `istio-waypoint` with one HBONE
listener on 15008; istiod turns it into a Deployment and a Service. Traffic
goes through it only for what is *attached* with the label
`istio.io/use-waypoint=<name>`: a namespace, a Service or a pod.

The guide deploys a waypoint per service account (`--service-account
bookinfo-productpage`), as Istio's preview releases did. Current Istio no
longer attaches by service account, so `apply --service-account` labels the
Services that front that account's pods instead, and records each label it
added (`ownership.ADDED_LABELS_ANNOTATION`) so `delete` removes exactly those.

This module holds the pure parts (validation, the Gateway, matching Services
to a service account, table rows) and the cluster operations, which only go
through a `KubeClient` passed in (never imported at module level).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable

from ambientctl.errors import (
    ConflictError,
    CRDMissingError,
    ForbiddenError,
    InvalidInputError,
    KubeTimeoutError,
    NotFoundError,
    UsageError,
)
from ambientctl.gateways import (
    GATEWAY_API_VERSION,
    LEGACY_WAYPOINT_CLASS,
    PROGRAMMED,
    WAYPOINT_CLASS,
    WAYPOINT_COMPONENT,
    gateway_class,
    is_programmed,
    is_waypoint,
)
from ambientctl.kube.resources import condition
from ambientctl.labels import (
    AMBIENT_MODE,
    DATAPLANE_MODE_LABEL,
    GATEWAY_NAME_LABEL,
    NO_WAYPOINT,
    REVISION_LABEL,
    SERVICE_ACCOUNT_ANNOTATION,
    USE_WAYPOINT_LABEL,
    WAYPOINT_FOR_LABEL,
    annotations_of,
    labels_of,
)
from ambientctl.names import is_dns1035_label, is_dns_subdomain, is_label_value, validate_namespace
from ambientctl.ownership import (
    ADDED_LABELS_ANNOTATION,
    REPLACED_LABELS_ANNOTATION,
    is_owned,
    owner_labels,
)
from ambientctl.versions import GATEWAY_API_RELEASE

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient

DEFAULT_NAME = "waypoint"
RESERVED_NAME = NO_WAYPOINT  # `istio.io/use-waypoint: none` means "no waypoint", so no waypoint may be called that
# istioctl prints the choices sorted; `service` is what istiod assumes when the label is absent.
TRAFFIC_TYPES = ("all", "none", "service", "workload")
HBONE_PORT = 15008
DEFAULT_TIMEOUT_SECONDS = 90.0
NO_CONTROLLER = "no controller has accepted this Gateway: is istiod running with ambient enabled?"
CRD_INSTALL_HINT = (
    f"install the Gateway API {GATEWAY_API_RELEASE} CRDs: kubectl apply -f https://github.com/kubernetes-sigs/"
    f"gateway-api/releases/download/{GATEWAY_API_RELEASE}/standard-install.yaml"
)



# --------------------------------------------------------------------------- validation


def validate_waypoint_name(name: str, flag: str = "--name") -> str:
    """A waypoint name istiod can turn into a Deployment and a Service (a DNS-1035 label)."""
    if name == RESERVED_NAME:
        raise InvalidInputError(
            f"invalid waypoint name {name!r}: 'none' is reserved (istio.io/use-waypoint=none means no waypoint)",
            f"choose another {flag}",
        )
    if not is_dns1035_label(name):
        raise InvalidInputError(
            f"invalid waypoint name {name!r} ({flag}): use at most 63 lowercase letters, digits and '-', "
            "starting with a letter and ending with a letter or digit",
            f"e.g. {flag} waypoint",
        )
    return name


def validate_traffic_type(value: str | None) -> str | None:
    """`--for`: one of istio.io/waypoint-for's values, or None to let istiod decide (service)."""
    if value is None or value in TRAFFIC_TYPES:
        return value
    raise InvalidInputError(
        f"invalid --for value {value!r}: valid choices are {', '.join(TRAFFIC_TYPES)}",
        "omit --for to let istiod use its default (service)",
    )


def validate_revision(revision: str | None) -> str | None:
    if revision is None:
        return None
    if not revision or not is_label_value(revision):
        raise InvalidInputError(
            f"invalid revision {revision!r}: it must be a label value (at most 63 letters, digits, '-', '_', '.')",
            "use the revision of an installed control plane, e.g. -r canary",
        )
    return revision


SERVICE_ACCOUNT_WAYPOINT_SUFFIX = "-waypoint"


def validate_service_account(name: str) -> str:
    if not is_dns_subdomain(name):
        raise InvalidInputError(
            f"invalid service account name {name!r}: use lowercase letters, digits, '-' and '.'",
            "check --service-account",
        )
    return name


def validate_gateway_class(name: str) -> str:
    if not is_dns_subdomain(name):
        raise InvalidInputError(
            f"invalid gateway class {name!r}: use lowercase letters, digits, '-' and '.'",
            f"the waypoint class is {WAYPOINT_CLASS}",
        )
    return name


# --------------------------------------------------------------------------- the Gateway


@dataclass(frozen=True)
class WaypointSpec:
    """What the user asked for, validated: everything the Gateway is made of."""

    name: str = DEFAULT_NAME
    namespace: str | None = None
    traffic_type: str | None = None
    revision: str | None = None
    gateway_class: str = WAYPOINT_CLASS
    service_account: str | None = None


def make_spec(
    *,
    name: str | None = None,
    namespace: str | None = None,
    traffic_type: str | None = None,
    revision: str | None = None,
    gateway_class: str | None = None,
    service_account: str | None = None,
) -> tuple[WaypointSpec, list[str]]:
    """Validate the flags into a spec; returns it with warnings for stderr.

    The name defaults to `<service account>-waypoint` (the guide's per-account
    waypoint), else `waypoint`; an explicit `--name` always wins. Not the bare
    account name: istiod names the waypoint's own ServiceAccount (and Service)
    after the Gateway, so a Gateway called like the app's account would take
    that account over, and deleting the waypoint would delete it.
    """
    warnings: list[str] = []
    if service_account is not None:
        validate_service_account(service_account)
    if name is None or name == "":
        if service_account is not None:
            name = f"{service_account}{SERVICE_ACCOUNT_WAYPOINT_SUFFIX}"
            if "." in service_account or not is_dns1035_label(name):
                raise InvalidInputError(
                    f"{name!r}, derived from service account {service_account!r}, is not a valid waypoint name",
                    "pass --name to name the waypoint",
                )
        else:
            name = DEFAULT_NAME
    validate_waypoint_name(name)
    if namespace is not None:
        validate_namespace(namespace, "-n/--namespace")
    validate_traffic_type(traffic_type)
    validate_revision(revision)
    gateway_class = validate_gateway_class(gateway_class or WAYPOINT_CLASS)
    if gateway_class == LEGACY_WAYPOINT_CLASS:
        warnings.append(
            f"gateway class {LEGACY_WAYPOINT_CLASS} is from Istio's ambient preview; current Istio uses "
            f"{WAYPOINT_CLASS} and programs no waypoint for {LEGACY_WAYPOINT_CLASS} unless such a class exists"
        )
    spec = WaypointSpec(name, namespace, traffic_type, revision, gateway_class, service_account)
    return spec, warnings


def gateway_manifest(spec: WaypointSpec, extra_labels: dict[str, str] | None = None) -> dict[str, Any]:
    """The waypoint Gateway: metadata, class and the one HBONE listener; no status, no timestamps."""
    metadata: dict[str, Any] = {"name": spec.name}
    if spec.namespace:
        metadata["namespace"] = spec.namespace
    labels: dict[str, str] = dict(extra_labels or {})
    if spec.traffic_type:
        labels[WAYPOINT_FOR_LABEL] = spec.traffic_type
    if spec.revision:
        labels[REVISION_LABEL] = spec.revision
    if labels:
        metadata["labels"] = labels
    if spec.service_account:
        metadata["annotations"] = {SERVICE_ACCOUNT_ANNOTATION: spec.service_account}
    return {
        "apiVersion": GATEWAY_API_VERSION,
        "kind": "Gateway",
        "metadata": metadata,
        "spec": {
            "gatewayClassName": spec.gateway_class,
            "listeners": [{"name": "mesh", "port": HBONE_PORT, "protocol": "HBONE"}],
        },
    }


def owned_gateway_manifest(spec: WaypointSpec) -> dict[str, Any]:
    """The Gateway `apply` sends: the generated one plus our owner labels."""
    return gateway_manifest(spec, owner_labels(WAYPOINT_COMPONENT, spec.revision))


# --------------------------------------------------------------------------- pure helpers


def _name(obj: dict[str, Any]) -> str:
    return obj["metadata"]["name"]


def selector_matches(selector: dict[str, str] | None, labels: dict[str, str]) -> bool:
    """A Service's equality selector against a pod's labels; an empty selector selects nothing."""
    if not selector:
        return False
    return all(labels.get(key) == value for key, value in selector.items())


def pod_service_account(pod: dict[str, Any]) -> str:
    spec = pod.get("spec") or {}
    return spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"


def _is_live(pod: dict[str, Any]) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and not (pod.get("metadata") or {}).get("deletionTimestamp")


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
    live = [p for p in pods if _is_live(p)]
    mine = [p for p in live if pod_service_account(p) == service_account]
    result = ServiceAccountMatch(pods=len(mine))
    fronted: set[str] = set()
    for service in sorted(services, key=_name):
        selector = (service.get("spec") or {}).get("selector")
        selected = [p for p in live if selector_matches(selector, labels_of(p))]
        selected_mine = [p for p in selected if pod_service_account(p) == service_account]
        if not selected_mine:
            continue
        fronted.update(_name(p) for p in selected_mine)
        others = sorted({pod_service_account(p) for p in selected} - {service_account})
        if others:
            result.shared[_name(service)] = others
        else:
            result.exclusive.append(_name(service))
    result.unfronted_pods = sorted(_name(p) for p in mine if _name(p) not in fronted)
    return result


def read_added_labels(obj: dict[str, Any]) -> dict[str, str]:
    """The labels ambientctl recorded as added to `obj` (JSON object in the annotation).

    Tolerates a bare list of keys or `k=v,k2` text from other writers; an
    unreadable value counts as "nothing recorded", so we never remove a label
    we cannot prove we added.
    """
    return _read_label_record(obj, ADDED_LABELS_ANNOTATION)


def read_replaced_labels(obj: dict[str, Any]) -> dict[str, str]:
    """The user's label values that `--overwrite` replaced (restored by `delete`).

    Only the JSON object ambientctl writes counts: a value to restore cannot be guessed.
    """
    return _read_label_record(obj, REPLACED_LABELS_ANNOTATION, keys_only=False)


def _read_label_record(obj: dict[str, Any], annotation: str, keys_only: bool = True) -> dict[str, str]:
    """A {label: value} record from an annotation; with keys_only, bare keys take the live value."""
    raw = annotations_of(obj).get(annotation)
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        data = [part.strip() for part in raw.split(",") if part.strip()]
    if isinstance(data, dict):
        return {str(k): str(v) for k, v in data.items()}
    if isinstance(data, list) and keys_only:
        pairs = (str(item).partition("=") for item in data)
        return {key: (value if sep else labels_of(obj).get(key, "")) for key, sep, value in pairs}
    return {}


def encode_label_record(record: dict[str, str]) -> str | None:
    """The annotation value for a {label: value} record (None deletes the annotation)."""
    return json.dumps(dict(sorted(record.items())), separators=(",", ":")) if record else None


def list_rows(gateways: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`waypoint list` records, sorted by namespace and name (istioctl's defaults for empty labels)."""
    rows = []
    for gw in sorted(gateways, key=lambda g: (g["metadata"].get("namespace", ""), _name(g))):
        labels = labels_of(gw)
        programmed = condition(gw, PROGRAMMED)
        rows.append({
            "namespace": gw["metadata"].get("namespace", ""),
            "name": _name(gw),
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
    for gw in sorted(gateways, key=lambda g: (g["metadata"].get("namespace", ""), _name(g))):
        base = {"namespace": gw["metadata"].get("namespace", ""), "name": _name(gw)}
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


# --------------------------------------------------------------------------- cluster: apply and wait


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
    if existing is not None and already_applied(existing, desired, getattr(kube, "field_manager", "ambientctl")):
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

    name, namespace = _name(gateway), gateway["metadata"]["namespace"]
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
            reasons.append(f"deployment {_name(deployment)} {summary}: " + " | ".join(pods))
    return reasons


# --------------------------------------------------------------------------- cluster: attach and detach


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
        return LabelChange(kind, _name(obj), "unchanged")
    if current and not overwrite:
        return LabelChange(kind, _name(obj), "kept", current)
    _set_use_waypoint(kube, obj, waypoint)
    return LabelChange(kind, _name(obj), "labeled", current)


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
    by_name = {_name(s): s for s in services}
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
    name = _name(ns)
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
            remaining.append(f"{obj['kind'].lower()} {_name(obj)}")
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


# --------------------------------------------------------------------------- cluster: delete


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
    gateways = {_name(g): g for g in list_gateways(kube, namespace)}
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
        targets.sort(key=_name)
    for gw in targets:
        removed, remaining = detach(kube, namespace, _name(gw))
        result.unlabeled.extend(removed)
        result.still_attached.extend(f"{item} still uses {_name(gw)}" for item in remaining)
        uid = gw["metadata"].get("uid")
        if kube.delete(GATEWAY_API_VERSION, "Gateway", _name(gw), namespace, uid=uid):
            result.deleted.append(_name(gw))
        else:
            result.not_found.append(_name(gw))
    return result
