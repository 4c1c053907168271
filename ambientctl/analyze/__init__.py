"""`ambientctl analyze`: ambient-aware configuration checks (istioctl analyze's habits, AMB codes).

The shared mesh model (`ambientctl.mesh`: state, files, cluster loading) is
what the rules read; `checks` holds the rules (AMB codes), `messages` the
findings. `analyze()` is the entry point the command uses; everything but the
loading is pure. May import `mesh/` and the rule modules; never `cli/`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ambientctl.analyze.checks import ALL_CHECKS, run_checks
from ambientctl.analyze.messages import AnalyzeFileError, Level, Message
from ambientctl.mesh.files import add_files, parse_documents
from ambientctl.mesh.load import load_cluster, load_more_pods, load_referenced_waypoints
from ambientctl.mesh.model import MeshState

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient

__all__ = ["ALL_CHECKS", "Level", "Message", "analyze", "read_files"]

_YAML_SUFFIXES = (".yaml", ".yml", ".json")


def read_files(paths: list[str]) -> list[tuple[str, list[dict[str, Any]]]]:
    """(origin, objects) per file; directories contribute their YAML files; `-` is stdin."""
    from ambientctl.errors import InvalidInputError

    documents = []
    for given in paths:
        if given == "-":
            files = [("-", sys.stdin.read())]
        else:
            path = Path(given)
            if path.is_dir():
                members = sorted(p for p in path.iterdir() if p.suffix in _YAML_SUFFIXES and p.is_file())
            elif path.is_file():
                members = [path]
            else:
                raise AnalyzeFileError(f"no such file or directory: {given}", "check the path")
            files = []
            for member in members:
                try:
                    files.append((str(member), member.read_text(encoding="utf-8")))
                except (OSError, UnicodeDecodeError) as exc:
                    raise AnalyzeFileError(f"cannot read {member}: {exc}", "check the file") from None
        for origin, text in files:
            try:
                documents.append((origin, parse_documents(text, origin)))
            except InvalidInputError as exc:
                raise AnalyzeFileError(exc.message, exc.hint) from None
    return documents


def analyze(
    *,
    kube: KubeClient | None,
    namespace: str | None,
    istio_namespace: str,
    files: list[tuple[str, list[dict[str, Any]]]],
    default_namespace: str,
) -> tuple[MeshState, list[Message]]:
    """Build the state (cluster when `kube` is given, overlaid with file objects) and run every check."""
    from ambientctl.mesh import authz as az

    if kube is not None:
        state = load_cluster(kube, namespace, istio_namespace)
    else:
        state = MeshState(root_namespace=istio_namespace, scope=None, pods_known_in=set())
    add_files(state, files, default_namespace)
    if kube is not None:
        load_referenced_waypoints(kube, state)
        referenced = {parsed[0] for pol in state.policies if state.in_scope(pol["metadata"].get("namespace", ""))
                      for p in az.principals(pol) if (parsed := az.parse_principal(p))}
        load_more_pods(kube, state, referenced)
    return state, run_checks(state)
