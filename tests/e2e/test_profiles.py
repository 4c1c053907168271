"""istioctl's other ambient profiles and platforms, installed on the real test cluster: `remote`
(a cluster whose istiod runs elsewhere), `openshift-ambient` (refused here before any write: the
test cluster does not serve Multus's kind) and the `gke` platform (ResourceQuotas before the node
agents). The module starts from and leaves a cluster without anything of ours."""

from __future__ import annotations

import pytest

from ambientctl.errors import ExitCode
from ambientctl.install.uninstall import list_owned

pytestmark = pytest.mark.e2e

NS = "istio-system"
WAIT = ("--readiness-timeout", "120s")


@pytest.fixture(autouse=True)
def clean_slate(purge_mesh):
    purge_mesh()
    yield
    purge_mesh()


def test_remote_installs_only_the_webhook_side_and_uninstalls(run, kube):
    remote = ("--set", "profile=remote", "--set", "values.global.remotePilotAddress=192.0.2.10")
    result = run("install", *remote, "-y")
    assert result.exit_code == 0, result.stderr
    assert "✔ Installation complete" in result.stdout + result.stderr
    webhook = kube.get("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", "istio-sidecar-injector")
    assert webhook["webhooks"][0]["clientConfig"]["service"]["name"] == "istiod"
    assert kube.get("discovery.k8s.io/v1", "EndpointSlice", "istiod", NS)["endpoints"][0]["addresses"] == ["192.0.2.10"]
    assert kube.get_or_none("apps/v1", "Deployment", "istiod", NS) is None
    assert kube.get_or_none("v1", "ConfigMap", "istio", NS) is None

    verified = run("verify-install")  # the recorded install: remote, with its --set
    assert verified.exit_code == 0, verified.stdout + verified.stderr

    assert run("uninstall", "--purge", "-y").exit_code == 0
    assert kube.get_or_none("discovery.k8s.io/v1", "EndpointSlice", "istiod", NS) is None
    assert kube.get_or_none("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration",
                            "istio-sidecar-injector") is None


def test_openshift_ambient_without_multus_is_refused_before_any_write(run, kube):
    result = run("install", "--set", "profile=openshift-ambient", "-y")
    assert result.exit_code == ExitCode.CRD_MISSING, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "k8s.cni.cncf.io" in errors[0]
    assert kube.get_or_none("apps/v1", "DaemonSet", "ztunnel", "kube-system") is None
    assert kube.get_or_none("apps/v1", "Deployment", "istiod", NS) is None
    assert list_owned(kube) == []  # not even the CRDs of the first component


def test_gke_platform_adds_quotas_for_the_node_agents(run, kube):
    result = run("install", "--set", "profile=ambient", "--set", "values.global.platform=gke", *WAIT, "-y")
    assert result.exit_code == 0, result.stderr
    for name in ("istio-cni-resource-quota", "ztunnel"):
        quota = kube.get("v1", "ResourceQuota", name, NS)
        assert quota["spec"]["hard"] == {"pods": "5k"}  # 5000, as the API server writes a quantity
    cni = kube.get("apps/v1", "DaemonSet", "istio-cni-node", NS)
    paths = {v["name"]: v["hostPath"]["path"] for v in cni["spec"]["template"]["spec"]["volumes"] if "hostPath" in v}
    assert paths["cni-bin-dir"] == "/home/kubernetes/bin"
    verified = run("verify-install")
    assert verified.exit_code == 0, verified.stdout + verified.stderr

    assert run("uninstall", "--purge", "--force", "-y").exit_code == 0
    assert kube.get_or_none("v1", "ResourceQuota", "ztunnel", NS) is None
