"""pytest plugin: the local kwok-backed Kubernetes control plane (see docs/testing.md).

Enable with ``pytest_plugins = ["tests.support.cluster"]`` in tests/conftest.py.

Fixtures
--------
``cluster`` (session)   runs ``tests/cluster up`` once (reuses a running cluster) and returns
                        a :class:`Cluster`.  FAILS (never skips) with the log tail if the
                        cluster cannot come up.  Left running at session end unless
                        ``AMBIENTCTL_CLUSTER_DOWN=1``.
``standin`` (session)   :class:`StandIns`: stand-in HTTP servers on the local ports the
                        cluster forwards pod ports 15000/15020 to (allocated per instance).
``namespace`` (function) name of a fresh namespace (deleted afterwards); its ``default``
                        ServiceAccount exists before the test starts.

The tests use the cluster instance ``test`` (``~/.cache/ambientctl/cluster/state-test``, or
``$AMBIENTCTL_CLUSTER_STATE``); `make demo` uses ``demo``, so a demo never changes what the
tests see.  Marker ``e2e`` is registered here.
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import time
import uuid
from dataclasses import dataclass, field

import pytest

from tests.support import clusterctl
from tests.support.standin import StandIn

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLUSTER_SCRIPT = os.path.join(REPO, "tests", "cluster")
# First run builds the binaries from source (~15-25 min on 2 cores); warm runs take seconds.
UP_TIMEOUT = int(os.environ.get("AMBIENTCTL_CLUSTER_UP_TIMEOUT", "3600"))


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "e2e: needs the local kwok-backed Kubernetes control plane (tests/cluster up)")


def _tail(text: str, n: int = 40) -> str:
    return "\n".join(text.splitlines()[-n:])


def _log_tails(state_dir: str, n: int = 20) -> str:
    out = []
    logs = os.path.join(state_dir, "logs")
    if os.path.isdir(logs):
        for name in sorted(os.listdir(logs)):
            with open(os.path.join(logs, name), errors="replace") as f:
                out.append(f"---- {name} (last {n} lines) ----\n{_tail(f.read(), n)}")
    return "\n".join(out)


def run_cluster_script(*args: str, timeout: int = UP_TIMEOUT, state_dir: str | None = None) -> subprocess.CompletedProcess:
    """`tests/cluster ARGS` for the default test instance, or for the instance in `state_dir`."""
    env = dict(os.environ, **({clusterctl.STATE_ENV: state_dir} if state_dir else {}))
    return subprocess.run([CLUSTER_SCRIPT, *args], capture_output=True, text=True, timeout=timeout, cwd=REPO,
                          env=env)


@dataclass
class Cluster:
    kubeconfig: str                      # admin (system:masters) kubeconfig, absolute path
    readonly_kubeconfig: str             # user "ambientctl-readonly": view + read nodes/CRDs
    api_url: str                         # https://127.0.0.1:<port>
    standin_ports: dict[int, int]        # pod port -> local stand-in port of this instance, e.g. {15000: 31500, ...}
    state_dir: str
    version: str = "v1.36.3"
    gateway_api: bool = True
    _clients: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_state(cls, state_dir: str) -> "Cluster":
        with open(os.path.join(state_dir, "cluster.json")) as f:
            st = json.load(f)
        return cls(kubeconfig=st["kubeconfig"], readonly_kubeconfig=st["readonly_kubeconfig"],
                   api_url=st["api_url"], standin_ports={int(k): v for k, v in st["standin_ports"].items()},
                   state_dir=st["state_dir"], version=st["version"], gateway_api=st["gateway_api"])

    def api_client(self, readonly: bool = False):
        """A ``kubernetes.client.ApiClient`` for the admin (or read-only) user (cached)."""
        from kubernetes import config as kconfig

        key = "ro" if readonly else "admin"
        if key not in self._clients:
            self._clients[key] = kconfig.new_client_from_config(
                config_file=self.readonly_kubeconfig if readonly else self.kubeconfig)
        return self._clients[key]

    @property
    def connection_log(self) -> str:
        """The egress proxy's log: one JSON line per connection kube-apiserver attempted (see egressproxy.py)."""
        return os.path.join(self.state_dir, "egress.log")

    def connections(self) -> list[dict]:
        """The records of :attr:`connection_log`, oldest first."""
        return clusterctl.connection_log(self.state_dir)

    def env(self, readonly: bool = False) -> dict:
        """``os.environ`` copy with KUBECONFIG pointing at this cluster (for subprocesses)."""
        return dict(os.environ, KUBECONFIG=self.readonly_kubeconfig if readonly else self.kubeconfig)

    def forward_pod(self, namespace: str, pod: str, ports: dict[int, int], address: str = "127.0.0.1") -> None:
        """Route port-forwards to ONE pod elsewhere (e.g. a second :class:`StandIn` on port 0).

        Creates/replaces a kwok ``PortForward`` named like the pod.  It replaces the cluster-wide
        15000/15020 forwards for that pod entirely, so list every pod port you need.  kwok picks
        it up asynchronously (well under a second): retry the first port-forward briefly.
        """
        from kubernetes import client
        from kubernetes.client.rest import ApiException

        if not ipaddress.ip_address(address).is_loopback:
            raise ValueError(f"forward_pod: {address} is not a loopback address; kwok may only dial 127.0.0.0/8")
        api = client.CustomObjectsApi(self.api_client())
        body = {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "PortForward",
                "metadata": {"name": pod, "namespace": namespace},
                "spec": {"forwards": [{"ports": [int(pp)], "target": {"address": address, "port": int(lp)}}
                                      for pp, lp in sorted(ports.items())]}}
        try:
            api.create_namespaced_custom_object("kwok.x-k8s.io", "v1alpha1", namespace, "portforwards", body)
        except ApiException as e:
            if e.status != 409:
                raise
            cur = api.get_namespaced_custom_object("kwok.x-k8s.io", "v1alpha1", namespace, "portforwards", pod)
            body["metadata"]["resourceVersion"] = cur["metadata"]["resourceVersion"]
            api.replace_namespaced_custom_object("kwok.x-k8s.io", "v1alpha1", namespace, "portforwards", pod, body)

    def unforward_pod(self, namespace: str, pod: str) -> None:
        """Drop a :meth:`forward_pod` override (the pod falls back to the cluster-wide stand-ins)."""
        from kubernetes import client
        from kubernetes.client.rest import ApiException

        try:
            client.CustomObjectsApi(self.api_client()).delete_namespaced_custom_object(
                "kwok.x-k8s.io", "v1alpha1", namespace, "portforwards", pod)
        except ApiException as e:
            if e.status != 404:
                raise

    def set_gateway_api(self, installed: bool) -> None:
        """Install (``tests/cluster up``) or remove (``up --no-gateway-api``) the Gateway API CRDs.

        Cluster-wide: restore it (``set_gateway_api(True)``) when your test is done."""
        args = ["up"] + ([] if installed else ["--no-gateway-api"])
        res = run_cluster_script(*args, state_dir=self.state_dir)
        if res.returncode != 0:
            pytest.fail(f"tests/cluster {' '.join(args)} failed:\n{_tail(res.stderr)}", pytrace=False)
        self.gateway_api = installed


