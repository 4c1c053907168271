"""A mesh that ambientctl did not install, shaped like `istioctl install --set profile=ambient` leaves it (or Helm).

The objects come from the reference istioctl's `manifest generate --set
profile=ambient`, trimmed to what lookups read (kind, names, labels,
annotations, selectors, pod template labels, container names and images) and
kept as the golden file tests/golden/foreign/istioctl-ambient.yaml.
`tests/parity/test_foreign_fixture.py` regenerates it from the reference
binary (`UPDATE_GOLDEN=1`) and fails when istioctl's render drifts from it.

`istioctl_installed()` adds the labels `istioctl install` writes at install time
(not in `manifest generate`; checked against a real install by
tests/e2e/test_foreign_mesh.py); `helm_installed()` turns the same objects into
what `helm install` of Istio's charts leaves (no istioctl install labels, Helm's
release annotations and instance label per chart). `with_pods()` adds ready
pods the way a DaemonSet/Deployment controller would, for FakeKube.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from tests.support.golden import GOLDEN_ROOT

GOLDEN = "foreign/istioctl-ambient.yaml"
KEPT_KINDS = ("CustomResourceDefinition", "ServiceAccount", "Service", "Deployment", "DaemonSet", "MutatingWebhookConfiguration",
              "ValidatingWebhookConfiguration", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
              "HorizontalPodAutoscaler", "PodDisruptionBudget")
KEPT_CONFIGMAPS = ("istio",)
NODES = ("ambient-control-plane", "ambient-worker", "ambient-worker2")
ISTIO_VERSION = "1.31.0"
# What `istioctl install` writes on every object it applies (seen on a real install by the e2e test).
ISTIOCTL_INSTALL_LABELS = {
    "install.operator.istio.io/owning-resource-namespace": "istio-system",
    "operator.istio.io/managed": "Reconcile",
    "operator.istio.io/version": ISTIO_VERSION,
}
# helm.sh/chart prefix -> (component label istioctl writes, the release name Istio's Helm guide uses)
CHARTS = {"base": ("Base", "istio-base"), "istiod": ("Pilot", "istiod"), "cni": ("Cni", "istio-cni"),
          "ztunnel": ("Ztunnel", "ztunnel")}


def _chart(obj: dict[str, Any]) -> str:
    chart = ((obj.get("metadata") or {}).get("labels") or {}).get("helm.sh/chart", "")
    return chart.rsplit("-", 1)[0]


def _trim_template(template: dict[str, Any]) -> dict[str, Any]:
    spec = template.get("spec") or {}
    keep = {"serviceAccountName": spec.get("serviceAccountName"),
            "containers": [{"name": c["name"], "image": c.get("image")} for c in spec.get("containers") or []]}
    return {"metadata": {k: v for k, v in (template.get("metadata") or {}).items() if k in ("labels", "annotations")},
            "spec": {k: v for k, v in keep.items() if v}}


def trim(obj: dict[str, Any]) -> dict[str, Any]:
    """What lookups read of one rendered object."""
    meta = obj["metadata"]
    out: dict[str, Any] = {"apiVersion": obj["apiVersion"], "kind": obj["kind"],
                           "metadata": {k: meta[k] for k in ("name", "namespace", "labels") if k in meta}}
    spec = obj.get("spec") or {}
    if obj["kind"] in ("Deployment", "DaemonSet"):
        out["spec"] = {"selector": spec.get("selector"), "template": _trim_template(spec.get("template") or {})}
        if "replicas" in spec:
            out["spec"]["replicas"] = spec["replicas"]
    elif obj["kind"] == "Service":
        out["spec"] = {"selector": spec.get("selector"), "ports": spec.get("ports")}
    elif obj["kind"].endswith("WebhookConfiguration"):
        out["webhooks"] = [{"name": w["name"], "clientConfig": w.get("clientConfig", {}).get("service")}
                           for w in obj.get("webhooks") or []]
    elif obj["kind"] == "CustomResourceDefinition":
        out["spec"] = {"group": spec.get("group"), "names": {"kind": (spec.get("names") or {}).get("kind")},
                       "scope": spec.get("scope")}
    elif obj["kind"] == "ConfigMap":
        out["data"] = {"mesh": (obj.get("data") or {}).get("mesh", "")}
    return out


def trimmed_render(text: str) -> str:
    """The golden file's text from the whole output of `istioctl manifest generate`."""
    kept = []
    for obj in yaml.safe_load_all(text):
        if not obj:
            continue
        name = obj["metadata"]["name"]
        if obj["kind"] in KEPT_KINDS or (obj["kind"] == "ConfigMap" and name in KEPT_CONFIGMAPS):
            kept.append(trim(obj))
    kept.sort(key=lambda o: (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]))
    return yaml.safe_dump_all(kept, sort_keys=True)


