"""`dataplane enroll|unenroll|status` and `version` against the real test cluster (guide step 5)."""

from __future__ import annotations

import time

import pytest

from ambientctl.errors import ExitCode
from tests.support.cli import invoke

pytestmark = pytest.mark.e2e


def _core(cluster):
    from kubernetes import client

    return client.CoreV1Api(cluster.api_client())


def _make_pods(cluster, namespace, names, sidecar_for=()):
    from kubernetes import client

    core = _core(cluster)
    for name in names:
        containers = [client.V1Container(name="app", image="curlimages/curl")]
        if name in sidecar_for:
            containers.append(client.V1Container(name="istio-proxy", image="docker.io/istio/proxyv2:1.31.0"))
        core.create_namespaced_pod(namespace, client.V1Pod(
            metadata=client.V1ObjectMeta(name=name, labels={"app": name}),
            spec=client.V1PodSpec(containers=containers)))


def _pod_uids(cluster, namespace):
    return {p.metadata.name: p.metadata.uid for p in _core(cluster).list_namespaced_pod(namespace).items}


def test_enroll_labels_namespace_without_restarting_pods(cluster, namespace):
    _make_pods(cluster, namespace, ["sleep", "notsleep"])
    before = _pod_uids(cluster, namespace)
    result = invoke("-c", cluster.kubeconfig, "dataplane", "enroll", namespace)
    assert result.exit_code == 0, result.stderr
    assert f"namespace/{namespace} enrolled in ambient: 2 pod(s)" in result.stdout
    ns = _core(cluster).read_namespace(namespace)
    assert ns.metadata.labels["istio.io/dataplane-mode"] == "ambient"
    assert _pod_uids(cluster, namespace) == before  # nothing restarted

    again = invoke("-c", cluster.kubeconfig, "dataplane", "enroll", namespace)
    assert again.exit_code == 0 and "already enrolled" in again.stdout


def test_enroll_warns_about_sidecars(cluster, namespace):
    # Pods first, then injection on: the pods exist without asking an injection webhook (none is
    # guaranteed to be installed, or to answer, in the test cluster), as pods do that predate it.
    _make_pods(cluster, namespace, ["legacy", "plain"], sidecar_for=("legacy",))
    _core(cluster).patch_namespace(namespace, {"metadata": {"labels": {"istio-injection": "enabled"}}})
    result = invoke("-c", cluster.kubeconfig, "dataplane", "enroll", namespace)
    assert result.exit_code == 0
    assert "sidecar injection enabled" in result.stderr
    assert "legacy" in result.stderr and "plain" not in result.stderr.split("keep their sidecars")[1]
    assert "enrolled" in result.stdout  # warnings on stderr, data on stdout


def test_status_counts_captured_pods(cluster, namespace):
    _make_pods(cluster, namespace, ["a", "b"])
    _core(cluster).patch_namespaced_pod("a", namespace,
                                        {"metadata": {"annotations": {"ambient.istio.io/redirection": "enabled"}}})
    invoke("-c", cluster.kubeconfig, "dataplane", "enroll", namespace)
    result = invoke("-c", cluster.kubeconfig, "-n", namespace, "dataplane", "status", "-o", "json")
    assert result.exit_code == 0, result.stderr
    rows = result.json["namespaces"]
    assert rows == [{"namespace": namespace, "mode": "ambient", "pods": 2, "captured": 1, "sidecars": 0,
                     "waypoint": ""}]
    table = invoke("-c", cluster.kubeconfig, "dataplane", "status", "-A")
    assert table.exit_code == 0
    line = next(line for line in table.stdout.splitlines() if line.startswith(namespace))
    assert line.split()[:4] == [namespace, "ambient", "2", "1"]
    assert table.stdout.splitlines()[0].split()[:4] == ["NAMESPACE", "MODE", "PODS", "CAPTURED"]


