"""The real ztunnel (Istio's Rust node proxy, built from source) as LOCAL processes, one per node.

Why: `pc secret ds/ztunnel` is only trustworthy if it has read what a real ztunnel serves,
holding certificates a real istiod signed.  The test cluster's pods are simulated (kwok), so
the ztunnel DaemonSet's pods never run; for each of them this module runs the binary
on this machine the way the DaemonSet would run it:

* shared (node proxy) mode, ``NODE_NAME``/``POD_NAME``/``POD_NAMESPACE``/``SERVICE_ACCOUNT``
  of that pod, so istiod sends it the workloads and it prefetches a certificate for every
  HBONE workload on its node;
* ``XDS_ADDRESS`` and ``CA_ADDRESS`` = https://127.0.0.1:15012 of its own network namespace,
  relayed to the secure gRPC port of the local istiod (tests/support/istiod.py);
  ``ALT_XDS_HOSTNAME``/``ALT_CA_HOSTNAME`` = istiod.istio-system.svc, the name in istiod's
  serving certificate;
* istiod's root certificate from ConfigMap ``istio-ca-root-cert``, passed inline in
  ``XDS_ROOT_CA``/``CA_ROOT_CA`` (ztunnel takes a value that is not a file as the PEM itself).
  A file would be watched with inotify, and a machine running several test clusters can run
  out of inotify instances (ztunnel then fails: "failed to create root cert watcher: Too many
  open files"); ``./var/run/secrets/tokens/istio-token`` from the TokenRequest API (ServiceAccount
  istio-system/ztunnel, audience ``istio-ca``, bound to that ztunnel Pod: istiod's node
  authorizer checks that the caller's pod runs on the node of every identity it asks for;
  istiod needs ``CA_TRUSTED_NODE_ACCOUNTS=istio-system/ztunnel``);
* ``INPOD_UDS`` in its working directory.  No CNI ever connects to it (no pod network
  namespace exists), so it redirects no traffic; it still serves its admin API.

ztunnel binds its readiness port 15021 on every address, so each process gets a network
namespace of its own (tests/support/netns.py: loopback only).  Its admin port (15000,
localhost only) and stats port (15020) are relayed to free ports on this host's 127.0.0.1,
and kwok's per-pod PortForward of the ztunnel pod points there, so
`ambientctl pc secret pod/<ztunnel pod>` reaches the real process through kube-apiserver.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from tests.support.netns import NetNamespace, NetnsUnavailable, Relay, host_to_namespace, namespace_to_host
from tests.support.progress import run_with_heartbeat, say_stderr, tail

REPO = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO / "tests" / "ztunnelbuild" / "build.sh"
ZTUNNEL_COMMIT = "62d826530e5ce85764e309170205b293efcbc80b"
PROFILE_TAG = "o0"  # build.sh's profile_tag: the build profile is part of the cache's name
CACHE = (Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ambientctl" / "ztunnel"
         / f"{ZTUNNEL_COMMIT[:8]}-{PROFILE_TAG}")
BINARY = CACHE / "bin" / "ztunnel"
BUILD_LOG = CACHE / "build.log"
BUILD_TIMEOUT = float(os.environ.get("AMBIENTCTL_ZTUNNEL_BUILD_TIMEOUT", "5400"))
START_TIMEOUT = float(os.environ.get("AMBIENTCTL_ZTUNNEL_START_TIMEOUT", "60"))
ISTIO_NS = "istio-system"
SERVICE_ACCOUNT = "ztunnel"
ISTIOD_HOST = "istiod.istio-system.svc"
INSIDE_ISTIOD_PORT = 15012  # what a ztunnel pod dials (istiod's Service port for XDS and CA)
ADMIN_PORT = 15000
STATS_PORT = 15020
TOKEN_SECONDS = 12 * 3600
TOKEN_PATH = "var/run/secrets/tokens/istio-token"  # relative to the work dir, where ztunnel looks
# ztunnel's log line while no istio-cni node agent connects to INPOD_UDS (always, here).
CNI_RETRY = "failed to connect to the Istio CNI node agent"


class ZtunnelUnavailable(RuntimeError):
    """ztunnel could not be built or started; the message carries the log tail."""


def ensure_built(say: Callable[[str], None] = say_stderr) -> Path:
    """The ztunnel binary, built by tests/ztunnelbuild/build.sh if missing (10-20 minutes cold)."""
    if os.access(BINARY, os.X_OK):
        return BINARY
    try:
        result = run_with_heartbeat("ztunnel (cargo)", [str(BUILD_SCRIPT)], BUILD_LOG, timeout=BUILD_TIMEOUT,
                                    say=say, cwd=str(REPO), writes_own_log=True)
    except subprocess.TimeoutExpired:
        raise ZtunnelUnavailable(f"ztunnel build did not finish in {BUILD_TIMEOUT:.0f}s; "
                                 f"{BUILD_LOG} tail:\n{tail(BUILD_LOG)}") from None
    if result.returncode != 0 or not os.access(BINARY, os.X_OK):
        raise ZtunnelUnavailable(f"ztunnel build failed (exit {result.returncode}); {BUILD_LOG} tail:\n"
                                 f"{tail(BUILD_LOG)}")
    return BINARY


def request_token(api, pod_name: str, pod_uid: str) -> str:
    """A token for ServiceAccount istio-system/ztunnel, audience istio-ca, bound to the ztunnel Pod."""
    from kubernetes import client

    body = client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(
        audiences=["istio-ca"], expiration_seconds=TOKEN_SECONDS,
        bound_object_ref=client.V1BoundObjectReference(api_version="v1", kind="Pod", name=pod_name, uid=pod_uid)))
    return client.CoreV1Api(api).create_namespaced_service_account_token(SERVICE_ACCOUNT, ISTIO_NS, body).status.token


def root_certificate(api, timeout: float = 60) -> str:
    """istiod's root certificate, as it publishes it (ConfigMap istio-ca-root-cert in istio-system)."""
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    core = client.CoreV1Api(api)
    deadline = time.monotonic() + timeout
    while True:
        try:
            return core.read_namespaced_config_map("istio-ca-root-cert", ISTIO_NS).data["root-cert.pem"]
        except (ApiException, KeyError, TypeError) as exc:
            if time.monotonic() > deadline:
                raise ZtunnelUnavailable(f"ConfigMap {ISTIO_NS}/istio-ca-root-cert never appeared "
                                         f"(istiod writes it): {exc}") from None
            time.sleep(0.5)


