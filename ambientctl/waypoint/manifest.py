"""What a waypoint is made of: the validated flags (`WaypointSpec`) and the Gateway generated from them.

A waypoint is a Gateway API `Gateway` of class `istio-waypoint` with one HBONE
listener on 15008; istiod turns it into a Deployment and a Service. Pure:
`waypoint generate` uses only this module (no cluster, no `kubernetes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ambientctl.errors import InvalidInputError
from ambientctl.gateways import GATEWAY_API_VERSION, LEGACY_WAYPOINT_CLASS, WAYPOINT_CLASS, WAYPOINT_COMPONENT
from ambientctl.labels import NO_WAYPOINT, REVISION_LABEL, SERVICE_ACCOUNT_ANNOTATION, WAYPOINT_FOR_LABEL
from ambientctl.names import is_dns1035_label, is_label_value, require_dns_subdomain, validate_namespace
from ambientctl.ownership import owner_labels

DEFAULT_NAME = "waypoint"
RESERVED_NAME = NO_WAYPOINT  # `istio.io/use-waypoint: none` means "no waypoint", so no waypoint may be called that


# istioctl prints the choices sorted; `service` is what istiod assumes when the label is absent.
TRAFFIC_TYPES = ("all", "none", "service", "workload")


HBONE_PORT = 15008
SERVICE_ACCOUNT_WAYPOINT_SUFFIX = "-waypoint"


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


def validate_service_account(name: str) -> str:
    return require_dns_subdomain(name, "service account name", "check --service-account")


def validate_gateway_class(name: str) -> str:
    return require_dns_subdomain(name, "gateway class", f"the waypoint class is {WAYPOINT_CLASS}")


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
