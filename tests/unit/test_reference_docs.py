"""docs/reference.md is generated from the CLI; this fails when someone forgets to regenerate it."""

from pathlib import Path

from ambientctl.cli.reference import generate

ROOT = Path(__file__).resolve().parents[2]


def test_reference_is_current():
    current = (ROOT / "docs" / "reference.md").read_text()
    assert current == generate(), "docs/reference.md is stale: run `make reference`"


def test_reference_covers_every_group():
    text = generate()
    for group in ("ambientctl version", "ambientctl dataplane enroll", "ambientctl dataplane status"):
        assert f"## `{group}`" in text
