"""Fast block-style YAML for manifests (JSON-like data only).

`manifest generate` prints ~400 KB of YAML, mostly CRD schemas; PyYAML's
representer costs more than rendering itself. Rendered objects only hold
dicts, lists, strings, numbers, booleans and None, so this emitter writes
them directly: plain scalars when unambiguous, JSON-quoted strings (valid
YAML double-quoted scalars) otherwise, `|` blocks for multi-line text.
`yaml.safe_load` of the output gives back the input (tested).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Iterable

from ambientctl.lazyre import LazyPattern

_PLAIN = LazyPattern(r"^[A-Za-z_/][A-Za-z0-9_./-]*\Z")  # \Z: `$` would accept a trailing newline
# YAML 1.1 words that a plain scalar would turn into booleans or null.
_RESERVED = frozenset({"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"})
_UNSAFE_IN_QUOTES = LazyPattern("[\x7f-\x9f\ud800-\udfff\u2028\u2029\ufeff\ufffe\uffff]")
# Multi-line text printed as a `|` block: printable ASCII only, not starting with blank space.
_BLOCK_SAFE = LazyPattern(r"^[\x21-\x7e][\x20-\x7e\n]*$")


def _float(value: float) -> str:
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    if "e" in text and "." not in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}.0e{exponent}"
    return text


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _RESERVED:
        return text
    # A JSON string is a YAML double-quoted scalar once YAML's non-printable characters and
    # extra line breaks (which JSON leaves raw) are escaped too.
    return _UNSAFE_IN_QUOTES.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(text, ensure_ascii=False))


def _is_block(value: Any) -> bool:
    return isinstance(value, str) and "\n" in value and bool(_BLOCK_SAFE.match(value))


def _block(value: str, indent: int) -> str:
    """`|`, `|-` or `|+` and the indented lines."""
    stripped = value.rstrip("\n")
    trailing = len(value) - len(stripped)
    head = "|-" if trailing == 0 else "|" if trailing == 1 else "|+"
    pad = " " * indent
    lines = "\n".join(pad + line if line else "" for line in stripped.split("\n"))
    return f"{head}\n{lines}\n" + "\n" * max(0, trailing - 1)


def _value_after_key(value: Any, indent: int, out: list[str], prefix: str) -> None:
    if isinstance(value, dict) and value:
        out.append(f"{prefix}\n")
        _emit_map(value, indent + 2, out)
    elif isinstance(value, list) and value:
        out.append(f"{prefix}\n")
        _emit_list(value, indent, out)
    elif _is_block(value):
        out.append(f"{prefix} {_block(value, indent + 2)}")
    else:
        out.append(f"{prefix} {_inline(value)}\n")


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _scalar(value)


def _emit_map(mapping: dict[Any, Any], indent: int, out: list[str]) -> None:
    pad = " " * indent
    for key, value in mapping.items():
        _value_after_key(value, indent, out, f"{pad}{_scalar(str(key))}:")


def _emit_list(items: list[Any], indent: int, out: list[str]) -> None:
    pad = " " * indent
    for item in items:
        if isinstance(item, (dict, list)) and item:
            nested: list[str] = []
            (_emit_map if isinstance(item, dict) else _emit_list)(item, indent + 2, nested)  # type: ignore[operator]
            out.append(f"{pad}- {nested[0][indent + 2:]}")
            out.extend(nested[1:])
        elif _is_block(item):
            out.append(f"{pad}- {_block(item, indent + 2)}")
        else:
            out.append(f"{pad}- {_inline(item)}\n")


def dump_yaml(data: Any) -> str:
    """One YAML document (no `---`)."""
    out: list[str] = []
    if isinstance(data, dict) and data:
        _emit_map(data, 0, out)
    elif isinstance(data, list) and data:
        _emit_list(data, 0, out)
    elif _is_block(data):
        out.append(_block(data, 2))
    else:
        out.append(f"{_inline(data)}\n")
    return "".join(out)


def dump_stream(documents: Iterable[Any]) -> str:
    """Objects as one stream, each document starting with `---`."""
    return "".join(f"---\n{dump_yaml(doc)}" for doc in documents)
