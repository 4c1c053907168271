"""`bug-report` on the test cluster: a mesh-shaped set of workloads (istiod, ztunnel on 3 nodes, CNI,
a waypoint) in a namespace used as the Istio namespace; real pod logs (kwok), real port-forwards to the
stand-ins; one ztunnel that cannot be reached. The archive must be partial, say why, and hold no key or token."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from kubernetes import client

from tests.support import dumpgen, leakcheck
from tests.support.standin import StandIn
from tests.support.waiting import IMAGE, NODES, wait_until

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
JWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImUyZSJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZTJlIn0.c2lnbmF0dXJlLWUyZQ"
KEY_BODY = "MHcCAQEEIE2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2eoAoGCCqGSM49AwEHoUQDQgAE"
KEY = f"-----BEGIN EC PRIVATE KEY-----\n{KEY_BODY}\n-----END EC PRIVATE KEY-----\n"
SECRET_VALUE = "ca-private-key-value-e2e-0123456789"


def _workload(kind: str, name: str, labels: dict, container: str, annotations: dict | None = None):
    template = client.V1PodTemplateSpec(
        metadata=client.V1ObjectMeta(labels=labels, annotations=annotations),
        spec=client.V1PodSpec(containers=[client.V1Container(name=container, image=IMAGE)]))
    selector = client.V1LabelSelector(match_labels=labels)
    if kind == "DaemonSet":
        return client.V1DaemonSet(metadata=client.V1ObjectMeta(name=name, labels=labels),
                                  spec=client.V1DaemonSetSpec(selector=selector, template=template))
    return client.V1Deployment(metadata=client.V1ObjectMeta(name=name, labels=labels),
                               spec=client.V1DeploymentSpec(replicas=1, selector=selector, template=template))


@pytest.fixture
def mesh(cluster, namespace, standin, tmp_path):
    """istiod (its /debug on a stand-in), ztunnel ×3, CNI ×3 and a waypoint pod, all in `namespace`."""
    api = cluster.api_client()
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    apps.create_namespaced_deployment(namespace, _workload("Deployment", "istiod", {"app": "istiod"}, "discovery",
                                                           {"prometheus.io/port": "15014"}))
    apps.create_namespaced_daemon_set(namespace, _workload("DaemonSet", "ztunnel", {"app": "ztunnel"}, "istio-proxy"))
    apps.create_namespaced_daemon_set(namespace, _workload("DaemonSet", "istio-cni-node",
                                                           {"k8s-app": "istio-cni-node"}, "install-cni"))
    core.create_namespaced_pod(namespace, client.V1Pod(
        metadata=client.V1ObjectMeta(name="waypoint-7c9d", labels={
            "gateway.networking.k8s.io/gateway-name": "waypoint", "gateway.istio.io/managed": "istio.io-mesh-controller"}),
        spec=client.V1PodSpec(containers=[client.V1Container(name="istio-proxy", image=IMAGE)])))
    core.create_namespaced_secret(namespace, client.V1Secret(
        metadata=client.V1ObjectMeta(name="cacerts"), string_data={"ca-key.pem": SECRET_VALUE}))

    def pods_running():
        pods = core.list_namespaced_pod(namespace).items
        running = {p.metadata.name: p for p in pods if p.status.phase == "Running"}
        return running if len(running) == 1 + 3 + 3 + 1 else None

    pods = wait_until("the mesh's pods Running", pods_running)
    istiod = next(name for name in pods if name.startswith("istiod"))
    ztunnels = sorted((p.spec.node_name, name) for name, p in pods.items() if name.startswith("ztunnel"))
    assert [node for node, _ in ztunnels] == sorted(NODES)

    debug = StandIn(0).start()
    for path in ("syncz", "adsz", "registryz", "configz", "push_status", "mesh"):
        debug.set_route(f"/debug/{path}", f'{{"endpoint": "{path}", "token": "{JWT}"}}', "application/json")
    cluster.forward_pod(namespace, istiod, {15014: debug.port})
    unreachable_node, unreachable = ztunnels[0]
    cluster.forward_pod(namespace, unreachable, {15000: 1})  # nothing listens on port 1: the forward fails
    standin.reset()
    dump = dumpgen.generate_dump([("default", "sleep"), (namespace, "httpbin")])
    dump["leak_test"] = {"privateKey": KEY, "note": f"Authorization: Bearer {JWT}"}
    standin.admin.set_config_dump(dump)
    log_file = tmp_path / "istiod.log"
    log_file.write_text(f'2026-11-28T10:00:00.000000000Z stdout F token="{JWT}" {KEY.replace(chr(10), " ")}\n'
                        "2026-11-28T10:00:01.000000000Z stdout F ads: push complete\n")
    os.chmod(tmp_path, 0o755)
    client.CustomObjectsApi(api).create_namespaced_custom_object("kwok.x-k8s.io", "v1alpha1", namespace, "logs", {
        "apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Logs", "metadata": {"name": istiod, "namespace": namespace},
        "spec": {"logs": [{"containers": ["discovery"], "logsFile": str(log_file), "follow": False}]}})
    yield {"istiod": istiod, "ztunnels": ztunnels, "unreachable": (unreachable_node, unreachable)}
    for pod in (istiod, unreachable):
        cluster.unforward_pod(namespace, pod)
    debug.stop()
    standin.reset()


def _bug_report(cluster, namespace: str, out_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, "-m", "ambientctl", "-c", cluster.kubeconfig, "-i", namespace,
                             "bug-report", "--output-dir", str(out_dir), *args],
                            capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    leakcheck.record(result.args, result.stdout, result.stderr)
    return result


def _files(path: Path) -> dict[str, str]:
    with tarfile.open(path) as tar:
        return {m.name.removeprefix("bug-report/"): tar.extractfile(m).read().decode("utf-8", "replace")
                for m in tar.getmembers() if m.isfile()}


def test_a_partial_archive_with_everything_reachable_and_a_summary_of_the_rest(cluster, namespace, mesh, tmp_path):
    result = _bug_report(cluster, namespace, tmp_path, "--timeout", "3m")
    assert result.returncode == 0, result.stderr
    archive = tmp_path / "bug-report.tar.gz"
    assert result.stdout.strip() == str(archive)
    assert "Traceback" not in result.stderr
    # not a terminal: plain progress lines, one per part
    assert "] ✔ cluster and node versions" in result.stderr
    files = _files(archive)

    node, pod = mesh["unreachable"]
    summary = files["summary.txt"]
    assert "Failed (not in the archive):" in summary
    assert f"ztunnel config dump {namespace}/{pod} (node {node})" in summary
    assert f"ztunnel/{node}/{pod}/config_dump.json" not in files
    assert f"{pod} (node {node})" in result.stderr  # the failure is named on stderr too

    for reachable_node, name in mesh["ztunnels"][1:]:
        base = f"ztunnel/{reachable_node}/{name}"
        assert '"workloads"' in files[f"{base}/config_dump.json"]
        assert "spiffe://cluster.local/ns/default/sa/sleep" in files[f"{base}/certificates.txt"]
        assert "simulated container log" in files.get(f"{base}/istio-proxy.log", ""), summary
    for ztunnel_node, name in mesh["ztunnels"]:
        assert f"cni/{ztunnel_node}/" in "".join(files)  # one CNI pod per node, with its log
    istiod = f"istiod/{mesh['istiod']}"
    assert '"endpoint": "syncz"' in files[f"{istiod}/debug/syncz.json"]
    assert f"istiod debug endpoints {namespace}/{mesh['istiod']}: not served by this istiod (HTTP 404): ambientz," \
        in summary  # the stand-in serves six of them
    assert "ads: push complete" in files[f"{istiod}/discovery.log"]
    assert f"waypoints/{namespace}/waypoint-7c9d/istio-proxy.log" in files
    assert "v1.36.3" in files["cluster/nodes.txt"] and len(files["cluster/nodes.txt"].splitlines()) == 4
    assert '"gitVersion": "v1.36.3"' in files["cluster/versions.json"]
    assert f"{namespace}   cacerts" in files["cluster/secrets.txt"] and "ca-key.pem" in files["cluster/secrets.txt"]
    assert "analyze.txt" in files and "cluster/events.txt" in files
    assert f"objects/{namespace}/daemonsets.yaml" in files

    # nothing secret: no PEM key, no JWT, no kubeconfig credential, no Secret value (raw or base64)
    everything = "\n".join(files.values())
    secrets = {SECRET_VALUE: "the cacerts Secret", KEY_BODY: "a private key in a dump and a log", JWT: "a token"}
    for kubeconfig in (cluster.kubeconfig, cluster.readonly_kubeconfig):
        secrets.update(leakcheck.secrets_of_kubeconfig(kubeconfig))
    leaks = leakcheck.find_leaks([leakcheck.Captured("bug-report archive", "e2e", everything)], secrets)
    assert leaks == []
    assert base64.b64encode(SECRET_VALUE.encode()).decode() not in everything
    leakcheck.record("bug-report archive contents", everything, "")


def test_include_scopes_the_pods_and_duration_the_logs(cluster, namespace, mesh, tmp_path):
    result = _bug_report(cluster, namespace, tmp_path, "--include", f"{namespace}/ztunnel", "--duration", "10m",
                         "--timeout", "2m")
    assert result.returncode == 0, result.stderr
    files = _files(tmp_path / "bug-report.tar.gz")
    logs = sorted(name for name in files if name.endswith(".log"))
    assert logs and all(name.startswith("ztunnel/") for name in logs), logs
    assert not any(name.startswith(("istiod/", "cni/", "waypoints/")) for name in files)
    assert f"include: {namespace}/ztunnel" in files["summary.txt"]


def test_an_unreachable_cluster_is_one_line_and_no_archive(tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
                          "users: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
                          "current-context: x\n")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    result = subprocess.run([sys.executable, "-m", "ambientctl", "-c", str(kubeconfig), "bug-report",
                             "--output-dir", str(tmp_path), "--timeout", "20s"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 5, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("Error: cluster unreachable at https://127.0.0.1:1")
    assert not (tmp_path / "bug-report.tar.gz").exists()
