"""The fields of each Istio kind `validate` checks, as protojson reads them (facts from Istio's API protos).

A shape is one of: a scalar name (`string`, `int` = int32/uint32, `number`,
`bool`, `duration`, `struct` = any object), `Enum`, `ListOf`, `MapOf`, or a
dict of field name → shape (a message). Field names are the JSON (camelCase)
names; protojson also accepts the proto (snake_case) names, and so does
`check`. `null` is accepted anywhere (protojson reads it as unset); enum values
may be names or numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Union

Shape = Union[str, "Enum", "ListOf", "MapOf", dict]


@dataclass(frozen=True)
class Enum:
    values: tuple[str, ...]


@dataclass(frozen=True)
class ListOf:
    item: Shape


@dataclass(frozen=True)
class MapOf:
    value: Shape
    key: str = "string"   # or "int": a uint32 key, written as a string of digits in JSON


STRINGS = ListOf("string")
SELECTOR = {"matchLabels": MapOf("string")}
TARGET_REF = {"group": "string", "kind": "string", "name": "string", "namespace": "string"}
TARGETING = {"selector": SELECTOR, "targetRef": TARGET_REF, "targetRefs": ListOf(TARGET_REF)}

_SOURCE_FIELDS = ("principals", "notPrincipals", "requestPrincipals", "notRequestPrincipals", "namespaces",
                  "notNamespaces", "serviceAccounts", "notServiceAccounts", "ipBlocks", "notIpBlocks",
                  "remoteIpBlocks", "notRemoteIpBlocks", "trustDomains", "notTrustDomains")
_OPERATION_FIELDS = ("hosts", "notHosts", "ports", "notPorts", "methods", "notMethods", "paths", "notPaths")

AUTHORIZATION_POLICY = {
    **TARGETING,
    "rules": ListOf({
        "from": ListOf({"source": {name: STRINGS for name in _SOURCE_FIELDS}}),
        "to": ListOf({"operation": {name: STRINGS for name in _OPERATION_FIELDS}}),
        "when": ListOf({"key": "string", "values": STRINGS, "notValues": STRINGS}),
    }),
    "action": Enum(("ALLOW", "DENY", "AUDIT", "CUSTOM")),
    "provider": {"name": "string"},
}

_MTLS = {"mode": Enum(("UNSET", "DISABLE", "PERMISSIVE", "STRICT"))}
PEER_AUTHENTICATION = {"selector": SELECTOR, "mtls": _MTLS, "portLevelMtls": MapOf(_MTLS, key="int")}

_WORKLOAD_MODE = Enum(("CLIENT_AND_SERVER", "CLIENT", "SERVER"))
_PROVIDERS = ListOf({"name": "string"})
_HEADER = {"name": "string", "defaultValue": "string"}
TELEMETRY = {
    **TARGETING,
    "tracing": ListOf({
        "match": {"mode": _WORKLOAD_MODE},
        "providers": _PROVIDERS,
        "randomSamplingPercentage": "number",
        "disableSpanReporting": "bool",
        "customTags": MapOf({"literal": {"value": "string"}, "environment": _HEADER, "header": _HEADER,
                             "formatter": {"value": "string"}}),
        "useRequestIdForTraceSampling": "bool",
        "enableIstioTags": "bool",
        "disableContextPropagation": "bool",
    }),
    "metrics": ListOf({
        "providers": _PROVIDERS,
        "overrides": ListOf({
            "match": {"metric": Enum(("ALL_METRICS", "REQUEST_COUNT", "REQUEST_DURATION", "REQUEST_SIZE",
                                      "RESPONSE_SIZE", "TCP_OPENED_CONNECTIONS", "TCP_CLOSED_CONNECTIONS",
                                      "TCP_SENT_BYTES", "TCP_RECEIVED_BYTES", "GRPC_REQUEST_MESSAGES",
                                      "GRPC_RESPONSE_MESSAGES")),
                      "customMetric": "string", "mode": _WORKLOAD_MODE},
            "disabled": "bool",
            "tagOverrides": MapOf({"operation": Enum(("UPSERT", "REMOVE")), "value": "string"}),
        }),
        "reportingInterval": "duration",
    }),
    "accessLogging": ListOf({"match": {"mode": _WORKLOAD_MODE}, "providers": _PROVIDERS, "disabled": "bool",
                             "filter": {"expression": "string"}}),
}

WASM_PLUGIN = {
    **TARGETING,
    "url": "string",
    "sha256": "string",
    "imagePullPolicy": Enum(("UNSPECIFIED_POLICY", "IfNotPresent", "Always")),
    "imagePullSecret": "string",
    "verificationKey": "string",
    "pluginConfig": "struct",
    "pluginName": "string",
    "phase": Enum(("UNSPECIFIED_PHASE", "AUTHN", "AUTHZ", "STATS")),
    "priority": "int",
    "failStrategy": Enum(("FAIL_CLOSE", "FAIL_OPEN", "FAIL_RELOAD")),
    "vmConfig": {"env": ListOf({"name": "string", "valueFrom": Enum(("INLINE", "HOST")), "value": "string"})},
    "match": ListOf({"mode": Enum(("UNDEFINED", "CLIENT", "SERVER", "CLIENT_AND_SERVER")),
                     "ports": ListOf({"number": "int"})}),
    "type": Enum(("UNSPECIFIED_PLUGIN_TYPE", "HTTP", "NETWORK")),
}

# (API group, kind) → the spec's shape; the versions each group serves for these kinds.
SPECS: dict[tuple[str, str], dict[str, Any]] = {
    ("security.istio.io", "AuthorizationPolicy"): AUTHORIZATION_POLICY,
    ("security.istio.io", "PeerAuthentication"): PEER_AUTHENTICATION,
    ("telemetry.istio.io", "Telemetry"): TELEMETRY,
    ("extensions.istio.io", "WasmPlugin"): WASM_PLUGIN,
}
VERSIONS = {"security.istio.io": ("v1", "v1beta1"), "telemetry.istio.io": ("v1", "v1alpha1"),
            "extensions.istio.io": ("v1alpha1",)}
TOP_LEVEL = ("apiVersion", "kind", "metadata", "spec", "status")


Report = Callable[[str, str, bool], None]   # (field path, message, a value of the wrong type?)


def camel(name: str) -> str:
    """The JSON name of a proto field name (`not_principals` → `notPrincipals`)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__)


