"""Go's `text/tabwriter` layout (space padding, no flags), so tables match istioctl byte for byte.

istioctl prints every table through a tabwriter: each cell that ends with a tab
is padded to its column's width plus the padding, and the last cell of a line
is written as it is. So empty trailing cells still produce trailing spaces, and
a column's width is taken only over consecutive lines that have that column (a
"column block"). `output.format_table` pads differently (and strips the line
ends), hence this module.
"""

from __future__ import annotations

from typing import Sequence


def tabwrite(lines: Sequence[Sequence[str]], *, padding: int = 1, minwidth: int = 0) -> str:
    """The text Go's tabwriter writes for `"\\t".join(cells) + "\\n"` per line.

    `lines` are the cells of each line; the last cell of a line is its
    tab-free tail (pass `""` to end a line with a tab).
    """
    if lines and len({len(line) for line in lines}) == 1:
        return _uniform(lines, padding, minwidth)
    rows = [list(line) for line in lines]
    out: list[str] = []
    _format(rows, 0, len(rows), [], padding, minwidth, out)
    return "".join(out)


def _uniform(lines: Sequence[Sequence[str]], padding: int, minwidth: int) -> str:
    """The common case, every line with the same cells: one block per column, so one width each (fast path)."""
    count = len(lines[0])
    widths = [max(minwidth, max(map(len, column)) + padding) for column in list(zip(*lines))[:count - 1]]
    template = "".join(f"{{:<{width}}}" for width in widths) + "{}\n"
    return "".join(template.format(*line) for line in lines)


def _format(rows: list[list[str]], line0: int, line1: int, widths: list[int], padding: int, minwidth: int,
            out: list[str]) -> None:
    """Go's `Writer.format`: find the blocks of lines that have column len(widths), size them, recurse."""
    column = len(widths)
    this = line0
    while this < line1:
        if column >= len(rows[this]) - 1:
            this += 1
            continue
        _write_lines(rows, line0, this, widths, out)
        line0 = this
        width = minwidth
        while this < line1 and column < len(rows[this]) - 1:
            width = max(width, len(rows[this][column]) + padding)
            this += 1
        widths.append(width)
        _format(rows, line0, this, widths, padding, minwidth, out)
        widths.pop()
        line0 = this
    _write_lines(rows, line0, line1, widths, out)


def _write_lines(rows: list[list[str]], line0: int, line1: int, widths: list[int], out: list[str]) -> None:
    for row in rows[line0:line1]:
        parts = []
        for index, cell in enumerate(row):
            if index < len(widths):
                parts.append(cell + " " * (widths[index] - len(cell)))
            else:
                parts.append(cell)
        out.append("".join(parts) + "\n")
