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
from typing import Iterator

import pytest

from tests.support import clusterctl
from tests.support.cluster import Cluster, cluster_instance
from tests.support.istiod import local_istiod  # noqa: F401
from tests.support.reference import istioctl_bin, pilot_discovery_bin, reference_binaries  # noqa: F401

PARITY_STATE = os.environ.get("AMBIENTCTL_PARITY_CLUSTER_STATE") or os.path.join(clusterctl.CACHE, "parity-state")


@pytest.fixture(scope="session")
def parity_cluster() -> Iterator[Cluster]:
    """A test cluster of our own (see module docstring); reused if already running."""
    yield from cluster_instance(PARITY_STATE)
