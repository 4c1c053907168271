"""Walk a large JSON document held once as bytes, decoding one item at a time.

Why: `json.loads` of a 100 MB ztunnel dump builds ~4x its size in Python
objects. A dump is an object of sections, each a list (or a map) of small
items; here the top two levels are parsed by hand and each item is decoded
by the C scanner on its own, from a window of the bytes, then dropped. So
the memory a dump costs is its bytes, one window and whatever the caller
keeps, and every item's byte span is known (`-o json` writes those bytes
instead of re-encoding the item).

Errors are those of `json.loads` read through `load_json`: one line for
invalid, truncated, non-UTF-8 or too deeply nested input. The depth limit is
the C scanner's (Python's recursion limit), as before.
"""

from __future__ import annotations

import json
from typing import Any, Iterator, Union

from ambientctl.errors import InvalidInputError
from ambientctl.lazyre import LazyPattern

Buffer = Union[bytes, bytearray]

WINDOW = 1 << 20      # bytes decoded to text at a time (an item larger than this widens it)
MARGIN = 1 << 16      # the window slides when fewer characters than this are left ahead
_WS = LazyPattern(r"[ \t\n\r]*")
_WS_BYTES = LazyPattern(rb"[ \t\n\r]*")
_COMMA = LazyPattern(r"[ \t\n\r]*,[ \t\n\r]*")
_COLON = LazyPattern(r"[ \t\n\r]*:[ \t\n\r]*")
_DECODER = json.JSONDecoder()
_SCAN = _DECODER.scan_once


