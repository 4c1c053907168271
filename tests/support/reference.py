"""The reference Istio binaries (istioctl, pilot-discovery) for the side-by-side tests.

Built once from Istio's Go module by ``tests/reference/build.sh`` into
``~/.cache/ambientctl/reference/<pseudo-version>/bin`` (outside the checkout).
The session fixtures build them if missing.  If the build fails (no Go, no
network to the module proxy, ...), every test that needs them is SKIPPED with
the build log's tail as the reason: the ONE allowed skip in this suite, because
parity cannot be measured without the thing we compare against.

Use from a conftest: ``from tests.support.reference import istioctl_bin, pilot_discovery_bin``.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO / "tests" / "reference" / "build.sh"
ISTIO_PSEUDO_VERSION = "v0.0.0-20260827124520-eed52ebb66ad"
REFERENCE_ISTIO_VERSION = "1.31.0"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ambientctl" / "reference" / ISTIO_PSEUDO_VERSION
BIN_DIR = CACHE / "bin"
BUILD_LOG = CACHE / "build.log"
# Written by tests/parity/test_install.py, read by benchmarks/run.py.
INSTALL_REQUESTS = CACHE / "install-requests.json"
# A cold build of both binaries on 2 cores takes tens of minutes.
BUILD_TIMEOUT = int(os.environ.get("AMBIENTCTL_REFERENCE_BUILD_TIMEOUT", "5400"))


@dataclass(frozen=True)
class Binaries:
    istioctl: Path
    pilot_discovery: Path


def binary_path(name: str) -> Path:
    return BIN_DIR / name


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no build log)"


def ensure_built() -> Binaries | str:
    """The binaries (building them if missing), or the reason they cannot be had."""
    wanted = Binaries(binary_path("istioctl"), binary_path("pilot-discovery"))
    if wanted.istioctl.exists() and wanted.pilot_discovery.exists():
        return wanted
    CACHE.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        with open(BUILD_LOG, "a") as log:
            result = subprocess.run([str(BUILD_SCRIPT)], stdout=log, stderr=subprocess.STDOUT,
                                    timeout=BUILD_TIMEOUT, cwd=REPO)
    except FileNotFoundError as e:
        return f"cannot run {BUILD_SCRIPT}: {e}"
    except subprocess.TimeoutExpired:
        return f"reference build did not finish in {BUILD_TIMEOUT}s; log tail:\n{_tail(BUILD_LOG)}"
    if result.returncode != 0 or not (wanted.istioctl.exists() and wanted.pilot_discovery.exists()):
        return (f"reference build failed (exit {result.returncode}, {time.monotonic() - started:.0f}s); "
                f"log {BUILD_LOG} tail:\n{_tail(BUILD_LOG)}")
    return wanted


@pytest.fixture(scope="session")
def reference_binaries() -> Binaries:
    outcome = ensure_built()
    if isinstance(outcome, str):
        pytest.skip("PARITY NOT MEASURED — the reference Istio binaries could not be built. " + outcome)
    return outcome


@pytest.fixture(scope="session")
def istioctl_bin(reference_binaries: Binaries) -> Path:
    """Path to the reference istioctl (Istio 1.31, built from the Go module)."""
    return reference_binaries.istioctl


@pytest.fixture(scope="session")
def pilot_discovery_bin(reference_binaries: Binaries) -> Path:
    """Path to the reference pilot-discovery (istiod's binary)."""
    return reference_binaries.pilot_discovery