def bring_up(state_dir: str | None = None) -> Cluster:
    """`tests/cluster up` for the default instance, or the one in `state_dir` (reused when healthy);
    the test fails with the script's and the components' log tails when it cannot."""
    where = f" (state {state_dir})" if state_dir else ""
    try:
        res = run_cluster_script("up", state_dir=state_dir)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"tests/cluster up{where} timed out after {UP_TIMEOUT}s:\n{_tail(str(e.stderr or ''))}",
                    pytrace=False)
    lines = res.stdout.strip().splitlines()
    if res.returncode != 0 or not lines or not lines[-1].startswith("KUBECONFIG="):
        pytest.fail(f"tests/cluster up{where} failed (exit {res.returncode}).\nstderr:\n{_tail(res.stderr)}\n"
                    f"{_log_tails(state_dir or clusterctl.default_state_dir())}", pytrace=False)
    kubeconfig = lines[-1].split("=", 1)[1]
    return Cluster.from_state(os.path.dirname(kubeconfig))


def cluster_instance(state_dir: str | None = None):
    """A fixture body: the instance brought up, and stopped afterwards only when AMBIENTCTL_CLUSTER_DOWN=1."""
    c = bring_up(state_dir)
    yield c
    if os.environ.get("AMBIENTCTL_CLUSTER_DOWN") == "1":
        run_cluster_script("down", timeout=120, state_dir=c.state_dir)


@pytest.fixture(scope="session")
def cluster():
    yield from cluster_instance()


class StandIns:
    """The stand-in servers, keyed by the pod port they impersonate."""

    def __init__(self, servers: dict[int, StandIn]):
        self.by_pod_port = servers

    @property
    def admin(self) -> StandIn:
        """What a port-forward to any pod's 15000 (ztunnel admin: /config_dump) reaches."""
        return self.by_pod_port[15000]

    @property
    def stats(self) -> StandIn:
        """What a port-forward to any pod's 15020 (/stats/prometheus) reaches."""
        return self.by_pod_port[15020]

    def reset(self) -> None:
        for s in self.by_pod_port.values():
            s.reset()

    def stop(self) -> None:
        for s in self.by_pod_port.values():
            s.stop()


@pytest.fixture(scope="session")
def standin(cluster):
    servers = {}
    try:
        for pod_port, local_port in sorted(cluster.standin_ports.items()):
            servers[pod_port] = StandIn(local_port).start()
    except OSError as e:
        for s in servers.values():
            s.stop()
        pytest.fail(f"cannot start stand-in servers on {cluster.standin_ports} ({e}); another test session "
                    f"on the instance in {cluster.state_dir} may hold them (each instance has its own ports; "
                    "give a parallel session its own AMBIENTCTL_CLUSTER_STATE)", pytrace=False)
    s = StandIns(servers)
    yield s
    s.stop()


@pytest.fixture
def namespace(cluster):
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    core = client.CoreV1Api(cluster.api_client())
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(
        name=name, labels={"ambientctl.test/e2e": "true"})))
    deadline = time.time() + 30
    while True:
        try:
            core.read_namespaced_service_account("default", name)
            break
        except ApiException as e:
            if e.status != 404 or time.time() > deadline:
                pytest.fail(f"default ServiceAccount never appeared in namespace {name}: {e}", pytrace=False)
            time.sleep(0.2)
    yield name
    try:
        core.delete_namespace(name)
    except ApiException as e:
        if e.status != 404:
            raise
