"""Render known_differences.yaml as the table in docs/parity.md.

    .venv/bin/python -m tests.parity.report          # rewrite the table in docs/parity.md
    .venv/bin/python -m tests.parity.report --check  # exit 1 if the doc is out of date
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

from tests.parity.compare import KNOWN_DIFFERENCES

DOC = Path(__file__).resolve().parents[2] / "docs" / "parity.md"
BEGIN, END = "<!-- differences:begin -->", "<!-- differences:end -->"
AREAS = ["manifest-generate", "set", "waypoint-generate", "ztunnel-config", "install"]


def _code(text: str) -> str:
    return "`" + text.replace("|", "\\|") + "`" if text and text != "*" else "any"


def render(path: Path = KNOWN_DIFFERENCES) -> str:
    entries = (yaml.safe_load(path.read_text()) or {}).get("differences") or []
    lines = []
    def areas(entry: dict) -> list[str]:
        return entry["area"] if isinstance(entry["area"], list) else [entry["area"]]

    for area in AREAS + sorted({a for e in entries for a in areas(e)} - set(AREAS)):
        rows = [e for e in entries if area in areas(e)]
        lines.append(f"#### {area}\n")
        if not rows:
            lines.append("No differences.\n")
            continue
        lines.append("| id | status | object | facet | ambientctl | istioctl | reason |")
        lines.append("|---|---|---|---|---|---|---|")
        for e in rows:
            status = "**bug**" if e.get("status") == "bug" else "intended"
            reason = " ".join(str(e["reason"]).split()).replace("|", "\\|")
            lines.append(f"| {e['id']} | {status} | {_code(e['object'])} | {_code(e['key'])} | "
                         f"{_code(str(e.get('ours', '*')))} | {_code(str(e.get('theirs', '*')))} | {reason} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def updated(doc_text: str, table: str) -> str:
    return re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: f"{BEGIN}\n{table}{END}", doc_text,
                  flags=re.S)


def main(argv: list[str]) -> int:
    text = DOC.read_text()
    new = updated(text, render())
    if "--check" in argv:
        if new != text:
            print("docs/parity.md is out of date: run .venv/bin/python -m tests.parity.report", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