def rendered() -> list[dict[str, Any]]:
    """The golden objects, as `istioctl manifest generate --set profile=ambient` renders them."""
    return [o for o in yaml.safe_load_all((GOLDEN_ROOT / GOLDEN).read_text()) if o]


def istioctl_installed() -> list[dict[str, Any]]:
    """The objects as `istioctl install` leaves them: plus its install-time labels and component label."""
    objects = copy.deepcopy(rendered())
    for obj in objects:
        labels = obj["metadata"].setdefault("labels", {})
        labels.update(ISTIOCTL_INSTALL_LABELS)
        labels.setdefault("istio.io/rev", "default")  # istioctl adds it where the chart did not (ztunnel)
        component = CHARTS.get(_chart(obj), (None, None))[0]
        if component:
            labels.setdefault("operator.istio.io/component", component)
    return objects


def helm_installed() -> list[dict[str, Any]]:
    """The objects as `helm install` of Istio's charts leaves them (the releases of Istio's Helm guide)."""
    objects = copy.deepcopy(rendered())
    for obj in objects:
        release = CHARTS.get(_chart(obj), (None, "istio"))[1]
        meta = obj["metadata"]
        meta.setdefault("labels", {})["app.kubernetes.io/instance"] = release
        meta.setdefault("annotations", {}).update({"meta.helm.sh/release-name": release,
                                                   "meta.helm.sh/release-namespace": "istio-system"})
    return objects


def _pod(workload: dict[str, Any], suffix: str, node: str) -> dict[str, Any]:
    template = workload["spec"]["template"]
    meta = workload["metadata"]
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"{meta['name']}-{suffix}", "namespace": meta["namespace"],
                         "labels": dict(template["metadata"].get("labels") or {}),
                         "ownerReferences": [{"kind": workload["kind"], "name": meta["name"]}]},
            "spec": {"nodeName": node, "containers": copy.deepcopy(template["spec"]["containers"])},
            "status": {"phase": "Running", "podIP": "10.244.0.9",
                       "conditions": [{"type": "Ready", "status": "True"}]}}


def _with_status(obj: dict[str, Any], nodes: int) -> dict[str, Any]:
    """The status the controllers report once every pod is ready (CRDs: Established)."""
    obj = copy.deepcopy(obj)
    if obj["kind"] == "DaemonSet":
        obj["status"] = {"observedGeneration": 1, "desiredNumberScheduled": nodes, "currentNumberScheduled": nodes,
                         "updatedNumberScheduled": nodes, "numberReady": nodes, "numberAvailable": nodes}
    elif obj["kind"] == "Deployment":
        replicas = obj["spec"].get("replicas", 1)
        obj["status"] = {"observedGeneration": 1, "replicas": replicas, "updatedReplicas": replicas,
                         "readyReplicas": replicas, "availableReplicas": replicas}
    elif obj["kind"] == "CustomResourceDefinition":
        obj["status"] = {"conditions": [{"type": "Established", "status": "True"}]}
    return obj


def with_pods(objects: list[dict[str, Any]], nodes: tuple[str, ...] = NODES) -> list[dict[str, Any]]:
    """The objects (with the status their controllers report), the Istio namespace, the nodes, and a
    ready pod per DaemonSet node / per Deployment replica."""
    out = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "istio-system"}}]
    out += [{"apiVersion": "v1", "kind": "Node", "metadata": {"name": n}} for n in nodes]
    for obj in objects:
        out.append(_with_status(obj, len(nodes)))
        if obj["kind"] == "DaemonSet":
            out += [_pod(obj, f"n{i}", node) for i, node in enumerate(nodes)]
        elif obj["kind"] == "Deployment":
            out.append(_pod(obj, "abc12", nodes[0]))
    return out


def istioctl_mesh() -> list[dict[str, Any]]:
    """A whole istioctl-installed ambient mesh for FakeKube."""
    return with_pods(istioctl_installed())


def helm_mesh() -> list[dict[str, Any]]:
    """A whole Helm-installed ambient mesh for FakeKube."""
    return with_pods(helm_installed())


def golden_path() -> Path:
    return GOLDEN_ROOT / GOLDEN
