"""Addressing an IstioOperator tree: istioctl's path syntax, reading and writing at a path, merging.

`components.ingressGateways[name:istio-ingressgateway].enabled` is a list of
segments: keys, list indexes and `[key:value]` selectors. `--set`, `manifest
get` style lookups and the schema checks all use these paths; `deep_merge` is
how profiles and `-f` files combine. Pure data functions, no other render module.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any, Union

from ambientctl.errors import InvalidInputError

SYNTAX_HINT = (
    "use --set path.to.key=value (e.g. components.cni.enabled=true, "
    "components.ingressGateways[0].enabled=false, components.ingressGateways[name:istio-ingressgateway].enabled=false)"
)


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


def config_subtree(config: dict[str, Any], path: str) -> Any:
    """The value at `path` in an IstioOperator; `spec.` may be left out (`components.cni` = `spec.components.cni`).

    A malformed path is an InvalidInputError (it says so); a well-formed path that leads
    nowhere is a KeyError, so the caller can name its own flag and suggest where to look.
    """
    segments = parse_path(path)
    if segments and isinstance(segments[0], Key) and segments[0].name not in config and "spec" in config:
        segments = [Key("spec"), *segments]
    absent = object()
    value = get_path(config, segments, default=absent)
    if value is absent:
        raise KeyError(path)
    return value


def deep_merge(base: Any, overlay: Any) -> Any:
    """A new tree: maps merged key by key, everything else (lists too) replaced, as istioctl merges."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = {key: copy.deepcopy(value) for key, value in base.items()}
        for key, value in overlay.items():
            merged[key] = deep_merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(overlay)
