"""e2e fixtures shared by the modules, and ordering: the real-data-plane tests run last.

`kube` (a client of the test cluster), `run` (ambientctl against it) and `purge_mesh` (remove every install of
ours) are module-scoped: the install-lifecycle modules (test_install, test_revisions, test_profiles) start from
and leave a cluster without anything of ours. A module whose client needs set-up first (CRDs) overrides `kube`.

Why: they need the ztunnel binary, whose cold build (cargo, 20-40 minutes on 2 cores) scripts/test.sh
starts in the background.  Run last, they find it built while the other tests ran, instead of waiting
for it in the middle of the session.  The order of every other test is unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import pytest

from tests.support.cli import Result, invoke

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient

LAST_MODULES = ("tests/e2e/test_real_dataplane.py",)


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: item.nodeid.split("::")[0] in LAST_MODULES)  # stable: False (0) first


@pytest.fixture(scope="module")
def kube(cluster) -> KubeClient:
    """A client of the test cluster, one per module."""
    from ambientctl.kube.client import KubeClient

    return KubeClient.connect(cluster.kubeconfig)


@pytest.fixture(scope="module")
def run(cluster) -> Callable[..., Result]:
    """`run("install", ...)`: ambientctl in-process against the test cluster (its admin kubeconfig)."""
    def _run(*args: str, stdin: str = "") -> Result:
        return invoke("-c", cluster.kubeconfig, *args, stdin=stdin)
    return _run


@pytest.fixture(scope="module")
def purge_mesh(run) -> Callable[[], None]:
    """`purge_mesh()`: remove everything ambientctl installed, every revision and the CRDs (exit 0 required)."""
    def _purge() -> None:
        result = run("uninstall", "--purge", "--force", "-y")
        assert result.exit_code == 0, result.stderr
    return _purge
