"""istioctl's `--set` syntax: paths into the IstioOperator, typed scalars, and the allowed paths.

`--set components.ingressGateways[name:istio-ingressgateway].enabled=false`
is parsed into path segments (keys, list indexes, `[key:value]` selectors)
and a typed value, checked against SPEC_SCHEMA (the IstioOperator fields we
know), then written into the merged config. Keys under `values.*` are checked
too: istioctl 1.31 decodes them into its Values message and rejects unknown
fields, so ambientctl accepts the fields of that message (values_schema.py)
plus the knobs of its own default profile; `unvalidatedValues.*` is free-form.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any, Union

from ambientctl.errors import InvalidInputError

SYNTAX_HINT = (
    "use --set path.to.key=value (e.g. components.cni.enabled=true, "
    "components.ingressGateways[0].enabled=false, components.ingressGateways[name:istio-ingressgateway].enabled=false)"
)


# ---------------------------------------------------------------------------------------------- schema


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


# ---------------------------------------------------------------------------------------------- paths


@dataclass(frozen=True)
class Key:
    name: str


@dataclass(frozen=True)
class Index:
    position: int


@dataclass(frozen=True)
class Select:
    """`[key:value]`: the list item whose `key` equals `value`."""

    key: str
    value: str


Segment = Union[Key, Index, Select]

_KEY_RE = re.compile(r"^[A-Za-z0-9_\-/.]+$")
_BRACKET_RE = re.compile(r"\[([^\[\]]*)\]")


def _split_dotted(path: str) -> list[str]:
    """Split on `.` outside brackets; `\\.` escapes a dot inside a key (annotation names)."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    i = 0
    while i < len(path):
        char = path[i]
        if char == "\\" and i + 1 < len(path) and path[i + 1] == ".":
            current.append("\x00")  # placeholder for a literal dot
            i += 2
            continue
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth < 0:
                raise InvalidInputError(f"malformed --set path '{path}': unbalanced ']'", SYNTAX_HINT)
        if char == "." and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    if depth != 0:
        raise InvalidInputError(f"malformed --set path '{path}': unbalanced '['", SYNTAX_HINT)
    parts.append("".join(current))
    return parts


def parse_path(path: str) -> list[Segment]:
    """`a.b[0].c[name:x]` -> [Key a, Key b, Index 0, Key c, Select name=x]; InvalidInputError if malformed."""
    if not path or not path.strip():
        raise InvalidInputError("malformed --set: the path before '=' is empty", SYNTAX_HINT)
    segments: list[Segment] = []
    for part in _split_dotted(path):
        name, sep, rest = part.partition("[")
        rest = sep + rest
        name = name.replace("\x00", ".")
        if not name or not _KEY_RE.match(name):
            shown = name or "(empty)"
            raise InvalidInputError(f"malformed --set path '{path}': bad key {shown!r}", SYNTAX_HINT)
        segments.append(Key(name))
        consumed = 0
        for match in _BRACKET_RE.finditer(rest):
            if match.start() != consumed:
                break
            segments.append(_parse_bracket(path, match.group(1).replace("\x00", ".")))
            consumed = match.end()
        if consumed != len(rest):
            raise InvalidInputError(f"malformed --set path '{path}': bad list selector in {part!r}", SYNTAX_HINT)
    return segments


def _parse_bracket(path: str, inner: str) -> Segment:
    if re.fullmatch(r"\d{1,6}", inner):
        return Index(int(inner))
    key, sep, value = inner.partition(":")
    if sep and _KEY_RE.match(key) and value:
        return Select(key, value)
    raise InvalidInputError(
        f"malformed --set path '{path}': bad list selector [{inner}]",
        "use [N] for a position or [key:value], e.g. [name:istio-ingressgateway]",
    )


def format_path(segments: list[Segment]) -> str:
    """The inverse of parse_path, for messages."""
    out = ""
    for seg in segments:
        if isinstance(seg, Key):
            name = seg.name.replace(".", "\\.")
            out += f".{name}" if out else name
        elif isinstance(seg, Index):
            out += f"[{seg.position}]"
        else:
            out += f"[{seg.key}:{seg.value}]"
    return out


# ---------------------------------------------------------------------------------------------- values

_INT_RE = re.compile(r"^-?(0|[1-9]\d{0,17})$")
_FLOAT_RE = re.compile(r"^-?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][-+]?\d+)$")


def parse_value(raw: str) -> Any:
    """istioctl's typed scalars: true/false, ints, floats; quotes keep a string; `{a,b}` is a list."""
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return raw[1:-1]
    if raw in ("true", "True", "TRUE"):
        return True
    if raw in ("false", "False", "FALSE"):
        return False
    if _INT_RE.match(raw):
        return int(raw)
    if _FLOAT_RE.match(raw):
        return float(raw)
    if len(raw) >= 2 and raw[0] == "{" and raw[-1] == "}":
        inner = raw[1:-1].strip()
        return [parse_value(item.strip()) for item in inner.split(",")] if inner else []
    return raw


