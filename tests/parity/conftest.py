"""Side-by-side tests: the reference istioctl/istiod fixtures (built from Istio's Go module),
and a private instance of the test cluster for the tests that install Istio.

Why a private cluster: `istioctl install`/`uninstall --purge` change cluster-scoped
objects (CRDs, webhooks, ClusterRoles) that other e2e tests running on the shared
cluster at the same time rely on.  `tests/cluster up` with its own state dir gives
the same kind of cluster (v1.36.3, kwok, 3 nodes, Gateway API v1.6.0) on its own ports.
Stop it with:  AMBIENTCTL_CLUSTER_STATE=~/.cache/ambientctl/cluster/parity-state tests/cluster down
"""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.support.cluster import CLUSTER_SCRIPT, UP_TIMEOUT, Cluster, _tail
from tests.support.istiod import local_istiod  # noqa: F401
from tests.support.reference import istioctl_bin, pilot_discovery_bin, reference_binaries  # noqa: F401

PARITY_STATE = os.environ.get("AMBIENTCTL_PARITY_CLUSTER_STATE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "ambientctl", "cluster", "parity-state")


@pytest.fixture(scope="session")
def parity_cluster() -> Cluster:
    """A test cluster of our own (see module docstring); reused if already running."""
    env = dict(os.environ, AMBIENTCTL_CLUSTER_STATE=PARITY_STATE)
    result = subprocess.run([CLUSTER_SCRIPT, "up"], capture_output=True, text=True, env=env, timeout=UP_TIMEOUT)
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines or not lines[-1].startswith("KUBECONFIG="):
        pytest.fail(f"tests/cluster up (state {PARITY_STATE}) failed:\n{_tail(result.stderr)}", pytrace=False)
    cluster = Cluster.from_state(PARITY_STATE)
    yield cluster
    if os.environ.get("AMBIENTCTL_CLUSTER_DOWN") == "1":
        subprocess.run([CLUSTER_SCRIPT, "down"], env=env, capture_output=True, timeout=120)
