"""The labels that mark an object as ambientctl's.

ambientctl changes and deletes only objects that carry MANAGED_BY_LABEL; these
helpers are the one definition of that rule.
"""

from __future__ import annotations

import json
from typing import Any

from ambientctl.labels import annotations_of, labels_of

MANAGED_BY_LABEL = "ambientctl.dev/managed-by"
MANAGED_BY_VALUE = "ambientctl"
COMPONENT_LABEL = "ambientctl.dev/component"
OWNER_REVISION_LABEL = "ambientctl.dev/revision"
# Istio's own component label, so istioctl and dashboards recognise the objects.
ISTIO_COMPONENT_LABEL = "operator.istio.io/component"
# Labels ambientctl adds to objects it does not own (Services, namespaces)
# record themselves in this annotation so `delete` removes exactly those.
ADDED_LABELS_ANNOTATION = "ambientctl.dev/added-labels"
# The values of user-set labels that `--overwrite` replaced, so `delete` puts them back.
REPLACED_LABELS_ANNOTATION = "ambientctl.dev/replaced-labels"

OWNED_SELECTOR = f"{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}"


def owner_labels(component: str | None = None, revision: str | None = None) -> dict[str, str]:
    """Labels that make an object ours, optionally for one component/revision."""
    labels = {MANAGED_BY_LABEL: MANAGED_BY_VALUE}
    if component:
        labels[COMPONENT_LABEL] = component
        labels[ISTIO_COMPONENT_LABEL] = component
    if revision:
        labels[OWNER_REVISION_LABEL] = revision
    return labels


def is_owned(obj: dict[str, Any]) -> bool:
    """True when the object carries our owner label."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return labels.get(MANAGED_BY_LABEL) == MANAGED_BY_VALUE


def owned_selector(component: str | None = None, revision: str | None = None) -> str:
    """Label selector for our objects, optionally narrowed to a component/revision."""
    return ",".join(f"{k}={v}" for k, v in owner_labels(component, revision).items() if k != ISTIO_COMPONENT_LABEL)


def is_shared_object(component: str | None, obj: dict[str, Any]) -> bool:
    """Istio core's cluster-scoped objects (CRDs, the default validator) serve every revision.

    Render gives them no revision owner label, so installing a second revision does not
    relabel them back and forth; install never prunes them and `uninstall -r X` leaves
    them: only `uninstall --purge` removes them.
    """
    if obj.get("kind") == "CustomResourceDefinition":
        return True
    return component == "Base" and not (obj.get("metadata") or {}).get("namespace")


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