@dataclass(frozen=True)
class SetFlag:
    """One parsed `--set path=value`."""

    text: str
    path: list[Segment]
    raw: str
    value: Any


def parse_set(text: str) -> SetFlag:
    """Parse `path=value`; the path must exist in SPEC_SCHEMA (a `spec.` prefix is optional)."""
    if "=" not in text:
        raise InvalidInputError(f"malformed --set '{text}': no '=' (expected path=value)", SYNTAX_HINT)
    path_text, raw = text.split("=", 1)
    if any("\ud800" <= char <= "\udfff" for char in raw):  # undecodable bytes from the shell
        raise InvalidInputError(f"--set {path_text}: the value is not valid UTF-8", "pass the value as UTF-8 text")
    path = parse_path(path_text.strip())
    if path and path[0] == Key("spec"):
        path = path[1:]
        if not path:
            raise InvalidInputError(f"malformed --set '{text}': 'spec' alone is not a field", SYNTAX_HINT)
    schema = schema_at(path)
    value = _coerce(text, path, schema, raw, parse_value(raw))
    return SetFlag(text=text, path=path, raw=raw, value=value)


def _coerce(text: str, path: list[Segment], schema: Any, raw: str, value: Any) -> Any:
    where = format_path(path)
    if schema == BOOL and not isinstance(value, bool):
        raise InvalidInputError(f"--set {where} takes true or false, not {raw!r}", f"e.g. --set {where}=true")
    if schema == INT and (isinstance(value, bool) or not isinstance(value, int)):
        raise InvalidInputError(f"--set {where} takes a whole number, not {raw!r}", f"e.g. --set {where}=2")
    if schema == STR:
        if isinstance(value, list):
            raise InvalidInputError(f"--set {where} takes a single value, not a list", f"e.g. --set {where}=text")
        return value if isinstance(value, str) else raw
    if isinstance(schema, (dict, MapOf, ListOf)):
        example = f"{where}{_example_key(schema)}" if isinstance(schema, ListOf) else f"{where}.{_example_key(schema)}"
        raise InvalidInputError(
            f"--set {where} is a {_describe(schema)}, not a single value",
            f"set one of its fields instead, e.g. --set {example}=...",
        )
    return value


def _describe(schema: Any) -> str:
    if isinstance(schema, ListOf):
        return "list"
    return "map"


def _example_key(schema: Any) -> str:
    if isinstance(schema, dict) and schema:
        return sorted(schema)[0]
    if isinstance(schema, ListOf):
        return "[0]"
    return "key"


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


# ---------------------------------------------------------------------------------------------- values


def _profile_values() -> Any:
    """The default profile's values tree: ambientctl's own knobs are valid keys too."""
    from ambientctl.render.profiles import BASE_PROFILE, _read_profile

    return (_read_profile(BASE_PROFILE).get("spec") or {}).get("values") or {}


def _values_children(message: str | None, ours: Any) -> tuple[list[str], bool]:
    """(the valid keys below a values node, whether any key is accepted there)."""
    from ambientctl.render.values_schema import MESSAGES

    if message is None and not isinstance(ours, dict):
        return [], True
    if message is None and isinstance(ours, dict) and not ours:
        return [], True  # an empty map in the profile (env, labels, ...): user-chosen keys
    keys = set(MESSAGES.get(message, {})) if message else set()
    if isinstance(ours, dict):
        keys |= {str(k) for k in ours}
    return sorted(keys), False


def _values_step(message: str | None, ours: Any, key: str) -> tuple[str | None, Any, bool]:
    """Descend one key: (message below, profile subtree below, free-form below?)."""
    from ambientctl.render.values_schema import MESSAGES

    kind = MESSAGES.get(message, {}).get(key) if message else None
    below = ours.get(key) if isinstance(ours, dict) else None
    if kind in ("free", "map", "scalar") or (kind or "").startswith("list:"):
        return None, None, True
    if kind is None and below is not None and not isinstance(below, dict):
        return None, None, True  # one of the profile's scalar or list knobs
    return kind, below, False


