"""The IstioOperator `spec` fields ambientctl knows, and checking a path or a whole spec against them.

SPEC_SCHEMA describes the spec as far as ambientctl renders it; `schema_at`
checks one `--set` path, `validate_spec` a whole `-f` file's spec. Below
`values`, the keys are checked by render/values.py (istioctl's Values message
plus the default profile's own knobs).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from ambientctl.errors import InvalidInputError
from ambientctl.render.tree import Key, Segment, format_path
from ambientctl.render.values import check_values_path, values_tree_paths


@dataclass(frozen=True)
class Leaf:
    """A scalar field: `bool`, `int`, `str` (any scalar, kept as text) or `any` (free-form subtree)."""

    kind: str


@dataclass(frozen=True)
class MapOf:
    """A map with user-chosen keys (labels, env), every value of one schema."""

    value: Any


@dataclass(frozen=True)
class ListOf:
    """A list whose items follow one schema."""

    item: Any


BOOL, INT, STR, FREE = Leaf("bool"), Leaf("int"), Leaf("str"), Leaf("any")
# istioctl's Values tree: checked key by key by check_values_path (free-form below maps and lists).
VALUES = Leaf("values")

# Kubernetes settings of a component (istioctl's KubernetesResourcesSpec); below each key, free-form.
K8S_SCHEMA: dict[str, Any] = {
    key: FREE
    for key in (
        "affinity", "env", "hpaSpec", "imagePullPolicy", "nodeSelector", "podDisruptionBudget",
        "podAnnotations", "priorityClassName", "readinessProbe", "resources", "service",
        "serviceAnnotations", "securityContext", "strategy", "tolerations", "volumes", "volumeMounts",
        "overlays",
    )
} | {"replicaCount": INT}

COMPONENT_SCHEMA: dict[str, Any] = {
    "enabled": BOOL,
    "namespace": STR,
    "hub": STR,
    "tag": STR,
    "label": MapOf(STR),
    "k8s": K8S_SCHEMA,
}
GATEWAY_SCHEMA: dict[str, Any] = {"name": STR, **COMPONENT_SCHEMA}

# Top-level MeshConfig fields (istio.io/latest/docs/reference/config/istio.mesh.v1alpha1); below, free-form.
MESH_CONFIG_FIELDS = (
    "accessLogEncoding", "accessLogFile", "accessLogFormat", "ambient", "caCertificates", "certificates",
    "connectTimeout", "defaultConfig", "defaultDestinationRuleExportTo", "defaultHttpRetryPolicy",
    "defaultProviders", "defaultServiceExportTo", "defaultVirtualServiceExportTo", "discoverySelectors",
    "dnsRefreshRate", "enableAutoMtls", "enableEnvoyAccessLogService", "enablePrometheusMerge",
    "enableTracing", "extensionProviders", "h2UpgradePolicy", "inboundClusterStatName",
    "inboundTrafficPolicy", "ingressClass", "ingressControllerMode", "ingressSelector", "ingressService",
    "localityLbSetting", "meshMTLS", "outboundClusterStatName", "outboundTrafficPolicy", "pathNormalization",
    "protocolDetectionTimeout", "proxyHttpPort", "proxyInboundListenPort", "proxyListenPort", "rootNamespace",
    "serviceScopeConfigs", "serviceSettings", "tcpKeepalive", "tlsDefaults", "trustDomain",
    "trustDomainAliases", "verifyCertificateAtClient",
)
MESH_CONFIG_SCHEMA: dict[str, Any] = {name: FREE for name in MESH_CONFIG_FIELDS} | {
    "accessLogFile": STR,
    "accessLogEncoding": STR,
    "enableTracing": BOOL,
    "enableAutoMtls": BOOL,
    "enablePrometheusMerge": BOOL,
    "rootNamespace": STR,
    "trustDomain": STR,
}

# The `spec` of an IstioOperator, as far as ambientctl renders it.
SPEC_SCHEMA: dict[str, Any] = {
    "profile": STR,
    "hub": STR,
    "tag": STR,
    "revision": STR,
    "namespace": STR,
    "compatibilityVersion": STR,
    "components": {
        "base": COMPONENT_SCHEMA,
        "pilot": COMPONENT_SCHEMA,
        "cni": COMPONENT_SCHEMA,
        "ztunnel": COMPONENT_SCHEMA,
        "ingressGateways": ListOf(GATEWAY_SCHEMA),
        "egressGateways": ListOf(GATEWAY_SCHEMA),
    },
    "values": VALUES,
    "unvalidatedValues": FREE,
    "meshConfig": MESH_CONFIG_SCHEMA,
}


def schema_at(path: list[Segment]) -> Any:
    """The schema node a path points at; InvalidInputError naming the nearest valid prefix if unknown."""
    node: Any = SPEC_SCHEMA
    for i, seg in enumerate(path):
        if node == FREE:
            return FREE
        if node == VALUES:
            check_values_path(path[:i], path[i:], format_path(path))
            return FREE
        prefix = format_path(path[:i]) or "spec"
        if isinstance(seg, Key):
            if isinstance(node, MapOf):
                node = node.value
                continue
            if not isinstance(node, dict):
                raise InvalidInputError(
                    f"unknown --set path '{format_path(path)}': {prefix} is a {_kind_name(node)} and has no field "
                    f"'{seg.name}'",
                    f"valid prefix: {prefix}",
                )
            if seg.name not in node:
                close = difflib.get_close_matches(seg.name, list(node), n=1)
                hint = f"did you mean '{_join(prefix, close[0])}'? " if close else ""
                raise InvalidInputError(
                    f"unknown --set path '{format_path(path)}': {prefix} has no field '{seg.name}'",
                    f"{hint}valid keys under {prefix}: {', '.join(sorted(node))}",
                )
            node = node[seg.name]
        else:
            if not isinstance(node, ListOf):
                raise InvalidInputError(
                    f"unknown --set path '{format_path(path)}': {prefix} is not a list, so "
                    f"{format_path([seg])} cannot select an item",
                    f"valid prefix: {prefix}",
                )
            node = node.item
    return node


def describe(schema: Any) -> str:
    if isinstance(schema, ListOf):
        return "list"
    return "map"


def example_key(schema: Any) -> str:
    if isinstance(schema, dict) and schema:
        return sorted(schema)[0]
    if isinstance(schema, ListOf):
        return "[0]"
    return "key"


def _kind_name(node: Any) -> str:
    if isinstance(node, Leaf):
        return {"bool": "true/false value", "int": "number", "str": "string"}.get(node.kind, "value")
    return describe(node)


def _join(prefix: str, key: str) -> str:
    return key if prefix == "spec" else f"{prefix}.{key}"


def validate_spec(spec: Any, source: str) -> None:
    """Check an overlay's spec against SPEC_SCHEMA: unknown fields and wrong shapes name the file."""
    _validate(spec, SPEC_SCHEMA, ["spec"], source)


