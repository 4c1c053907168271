"""Redaction: no private key a dump could carry survives parsing.

Fields named like `privateKey` lose their value, PEM key blocks are cut out
of any string, and base64 that decodes to a key becomes base64 of
`[redacted]`. `may_hold_private_keys` scans the raw bytes first so the walk
is skipped for the (usual) dump that holds none.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from ambientctl.lazyre import LazyPattern
from ambientctl.proxy.certs import REDACTED, REDACTED_B64

_PRIVATE_KEY_NAME = LazyPattern(r"private[_\-]?key", re.I)

_PEM_KEY_BLOCK = LazyPattern(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.S)


def redact(node: Any) -> Any:
    """Replace, in place, every private key a dump could carry; returns the node.

    Fields named like `privateKey`/`private_key` lose their value; PEM private
    key blocks are cut out of any string; base64-wrapped PEM that holds a key
    becomes base64 of `[redacted]`. A bare string (a scalar member or list item read
    on its own, as the streaming reader hands them out) comes back redacted.
    """
    if isinstance(node, str):
        return redact_string(node)
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str) and _PRIVATE_KEY_NAME.search(key):
                node[key] = _redacted_value(value)
            elif isinstance(value, str):
                node[key] = redact_string(value)
            elif isinstance(value, (dict, list)):
                redact(value)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if isinstance(value, str):
                node[index] = redact_string(value)
            elif isinstance(value, (dict, list)):
                redact(value)
    return node


def _redacted_value(value: Any) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, inner in value.items():
            if key in ("inlineBytes", "inline_bytes"):
                out[key] = REDACTED_B64
            elif key in ("inlineString", "inline_string"):
                out[key] = REDACTED
            elif isinstance(inner, (dict, list)):
                out[key] = _redacted_value(inner)
            else:
                out[key] = REDACTED
        return out
    if isinstance(value, list):
        return [_redacted_value(v) for v in value]
    return REDACTED


_KEY_NAMES = (b"privatekey", b"private_key", b"private-key")


def _aligned_b64(pattern: bytes) -> tuple[bytes, ...]:
    """The base64 characters `pattern` always encodes to, at each of the three byte alignments."""
    out = []
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + pattern)
        first = -(-8 * shift // 6)                      # first char made only of pattern bits
        last = (8 * (shift + len(pattern))) // 6        # chars before this are complete
        out.append(encoded[first:last])
    return tuple(out)


_KEY_IN_B64 = _aligned_b64(b"PRIVATE KEY")

_B64_JSON_STRING = LazyPattern(rb'"([A-Za-z0-9+/=\\]{64,})"')

_B64_TEXT = LazyPattern(r"[A-Za-z0-9+/=\s]{64,}")

_JSON_ESCAPE = LazyPattern(rb"\\.")

_NOT_B64 = LazyPattern(rb"[^A-Za-z0-9+/]")


def _b64_holds_key(text: bytes) -> bool:
    """Decode leniently (wrapped, unpadded, truncated): a damaged encoding must not hide a key."""
    clean = _NOT_B64.sub(b"", text)
    clean = clean[: len(clean) // 4 * 4]
    try:
        return b"PRIVATE KEY" in base64.b64decode(clean)
    except (binascii.Error, ValueError):
        return False


def may_hold_private_keys(data: bytes | bytearray) -> bool:
    """A fast scan of the raw JSON: False only when no string could hold a key, so the walk can be skipped.

    Escapes that could hide a key from a byte scan (\\u, \\/, \\") always mean True.
    """
    escaped = b"\\" in data
    if escaped and (b"\\u" in data or b"\\/" in data or b'\\"' in data):
        return True
    if _contains_folded(data, b"ivate"):  # "PRIVATE KEY" and every key field name contain it: one scan rules all out
        if b"PRIVATE KEY" in data or any(_contains_folded(data, name) for name in _KEY_NAMES):
            return True
    # Unwrapped base64 anywhere: "PRIVATE KEY" encodes to one of three fixed strings.
    if any(encoded in data for encoded in _KEY_IN_B64):
        return True
    if not escaped or (b"\\n" not in data and b"\\r" not in data):
        return False
    # Wrapped base64 (\\n escapes inside) can split those strings: decode such strings.
    for match in _B64_JSON_STRING.finditer(data):
        text = match.group(1)
        if b"\\" in text and _b64_holds_key(_JSON_ESCAPE.sub(b"", text)):
            return True
    return False


def _contains_folded(data: bytes | bytearray, needle: bytes) -> bool:
    """`needle in data.lower()`, a megabyte at a time: never a lowered copy of a whole 100 MB dump."""
    view = memoryview(data)
    step, overlap = 1 << 20, len(needle) - 1
    return any(needle in bytes(view[start:start + step + overlap]).lower() for start in range(0, len(view), step))


def redact_string(text: str) -> str:
    if "PRIVATE KEY" in text:
        return _PEM_KEY_BLOCK.sub(REDACTED, text)
    if len(text) >= 64 and _B64_TEXT.fullmatch(text) and _b64_holds_key(text.encode("ascii")):
        return REDACTED_B64
    return text