def test_unenroll_refuses_while_waypoint_in_use_unless_forced(cluster, namespace):
    invoke("-c", cluster.kubeconfig, "dataplane", "enroll", namespace)
    _core(cluster).patch_namespace(namespace, {"metadata": {"labels": {"istio.io/use-waypoint": "waypoint"}}})
    refused = invoke("-c", cluster.kubeconfig, "dataplane", "unenroll", namespace)
    assert refused.exit_code == ExitCode.USAGE
    assert "still uses waypoints" in refused.stderr and "--force" in refused.stderr
    assert _core(cluster).read_namespace(namespace).metadata.labels["istio.io/dataplane-mode"] == "ambient"

    forced = invoke("-c", cluster.kubeconfig, "dataplane", "unenroll", namespace, "--force")
    assert forced.exit_code == 0, forced.stderr
    labels = _core(cluster).read_namespace(namespace).metadata.labels
    assert "istio.io/dataplane-mode" not in labels
    assert labels["istio.io/use-waypoint"] == "waypoint"  # not ours to remove

    again = invoke("-c", cluster.kubeconfig, "dataplane", "unenroll", namespace)
    assert again.exit_code == 0 and "was not enrolled" in again.stdout


def test_dry_run_changes_nothing(cluster, namespace):
    result = invoke("-c", cluster.kubeconfig, "dataplane", "enroll", namespace, "--dry-run")
    assert result.exit_code == 0 and "(dry run)" in result.stdout
    assert "istio.io/dataplane-mode" not in (_core(cluster).read_namespace(namespace).metadata.labels or {})


def test_enroll_missing_namespace(cluster):
    result = invoke("-c", cluster.kubeconfig, "dataplane", "enroll", "no-such-namespace-x")
    assert result.exit_code == ExitCode.NOT_FOUND
    assert "no-such-namespace-x" in result.stderr


def test_readonly_user_cannot_enroll(cluster, namespace):
    result = invoke("-c", cluster.readonly_kubeconfig, "dataplane", "enroll", namespace)
    assert result.exit_code == ExitCode.FORBIDDEN
    assert "needs 1 permission(s) you do not have: patch namespaces" in result.stderr
    assert "nothing was changed" in result.stderr
    assert "istio.io/dataplane-mode" not in (_core(cluster).read_namespace(namespace).metadata.labels or {})


def test_version_reports_the_real_server(cluster):
    result = invoke("-c", cluster.kubeconfig, "version", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json["kubernetesVersion"]["gitVersion"] == cluster.version
    assert isinstance(result.json["meshVersion"], list)


def test_namespace_flag_after_subcommand_reaches_the_cluster(cluster, namespace):
    """Global flags are honoured wherever they stand on the line (istio#55243)."""
    _make_pods(cluster, namespace, ["x"])
    deadline = time.time() + 10
    while time.time() < deadline:
        result = invoke("dataplane", "status", "-n", namespace, "-c", cluster.kubeconfig, "-o", "json")
        if result.json["namespaces"][0]["pods"] == 1:
            break
        time.sleep(0.5)
    assert result.json["namespaces"][0]["namespace"] == namespace
    assert result.json["namespaces"][0]["pods"] == 1


def test_delete_dry_run_keeps_the_object(cluster, namespace):
    """KubeClient.delete(dry_run=True) must not delete (the server reads dryRun from DeleteOptions)."""
    from ambientctl.kube.client import KubeClient

    kube = KubeClient.connect(cluster.kubeconfig)
    kube.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "keep-me", "namespace": namespace},
                "data": {"a": "b"}})
    assert kube.delete("v1", "ConfigMap", "keep-me", namespace, dry_run=True) is True
    assert kube.get_or_none("v1", "ConfigMap", "keep-me", namespace) is not None
    assert kube.delete("v1", "ConfigMap", "keep-me", namespace) is True
    assert kube.get_or_none("v1", "ConfigMap", "keep-me", namespace) is None
