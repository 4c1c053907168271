"""The install record: what the last `install` of a revision was given, for the commands that come after.

istioctl's verify-install with no flags checked the installation recorded in
the cluster; ambientctl records its inputs the same way, so `verify-install`
and `uninstall` without install flags check and remove what was installed,
not the default profile. One ConfigMap per revision in the Istio namespace,
ours by label, with its own component value (`install-record`) so install's
prune and selectors never see it; uninstall removes it with its revision.

It holds the user's configuration flags only: the profile, each `--set`, the
`-f` overlays (their content, since the files may be gone later) and `-i`.
No secrets: install takes none.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

from ambientctl.errors import ForbiddenError
from ambientctl.labels import labels_of
from ambientctl.ownership import COMPONENT_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE, OWNER_REVISION_LABEL

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient

RECORD_COMPONENT = "install-record"
RECORD_NAME = "ambientctl-install"
RECORD_SELECTOR = f"{MANAGED_BY_LABEL}={MANAGED_BY_VALUE},{COMPONENT_LABEL}={RECORD_COMPONENT}"


def record_name(revision: str | None) -> str:
    """`ambientctl-install` for the default revision, `ambientctl-install-REV` for another."""
    return f"{RECORD_NAME}-{revision}" if revision else RECORD_NAME


def is_record(obj: dict[str, Any]) -> bool:
    labels = labels_of(obj)
    return labels.get(MANAGED_BY_LABEL) == MANAGED_BY_VALUE and labels.get(COMPONENT_LABEL) == RECORD_COMPONENT


@dataclass(frozen=True)
class InstallRecord:
    """One install's inputs, as given (set_values, overlays) and as resolved (profile, revision)."""

    profile: str
    revision: str | None = None
    set_values: tuple[str, ...] = ()
    filenames: tuple[str, ...] = ()
    overlays: tuple[dict[str, Any], ...] = field(default=(), compare=False)
    istio_namespace: str | None = None  # the -i flag, when given
    installed_at: str = ""
    version: str = ""

    def describe(self) -> str:
        """`profile=ambient, 2 --set, -f overlay.yaml`: what the record holds, in one phrase."""
        parts = [f"profile={self.profile}"]
        if self.revision:
            parts.append(f"revision={self.revision}")
        if self.set_values:
            parts.append(f"{len(self.set_values)} --set")
        parts += [f"-f {name}" for name in self.filenames]
        if self.istio_namespace:
            parts.append(f"-i {self.istio_namespace}")
        return ", ".join(parts)

    def render_arguments(self) -> dict[str, Any]:
        """Keyword arguments of `render.render` that reproduce this install's render."""
        return {"set_values": list(self.set_values), "overlays": list(self.overlays), "revision": self.revision,
                "istio_namespace": self.istio_namespace}


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_configmap(record: InstallRecord, namespace: str) -> dict[str, Any]:
    """The ConfigMap that stores `record` in `namespace` (data values are strings; lists as JSON)."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": record_name(record.revision),
            "namespace": namespace,
            "labels": {MANAGED_BY_LABEL: MANAGED_BY_VALUE, COMPONENT_LABEL: RECORD_COMPONENT,
                       OWNER_REVISION_LABEL: record.revision or "default"},
        },
        "data": {
            "installedAt": record.installed_at,
            "version": record.version,
            "profile": record.profile,
            "revision": record.revision or "",
            "istioNamespace": record.istio_namespace or "",
            "set": json.dumps(list(record.set_values)),
            "filenames": json.dumps(list(record.filenames)),
            "overlays": json.dumps(list(record.overlays), sort_keys=True),
        },
    }


def from_configmap(configmap: dict[str, Any]) -> InstallRecord | None:
    """The record a ConfigMap holds; None when it is not one or cannot be read (edited by hand)."""
    data = configmap.get("data") or {}
    try:
        sets = json.loads(data.get("set") or "[]")
        filenames = json.loads(data.get("filenames") or "[]")
        overlays = json.loads(data.get("overlays") or "[]")
    except ValueError:
        return None
    if not (isinstance(sets, list) and isinstance(filenames, list) and isinstance(overlays, list)
            and all(isinstance(o, dict) for o in overlays) and data.get("profile")):
        return None
    return InstallRecord(
        profile=str(data["profile"]),
        revision=data.get("revision") or None,
        set_values=tuple(str(s) for s in sets),
        filenames=tuple(str(f) for f in filenames),
        overlays=tuple(overlays),
        istio_namespace=data.get("istioNamespace") or None,
        installed_at=str(data.get("installedAt") or ""),
        version=str(data.get("version") or ""),
    )


def make_record(profile: str, revision: str | None, set_values: Sequence[str], filenames: Sequence[str],
                istio_namespace: str | None, version: str) -> InstallRecord:
    """The record of an install about to finish: -f files are read again (they were just rendered)."""
    from ambientctl.render.overlay import load_overlay

    return InstallRecord(
        profile=profile, revision=revision, set_values=tuple(set_values),
        filenames=tuple(os.path.basename(f) for f in filenames),
        overlays=tuple(load_overlay(f) for f in filenames), istio_namespace=istio_namespace,
        installed_at=now(), version=version,
    )


def write(kube: KubeClient, record: InstallRecord, namespace: str) -> None:
    kube.apply(to_configmap(record, namespace))


def list_records(kube: KubeClient, prefer_namespace: str) -> list[dict[str, Any]]:
    """Every record ConfigMap; a user who may not list ConfigMaps cluster-wide gets those of `prefer_namespace`."""
    try:
        return kube.list("v1", "ConfigMap", all_namespaces=True, label_selector=RECORD_SELECTOR)
    except ForbiddenError:
        return kube.list("v1", "ConfigMap", prefer_namespace, label_selector=RECORD_SELECTOR)


def find(kube: KubeClient, revision: str | None, prefer_namespace: str) -> InstallRecord | None:
    """The record of `revision` (None: default); in `prefer_namespace` if there is one there, else the newest."""
    wanted = revision or "default"
    found = [(cm, rec) for cm in list_records(kube, prefer_namespace)
             if labels_of(cm).get(OWNER_REVISION_LABEL) == wanted and (rec := from_configmap(cm)) is not None]
    if not found:
        return None
    found.sort(key=lambda pair: ((pair[0].get("metadata") or {}).get("namespace") == prefer_namespace,
                                 pair[1].installed_at))
    return found[-1][1]
