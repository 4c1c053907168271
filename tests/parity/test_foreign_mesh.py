"""Every read command on a mesh that `istioctl install --set profile=ambient` installed (not ambientctl).

The reference istioctl installs Istio on the private parity cluster (kwok runs
its pods; tests/parity/conftest.py). The real istiod runs as a local process
(tests/support/istiod.py) so waypoints get programmed; ztunnel's admin port is
the cluster's stand-in (a REAL port-forward through the API server to a
ztunnel-shaped dump). ambientctl then runs every read command against what
istioctl left, and the assertions read the output: the components istioctl's
labels name, the ztunnel pod of the node, the waypoint istiod programmed,
analyze's finding, the archive's parts. `uninstall` must delete nothing.
The same commands against FakeKube: tests/unit/test_foreign_mesh.py.
"""

from __future__ import annotations

import json
import tarfile
import time
import uuid

import pytest

from tests.parity.controlplane import reinstall_istio, remove_istio
from tests.parity.tools import ambientctl, istioctl, parse_table
from tests.support import dumpgen, foreignmesh
from tests.support.standin import StandIn

pytestmark = pytest.mark.e2e

NODES = ("ambient-control-plane", "ambient-worker", "ambient-worker2")


@pytest.fixture(scope="module")
def istio_control_plane(istioctl_bin, parity_cluster) -> str:
    """Istio installed by istioctl alone on the private cluster; its admin kubeconfig (local_istiod reads it)."""
    kubeconfig = parity_cluster.kubeconfig
    reinstall_istio("istioctl", istioctl_bin, kubeconfig)
    yield kubeconfig
    remove_istio(istioctl_bin, kubeconfig)


@pytest.fixture(scope="module")
def admin(parity_cluster):
    """The stand-in behind every pod's port 15000 on the parity cluster, serving a ztunnel dump."""
    server = StandIn(parity_cluster.standin_ports[15000]).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def app_namespace(parity_cluster, istio_control_plane):
    """An ambient namespace with one app pod and an L7 policy that no waypoint enforces (analyze's AMB0001)."""
    from kubernetes import client, dynamic

    api = parity_cluster.api_client()
    core = client.CoreV1Api(api)
    name = f"foreign-{uuid.uuid4().hex[:6]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(
        name=name, labels={"istio.io/dataplane-mode": "ambient"})))
    deadline = time.monotonic() + 30
    while True:  # the pod needs the namespace's default ServiceAccount
        try:
            core.read_namespaced_service_account("default", name)
            break
        except client.exceptions.ApiException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    core.create_namespaced_pod(name, client.V1Pod(
        metadata=client.V1ObjectMeta(name="sleep", labels={"app": "sleep"}),
        spec=client.V1PodSpec(node_name="ambient-worker", containers=[client.V1Container(name="sleep", image="sleep")])))
    policies = dynamic.DynamicClient(api).resources.get(api_version="security.istio.io/v1", kind="AuthorizationPolicy")
    policies.create(namespace=name, body={
        "apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
        "metadata": {"name": "get-only", "namespace": name},
        "spec": {"selector": {"matchLabels": {"app": "sleep"}}, "action": "ALLOW",
                 "rules": [{"to": [{"operation": {"methods": ["GET"]}}]}]}})
    yield name
    core.delete_namespace(name)


def run(kubeconfig: str, *args: str):
    return ambientctl(*args, kubeconfig=kubeconfig)


def test_istioctl_labels_its_objects_as_the_unit_fixture_says(parity_cluster, istio_control_plane):
    """The unit tests' istioctl-shaped objects carry the labels a real `istioctl install` writes."""
    from kubernetes import client

    apps = client.AppsV1Api(parity_cluster.api_client())
    live = {"ztunnel": apps.read_namespaced_daemon_set("ztunnel", "istio-system").metadata.labels,
            "istio-cni-node": apps.read_namespaced_daemon_set("istio-cni-node", "istio-system").metadata.labels,
            "istiod": apps.read_namespaced_deployment("istiod", "istio-system").metadata.labels}
    fixture = {o["metadata"]["name"]: o["metadata"]["labels"] for o in foreignmesh.istioctl_installed()
               if o["kind"] in ("Deployment", "DaemonSet")}
    for name, labels in live.items():
        assert labels == fixture[name], name
    assert "app" not in live["ztunnel"]  # why lookups must not ask the DaemonSet for app=ztunnel


def test_version_names_istioctl_as_the_installer(istio_control_plane):
    result = run(istio_control_plane, "version", "-o", "json")
    assert result.ok, result
    entries = {e["component"]: e for e in json.loads(result.stdout)["meshVersion"]}
    assert sorted(entries) == ["istio-cni", "istiod", "ztunnel"]
    assert {e["installedBy"] for e in entries.values()} == {"istioctl"}
    assert {e["version"] for e in entries.values()} == {"1.31.0"}
    assert (entries["istiod"]["pods"], entries["ztunnel"]["pods"], entries["istio-cni"]["pods"]) == (1, 3, 3)


