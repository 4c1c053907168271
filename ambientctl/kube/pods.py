"""istioctl-style references: pods (`ds/ztunnel`, `deploy/x`, `pod/x`, `x.ns`), resolved to one pod, and
Services (`svc/x`, `x.ns`); `NAME.NAMESPACE` is read the same way in both."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ambientctl.errors import InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient

_OWNER_KINDS = {
    "ds": ("apps/v1", "DaemonSet"),
    "daemonset": ("apps/v1", "DaemonSet"),
    "daemonsets": ("apps/v1", "DaemonSet"),
    "deploy": ("apps/v1", "Deployment"),
    "deployment": ("apps/v1", "Deployment"),
    "deployments": ("apps/v1", "Deployment"),
    "sts": ("apps/v1", "StatefulSet"),
    "statefulset": ("apps/v1", "StatefulSet"),
}
_POD_KINDS = {"pod", "pods", "po"}
# Every kind a pod reference may name before its `/`, and its API version and kind (shell completion lists them).
POD_REF_KINDS: dict[str, tuple[str, str]] = {**{kind: ("v1", "Pod") for kind in sorted(_POD_KINDS)}, **_OWNER_KINDS}
SERVICE_KINDS = frozenset({"svc", "service", "services"})
_SERVICE_REF_HINT = "use NAME[.NAMESPACE] or svc/NAME[.NAMESPACE]"


def _split_namespace(name: str, default_namespace: str) -> tuple[str, str]:
    """`NAME.NAMESPACE` → (NAME, NAMESPACE); a name without a dot is in `default_namespace`."""
    if "." in name:
        name, _, namespace = name.rpartition(".")
        return name, namespace
    return name, default_namespace


def parse_pod_ref(ref: str, default_namespace: str) -> tuple[str, str, str]:
    """Split a reference into (kind, name, namespace); `NAME.NAMESPACE` sets the namespace."""
    if not ref or ref.strip() != ref:
        raise InvalidInputError(f"invalid pod reference {ref!r}", "use ds/NAME, deploy/NAME, pod/NAME or NAME[.NAMESPACE]")
    kind, sep, name = ref.partition("/")
    if not sep:
        kind, name = "pod", ref
    kind = kind.lower()
    if kind not in _POD_KINDS and kind not in _OWNER_KINDS:
        raise InvalidInputError(
            f"unsupported resource type {kind!r} in {ref!r}", "use ds/NAME, deploy/NAME, sts/NAME or pod/NAME"
        )
    name, namespace = _split_namespace(name, default_namespace)
    if not name or not namespace:
        raise InvalidInputError(f"invalid pod reference {ref!r}", "use ds/NAME, deploy/NAME, pod/NAME or NAME[.NAMESPACE]")
    return kind, name, namespace


def is_service_ref(ref: str) -> bool:
    """Whether the reference names a Service by its kind (`svc/NAME`, `service/NAME`, `services/NAME`)."""
    kind, sep, _ = ref.partition("/")
    return bool(sep) and kind.lower() in SERVICE_KINDS


def parse_service_ref(ref: str, default_namespace: str) -> tuple[str, str]:
    """Split a Service reference, `[svc/]NAME[.NAMESPACE]`, into (name, namespace)."""
    if not ref or ref.strip() != ref:
        raise InvalidInputError(f"invalid Service reference {ref!r}", _SERVICE_REF_HINT)
    kind, sep, rest = ref.partition("/")
    if sep and kind.lower() not in SERVICE_KINDS:
        raise InvalidInputError(f"{ref!r} is not a Service reference", _SERVICE_REF_HINT)
    name, namespace = _split_namespace(rest if sep else ref, default_namespace)
    if not name or not namespace or "/" in name:
        raise InvalidInputError(f"invalid Service reference {ref!r}", _SERVICE_REF_HINT)
    return name, namespace


def _is_ready(pod: dict[str, Any]) -> bool:
    conditions = pod.get("status", {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def selector_string(match_labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(match_labels.items()))


def pods_of(kube: KubeClient, kind: str, name: str, namespace: str) -> list[dict[str, Any]]:
    """The pods a DaemonSet/Deployment/StatefulSet selects, ready ones first, then by name."""
    api_version, owner_kind = _OWNER_KINDS[kind]
    owner = kube.get(api_version, owner_kind, name, namespace)
    labels = owner.get("spec", {}).get("selector", {}).get("matchLabels") or {}
    pods = kube.list("v1", "Pod", namespace, label_selector=selector_string(labels))
    return sorted(pods, key=lambda p: (not _is_ready(p), p["metadata"]["name"]))


def resolve_pod(kube: KubeClient, ref: str, default_namespace: str, node: str | None = None) -> dict[str, Any]:
    """One pod for the reference; with `node`, the one scheduled there."""
    kind, name, namespace = parse_pod_ref(ref, default_namespace)
    if kind in _POD_KINDS:
        pod = kube.get("v1", "Pod", name, namespace)
        if node and pod.get("spec", {}).get("nodeName") != node:
            raise NotFoundError(f"pod {namespace}/{name} does not run on node {node}")
        return pod
    pods = pods_of(kube, kind, name, namespace)
    if node:
        pods = [p for p in pods if p.get("spec", {}).get("nodeName") == node]
    if not pods:
        where = f" on node {node}" if node else ""
        raise NotFoundError(f"no pods found for {kind}/{name} in namespace {namespace}{where}",
                            "check the name and namespace (-n)")
    return pods[0]
