"""`admin log`, `remote-clusters` and `x internal-debug` against the REAL istiod (pilot-discovery built from
Istio's Go module), beside the reference istioctl on the same pods.

The istiod pods of the install are kwok pods; their ports 9876 (ControlZ) and 15014 (monitoring) are
forwarded by kwok to a local pilot-discovery (tests/support/istiod.py), so both tools go through the API
server's port-forward to a real ControlZ and real debug endpoints. If istiod cannot start, the tests FAIL
with its log tail (no skip)."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.parity.controlplane import reinstall_istio
from tests.parity.tools import ambientctl, istioctl, parse_table
from tests.support.istiod import _free_ports, start_istiod
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e
ISTIO_NS = "istio-system"


class RealIstiod:
    def __init__(self, cluster, istiod, ctrlz_port: int, pods: list[str]):
        self.cluster, self.istiod, self.ctrlz_port, self.pods = cluster, istiod, ctrlz_port, pods

    @property
    def kubeconfig(self) -> str:
        return self.cluster.kubeconfig

    def scope(self, name: str) -> dict:
        """ControlZ's own view of one scope, read directly on the host's loopback."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.ctrlz_port}/scopej/{name}", timeout=10) as answer:
            return json.loads(answer.read())

    def put_scope(self, name: str, body: dict) -> None:
        request = urllib.request.Request(f"http://127.0.0.1:{self.ctrlz_port}/scopej/{name}", method="PUT",
                                         data=json.dumps(body).encode())
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 202


@pytest.fixture(scope="module")
def real(istioctl_bin, pilot_discovery_bin, parity_cluster):
    kubeconfig = parity_cluster.kubeconfig
    reinstall_istio("ambientctl", istioctl_bin, kubeconfig)
    [ctrlz] = _free_ports(1)
    try:
        istiod = start_istiod(pilot_discovery_bin, kubeconfig,
                              extra_args=("--ctrlz_port", str(ctrlz), "--ctrlz_address", "127.0.0.1"))
    except RuntimeError as exc:
        pytest.fail(f"the real istiod could not run: {exc}", pytrace=False)
    from kubernetes import client

    core = client.CoreV1Api(parity_cluster.api_client())
    pods = [p.metadata.name for p in core.list_namespaced_pod(ISTIO_NS, label_selector="app=istiod").items
            if p.status.phase == "Running"]
    assert pods, "the install made no running istiod pod"
    for pod in pods:
        parity_cluster.forward_pod(ISTIO_NS, pod, {9876: ctrlz, 15014: istiod.monitoring_port,
                                                   15012: istiod.secure_grpc_port})
    state = RealIstiod(parity_cluster, istiod, ctrlz, pods)
    try:
        wait_until("ControlZ through the port-forward",
                   lambda: ambientctl("admin", "log", kubeconfig=kubeconfig).ok, timeout=30)
        yield state
    finally:
        for pod in pods:
            parity_cluster.unforward_pod(ISTIO_NS, pod)
        istiod.stop()


def test_admin_log_prints_istioctls_table(real, istioctl_bin):
    ours = ambientctl("admin", "log", kubeconfig=real.kubeconfig)
    theirs = istioctl(istioctl_bin, "admin", "log", kubeconfig=real.kubeconfig)
    assert ours.ok, f"{ours}\n{real.istiod.log_tail()}"
    assert theirs.ok, theirs
    assert ours.stdout == theirs.stdout
    assert {r["ACTIVE SCOPE"] for r in parse_table(ours.stdout)} >= {"ads", "authorization", "default"}


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_admin_log_documents_are_istioctls(real, istioctl_bin, fmt):
    import yaml

    ours = ambientctl("admin", "log", "-o", fmt, kubeconfig=real.kubeconfig)
    theirs = istioctl(istioctl_bin, "admin", "log", "-o", fmt, kubeconfig=real.kubeconfig)
    assert ours.ok and theirs.ok, (ours, theirs)
    assert yaml.safe_load(ours.stdout) == yaml.safe_load(theirs.stdout)


def test_levels_set_by_ambientctl_are_what_istioctl_lists(real, istioctl_bin):
    changed = ambientctl("admin", "log", "--level", "ads:debug,authorization:warn", "--stack-trace-level",
                         "ads:error", kubeconfig=real.kubeconfig)
    assert changed.ok, changed
    rows = {r["ACTIVE SCOPE"]: r for r in parse_table(istioctl(istioctl_bin, "admin", "log",
                                                                kubeconfig=real.kubeconfig).stdout)}
    assert (rows["ads"]["LOG LEVEL"], rows["ads"]["STACK TRACE LEVEL"]) == ("debug", "error")
    assert rows["authorization"]["LOG LEVEL"] == "warn"
    reset = ambientctl("admin", "log", "--reset", kubeconfig=real.kubeconfig)
    assert reset.ok, reset
    rows = parse_table(istioctl(istioctl_bin, "admin", "log", kubeconfig=real.kubeconfig).stdout)
    assert {(r["LOG LEVEL"], r["STACK TRACE LEVEL"]) for r in rows} == {("info", "none")}