def check(value: Any, shape: Shape, path: str, report: Report) -> None:
    """Report every field of `value` that `shape` does not allow: unknown names, wrong types, enum values."""
    if value is None:
        return
    if isinstance(shape, dict):
        _message(value, shape, path, report)
    elif isinstance(shape, ListOf):
        if not isinstance(value, list):
            report(path, f"must be a list, not {_type_name(value)}", True)
            return
        for index, item in enumerate(value):
            check(item, shape.item, f"{path}[{index}]", report)
    elif isinstance(shape, MapOf):
        if not isinstance(value, dict):
            report(path, f"must be an object (a map), not {_type_name(value)}", True)
            return
        for key, item in value.items():
            if shape.key == "int" and not (str(key).isdigit() and int(key) < 2 ** 32):
                report(f"{path}[{key}]", "map key must be a whole number", True)
            check(item, shape.value, f"{path}[{key}]", report)
    elif isinstance(shape, Enum):
        _enum(value, shape, path, report)
    else:
        _scalar(value, shape, path, report)


def _message(value: Any, shape: dict, path: str, report: Report) -> None:
    if not isinstance(value, dict):
        report(path, f"must be an object, not {_type_name(value)}", True)
        return
    for key, item in value.items():
        name = key if key in shape else camel(str(key))
        if name not in shape:
            report(f"{path}.{key}", f"unknown field {key!r}; known: {', '.join(shape)}", False)
            continue
        check(item, shape[name], f"{path}.{key}", report)


def _enum(value: Any, shape: Enum, path: str, report: Report) -> None:
    if isinstance(value, bool) or not (value in shape.values or (isinstance(value, int)
                                                                  and 0 <= value < len(shape.values))):
        report(path, f"unknown value {value!r}; one of {', '.join(shape.values)}", False)


def _scalar(value: Any, kind: str, path: str, report: Report) -> None:
    ok = {
        "string": isinstance(value, str),
        "bool": isinstance(value, bool),
        "int": _is_int(value),
        "number": isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value),
        "duration": isinstance(value, str) and _is_duration(value),
        "struct": isinstance(value, dict),
    }[kind]
    if not ok:
        wanted = {"string": "a string", "bool": "true or false", "int": "a whole number",
                  "number": "a number", "duration": "a duration such as \"10s\" or \"1m30s\"",
                  "struct": "an object"}[kind]
        report(path, f"must be {wanted}, not {_type_name(value)} {value!r}" if not isinstance(value, (dict, list))
               else f"must be {wanted}, not {_type_name(value)}", True)


def _is_duration(text: str) -> bool:
    """Go's duration syntax, as Istio reads protobuf Durations (`10s`, `1m`, `1.5h`)."""
    from ambientctl.durations import parse_duration
    from ambientctl.errors import AmbientctlError

    try:
        parse_duration(text, "duration")
    except AmbientctlError:
        return False
    return True


def _is_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -2 ** 31 <= value < 2 ** 32
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, str) and value.lstrip("-").isdigit()
