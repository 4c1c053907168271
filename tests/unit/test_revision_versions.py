"""`version` with a cluster: control plane per revision, ztunnel per node, waypoints per namespace (image tags)."""

from __future__ import annotations

import pytest

from ambientctl.errors import ExitCode
from ambientctl.revision.remote import version_of_image
from tests.support.fakekube import FakeKube, invoke_with
from tests.unit.test_revision_tags import cluster

PROGRAMMED = [{"type": "Programmed", "status": "True"}]
READY = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}


class VersionedKube(FakeKube):
    def server_version(self) -> dict[str, str]:
        return {"gitVersion": "v1.36.3", "platform": "linux/amd64"}


def pod(name: str, namespace: str, labels: dict, image: str, container: str = "istio-proxy", node: str = "",
        ready: bool = True) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {"nodeName": node, "containers": [{"name": container, "image": image}]},
            "status": READY if ready else {"phase": "Running"}}


def mesh() -> VersionedKube:
    base = cluster(None, "canary")
    kube = VersionedKube(list(base.store.values()))
    kube.add(pod("istiod-a", "istio-system", {"app": "istiod", "istio.io/rev": "default"},
                 "docker.io/istio/pilot:1.31.0-distroless", "discovery"))
    kube.add(pod("istiod-canary-a", "istio-system", {"app": "istiod", "istio.io/rev": "canary"},
                 "docker.io/istio/pilot:1.32.0", "discovery", ready=False))
    kube.add({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {
        "name": "ztunnel", "namespace": "istio-system", "labels": {"istio.io/rev": "default"}},
        "spec": {"selector": {"matchLabels": {"app": "ztunnel"}}, "template": {"spec": {"containers": [
            {"name": "istio-proxy", "image": "docker.io/istio/ztunnel:1.31.0-distroless"}]}}}})
    for node, image in (("node-1", "docker.io/istio/ztunnel:1.31.0-distroless"),
                        ("node-2", "docker.io/istio/ztunnel:1.30.2")):
        kube.add(pod(f"ztunnel-{node}", "istio-system", {"app": "ztunnel"}, image, node=node))
    kube.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"istio.io/rev": "canary"}}})
    kube.add({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
              "metadata": {"name": "waypoint", "namespace": "shop"},
              "spec": {"gatewayClassName": "istio-waypoint"}, "status": {"conditions": PROGRAMMED}})
    kube.add(pod("waypoint-1", "shop", {"gateway.networking.k8s.io/gateway-name": "waypoint"},
                 "docker.io/istio/proxyv2:1.32.0-distroless"))
    return kube


@pytest.mark.parametrize("image,version", [
    ("docker.io/istio/pilot:1.31.0-distroless", "1.31.0"), ("gcr.io/x/ztunnel:1.30.2-debug", "1.30.2"),
    ("localhost:5000/pilot:1.31.0", "1.31.0"), ("pilot", "latest"), ("istio/pilot@sha256:ab12", "sha256:ab12")])
def test_version_of_an_image(image, version):
    assert version_of_image(image) == version


def test_text_shows_each_revision_each_node_and_each_waypoint():
    result = invoke_with(mesh(), "version")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "kubernetes version: v1.36.3" in out
    assert "control plane version: 1.31.0 (revision default, 1/1 istiod pods ready)" in out
    assert "control plane version: 1.32.0 (revision canary, 0/1 istiod pods ready)" in out
    assert "data plane version: 1.30.2 (1 ztunnel, 0 waypoint pods)" in out
    assert "data plane version: 1.32.0 (0 ztunnel, 1 waypoint pods)" in out
    lines = out.splitlines()
    assert any(line.split()[:4] == ["node-2", "ztunnel-node-2", "1.30.2", "default"] for line in lines)
    assert any(line.split() == ["shop", "waypoint", "1.32.0", "canary", "1/1"] for line in lines)


def test_json_is_one_document_with_every_part():
    result = invoke_with(mesh(), "version", "-o", "json")
    doc = result.json
    assert {"clientVersion", "kubernetesVersion", "meshVersion", "controlPlane", "dataPlane"} <= set(doc)
    assert [(c["revision"], c["version"]) for c in doc["controlPlane"]] == [("canary", "1.32.0"), ("default", "1.31.0")]
    assert [(z["node"], z["version"]) for z in doc["dataPlane"]["ztunnel"]] == [("node-1", "1.31.0"),
                                                                                 ("node-2", "1.30.2")]
    assert doc["dataPlane"]["waypoints"] == [{"namespace": "shop", "name": "waypoint", "revision": "canary",
                                              "version": "1.32.0", "pods": 1, "ready": 1}]
    assert invoke_with(mesh(), "version", "-o", "yaml").yaml == doc


def test_revision_filter_keeps_what_the_revision_serves_and_resolves_tags():
    kube = mesh()
    doc = invoke_with(kube, "version", "-r", "canary", "-o", "json").json
    assert [c["revision"] for c in doc["controlPlane"]] == ["canary"]
    assert doc["dataPlane"]["ztunnel"] == [] and len(doc["dataPlane"]["waypoints"]) == 1
    assert all(m["revision"] == "canary" for m in doc["meshVersion"])
    assert invoke_with(kube, "tag", "set", "prod", "-r", "default").exit_code == 0
    tagged = invoke_with(kube, "version", "-r", "prod", "-o", "json").json
    assert [c["revision"] for c in tagged["controlPlane"]] == ["default"]


def test_an_unknown_revision_is_exit_8():
    result = invoke_with(mesh(), "version", "-r", "nope")
    assert result.exit_code == ExitCode.NOT_FOUND


def test_short_prints_numbers_only_and_client_needs_no_cluster():
    short = invoke_with(mesh(), "version", "--short").stdout.splitlines()
    # control plane per revision (canary, default), then each data-plane version
    assert short[1:] == ["1.32.0", "1.31.0", "1.30.2", "1.31.0", "1.32.0"]
    assert all(" " not in line for line in short)
    assert invoke_with(None, "version", "--client").exit_code == 0


def test_an_empty_cluster_says_there_is_nothing():
    result = invoke_with(VersionedKube([]), "version")
    assert "no running Istio control plane found" in result.stdout
    assert "data plane version: none" in result.stdout
