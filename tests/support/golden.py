"""Golden files: compare output with a file under tests/golden/, or rewrite it.

Run the tests with `UPDATE_GOLDEN=1` to rewrite every golden file a test
compares with (then review the change with `git diff tests/golden`). Without
it a missing or different file fails the test and says how to regenerate it.
"""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN_ROOT = Path(__file__).resolve().parents[1] / "golden"
UPDATE_ENV = "UPDATE_GOLDEN"


def updating() -> bool:
    """True when this run rewrites golden files instead of comparing with them."""
    return os.environ.get(UPDATE_ENV) == "1"


def assert_golden(name: str | Path, text: str) -> None:
    """`text` must equal tests/golden/NAME (a path relative to tests/golden, or absolute)."""
    path = GOLDEN_ROOT / name
    if updating():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return
    assert path.exists(), f"golden file {path} is missing: run the tests with {UPDATE_ENV}=1"
    assert text == path.read_text(), f"output differs from {path}: review, then re-run with {UPDATE_ENV}=1"