class Document:
    """One JSON document: its top-level members in order, each member's items decoded one by one.

    Positions handed out (`start`, `end`) index the buffer: bytes for an ASCII
    document (decoded a window at a time), characters of the decoded text
    otherwise (a non-ASCII dump is decoded whole: rarer, and up to 4x dearer).
    """

    def __init__(self, data: Buffer, source: str) -> None:
        self.source = source
        self.data = data
        if _WS_BYTES.match(data).end() == len(data):
            raise InvalidInputError(f"{source} is empty", "the dump was not saved; fetch it again")
        if data.isascii():
            self.size = len(data)
            self.view: memoryview | None = memoryview(data)
            self._load(0)
        else:
            try:
                text = str(data, "utf-8")
            except UnicodeDecodeError:
                raise InvalidInputError(f"{source} is not text (binary data, not a JSON config dump)",
                                        "pass the JSON file saved from /config_dump") from None
            self.view = None
            self.size = len(text)
            self.base, self.text = 0, text
        self.pos = self._skip(0)

    # -- the window --------------------------------------------------------------------------

    def _load(self, start: int, size: int = 0) -> None:
        """Decode the bytes from `start` as the window (ASCII: one byte is one character)."""
        assert self.view is not None
        self.base = start
        self.text = str(self.view[start:start + (size or WINDOW)], "ascii")

    @property
    def _final(self) -> bool:
        return self.base + len(self.text) >= self.size

    def _skip(self, pos: int) -> int:
        """The first non-blank position from `pos` (window index), sliding the window if it runs out."""
        while True:
            pos = _WS.match(self.text, pos).end()
            if pos < len(self.text) or self._final:
                return pos
            self._load(self.base + pos)
            pos = 0

    def _char(self) -> str:
        """The character at the cursor ('' at the end of the document)."""
        self.pos = self._skip(self.pos)
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def absolute(self, pos: int) -> int:
        return self.base + pos

    def _value(self) -> tuple[Any, int, int]:
        """Decode the value at the cursor: (value, start, end) in buffer positions; the cursor moves past it."""
        self.pos = self._skip(self.pos)
        size = WINDOW
        while True:
            text = self.text
            try:
                value, end = _DECODER.raw_decode(text, self.pos)
            except RecursionError:
                raise InvalidInputError(f"{self.source} is nested too deeply to be a config dump",
                                        "fetch the dump again") from None
            except json.JSONDecodeError as exc:
                if self._final:
                    raise self._decode_error(exc.msg, self.base + exc.pos) from None
                value, end = None, len(text)  # cut by the window's end: widen it
            if end < len(text) or self._final:
                start = self.base + self.pos
                self.pos = end
                return value, start, self.base + end
            size *= 2
            self._load(self.base + self.pos, size)
            self.pos = 0

    # -- errors ----------------------------------------------------------------------------------

    def _decode_error(self, msg: str, at: int) -> InvalidInputError:
        truncated = msg.startswith("Unterminated string") or self._blank_after(at)
        if truncated:
            where = "ends early: the dump is truncated"
        else:
            line, column = self._line_column(at)
            where = f"line {line} column {column}: {msg}"
        return InvalidInputError(f"{self.source} is not valid JSON ({where})", "fetch the dump again")

    def _blank_after(self, at: int) -> bool:
        if self.view is None:
            return not self.text[at:].strip()
        return _WS_BYTES.match(self.data, at).end() == self.size

    def _line_column(self, at: int) -> tuple[int, int]:
        buffer: Any = self.data if self.view is not None else self.text
        newline = b"\n" if self.view is not None else "\n"
        return buffer.count(newline, 0, at) + 1, at - buffer.rfind(newline, 0, at)

    def _expected(self, what: str) -> InvalidInputError:
        return self._decode_error(f"Expecting {what}", self.base + self.pos)

    # -- structure ---------------------------------------------------------------------------

    def top_level(self) -> str:
        """'{' for an object (read it with `members`); otherwise the top level's type, read whole or item by item."""
        if self._char() == "{":
            self.pos += 1
            return "{"
        if self._char() == "[":
            for _ in self.items():
                pass
            kind = "list"
        else:
            value, _, _ = self._value()
            kind = type(value).__name__
        self.end()
        return kind

    def end(self) -> None:
        """Nothing but blanks may follow the document."""
        if self._char():
            raise self._decode_error("Extra data", self.base + self.pos)

    def members(self) -> Iterator[str]:
        """The keys of the object whose `{` was just read; the caller reads each value (`value`, `items`)."""
        first = True
        while True:
            char = self._char()
            if char == "}":
                self.pos += 1
                return
            if not first:
                if char != ",":
                    raise self._expected("',' delimiter")
                self.pos += 1
                char = self._char()
            if char != '"':
                raise self._expected("property name enclosed in double quotes")
            key, _, _ = self._value()
            if self._char() != ":":
                raise self._expected("':' delimiter")
            self.pos += 1
            first = False
            self.pos = self._skip(self.pos)
            start = self.base + self.pos
            yield key
            if self.base + self.pos == start:  # the caller left the value: skip it
                self.skip()

    def kind(self) -> str:
        """The first character of the value at the cursor: '[', '{', or another (a scalar)."""
        return self._char()

    def value(self) -> Any:
        return self._value()[0]

    def skip(self) -> None:
        """Read past the value at the cursor, one item at a time (a big section never sits whole in memory)."""
        if self._char() in ("[", "{"):
            for _ in self.items():
                pass
        else:
            self._value()

    def items(self) -> Iterator[tuple[str | None, Any, int, int]]:
        """(key or None, item, start, end) for each element of the list or map at the cursor.

        The common case (an item well inside the window) costs one regex match and one
        call of the C scanner; anything else (the window's end, an error) goes the careful way.
        """
        close = "]" if self._char() == "[" else "}"
        self.pos += 1
        first = True
        fast = self._fast_map_item if close == "}" else self._fast_list_item
        while True:
            found = fast(first)
            if found is None:
                found = self._item(close, first)
                if found is None:
                    return
            first = False
            yield found

    def _fast_list_item(self, first: bool) -> tuple[None, Any, int, int] | None:
        if self.pos > len(self.text) - MARGIN and not self._final:
            self._load(self.base + self.pos)  # slide before the window's end cuts an item (a costly error)
            self.pos = 0
        text, pos = self.text, self.pos
        match = (_WS if first else _COMMA).match(text, pos)
        if match is None:
            return None
        start = match.end()
        try:
            value, end = _SCAN(text, start)
        except (StopIteration, ValueError, RecursionError):
            return None
        if end >= len(text):
            return None
        self.pos = end
        return None, value, self.base + start, self.base + end

    def _fast_map_item(self, first: bool) -> tuple[str, Any, int, int] | None:
        if self.pos > len(self.text) - MARGIN and not self._final:
            self._load(self.base + self.pos)  # slide before the window's end cuts an item (a costly error)
            self.pos = 0
        text, pos = self.text, self.pos
        match = (_WS if first else _COMMA).match(text, pos)
        if match is None or text.startswith("}", match.end()):
            return None
        try:
            key, colon = _SCAN(text, match.end())
            match = _COLON.match(text, colon)
            if match is None or not isinstance(key, str):
                return None
            start = match.end()
            value, end = _SCAN(text, start)
        except (StopIteration, ValueError, RecursionError):
            return None
        if end >= len(text):
            return None
        self.pos = end
        return key, value, self.base + start, self.base + end

    def _item(self, close: str, first: bool) -> tuple[str | None, Any, int, int] | None:
        """The next element read step by step (widening the window, or raising the right error); None at the end."""
        char = self._char()
        if char == close:
            self.pos += 1
            return None
        if not first:
            if char != ",":
                raise self._expected("',' delimiter")
            self.pos += 1
        key = None
        if close == "}":
            if self._char() != '"':
                raise self._expected("property name enclosed in double quotes")
            key, _, _ = self._value()
            if self._char() != ":":
                raise self._expected("':' delimiter")
            self.pos += 1
        item, start, end = self._value()
        return key, item, start, end

    def slice(self, start: int, end: int) -> bytes | str:
        """The exact text of a value whose span `items` gave (bytes for an ASCII document)."""
        if self.view is not None:
            return bytes(self.view[start:end])
        return self.text[start:end]
