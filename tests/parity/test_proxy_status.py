"""`proxy-status` against the REAL istiod (pilot-discovery, out of cluster: tests/support/istiod.py)
beside the reference istioctl asking the same istiod.

ambientctl reads istiod's HTTP debug endpoint `/debug/syncz` on the monitoring port (here
directly: `--istiod-address 127.0.0.1:PORT`); istioctl asks over XDS (`--xds-address` on the
secure gRPC port, with a token from the cluster).  Whatever proxies are connected at that moment
(none on a bare control plane: then both print only the header) must give the same rows."""

from __future__ import annotations

import pytest

from tests.parity.compare import classify, diff_tables, load_known_differences
from tests.parity.controlplane import reinstall_istio
from tests.parity.tools import ambientctl, istioctl, parse_table

pytestmark = pytest.mark.e2e
AREA = "envoy-proxy-config"
COMMAND = "proxy-status"


@pytest.fixture(scope="module")
def istio_control_plane(istioctl_bin, parity_cluster) -> str:
    """The control plane's objects, installed by ambientctl (istiod reads its config from them)."""
    kubeconfig = parity_cluster.kubeconfig
    reinstall_istio("ambientctl", istioctl_bin, kubeconfig)
    return kubeconfig


def _known(command: str) -> list:
    return [k for k in load_known_differences(AREA) if k.object.startswith(command + "/") or k.object == command]


def test_same_proxies_as_istioctl(local_istiod, istio_control_plane, istioctl_bin):
    address = f"127.0.0.1:{local_istiod.monitoring_port}"
    ours = ambientctl("proxy-status", "--istiod-address", address, kubeconfig=istio_control_plane)
    theirs = istioctl(istioctl_bin, "proxy-status", "--xds-address", f"127.0.0.1:{local_istiod.secure_grpc_port}",
                      "--insecure", "-i", "istio-system", kubeconfig=istio_control_plane)
    assert ours.ok, f"{ours}\n--- istiod log ---\n{local_istiod.log_tail(15)}"
    assert theirs.ok, f"{theirs}\n--- istiod log ---\n{local_istiod.log_tail(15)}"
    assert ours.stdout.splitlines()[0].split() == theirs.stdout.splitlines()[0].split()
    our_rows, their_rows = parse_table(ours.stdout), parse_table(theirs.stdout)
    differences = diff_tables(COMMAND, our_rows, their_rows, ("NAME",))
    # The ISTIOD column: istioctl shows istiod's POD_NAME (from its XDS answer); over HTTP ambientctl
    # names the istiod it read (its pod, or the --istiod-address given).
    differences = [d for d in differences if not (d.key == "ISTIOD" and d.ours == address)]
    verdict = classify(differences, _known(COMMAND))
    assert verdict.ok, verdict.report()

