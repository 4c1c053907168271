"""The real control and data plane behind the test cluster: istiod, istio-cni's effect, ztunnel.

The chain:  kube-apiserver (+ kwok)  ->  istiod (local pilot-discovery)  ->  ztunnel (one
local process per node, each in its own network namespace)  ->  kwok's per-pod port-forward
->  ambientctl.  Used by tests/e2e/test_real_dataplane.py and by `make demo`
(scripts/walkthrough.py).  Real: kube-apiserver, istiod (XDS, CA, gateway controller),
ztunnel (XDS client, certificate prefetch, admin API).  Stand-in: istio-cni's node agent
(tests/support/cnistandin.py, it only sets the redirection annotation); no traffic flows.

Start it after the control plane's objects are installed (`ambientctl install`): istiod reads
its mesh config and templates from the cluster, ztunnel needs the ztunnel DaemonSet's pods.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from tests.support import reference
from tests.support.cnistandin import CniStandIn
from tests.support.istiod import LocalIstiod, start_istiod
from tests.support.progress import run_with_heartbeat, say_stderr, tail
from tests.support.ztunnel import ZtunnelFleet, ZtunnelUnavailable
from tests.support import ztunnel as zt


class RealMeshUnavailable(RuntimeError):
    """A component could not be built or started; the message names it and carries its log tail."""


def build_pilot_discovery(say: Callable[[str], None] = say_stderr) -> Path:
    """istiod's binary (pilot-discovery, with istioctl) from tests/reference/build.sh, cached."""
    binary = reference.binary_path("pilot-discovery")
    if os.access(binary, os.X_OK) and os.access(reference.binary_path("istioctl"), os.X_OK):
        return binary
    result = run_with_heartbeat("istioctl + pilot-discovery (go)", [str(reference.BUILD_SCRIPT)],
                                reference.BUILD_LOG, timeout=reference.BUILD_TIMEOUT, say=say,
                                cwd=str(reference.REPO))
    if result.returncode != 0 or not os.access(binary, os.X_OK):
        raise RealMeshUnavailable(f"building istiod (pilot-discovery) failed (exit {result.returncode}); "
                                  f"{reference.BUILD_LOG} tail:\n{tail(reference.BUILD_LOG)}")
    return binary


def build_ztunnel(say: Callable[[str], None] = say_stderr) -> Path:
    try:
        return zt.ensure_built(say)
    except ZtunnelUnavailable as exc:
        raise RealMeshUnavailable(str(exc)) from None


class BackgroundBuild:
    """One build on a thread, so that it overlaps with other work; ``result()`` waits for it."""

    def __init__(self, build: Callable[[Callable[[str], None]], Path], say: Callable[[str], None]) -> None:
        self._outcome: list = []
        self._thread = threading.Thread(target=self._run, args=(build, say), daemon=True)
        self._thread.start()

    def _run(self, build, say) -> None:
        try:
            self._outcome.append(build(say))
        except BaseException as exc:  # noqa: BLE001 - re-raised by result()
            self._outcome.append(exc)

    def result(self) -> Path:
        self._thread.join()
        if isinstance(self._outcome[0], BaseException):
            raise self._outcome[0]
        return self._outcome[0]


@dataclass
class RealMesh:
    """istiod + the istio-cni stand-in + a ztunnel per node, against one test cluster."""

    cluster: object  # tests.support.cluster.Cluster
    istiod: LocalIstiod | None = None
    cni: CniStandIn | None = None
    ztunnels: ZtunnelFleet | None = None
    stops: list = field(default_factory=list)

    def start(self, pilot_discovery: Path, ztunnel_binary: Path) -> "RealMesh":
        """Start everything; raises RealMeshUnavailable (with log tails) and stops what started."""
        try:
            self._start(pilot_discovery, ztunnel_binary)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, pilot_discovery: Path, ztunnel_binary: Path) -> None:
        api = self.cluster.api_client()
        try:
            self.istiod = start_istiod(pilot_discovery, self.cluster.kubeconfig)
        except RuntimeError as exc:
            raise RealMeshUnavailable(f"the real istiod could not start: {exc}") from None
        self.stops.append(self.istiod.stop)
        self.cni = CniStandIn(api).start()
        self.stops.append(self.cni.stop)
        self.ztunnels = ZtunnelFleet(ztunnel_binary, api, self.istiod.secure_grpc_port,
                                     self.cluster.forward_pod, self.cluster.unforward_pod)
        self.stops.append(self.ztunnels.stop)
        try:
            self.ztunnels.start()
            self.ztunnels.wait_synced()
        except ZtunnelUnavailable as exc:
            raise RealMeshUnavailable(f"the real ztunnel could not run: {exc}\n"
                                      f"---- istiod log ----\n{self.istiod.log_tail(20)}") from None

    def log_tails(self) -> str:
        parts = []
        if self.istiod:
            parts.append(f"---- istiod ----\n{self.istiod.log_tail(20)}")
        if self.ztunnels:
            parts.append(self.ztunnels.log_tails())
        return "\n".join(parts)

    def stop(self) -> None:
        while self.stops:
            self.stops.pop()()