def test_verify_install_checks_istioctls_mesh(istio_control_plane):
    result = run(istio_control_plane, "verify-install")
    assert result.ok, result
    assert "Found a mesh installed by istioctl, not by ambientctl" in result.stderr
    for line in ("✔ Deployment istio-system/istiod (istioctl): 1/1 ready",
                 "✔ DaemonSet istio-system/ztunnel (istioctl): 3/3 ready, 3/3 updated; a ready pod on every "
                 "schedulable node",
                 "✔ DaemonSet istio-system/istio-cni-node (istioctl): 3/3 ready",
                 "✔ Versions: Istio 1.31.0 on every component",
                 "✔ Istio installed by istioctl is ready: 3 components (revision default)"):
        assert line in result.stdout, result.stdout
    assert "Istio CRDs established" in result.stdout


def test_pc_secret_and_zc_read_the_ztunnel_istioctl_deployed(istio_control_plane, admin, app_namespace):
    admin.set_config_dump(dumpgen.generate_dump([(app_namespace, "default")], node="ambient-worker"))
    secret = run(istio_control_plane, "pc", "secret", "-n", "istio-system", "--node", "ambient-worker")
    assert secret.ok, secret
    assert f"spiffe://cluster.local/ns/{app_namespace}/sa/default" in secret.stdout
    # a workload pod means the ztunnel on its node: found by the pods' app=ztunnel label
    certs = run(istio_control_plane, "zc", "certificate", f"sleep.{app_namespace}")
    assert certs.ok, certs
    assert "on its node ambient-worker" in certs.stderr and "ztunnel-" in certs.stderr
    workloads = run(istio_control_plane, "zc", "workload", "-n", "istio-system", "--node", "ambient-worker")
    assert workloads.ok, workloads
    assert app_namespace in workloads.stdout


def test_waypoints_that_istiod_programs_are_listed_and_shown(istio_control_plane, local_istiod, app_namespace,
                                                             istioctl_bin):
    applied = run(istio_control_plane, "-n", app_namespace, "waypoint", "apply", "--wait", "--waypoint-timeout", "90s")
    assert applied.ok, f"{applied}\n--- istiod log ---\n{local_istiod.log_tail(15)}"
    listed = run(istio_control_plane, "waypoint", "list", "-A")
    assert listed.ok, listed
    rows = {(r["NAMESPACE"], r["NAME"]): r for r in parse_table(listed.stdout)}
    assert (app_namespace, "waypoint") in rows
    status = run(istio_control_plane, "-n", app_namespace, "waypoint", "status")
    assert status.ok, status
    [row] = [r for r in parse_table(status.stdout) if r["TYPE"] == "Programmed"]
    assert row["STATUS"] == "True"
    theirs = istioctl(istioctl_bin, "waypoint", "list", "-n", app_namespace, kubeconfig=istio_control_plane)
    assert theirs.ok and "waypoint" in theirs.stdout, theirs


def test_analyze_graph_and_dataplane_status_read_the_mesh(istio_control_plane, app_namespace, parity_cluster):
    from kubernetes import client

    analyzed = run(istio_control_plane, "analyze", "-n", app_namespace)
    assert "AMB0001" in analyzed.stdout and "get-only" in analyzed.stdout, analyzed
    graph = run(istio_control_plane, "x", "graph", "-n", app_namespace)
    assert graph.ok, graph
    assert app_namespace in graph.stdout and "sleep" in graph.stdout
    status = run(istio_control_plane, "dataplane", "status", "-A", "-o", "json")
    assert status.ok, status
    rows = {r["namespace"]: r for r in json.loads(status.stdout)["namespaces"]}
    pods = client.CoreV1Api(parity_cluster.api_client()).list_namespaced_pod(app_namespace).items  # sleep (+ waypoint)
    assert rows[app_namespace]["mode"] == "ambient" and rows[app_namespace]["pods"] == len(pods) >= 1
    assert rows["istio-system"]["sidecars"] == 0  # ztunnel's container is named istio-proxy: not a sidecar


def test_bug_report_collects_istioctls_components(istio_control_plane, admin, tmp_path):
    admin.set_config_dump(dumpgen.generate_dump([("default", "sleep")]))
    archive = tmp_path / "bug-report.tar.gz"
    result = run(istio_control_plane, "bug-report", "--include", "istio-system", "--timeout", "2m",
                 "--output-dir", str(tmp_path))
    assert result.ok and archive.exists(), result
    with tarfile.open(archive) as tar:
        names = [m.name.removeprefix("bug-report/") for m in tar.getmembers()]
    for node in NODES:
        assert any(n.startswith(f"ztunnel/{node}/ztunnel-") and n.endswith("config_dump.json") for n in names), names
        assert any(n.startswith(f"cni/{node}/istio-cni-node-") for n in names), names
    assert any(n.startswith("istiod/istiod-") for n in names), names


def test_uninstall_deletes_nothing_of_istioctls(istio_control_plane, parity_cluster):
    from kubernetes import client

    result = run(istio_control_plane, "uninstall", "--purge", "-y")
    assert result.exit_code == 2, result
    assert "ambientctl did not install the mesh it found (istioctl: Deployment istio-system/istiod" in result.stderr
    assert "`istioctl uninstall --purge`" in result.stderr
    apps = client.AppsV1Api(parity_cluster.api_client())
    assert apps.read_namespaced_deployment("istiod", "istio-system").metadata.deletion_timestamp is None
    assert apps.read_namespaced_daemon_set("ztunnel", "istio-system").metadata.deletion_timestamp is None
