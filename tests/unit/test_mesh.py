"""Finding Istio's components by name or label, whichever tool installed them (ambientctl.meshparts)."""

from ambientctl.meshparts import (
    AMBIENTCTL, HELM, ISTIOCTL, UNKNOWN, PART, image_tag, installer_of, is_ztunnel_pod, part_of_workload,
    version_of_tag,
)


def _workload(kind, name, labels=None, pod_labels=None):
    return {"kind": kind, "metadata": {"name": name, "labels": labels or {}},
            "spec": {"template": {"metadata": {"labels": pod_labels or {}},
                                  "spec": {"containers": [{"name": "c", "image": "i:1"}]}}}}


def test_image_tag():
    assert image_tag("docker.io/istio/ztunnel:1.31.0-distroless") == "1.31.0-distroless"
    assert image_tag("localhost:5000/istio/pilot") == "latest"
    assert image_tag("istio/pilot@sha256:abc") == "sha256:abc"
    assert version_of_tag("1.31.0-distroless") == "1.31.0"
    assert version_of_tag("1.31.0") == "1.31.0"


def test_components_match_by_name_or_label():
    istioctl_ztunnel = _workload("DaemonSet", "ztunnel", {"app.kubernetes.io/name": "ztunnel"})
    assert part_of_workload(istioctl_ztunnel) is PART["ztunnel"]
    renamed_by_template = _workload("DaemonSet", "node-proxy", {}, {"app": "ztunnel"})
    assert part_of_workload(renamed_by_template) is PART["ztunnel"]
    revisioned = _workload("Deployment", "istiod-canary")
    assert part_of_workload(revisioned) is PART["istiod"]
    renamed = _workload("Deployment", "control", {"app": "istiod"})
    assert part_of_workload(renamed) is PART["istiod"]
    assert part_of_workload(_workload("Deployment", "istiodx")) is None
    assert part_of_workload(_workload("Deployment", "ztunnel")) is None  # right name, wrong kind
    waypoint = _workload("Deployment", "istiod-waypoint", {}, {"gateway.networking.k8s.io/gateway-name": "istiod-waypoint"})
    assert part_of_workload(waypoint) is None
    assert part_of_workload(_workload("DaemonSet", "istio-cni-node", {"k8s-app": "istio-cni-node"})) is PART["istio-cni"]


def test_installer_by_the_marks_each_tool_leaves():
    assert installer_of({"metadata": {"labels": {"ambientctl.dev/managed-by": "ambientctl"}}}) == AMBIENTCTL
    # istioctl renders the charts, so its objects say Helm too: its install-time labels decide
    istioctl = {"metadata": {"labels": {"app.kubernetes.io/managed-by": "Helm", "operator.istio.io/managed": "Reconcile"}}}
    assert installer_of(istioctl) == ISTIOCTL
    helm = {"metadata": {"labels": {"app.kubernetes.io/managed-by": "Helm",
                                    "install.operator.istio.io/owning-resource": "unknown"},
                         "annotations": {"meta.helm.sh/release-name": "istiod"}}}
    assert installer_of(helm) == HELM
    assert installer_of({"metadata": {"labels": {"app": "istiod"}}}) == UNKNOWN


def test_ztunnel_pod_is_istioctls_rule():
    assert is_ztunnel_pod({"metadata": {"name": "x", "labels": {"app": "ztunnel"}}})
    assert not is_ztunnel_pod({"metadata": {"name": "ztunnel-abc", "labels": {"app": "other"}}})
    assert is_ztunnel_pod({"metadata": {"name": "ztunnel-abc", "labels": {}}})
