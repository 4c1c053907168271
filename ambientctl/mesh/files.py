"""Local YAML files as mesh objects: `analyze -f` and `x authz check -f` read what is not applied yet.

Workloads in files (Deployments, ...) stand in for the pods they will run, so
the rules see those pods. Pure.
"""

from __future__ import annotations

from typing import Any, Iterable

from ambientctl.labels import labels_of, name_of, namespace_of
from ambientctl.mesh.model import MeshState
from ambientctl.workloads import selector_matches


# Where a file object's fields are: (its first line, {field path: line}), lines counted from 1.
LineMap = tuple[int, dict[tuple, int]]


def parse_documents(text: str, origin: str) -> list[dict[str, Any]]:
    """Kubernetes objects from a YAML stream; `List` kinds are flattened."""
    return [obj for obj, _ in parse_located(text, origin)]


def parse_located(text: str, origin: str) -> list[tuple[dict[str, Any], LineMap]]:
    """Objects from a YAML stream with the line of each field (analyze prints `file:line` as istioctl)."""
    import yaml

    from ambientctl.errors import InvalidInputError

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    located: list[tuple[Any, Any]] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            doc = loader.construct_document(node)
            if doc:
                located.append((doc, node))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise InvalidInputError(f"{origin}{where}: not valid YAML ({getattr(exc, 'problem', exc)})",
                                "fix the file and re-run") from None
    finally:
        loader.dispose()
    objects: list[tuple[dict[str, Any], LineMap]] = []
    for doc, node in located:
        if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
            raise InvalidInputError(f"{origin}: a document is not a Kubernetes object (no kind/apiVersion)",
                                    "each YAML document needs apiVersion, kind and metadata.name")
        if str(doc["kind"]).endswith("List") and isinstance(doc.get("items"), list):
            item_nodes = _child(node, "items")
            for i, item in enumerate(doc["items"]):
                if isinstance(item, dict):
                    sub = item_nodes.value[i] if item_nodes is not None and i < len(item_nodes.value) else None
                    objects.append((item, _line_map(sub) if sub is not None else (0, {})))
            continue
        if not (doc.get("metadata") or {}).get("name"):
            raise InvalidInputError(f"{origin}: {doc['kind']} without metadata.name",
                                    "each object needs metadata.name")
        objects.append((doc, _line_map(node)))
    return objects


def _child(node: Any, key: str) -> Any:
    for key_node, value_node in getattr(node, "value", []) if node.id == "mapping" else []:
        if getattr(key_node, "value", None) == key:
            return value_node
    return None


def _line_map(node: Any) -> LineMap:
    """Every field path of a document node with the line it starts on (a key's own line for mappings)."""
    fields: dict[tuple, int] = {}
    stack: list[tuple[tuple, Any]] = [((), node)]
    while stack:
        path, current = stack.pop()
        if current.id == "mapping":
            for key_node, value_node in current.value:
                child = path + (key_node.value,)
                fields[child] = key_node.start_mark.line + 1
                stack.append((child, value_node))
        elif current.id == "sequence":
            for i, item in enumerate(current.value):
                child = path + (i,)
                fields[child] = item.start_mark.line + 1
                stack.append((child, item))
    return node.start_mark.line + 1, fields


def add_files(state: MeshState, documents: Iterable[tuple[str, list[dict[str, Any]]]], default_namespace: str,
              lines: dict[int, LineMap] | None = None) -> None:
    """Overlay file objects on the state; objects without a namespace get the default one.

    `lines` (id of an object -> its LineMap) lets messages name the file line.
    """
    for origin, objects in documents:
        for obj in objects:
            if lines and id(obj) in lines:
                state.lines[id(obj)] = lines[id(obj)]
            if obj.get("kind") not in ("Namespace",) and not namespace_of(obj):
                obj.setdefault("metadata", {})["namespace"] = default_namespace
            if obj.get("kind") == "Namespace" and name_of(obj) in state.namespaces:
                merged = dict(state.namespaces[name_of(obj)])
                merged["metadata"] = {**merged.get("metadata", {}), **obj.get("metadata", {})}
                if id(obj) in state.lines:
                    state.lines[id(merged)] = state.lines[id(obj)]
                obj = merged
            state.add(obj, origin)
            template_pod = pod_from_template(obj)
            if template_pod is not None and not _has_pods_like(state, template_pod):
                state.add(template_pod, origin)
                state.templates.add(id(template_pod))
                if id(obj) in state.lines:
                    state.lines[id(template_pod)] = (state.lines[id(obj)][0], {})
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