def _write_secret(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def ztunnel_env(workdir: Path, node: str, pod_name: str, pod_ip: str, root_pem: str) -> dict[str, str]:
    """The environment the ztunnel DaemonSet gives the container, minus what needs a real pod."""
    istiod = f"https://127.0.0.1:{INSIDE_ISTIOD_PORT}"
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "RUST_LOG": "info",
        "PROXY_MODE": "shared",
        "NODE_NAME": node,
        "POD_NAME": pod_name,
        "POD_NAMESPACE": ISTIO_NS,
        "SERVICE_ACCOUNT": SERVICE_ACCOUNT,
        "INSTANCE_IP": pod_ip,
        "CLUSTER_ID": "Kubernetes",
        "ISTIO_META_CLUSTER_ID": "Kubernetes",
        "ISTIO_META_ENABLE_HBONE": "true",
        "XDS_ADDRESS": istiod,
        "CA_ADDRESS": istiod,
        "ALT_XDS_HOSTNAME": ISTIOD_HOST,
        "ALT_CA_HOSTNAME": ISTIOD_HOST,
        "XDS_ROOT_CA": root_pem,
        "CA_ROOT_CA": root_pem,
        "INPOD_UDS": str(workdir / "ztunnel.sock"),
        # A short grace period: SIGTERM drains for about a second, not the DaemonSet's 30 s.
        "TERMINATION_GRACE_PERIOD_SECONDS": "2",
        "ZTUNNEL_WORKER_THREADS": "1",
    }


@dataclass
class LocalZtunnel:
    """One ztunnel process standing in for the process of one ztunnel Pod."""

    node: str
    pod: str
    process: subprocess.Popen
    workdir: Path
    log_path: Path
    netns: NetNamespace
    relays: dict[str, Relay] = field(default_factory=dict)

    @property
    def admin_port(self) -> int:
        """Host port (127.0.0.1) that reaches this ztunnel's admin port 15000."""
        return self.relays["admin"].listen_port

    @property
    def stats_port(self) -> int:
        return self.relays["stats"].listen_port

    def get(self, path: str, timeout: float = 5) -> bytes:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}{path}", timeout=timeout) as response:
            return response.read()

    def config_dump(self) -> dict:
        return json.loads(self.get("/config_dump"))

    def log_tail(self, lines: int = 40) -> str:
        """The log's last lines, without the retry warnings about the CNI socket (no CNI runs here)."""
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return f"(no log at {self.log_path})"
        return "\n".join([x for x in text if CNI_RETRY not in x][-lines:])

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM (ztunnel drains), then SIGKILL after a timeout; then the relays and the namespace."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        for relay in self.relays.values():
            relay.close()
        self.netns.close()
        (self.workdir / TOKEN_PATH).unlink(missing_ok=True)  # the log stays for post-mortems


