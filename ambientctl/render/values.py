"""`values.*` keys: istioctl 1.31 decodes them into its Values message and rejects unknown fields.

So ambientctl accepts the fields of that message (values_schema.py) plus the
knobs of its own default profile; `unvalidatedValues.*` stays free-form.
"""

from __future__ import annotations

import difflib
from typing import Any

from ambientctl.errors import InvalidInputError
from ambientctl.render.profiles import BASE_PROFILE, read_profile
from ambientctl.render.tree import Key, Segment, format_path
from ambientctl.render.values_schema import MESSAGES, ROOT


def _profile_values() -> Any:
    """The default profile's values tree: ambientctl's own knobs are valid keys too."""
    return (read_profile(BASE_PROFILE).get("spec") or {}).get("values") or {}


def _values_children(message: str | None, ours: Any) -> tuple[list[str], bool]:
    """(the valid keys below a values node, whether any key is accepted there)."""
    if message is None and not isinstance(ours, dict):
        return [], True
    if message is None and isinstance(ours, dict) and not ours:
        return [], True  # an empty map in the profile (env, labels, ...): user-chosen keys
    keys = set(MESSAGES.get(message, {})) if message else set()
    if isinstance(ours, dict):
        keys |= {str(k) for k in ours}
    return sorted(keys), False


def _values_step(message: str | None, ours: Any, key: str) -> tuple[str | None, Any, bool]:
    """Descend one key: (message below, profile subtree below, free-form below?)."""
    kind = MESSAGES.get(message, {}).get(key) if message else None
    below = ours.get(key) if isinstance(ours, dict) else None
    if kind in ("free", "map", "scalar") or (kind or "").startswith("list:"):
        return None, None, True
    if kind is None and below is not None and not isinstance(below, dict):
        return None, None, True  # one of the profile's scalar or list knobs
    return kind, below, False


def check_values_path(prefix: list[Segment], path: list[Segment], shown: str, source: str | None = None) -> None:
    """Reject `values.<path>` keys that neither istioctl's Values nor ambientctl's profile has."""
    message: str | None = ROOT
    ours: Any = _profile_values()
    for i, seg in enumerate(path):
        if not isinstance(seg, Key):
            return  # list items: free-form below
        keys, free = _values_children(message, ours)
        if free:
            return
        where = format_path([*prefix, *path[:i]])
        if seg.name not in keys:
            close = difflib.get_close_matches(seg.name, keys, n=3, cutoff=0.5)
            hint = (f"did you mean {', '.join(repr(f'{where}.{c}') for c in close)}? " if close else "")
            raise InvalidInputError(
                f"{source}: unknown field {where}.{seg.name}" if source
                else f"unknown --set path '{shown}': {where} has no field '{seg.name}'",
                f"{hint}istioctl checks values.* against its Values schema; "
                f"put free-form settings under unvalidatedValues, or see `ambientctl profile dump`",
            )
        message, ours, free = _values_step(message, ours, seg.name)
        if free:
            return


def values_tree_paths(tree: Any, prefix: list[Segment]) -> list[list[Segment]]:
    """Every leaf path of a values tree (maps only; lists and scalars are leaves)."""
    if not isinstance(tree, dict) or not tree:
        return [prefix]
    paths: list[list[Segment]] = []
    for key, value in tree.items():
        paths.extend(values_tree_paths(value, [*prefix, Key(str(key))]))
    return paths