def test_a_level_change_keeps_log_callers_where_istioctls_turns_it_off(real, istioctl_bin):
    real.put_scope("ads", {"name": "ads", "log_callers": True})
    assert ambientctl("admin", "log", "--level", "ads:debug", kubeconfig=real.kubeconfig).ok
    assert real.scope("ads")["log_callers"] is True and real.scope("ads")["output_level"] == "debug"
    assert istioctl(istioctl_bin, "admin", "log", "--level", "ads:info", kubeconfig=real.kubeconfig).ok
    assert real.scope("ads")["log_callers"] is False   # istioctl's PUT omits it: the difference we claim


def test_an_unknown_scope_is_refused_before_any_change(real):
    before = real.scope("ads")
    refused = ambientctl("admin", "log", "--level", "ads:none,nosuchscope:debug", kubeconfig=real.kubeconfig)
    assert refused.exit_code == 11 and "unknown scope(s) nosuchscope; nothing was changed" in refused.stderr
    assert real.scope("ads") == before


def test_remote_clusters_is_istioctls_table(real, istioctl_bin):
    ours = ambientctl("remote-clusters", kubeconfig=real.kubeconfig)
    theirs = istioctl(istioctl_bin, "remote-clusters", kubeconfig=real.kubeconfig)
    assert ours.ok, f"{ours}\n{real.istiod.log_tail()}"
    assert theirs.ok, theirs
    assert ours.stdout == theirs.stdout
    assert [r["NAME"] for r in parse_table(ours.stdout)] == ["Kubernetes"]


def test_internal_debug_reads_istiods_endpoints(real):
    listed = ambientctl("x", "internal-debug", "--list", kubeconfig=real.kubeconfig)
    assert listed.ok, listed
    names = listed.stdout.split()
    assert {"syncz", "configz", "registryz", "clusterz"} <= set(names)
    configz = ambientctl("x", "internal-debug", "configz", kubeconfig=real.kubeconfig)
    assert configz.ok, configz
    assert isinstance(json.loads(configz.stdout), list)
    clusterz = ambientctl("x", "internal-debug", "/debug/clusterz", "--all", kubeconfig=real.kubeconfig)
    assert clusterz.ok, clusterz
    assert set(json.loads(clusterz.stdout)) == {f"{pod}.{ISTIO_NS}" for pod in real.pods}


def test_internal_debug_over_http_gives_what_istioctl_gets_over_xds(real, istioctl_bin):
    """istioctl asks istiod over XDS (15012, with a token); ambientctl over HTTP (15014): same services."""
    ours = ambientctl("x", "internal-debug", "registryz", kubeconfig=real.kubeconfig)
    theirs = istioctl(istioctl_bin, "x", "internal-debug", "registryz", kubeconfig=real.kubeconfig)
    assert ours.ok, ours
    assert theirs.ok, f"{theirs}\n{real.istiod.log_tail()}"
    hosts = sorted(s["hostname"] for s in json.loads(ours.stdout))
    assert "istiod.istio-system.svc.cluster.local" in hosts
    assert hosts == sorted(s["hostname"] for s in json.loads(theirs.stdout))


# -- x envoy-stats on the REAL ztunnel (its metrics port 15020, relayed by kwok) ---------------------------------


@pytest.fixture(scope="module")
def ztunnels(real):
    from tests.support.realmesh import RealMeshUnavailable, build_ztunnel
    from tests.support.ztunnel import ZtunnelFleet, ZtunnelUnavailable

    try:
        fleet = ZtunnelFleet(build_ztunnel(), real.cluster.api_client(), real.istiod.secure_grpc_port,
                             real.cluster.forward_pod, real.cluster.unforward_pod).start()
        fleet.wait_synced()
    except (RealMeshUnavailable, ZtunnelUnavailable) as exc:
        pytest.fail(f"the real ztunnel could not run: {exc}\n{real.istiod.log_tail(20)}", pytrace=False)
    yield fleet
    fleet.stop()


def test_envoy_stats_on_a_ztunnel_reads_its_prometheus_metrics(ztunnels, istioctl_bin, real):
    pod = next(iter(ztunnels.by_node.values())).pod
    ours = ambientctl("x", "es", f"{pod}.{ISTIO_NS}", "-o", "prom", kubeconfig=real.kubeconfig)
    assert ours.ok, f"{ours}\n{ztunnels.log_tails()}"
    assert "# TYPE istio_" in ours.stdout and "is a ztunnel (no Envoy /stats)" in ours.stderr
    short = ambientctl("x", "es", f"{pod}.{ISTIO_NS}", kubeconfig=real.kubeconfig)
    assert short.ok and short.stdout.startswith(f"\nThe result of pod {pod}:\n\n")
    assert not any(line.startswith("#") for line in short.stdout.splitlines())
    # istioctl asks the ztunnel's admin port for Envoy's /stats, which ztunnel does not serve
    theirs = istioctl(istioctl_bin, "x", "es", f"{pod}.{ISTIO_NS}", kubeconfig=real.kubeconfig)
    assert not theirs.ok and "404" in theirs.stderr, theirs