def start_ztunnel(binary: Path, api, istiod_grpc_port: int, pod, timeout: float = START_TIMEOUT) -> LocalZtunnel:
    """Run ztunnel for the ztunnel Pod ``pod`` (a V1Pod) until its admin port answers.

    Raises ZtunnelUnavailable with the log tail if it exits or never answers."""
    name, node = pod.metadata.name, pod.spec.node_name
    workdir = Path(tempfile.mkdtemp(prefix=f"ztunnel-{node}-"))
    log_path = workdir / "ztunnel.log"
    root_pem = root_certificate(api)
    _write_secret(workdir / TOKEN_PATH, request_token(api, name, pod.metadata.uid))
    try:
        netns = NetNamespace()
    except NetnsUnavailable as exc:
        raise ZtunnelUnavailable(f"cannot give the ztunnel for {node} a network namespace of its own: {exc}") from None
    relays: dict[str, Relay] = {}
    try:
        relays["istiod"] = namespace_to_host(netns, INSIDE_ISTIOD_PORT, istiod_grpc_port, f"{node}-istiod")
        relays["admin"] = host_to_namespace(netns, ADMIN_PORT, f"{node}-admin")
        relays["stats"] = host_to_namespace(netns, STATS_PORT, f"{node}-stats")
        with open(log_path, "wb") as log:
            process = subprocess.Popen(netns.enter() + [str(binary)], cwd=workdir,
                                       env=ztunnel_env(workdir, node, name, pod.status.pod_ip or "", root_pem),
                                       stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
    except BaseException:
        for relay in relays.values():
            relay.close()
        netns.close()
        raise
    ztunnel = LocalZtunnel(node, name, process, workdir, log_path, netns, relays)
    try:
        _wait_answering(ztunnel, timeout)
    except BaseException:  # also on Ctrl-C: never leave a ztunnel or its namespace behind
        ztunnel.stop()
        raise
    return ztunnel


def _wait_answering(ztunnel: LocalZtunnel, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ztunnel.process.poll() is not None:
            raise ZtunnelUnavailable(f"ztunnel for {ztunnel.node} exited with {ztunnel.process.returncode}:\n"
                                     f"{ztunnel.log_tail()}")
        try:
            ztunnel.get("/config_dump", timeout=2)
            return
        except (urllib.error.URLError, OSError, ValueError):
            time.sleep(0.3)
    raise ZtunnelUnavailable(f"ztunnel for {ztunnel.node}: admin port not answering after {timeout:.0f}s:\n"
                             f"{ztunnel.log_tail()}")


def ztunnel_pods(api, timeout: float = 120) -> list:
    """The ztunnel DaemonSet's pods, one Running pod per node (waits for them)."""
    from kubernetes import client

    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    deadline = time.monotonic() + timeout
    while True:
        wanted = apps.read_namespaced_daemon_set("ztunnel", ISTIO_NS).status.desired_number_scheduled or 0
        pods = [p for p in core.list_namespaced_pod(ISTIO_NS, label_selector="app=ztunnel").items
                if p.status.phase == "Running" and p.spec.node_name and not p.metadata.deletion_timestamp]
        if wanted and len({p.spec.node_name for p in pods}) == wanted == len(pods):
            return sorted(pods, key=lambda p: p.spec.node_name)
        if time.monotonic() > deadline:
            raise ZtunnelUnavailable(f"the ztunnel DaemonSet has {len(pods)} Running pods, wants {wanted}")
        time.sleep(0.5)


class ZtunnelFleet:
    """A real ztunnel for every ztunnel Pod, each reached through kwok's port-forward of that pod.

    ``forward_pod(ns, pod, {pod_port: local_port})`` and ``unforward_pod(ns, pod)`` are the
    test cluster's (tests/support/cluster.py :class:`Cluster`)."""

    def __init__(self, binary: Path, api, istiod_grpc_port: int, forward_pod, unforward_pod) -> None:
        self.binary = binary
        self.api = api
        self.istiod_grpc_port = istiod_grpc_port
        self.forward_pod = forward_pod
        self.unforward_pod = unforward_pod
        self.by_node: dict[str, LocalZtunnel] = {}

    def start(self) -> "ZtunnelFleet":
        try:
            for pod in ztunnel_pods(self.api):
                zt = start_ztunnel(self.binary, self.api, self.istiod_grpc_port, pod)
                self.by_node[zt.node] = zt
                self.forward_pod(ISTIO_NS, zt.pod, {ADMIN_PORT: zt.admin_port, STATS_PORT: zt.stats_port})
        except BaseException:
            self.stop()
            raise
        return self

    def wait_synced(self, timeout: float = 60) -> None:
        """Until every ztunnel has received workloads from istiod (its XDS stream works)."""
        deadline = time.monotonic() + timeout
        for zt in self.by_node.values():
            while True:
                if not zt.alive():
                    raise ZtunnelUnavailable(f"ztunnel for {zt.node} exited:\n{zt.log_tail()}")
                try:
                    if zt.config_dump().get("workloads"):
                        break
                except (urllib.error.URLError, OSError, ValueError):
                    pass
                if time.monotonic() > deadline:
                    raise ZtunnelUnavailable(f"ztunnel for {zt.node} got no workloads from istiod in "
                                             f"{timeout:.0f}s:\n{zt.log_tail()}")
                time.sleep(0.5)

    def log_tails(self, lines: int = 15) -> str:
        return "\n".join(f"---- ztunnel {node} ----\n{zt.log_tail(lines)}" for node, zt in self.by_node.items())

    def stop(self) -> None:
        for zt in list(self.by_node.values()):
            try:
                self.unforward_pod(ISTIO_NS, zt.pod)
            except Exception:  # noqa: BLE001 - the cluster may be gone; the process must still stop
                pass
            zt.stop()
        self.by_node.clear()
