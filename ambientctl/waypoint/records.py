"""The record of labels ambientctl put on objects it does not own (Services, namespaces).

`ownership.ADDED_LABELS_ANNOTATION` lists what we added, so `delete` removes
exactly that; `REPLACED_LABELS_ANNOTATION` keeps a user's value that
`--overwrite` replaced, so `delete` gives it back. Pure.
"""

from __future__ import annotations

import json
from typing import Any

from ambientctl.labels import annotations_of, labels_of
from ambientctl.ownership import ADDED_LABELS_ANNOTATION, REPLACED_LABELS_ANNOTATION


def read_added_labels(obj: dict[str, Any]) -> dict[str, str]:
    """The labels ambientctl recorded as added to `obj` (JSON object in the annotation).

    Tolerates a bare list of keys or `k=v,k2` text from other writers; an
    unreadable value counts as "nothing recorded", so we never remove a label
    we cannot prove we added.
    """
    return _read_label_record(obj, ADDED_LABELS_ANNOTATION)


def read_replaced_labels(obj: dict[str, Any]) -> dict[str, str]:
    """The user's label values that `--overwrite` replaced (restored by `delete`).

    Only the JSON object ambientctl writes counts: a value to restore cannot be guessed.
    """
    return _read_label_record(obj, REPLACED_LABELS_ANNOTATION, keys_only=False)


def _read_label_record(obj: dict[str, Any], annotation: str, keys_only: bool = True) -> dict[str, str]:
    """A {label: value} record from an annotation; with keys_only, bare keys take the live value."""
    raw = annotations_of(obj).get(annotation)
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        data = [part.strip() for part in raw.split(",") if part.strip()]
    if isinstance(data, dict):
        return {str(k): str(v) for k, v in data.items()}
    if isinstance(data, list) and keys_only:
        pairs = (str(item).partition("=") for item in data)
        return {key: (value if sep else labels_of(obj).get(key, "")) for key, sep, value in pairs}
    return {}


def encode_label_record(record: dict[str, str]) -> str | None:
    """The annotation value for a {label: value} record (None deletes the annotation)."""
    return json.dumps(dict(sorted(record.items())), separators=(",", ":")) if record else None
