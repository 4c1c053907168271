"""`pc secret` and `zc` against the real test cluster: a ztunnel DaemonSet, a REAL port-forward
through the API server to the stand-in admin server (tests/support/standin.py), --node, and the
"which ztunnel holds it" hint built from the cluster's pods."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from kubernetes import client

from ambientctl.errors import ExitCode
from tests.support import dumpgen
from tests.support.cli import invoke
from tests.support.waiting import IMAGE, NODES, wait_until

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]


def ready(pod) -> bool:
    return pod.status.phase == "Running" and any(
        c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))


@pytest.fixture
def ztunnel(cluster, namespace):
    """A `ztunnel` DaemonSet (app=ztunnel, container istio-proxy, admin port 15000) Ready on every node.

    Returns {node: pod name}.
    """
    apps = client.AppsV1Api(cluster.api_client())
    core = client.CoreV1Api(cluster.api_client())
    labels = {"app": "ztunnel"}
    apps.create_namespaced_daemon_set(namespace, client.V1DaemonSet(
        metadata=client.V1ObjectMeta(name="ztunnel", labels=labels),
        spec=client.V1DaemonSetSpec(
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(containers=[client.V1Container(
                    name="istio-proxy", image=IMAGE,
                    ports=[client.V1ContainerPort(container_port=15000)])])))))

    def all_ready():
        pods = core.list_namespaced_pod(namespace, label_selector="app=ztunnel").items
        by_node = {p.spec.node_name: p.metadata.name for p in pods if ready(p)}
        return by_node if set(by_node) == set(NODES) else None

    return wait_until("ztunnel Ready on 3 nodes", all_ready)


@pytest.fixture
def admin(standin):
    standin.reset()
    yield standin.admin
    standin.reset()


def kube_args(cluster, readonly=False):
    return ["-c", cluster.readonly_kubeconfig if readonly else cluster.kubeconfig]


def test_pc_secret_through_a_real_port_forward(cluster, namespace, ztunnel, admin):
    admin.set_config_dump(dumpgen.generate_dump([("default", "sleep"), (namespace, "httpbin")]))
    result = invoke(*kube_args(cluster), "pc", "secret", "ds/ztunnel", "-n", namespace)
    assert result.exit_code == 0, result.stderr
    rows = [line.split()[:4] for line in result.stdout.splitlines()[1:]]
    assert rows == [
        ["spiffe://cluster.local/ns/default/sa/sleep", "Leaf", "Available", "true"],
        ["spiffe://cluster.local/ns/default/sa/sleep", "Root", "Available", "true"],
        [f"spiffe://cluster.local/ns/{namespace}/sa/httpbin", "Leaf", "Available", "true"],
        [f"spiffe://cluster.local/ns/{namespace}/sa/httpbin", "Root", "Available", "true"],
    ]
    assert ("GET", "/config_dump") in admin.requests


def test_node_picks_the_ztunnel_on_that_node(cluster, namespace, ztunnel, admin):
    admin.set_config_dump(dumpgen.generate_dump([("default", "sleep")]))
    for node in ("ambient-worker", "ambient-worker2"):
        result = invoke(*kube_args(cluster), "pc", "secret", "ds/ztunnel", "-n", namespace, "--node", node)
        assert result.exit_code == 0, result.stderr
        assert f"pod {namespace}/{ztunnel[node]} on node {node}" in result.stderr
    # without a reference: ds/ztunnel in -n
    result = invoke(*kube_args(cluster), "pc", "secret", "-n", namespace, "--node", "ambient-control-plane")
    assert result.exit_code == 0, result.stderr
    assert ztunnel["ambient-control-plane"] in result.stderr


def test_unknown_node_is_a_clear_error(cluster, namespace, ztunnel, admin):
    result = invoke(*kube_args(cluster), "pc", "secret", "ds/ztunnel", "-n", namespace, "--node", "no-such-node")
    assert result.exit_code == ExitCode.NOT_FOUND
    assert "no pods found for ds/ztunnel" in result.stderr and "Traceback" not in result.stderr


def test_guide_pipeline_against_the_cluster(cluster, namespace, ztunnel, admin):
    for tool in ("jq", "openssl", "base64"):
        assert shutil.which(tool), f"{tool} is required: apt-get install -y jq openssl"
    admin.set_config_dump(dumpgen.generate_dump([("default", "sleep")]))
    pipeline = (f"{sys.executable} -m ambientctl pc secret ds/ztunnel -n {namespace} -o json"
                " | jq -r '.dynamicActiveSecrets[0].secret.tlsCertificate.certificateChain.inlineBytes'"
                " | base64 --decode | openssl x509 -noout -text")
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", pipeline], capture_output=True, text=True, cwd=REPO,
                          env=cluster.env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Issuer: O=cluster.local" in proc.stdout or "Issuer: O = cluster.local" in proc.stdout
    assert "URI:spiffe://cluster.local/ns/default/sa/sleep" in proc.stdout


@pytest.fixture
def sleep_on_worker2(cluster, namespace):
    """A pod running as ServiceAccount `sleep`, pinned to ambient-worker2, captured by ambient."""
    core = client.CoreV1Api(cluster.api_client())
    core.create_namespaced_service_account(namespace, client.V1ServiceAccount(
        metadata=client.V1ObjectMeta(name="sleep")))
    core.create_namespaced_pod(namespace, client.V1Pod(
        metadata=client.V1ObjectMeta(name="sleep-1", labels={"app": "sleep"},
                                     annotations={"ambient.istio.io/redirection": "enabled"}),
        spec=client.V1PodSpec(service_account_name="sleep", node_name="ambient-worker2",
                              containers=[client.V1Container(name="sleep", image=IMAGE)])))
    wait_until("sleep pod Ready", lambda: ready(core.read_namespaced_pod("sleep-1", namespace)))
    return "sleep-1"


def test_missing_identity_points_at_the_right_ztunnel(cluster, namespace, ztunnel, admin, sleep_on_worker2):
    admin.set_config_dump(dumpgen.generate_dump([("default", "other")]))
    result = invoke(*kube_args(cluster), "pc", "secret", "ds/ztunnel", "-n", namespace, "--node", "ambient-worker",
                    "--identity", f"{namespace}/sleep")
    assert result.exit_code == ExitCode.NOT_FOUND, result.stderr
    assert result.stdout == ""
    line = [x for x in result.stderr.splitlines() if x.startswith("Error: ")][0]
    assert f"{ztunnel['ambient-worker']} (node ambient-worker) holds no certificate for {namespace}/sleep" in line
    assert f"ambient-worker2: sleep-1 (ztunnel {ztunnel['ambient-worker2']})" in line
    assert f"try `ambientctl pc secret pod/{ztunnel['ambient-worker2']} -n {namespace} --identity {namespace}/sleep`" \
        in line


def test_empty_dump_lists_nodes_with_meshed_pods(cluster, namespace, ztunnel, admin, sleep_on_worker2):
    result = invoke(*kube_args(cluster), "pc", "secret", "ds/ztunnel", "-n", namespace, "--node", "ambient-worker")
    assert result.exit_code == ExitCode.NOT_FOUND
    assert "holds no certificates" in result.stderr
    assert f"{namespace}/sleep-1" in result.stderr and "ambient-worker2" in result.stderr


def test_workload_pod_means_the_ztunnel_on_its_node(cluster, namespace, ztunnel, admin, sleep_on_worker2):
    admin.set_config_dump(dumpgen.generate_dump([("default", "other"), (namespace, "sleep")]))
    result = invoke(*kube_args(cluster), "-i", namespace, "pc", "secret", f"pod/{sleep_on_worker2}", "-n", namespace)
    assert result.exit_code == 0, result.stderr
    names = {line.split()[0] for line in result.stdout.splitlines()[1:]}
    assert names == {f"spiffe://cluster.local/ns/{namespace}/sa/sleep"}
    assert f"ztunnel {ztunnel['ambient-worker2']} on its node ambient-worker2" in result.stderr


def test_zc_workload_live(cluster, namespace, ztunnel, admin):
    admin.set_config_dump(dumpgen.generate_dump([("default", "sleep"), ("shop", "cart")]))
    result = invoke(*kube_args(cluster), "zc", "workload", "-n", namespace, "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert sorted(w["namespace"] for w in result.json) == ["default", "shop"]
    table = invoke(*kube_args(cluster), "zc", "certificate", "ds/ztunnel", "-n", namespace)
    assert table.exit_code == 0 and len(table.stdout.splitlines()) == 5


def test_readonly_user_cannot_port_forward(cluster, namespace, ztunnel, admin):
    result = invoke(*kube_args(cluster, readonly=True), "pc", "secret", "ds/ztunnel", "-n", namespace)
    assert result.exit_code == ExitCode.FORBIDDEN, result.stderr
    assert "Traceback" not in result.stderr
    assert len([x for x in result.stderr.splitlines() if x.startswith("Error: ")]) == 1


def test_admin_answering_garbage_is_an_input_error(cluster, namespace, ztunnel, admin):
    admin.set_config_dump('{"certificates": [{"identity": "spiffe://cluster.local/ns/a/sa/b", "sta')
    result = invoke(*kube_args(cluster), "pc", "secret", "ds/ztunnel", "-n", namespace)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert f"pod {namespace}/" in result.stderr and "truncated" in result.stderr
    admin.set_config_dump(json.dumps({"certificates": []}), status=503)
    result = invoke(*kube_args(cluster), "pc", "secret", "ds/ztunnel", "-n", namespace)
    assert result.exit_code != 0 and "HTTP 503" in result.stderr