def _validate(value: Any, schema: Any, where: list[str], source: str) -> None:
    location = ".".join(where)
    if schema == FREE or value is None:
        return
    if schema == VALUES:
        if not isinstance(value, dict):
            raise InvalidInputError(f"{source}: {location} must be a map", "fix the file")
        for leaf in values_tree_paths(value, []):
            check_values_path([Key("spec"), Key("values")], leaf, "", source=source)
        return
    if isinstance(schema, Leaf):
        if schema == BOOL and not isinstance(value, bool):
            raise InvalidInputError(f"{source}: {location} must be true or false, not {value!r}", "fix the file")
        if schema == INT and (isinstance(value, bool) or not isinstance(value, int)):
            raise InvalidInputError(f"{source}: {location} must be a whole number, not {value!r}", "fix the file")
        if schema == STR and isinstance(value, (dict, list)):
            raise InvalidInputError(f"{source}: {location} must be a single value", "fix the file")
        return
    if isinstance(schema, ListOf):
        if not isinstance(value, list):
            raise InvalidInputError(f"{source}: {location} must be a list", "fix the file")
        for i, item in enumerate(value):
            _validate(item, schema.item, [*where[:-1], f"{where[-1]}[{i}]"], source)
        return
    if not isinstance(value, dict):
        raise InvalidInputError(f"{source}: {location} must be a map", "fix the file")
    for key, item in value.items():
        if isinstance(schema, MapOf):
            _validate(item, schema.value, [*where, str(key)], source)
            continue
        if key not in schema:
            close = difflib.get_close_matches(str(key), list(schema), n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise InvalidInputError(
                f"{source}: unknown field {location}.{key}",
                f"{hint}valid keys under {location}: {', '.join(sorted(schema))}",
            )
        _validate(item, schema[key], [*where, str(key)], source)
