"""istioctl's `--set path=value`: the path (checked against the spec schema) and a typed value.

`--set components.ingressGateways[name:istio-ingressgateway].enabled=false`
becomes a SetFlag (path segments from render/tree.py, a value coerced to the
field's type from render/schema.py); `apply_sets` writes the flags, in order,
into the merged IstioOperator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ambientctl.errors import InvalidInputError
from ambientctl.render.schema import BOOL, INT, STR, ListOf, MapOf, describe, example_key, schema_at
from ambientctl.render.tree import SYNTAX_HINT, Key, Segment, format_path, parse_path, set_path


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
        example = f"{where}{example_key(schema)}" if isinstance(schema, ListOf) else f"{where}.{example_key(schema)}"
        raise InvalidInputError(
            f"--set {where} is a {describe(schema)}, not a single value",
            f"set one of its fields instead, e.g. --set {example}=...",
        )
    return value


def apply_sets(config: dict[str, Any], flags: list[SetFlag]) -> None:
    """Apply parsed --set flags, in order, to the IstioOperator's spec."""
    spec = config.setdefault("spec", {})
    for flag in flags:
        set_path(spec, flag.path, flag.value, where=format_path(flag.path))
