"""The real istiod (pilot-discovery built from Istio's Go module) as a LOCAL process.

Why: `waypoint apply --wait` and `waypoint status` are only honest if the
Gateway is programmed by Istio's own controller.  The test cluster simulates
pods (kwok), so the in-cluster istiod Deployment never runs; instead we run
pilot-discovery on this machine, out of cluster, with the admin kubeconfig.
It reads its mesh config and injection templates from the cluster's ConfigMaps
(``istio``, ``istio-sidecar-injector``: an install must have created them),
wins the leader elections (the simulated pods hold no leases), and its gateway
deployment controller creates the waypoint's Deployment/Service/ServiceAccount;
kwok makes the waypoint pods Ready and istiod writes the Gateway's conditions.

All listeners bind to 127.0.0.1 on free ports; all files go to a temp working
directory (istiod resolves ./var/lib/istio/inject, ./etc/istio/config/mesh and
./var/run/secrets/istio-dns relative to it, finds none, and uses the cluster).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import localservices

START_TIMEOUT = float(os.environ.get("AMBIENTCTL_ISTIOD_START_TIMEOUT", "120"))
# The Service port the Istio webhooks name (the Service maps 443 to istiod's 15017).
ISTIOD_SERVICE = ("istio-system", "istiod", 443)


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@dataclass
class LocalIstiod:
    process: subprocess.Popen
    workdir: Path
    log_path: Path
    http_port: int
    monitoring_port: int
    https_port: int = 0          # webhooks (the istiod Service's port 443 -> 15017 in a pod)
    secure_grpc_port: int = 0    # XDS and CA over TLS (the Service's port 15012)
    state_dir: str | None = None  # the test cluster whose egress proxy sends istiod:443 here

    def ready(self) -> bool:
        """istiod's own readiness endpoint (what the Deployment's probe uses)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/ready", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def log_contains(self, text: str) -> bool:
        try:
            return text in self.log_path.read_text(errors="replace")
        except OSError:
            return False

    def stop(self) -> None:
        if self.state_dir:
            localservices.unregister(self.state_dir, ISTIOD_SERVICE[0], ISTIOD_SERVICE[1], ISTIOD_SERVICE[2])
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def istiod_env(kubeconfig: str, namespace: str, revision: str) -> dict[str, str]:
    """The environment the istiod Deployment gives pilot-discovery, minus what needs a pod."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "KUBECONFIG": kubeconfig,
        "POD_NAME": f"istiod-local-{os.getpid()}",
        "POD_NAMESPACE": namespace,
        "REVISION": revision,
        "PILOT_ENABLE_AMBIENT": "true",
        "PILOT_ENABLE_GATEWAY_API_DEPLOYMENT_CONTROLLER": "true",
        "PILOT_ENABLE_GATEWAY_API_STATUS": "true",
        "ENABLE_CA_SERVER": "true",
        "CLUSTER_ID": "Kubernetes",
        # The webhook config patchers would point the cluster's webhooks at this process's
        # self-signed cert; the API server cannot reach 127.0.0.1 of this host anyway.
        "INJECTION_WEBHOOK_CONFIG_NAME": "",
        "VALIDATION_WEBHOOK_CONFIG_NAME": "",
        "ISTIOD_CUSTOM_HOST": "istiod.istio-system.svc",
        "JWT_POLICY": "third-party-jwt",
        # As the chart sets it: ztunnel (this ServiceAccount) may ask for certificates of the
        # workloads on its node (tests/support/ztunnel.py).
        "CA_TRUSTED_NODE_ACCOUNTS": f"{namespace}/ztunnel",
        "GOMAXPROCS": "2",
    }


def start_istiod(binary: Path, kubeconfig: str, namespace: str = "istio-system",
                 revision: str = "default", timeout: float = START_TIMEOUT,
                 extra_args: tuple[str, ...] = ()) -> LocalIstiod:
    """Start pilot-discovery against the cluster and wait until /ready answers 200.

    Raises RuntimeError (with the log tail) if it exits or does not get ready in time."""
    workdir = Path(tempfile.mkdtemp(prefix="istiod-local-"))
    log_path = workdir / "istiod.log"
    http, https, grpc, secure_grpc, monitoring = _free_ports(5)
    argv = [
        str(binary), "discovery",
        "--kubeconfig", kubeconfig,
        "--namespace", namespace,
        "--httpAddr", f"127.0.0.1:{http}",
        "--httpsAddr", f"127.0.0.1:{https}",
        "--grpcAddr", f"127.0.0.1:{grpc}",
        "--secureGRPCAddr", f"127.0.0.1:{secure_grpc}",
        "--monitoringAddr", f"127.0.0.1:{monitoring}",
        "--domain", "cluster.local",
        "--log_output_level", "default:info",
        *extra_args,   # e.g. --ctrlz_port PORT: ControlZ's default 9876 is one port for every istiod on this host
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(argv, cwd=workdir, env=istiod_env(kubeconfig, namespace, revision),
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    istiod = LocalIstiod(process, workdir, log_path, http, monitoring, https, secure_grpc)
    state_dir = os.path.dirname(os.path.abspath(kubeconfig))
    if namespace == ISTIOD_SERVICE[0] and os.path.exists(os.path.join(state_dir, "cluster.json")):
        # A test cluster (tests/support/clusterctl.py): its egress proxy sends the webhooks'
        # istiod.istio-system:443 to this process while it runs (registered with its pid).
        localservices.register(state_dir, *ISTIOD_SERVICE, f"127.0.0.1:{https}", pid=process.pid)
        istiod.state_dir = state_dir
    try:
        _wait_ready(istiod, timeout)
    except BaseException:
        # also on Ctrl-C: an orphaned istiod would keep its leader leases, and the next one
        # would never run the gateway controller
        istiod.stop()
        raise
    return istiod


def _wait_ready(istiod: LocalIstiod, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if istiod.process.poll() is not None:
            raise RuntimeError(f"pilot-discovery exited with {istiod.process.returncode}:\n{istiod.log_tail()}")
        if istiod.ready():
            return
        time.sleep(1)
    raise RuntimeError(f"pilot-discovery not ready after {timeout:.0f}s:\n{istiod.log_tail()}")


# ------------------------------------------------------------------------------------------ fixture


@pytest.fixture(scope="module")
def local_istiod(pilot_discovery_bin, istio_control_plane):
    """istiod running locally against the cluster whose admin kubeconfig ``istio_control_plane``
    returns (that fixture installs the control plane's objects; see tests/parity/test_istiod.py)."""
    try:
        istiod = start_istiod(pilot_discovery_bin, istio_control_plane)
    except RuntimeError as e:
        pytest.fail(f"the real istiod could not run out of cluster: {e}", pytrace=False)
    yield istiod
    istiod.stop()
