"""Comparing a live object with a desired one: what to ignore, and a unified YAML diff for `--dry-run`."""

from __future__ import annotations

import difflib
from typing import Any

import yaml

_VOLATILE_METADATA = ("managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink")
# Annotations controllers write on their own (revision counters).
_VOLATILE_ANNOTATIONS = ("deployment.kubernetes.io/revision", "deprecated.daemonset.template.generation")


def normalize_for_diff(obj: dict[str, Any]) -> dict[str, Any]:
    """The object without what the server changes on its own: status, versions, timestamps, managedFields.

    Only the top level, metadata and annotations are copied (the rest is shared with `obj`,
    read-only): a deep copy of every CRD's schema was a quarter of verify-install's CPU.
    """
    clean = dict(obj)
    clean.pop("status", None)
    meta = clean.get("metadata")
    if not isinstance(meta, dict):
        return clean
    meta = clean["metadata"] = {k: v for k, v in meta.items() if k not in _VOLATILE_METADATA}
    annotations = meta.get("annotations")
    if isinstance(annotations, dict):
        annotations = {k: v for k, v in annotations.items() if k not in _VOLATILE_ANNOTATIONS}
        if annotations:
            meta["annotations"] = annotations
        else:
            meta.pop("annotations", None)
    return clean


def _as_yaml_lines(obj: dict[str, Any] | None) -> list[str]:
    if obj is None:
        return []
    return yaml.safe_dump(obj, sort_keys=True, default_flow_style=False).splitlines(keepends=True)


def object_diff(live: dict[str, Any] | None, desired: dict[str, Any] | None, ref: str) -> str:
    """Unified diff from the live object to what applying would leave; "" when they are the same."""
    before = _as_yaml_lines(normalize_for_diff(live) if live is not None else None)
    after = _as_yaml_lines(normalize_for_diff(desired) if desired is not None else None)
    if before == after:
        return ""
    lines = difflib.unified_diff(before, after, fromfile=f"live/{ref}", tofile=f"rendered/{ref}")
    text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    return text
