"""Finding Istio's components by name or label, whichever tool installed them."""

from ambientctl.mesh.components import _matches, image_tag


def test_image_tag():
    assert image_tag("docker.io/istio/ztunnel:1.31.0-distroless") == "1.31.0-distroless"
    assert image_tag("localhost:5000/istio/pilot") == "latest"
    assert image_tag("istio/pilot@sha256:abc") == "sha256:abc"


def test_components_match_by_name_or_label():
    istioctl_ztunnel = {"metadata": {"name": "ztunnel", "labels": {"app.kubernetes.io/name": "ztunnel"}}}
    assert _matches(istioctl_ztunnel, "ztunnel", ("app", "ztunnel"))
    revisioned = {"metadata": {"name": "istiod-canary", "labels": {}}}
    assert _matches(revisioned, "istiod", ("app", "istiod"))
    renamed = {"metadata": {"name": "control", "labels": {"app": "istiod"}}}
    assert _matches(renamed, "istiod", ("app", "istiod"))
    assert not _matches({"metadata": {"name": "istiodx", "labels": {}}}, "istiod", ("app", "istiod"))