def check_values_path(prefix: list[Segment], path: list[Segment], shown: str, source: str | None = None) -> None:
    """Reject `values.<path>` keys that neither istioctl's Values nor ambientctl's profile has."""
    from ambientctl.render.values_schema import ROOT

    message: str | None = ROOT
    ours: Any = _profile_values()
    for i, seg in enumerate(path):
        if not isinstance(seg, Key):
            return  # list items: free-form below
        keys, free = _values_children(message, ours)
        if free:
            return
        where = format_path([*prefix, *path[:i]])
        if seg.name not in keys:
            close = difflib.get_close_matches(seg.name, keys, n=3, cutoff=0.5)
            hint = (f"did you mean {', '.join(repr(f'{where}.{c}') for c in close)}? " if close else "")
            raise InvalidInputError(
                f"{source}: unknown field {where}.{seg.name}" if source
                else f"unknown --set path '{shown}': {where} has no field '{seg.name}'",
                f"{hint}istioctl checks values.* against its Values schema; "
                f"put free-form settings under unvalidatedValues, or see `ambientctl profile dump`",
            )
        message, ours, free = _values_step(message, ours, seg.name)
        if free:
            return


def _values_tree_paths(tree: Any, prefix: list[Segment]) -> list[list[Segment]]:
    """Every leaf path of a values tree (maps only; lists and scalars are leaves)."""
    if not isinstance(tree, dict) or not tree:
        return [prefix]
    paths: list[list[Segment]] = []
    for key, value in tree.items():
        paths.extend(_values_tree_paths(value, [*prefix, Key(str(key))]))
    return paths


def _kind_name(node: Any) -> str:
    if isinstance(node, Leaf):
        return {"bool": "true/false value", "int": "number", "str": "string"}.get(node.kind, "value")
    return _describe(node)


def _join(prefix: str, key: str) -> str:
    return key if prefix == "spec" else f"{prefix}.{key}"


# ---------------------------------------------------------------------------------------------- tree access


def set_path(tree: dict[str, Any], path: list[Segment], value: Any, *, where: str = "") -> None:
    """Write `value` at `path`, creating maps on the way; list items must exist (or be appended at len)."""
    where = where or format_path(path)
    node: Any = tree
    for i, seg in enumerate(path):
        last = i == len(path) - 1
        nxt = None if last else path[i + 1]
        if isinstance(seg, Key):
            if not isinstance(node, dict):
                raise InvalidInputError(
                    f"--set {where}: {format_path(path[:i]) or 'spec'} is not a map in the merged config",
                    "check the path against `ambientctl profile dump`",
                )
            if last:
                node[seg.name] = value
                return
            child = node.get(seg.name)
            if child is None or (isinstance(nxt, Key) and not isinstance(child, dict)):
                child = [] if isinstance(nxt, (Index, Select)) else {}
                node[seg.name] = child
            node = child
        else:
            if not isinstance(node, list):
                raise InvalidInputError(
                    f"--set {where}: {format_path(path[:i])} is not a list in the merged config",
                    "check the path against `ambientctl profile dump`",
                )
            position = _find_item(node, seg, path[:i], where)
            if last:
                node[position] = value
                return
            if not isinstance(node[position], dict) and isinstance(nxt, Key):
                node[position] = {}
            node = node[position]


def _find_item(items: list[Any], seg: Segment, prefix: list[Segment], where: str) -> int:
    if isinstance(seg, Index):
        if seg.position < len(items):
            return seg.position
        if seg.position == len(items):
            items.append({})
            return seg.position
        raise InvalidInputError(
            f"--set {where}: index {seg.position} is out of range ({format_path(prefix)} has {len(items)} item(s))",
            f"use an index from 0 to {len(items)}, or [name:...]",
        )
    assert isinstance(seg, Select)
    for position, item in enumerate(items):
        if isinstance(item, dict) and str(item.get(seg.key)) == seg.value:
            return position
    have = ", ".join(str(item.get(seg.key)) for item in items if isinstance(item, dict) and seg.key in item)
    raise InvalidInputError(
        f"--set {where}: no item with {seg.key}={seg.value} in {format_path(prefix)}",
        f"items there: {have or 'none'}",
    )


_MISSING = object()


def get_path(tree: Any, path: list[Segment], default: Any = _MISSING) -> Any:
    """Read the value at `path`; `default` (or InvalidInputError) if absent."""
    node = tree
    for seg in path:
        try:
            if isinstance(seg, Key):
                node = node[seg.name]
            elif isinstance(seg, Index):
                node = node[seg.position]
            else:
                node = next(i for i in node if isinstance(i, dict) and str(i.get(seg.key)) == seg.value)
        except (KeyError, IndexError, TypeError, StopIteration):
            if default is not _MISSING:
                return default
            raise InvalidInputError(
                f"path '{format_path(path)}' is not in the configuration",
                "see `ambientctl profile dump` for the available paths",
            ) from None
    return node


def apply_sets(config: dict[str, Any], flags: list[SetFlag]) -> None:
    """Apply parsed --set flags, in order, to the IstioOperator's spec."""
    spec = config.setdefault("spec", {})
    for flag in flags:
        set_path(spec, flag.path, flag.value, where=format_path(flag.path))


# ---------------------------------------------------------------------------------------------- overlays


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
        for leaf in _values_tree_paths(value, []):
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
