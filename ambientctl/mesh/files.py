"""Local YAML files as mesh objects: `analyze -f` and `x authz check -f` read what is not applied yet.

Workloads in files (Deployments, ...) stand in for the pods they will run, so
the rules see those pods. Pure.
"""

from __future__ import annotations

from typing import Any, Iterable

from ambientctl.labels import labels_of, name_of, namespace_of
from ambientctl.mesh.model import MeshState
from ambientctl.workloads import selector_matches


def parse_documents(text: str, origin: str) -> list[dict[str, Any]]:
    """Kubernetes objects from a YAML stream; `List` kinds are flattened."""
    import yaml

    from ambientctl.errors import InvalidInputError

    try:
        docs = [d for d in yaml.safe_load_all(text) if d]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise InvalidInputError(f"{origin}{where}: not valid YAML ({getattr(exc, 'problem', exc)})",
                                "fix the file and re-run") from None
    objects: list[dict[str, Any]] = []
    for doc in docs:
        if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
            raise InvalidInputError(f"{origin}: a document is not a Kubernetes object (no kind/apiVersion)",
                                    "each YAML document needs apiVersion, kind and metadata.name")
        if doc["kind"].endswith("List") and isinstance(doc.get("items"), list):
            objects.extend(i for i in doc["items"] if isinstance(i, dict))
            continue
        if not (doc.get("metadata") or {}).get("name"):
            raise InvalidInputError(f"{origin}: {doc['kind']} without metadata.name",
                                    "each object needs metadata.name")
        objects.append(doc)
    return objects


def add_files(state: MeshState, documents: Iterable[tuple[str, list[dict[str, Any]]]], default_namespace: str) -> None:
    """Overlay file objects on the state; objects without a namespace get the default one."""
    for origin, objects in documents:
        for obj in objects:
            if obj.get("kind") not in ("Namespace",) and not namespace_of(obj):
                obj.setdefault("metadata", {})["namespace"] = default_namespace
            if obj.get("kind") == "Namespace" and name_of(obj) in state.namespaces:
                merged = dict(state.namespaces[name_of(obj)])
                merged["metadata"] = {**merged.get("metadata", {}), **obj.get("metadata", {})}
                obj = merged
            state.add(obj, origin)
            template_pod = pod_from_template(obj)
            if template_pod is not None and not _has_pods_like(state, template_pod):
                state.add(template_pod, origin)
            if obj.get("kind") == "Namespace" and state.scope is not None:
                state.scope.add(name_of(obj))
            elif state.scope is not None and namespace_of(obj):
                state.scope.add(namespace_of(obj))


_WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job")


def pod_from_template(obj: dict[str, Any]) -> dict[str, Any] | None:
    """A stand-in pod for a workload from a file, so rules see the pods it will run (name: WORKLOAD-template)."""
    if obj.get("kind") not in _WORKLOAD_KINDS:
        return None
    template = (obj.get("spec") or {}).get("template") or {}
    meta = template.get("metadata") or {}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"{name_of(obj)}-template", "namespace": namespace_of(obj),
                     "labels": dict(meta.get("labels") or {}), "annotations": dict(meta.get("annotations") or {})},
        "spec": template.get("spec") or {},
        "status": {"phase": "Pending"},
    }


def _has_pods_like(state: MeshState, pod: dict[str, Any]) -> bool:
    """A live pod with the same labels already exists (the workload is running in the cluster)."""
    wanted = labels_of(pod)
    return bool(wanted) and any(selector_matches(wanted, labels_of(p)) for p in state.live_pods(namespace_of(pod)))
