"""`ambientctl analyze`: ambient-aware configuration checks (AMB codes) and istioctl's analyzers (IST codes).

The shared mesh model (`ambientctl.mesh`: state, files, cluster loading) is
what the rules read; `checks` holds ambientctl's rules (AMB codes), `istio`
istioctl's analyzers that matter in ambient (IST codes, `codes` their
catalogue), `suppress` the -S rules, `messages` the findings. `analyze()` is the entry point the command uses; everything but the
loading is pure. May import `mesh/` and the rule modules; never `cli/`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ambientctl.analyze.checks import AMB_CHECKS, Check, run_checks
from ambientctl.analyze.codes import IST_CODES
from ambientctl.analyze.istio import ISTIO_CHECKS, hosts_to_fetch
from ambientctl.analyze.messages import AnalyzeFileError, Level, Message, sorted_unique
from ambientctl.analyze.suppress import Suppression, annotation_codes
from ambientctl.analyze.suppress import apply as apply_suppressions
from ambientctl.labels import REVISION_LABEL, labels_of
from ambientctl.mesh.files import LineMap, add_files, parse_located
from ambientctl.mesh.load import load_cluster, load_more_pods, load_referenced_waypoints, load_services
from ambientctl.mesh.model import MeshState, ref

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient

__all__ = ["ALL_CHECKS", "FileSet", "Level", "Message", "Suppression", "analyze", "read_files"]

# ambientctl's own checks first, then istioctl's analyzers (IST codes).
ALL_CHECKS: tuple[Check, ...] = AMB_CHECKS + ISTIO_CHECKS


def is_known_code(code: str) -> bool:
    """An IST code istioctl knows (implemented here or not), or one of ambientctl's AMB codes."""
    return code in IST_CODES or any(c.code == code for c in AMB_CHECKS)

_YAML_SUFFIXES = (".json", ".yaml", ".yml")  # istioctl's: other files are skipped with a note


@dataclass
class FileSet:
    """What `read_files` found: objects per file, their lines, skipped files, and files that did not parse."""

    documents: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    lines: dict[int, LineMap] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [origin for origin, _ in self.documents] + [e.split(":", 1)[0] for e in self.errors]


def _members(given: str) -> tuple[list[Path], list[str]]:
    """The YAML files of a path (directories recursively, as istioctl), and the files skipped."""
    path = Path(given)
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.is_file())
    elif path.is_file():
        found = [path]
    else:
        raise AnalyzeFileError(f"no such file or directory: {given}", "check the path")
    keep = [p for p in found if p.suffix in _YAML_SUFFIXES]
    return keep, [str(p) for p in found if p.suffix not in _YAML_SUFFIXES]


def read_files(paths: list[str]) -> FileSet:
    """Objects per file; `-` is stdin. A file that does not parse is recorded in `errors`, the rest still read."""
    from ambientctl.errors import InvalidInputError

    out = FileSet()
    for given in paths:
        if given == "-":
            texts = [("-", sys.stdin.read())]
        else:
            members, skipped = _members(given)
            out.skipped += skipped
            texts = []
            for member in members:
                try:
                    texts.append((str(member), member.read_text(encoding="utf-8")))
                except (OSError, UnicodeDecodeError) as exc:
                    out.errors.append(f"{member}: cannot read ({exc})")
        for origin, text in texts:
            try:
                located = parse_located(text, origin)
            except InvalidInputError as exc:
                out.errors.append(exc.message)
                continue
            out.documents.append((origin, [obj for obj, _ in located]))
            out.lines.update({id(obj): lines for obj, lines in located})
    return out


def analyze(
    *,
    kube: KubeClient | None,
    namespace: str | None,
    istio_namespace: str,
    files: list[tuple[str, list[dict[str, Any]]]],
    default_namespace: str,
    lines: dict[int, LineMap] | None = None,
    revision: str = "default",
    suppressions: list[Suppression] | None = None,
    require_namespace: bool = False,
) -> tuple[MeshState, list[Message]]:
    """Build the state (cluster when `kube` is given, overlaid with file objects) and run every check.

    `revision` keeps Istio config labelled for another revision out (istioctl's
    `-r`); `suppressions` and objects' suppress annotations drop messages.
    `require_namespace`: a namespace that neither the cluster nor the files
    have is an error (istioctl only prints a line and exits 0).
    """
    from ambientctl.errors import NotFoundError
    from ambientctl.mesh import authz as az

    if kube is not None:
        state = load_cluster(kube, namespace, istio_namespace, istio_analyzer_kinds=True)
        if require_namespace and namespace and namespace not in state.namespaces \
                and not any("Namespace" in note for note in state.unreadable) \
                and not any(o.get("kind") == "Namespace" and o.get("metadata", {}).get("name") == namespace
                            for _, objects in files for o in objects):
            raise NotFoundError(f'namespace "{namespace}" not found', "check -n, or use -A for every namespace")
    else:
        state = MeshState(root_namespace=istio_namespace, scope=None, pods_known_in=set())
    add_files(state, files, default_namespace, lines)
    keep_revision(state, revision)
    if kube is not None:
        load_referenced_waypoints(kube, state)
        referenced = {parsed[0] for pol in state.policies if state.in_scope(pol["metadata"].get("namespace", ""))
                      for p in az.principals(pol) if (parsed := az.parse_principal(p))}
        load_more_pods(kube, state, referenced)
        load_services(kube, state, hosts_to_fetch(state))
    messages = [m for m in run_checks(state, ALL_CHECKS) if _in_scope(state, m)]
    annotated = {ref(o): codes for o in _all_objects(state) if (codes := annotation_codes(o))}
    return state, sorted_unique(apply_suppressions(messages, suppressions or [], annotated))


def keep_revision(state: MeshState, revision: str) -> None:
    """Drop Istio config labelled istio.io/rev for another revision (istioctl's rule: unlabelled config is everyone's)."""
    def ours(obj: dict[str, Any]) -> bool:
        rev = labels_of(obj).get(REVISION_LABEL)
        group = str(obj.get("apiVersion", "")).rpartition("/")[0]
        return rev is None or not group.endswith("istio.io") or rev == revision
    state.policies[:] = [p for p in state.policies if ours(p)]
    for obj in state.others:
        if not ours(obj):
            state.remove_other(obj)


def _in_scope(state: MeshState, message: Message) -> bool:
    """istioctl's namespace filter: messages about namespaced objects of other namespaces are dropped."""
    return state.in_scope(message.namespace) if message.namespace else True


def _all_objects(state: MeshState) -> list[dict[str, Any]]:
    return [*state.namespaces.values(), *state.pods, *state.services, *state.gateways, *state.policies,
            *state.others]
