"""Kubeconfig discovery and context selection, without importing `kubernetes`.

Failure modes this module turns into typed errors, before any network call:

| situation                                   | error                    |
|---------------------------------------------|--------------------------|
| `-c FILE` names a file that does not exist   | KubeconfigNotFoundError  |
| KUBECONFIG lists only missing files          | KubeconfigNotFoundError  |
| no KUBECONFIG, no ~/.kube/config, not in pod | KubeconfigNotFoundError  |
| the file is not YAML / not a mapping         | KubeconfigInvalidError   |
| `--context X` not among the merged contexts  | ContextNotFoundError     |
| no --context and no current-context          | ContextNotFoundError     |

Several files in KUBECONFIG merge the way kubectl merges them: the first file
that sets a value or defines a name wins.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ambientctl.errors import (
    ContextNotFoundError,
    KubeconfigInvalidError,
    KubeconfigNotFoundError,
)

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
_NAMED_LISTS = ("clusters", "contexts", "users")


@dataclass(frozen=True)
class KubeconfigSource:
    """Where the cluster configuration comes from: files, or the pod we run in."""

    paths: tuple[Path, ...] = ()
    in_cluster: bool = False

    @property
    def joined(self) -> str:
        """The paths joined as KUBECONFIG joins them, for the official loader."""
        return os.pathsep.join(str(p) for p in self.paths)


def find_kubeconfig(explicit: str | None) -> KubeconfigSource:
    """Resolve `-c`, then KUBECONFIG, then ~/.kube/config, then in-cluster."""
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise KubeconfigNotFoundError(
                f"kubeconfig file {path} does not exist",
                "check the path given to --kubeconfig",
            )
        return KubeconfigSource(paths=(path,))
    env = os.environ.get("KUBECONFIG", "")
    if env.strip():
        listed = [Path(p).expanduser() for p in env.split(os.pathsep) if p.strip()]
        existing = tuple(p for p in listed if p.is_file())
        if not existing:
            names = ", ".join(str(p) for p in listed)
            raise KubeconfigNotFoundError(
                f"none of the KUBECONFIG files exist ({names})",
                "fix the KUBECONFIG environment variable or pass --kubeconfig",
            )
        return KubeconfigSource(paths=existing)
    default = Path.home() / ".kube" / "config"
    if default.is_file():
        return KubeconfigSource(paths=(default,))
    if os.environ.get("KUBERNETES_SERVICE_HOST") and (SERVICE_ACCOUNT_DIR / "token").is_file():
        return KubeconfigSource(in_cluster=True)
    raise KubeconfigNotFoundError(
        f"no kubeconfig found at {default}",
        "pass --kubeconfig FILE or set KUBECONFIG",
    )


def _read_one(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise KubeconfigInvalidError(
            f"kubeconfig {path} cannot be read: {type(exc).__name__}",
            "check that the file is a valid kubeconfig",
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise KubeconfigInvalidError(
            f"kubeconfig {path} is not a YAML mapping",
            "check that the file is a valid kubeconfig",
        )
    return data


def merge_kubeconfigs(paths: tuple[Path, ...]) -> dict[str, Any]:
    """Merge files with kubectl's rule: the first definition of anything wins."""
    merged: dict[str, Any] = {name: [] for name in _NAMED_LISTS}
    seen: dict[str, set[str]] = {name: set() for name in _NAMED_LISTS}
    for path in paths:
        data = _read_one(path)
        if "current-context" not in merged and data.get("current-context"):
            merged["current-context"] = data["current-context"]
        for list_name in _NAMED_LISTS:
            for entry in data.get(list_name) or []:
                if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                    continue
                if entry["name"] not in seen[list_name]:
                    seen[list_name].add(entry["name"])
                    merged[list_name].append(entry)
    return merged


def context_names(merged: dict[str, Any]) -> list[str]:
    return [c["name"] for c in merged.get("contexts", [])]


def select_context(merged: dict[str, Any], requested: str | None) -> tuple[str, dict[str, Any]]:
    """The chosen context's name and body; a clear error if it is not there."""
    names = context_names(merged)
    available = ", ".join(names) if names else "none"
    name = requested or merged.get("current-context")
    if not name:
        raise ContextNotFoundError(
            "the kubeconfig has no current-context",
            f"pass --context (available: {available})",
        )
    for entry in merged.get("contexts", []):
        if entry["name"] == name:
            return name, entry.get("context") or {}
    raise ContextNotFoundError(
        f'context "{name}" not found in kubeconfig',
        f"available contexts: {available}",
    )


def context_namespace(explicit: str | None, requested_context: str | None) -> str:
    """The namespace of the selected context, falling back to `default` (as istioctl)."""
    try:
        source = find_kubeconfig(explicit)
    except KubeconfigNotFoundError:
        if explicit:
            raise
        return "default"
    if source.in_cluster:
        ns_file = SERVICE_ACCOUNT_DIR / "namespace"
        return ns_file.read_text().strip() if ns_file.is_file() else "default"
    merged = merge_kubeconfigs(source.paths)
    try:
        _, context = select_context(merged, requested_context)
    except ContextNotFoundError:
        if requested_context:
            raise
        return "default"
    return context.get("namespace") or "default"


def list_contexts(explicit: str | None) -> list[str]:
    """Context names, for shell completion; empty when nothing can be read."""
    try:
        source = find_kubeconfig(explicit)
        return [] if source.in_cluster else context_names(merge_kubeconfigs(source.paths))
    except Exception:  # completion must never fail loudly
        return []
