"""Printers shared by every command: one JSON/YAML document, aligned tables, status lines.

Printing is kept apart from fetching (istioctl's writer packages): commands
build plain data, these functions turn it into text. Pure `format_*`
functions return strings so golden-file tests can compare them.
"""

from __future__ import annotations

import contextlib
import json
import sys
from enum import Enum
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

from ambientctl.yamlout import dump_stream, dump_yaml

if TYPE_CHECKING:
    from ambientctl.context import CliContext


class OutputFormat(str, Enum):
    """`-o` for commands that print records: a table, or one JSON/YAML document."""

    table = "table"
    json = "json"
    yaml = "yaml"


def format_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def format_yaml(data: Any) -> str:
    """Block-style YAML of JSON-like data (our own emitter: PyYAML's costs more than rendering)."""
    return dump_yaml(data)


def format_yaml_stream(documents: Iterable[Any]) -> str:
    """Several objects as one YAML stream separated by `---` (manifests)."""
    return dump_stream(documents)


def format_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], gap: int = 3) -> str:
    """Columns padded to their widest cell, like kubectl; no trailing spaces."""
    table = [list(map(str, headers))] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(headers))]
    lines = []
    for row in table:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row)]
        lines.append((" " * gap).join(cells).rstrip())
    return "\n".join(lines) + "\n"


def write_stdout(text: str) -> None:
    """Write data to stdout as it is (no markup, no wrapping)."""
    sys.stdout.write(text)
    sys.stdout.flush()


def print_document(data: Any, fmt: str) -> None:
    """Exactly one JSON or YAML document on stdout."""
    write_stdout(format_json(data) if fmt == "json" else format_yaml(data))


def print_records(
    ctx: CliContext, fmt: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], document: Any
) -> None:
    """A table, or the same records as one JSON/YAML document."""
    if fmt in ("json", "yaml"):
        print_document(document, fmt)
        return
    text = format_table(headers, rows)
    if ctx.out.is_terminal and not ctx.options.no_color:
        head, _, rest = text.partition("\n")
        ctx.out.print(f"[bold]{_escape(head)}[/bold]", markup=True)
        write_stdout(rest)
    else:
        write_stdout(text)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def check_line(ok: bool, text: str) -> str:
    """istioctl's status line: `✔ text` or `✘ text`."""
    return f"{'✔' if ok else '✘'} {text}"


@contextlib.contextmanager
def progress(ctx: CliContext, text: str) -> Iterator[Any]:
    """A spinner on a terminal; on a pipe, one plain line and no animation.

    Yields a callable that updates the status text.
    """
    if ctx.interactive:
        with ctx.err.status(text) as status:
            yield lambda message: status.update(f"{text} {message}")
    else:
        ctx.info(text)
        yield lambda message: None
