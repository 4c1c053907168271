"""Shared e2e helpers: polling with a deadline, and the test cluster's fixed facts."""

from __future__ import annotations

import time
from typing import Any, Callable

import pytest

# The image simulated pods claim to run (kwok never pulls it).
IMAGE = "registry.k8s.io/pause:3.10"
# The nodes `tests/cluster up` registers, named like the guide's kind cluster.
NODES = ("ambient-control-plane", "ambient-worker", "ambient-worker2")


def wait_until(what: str, fn: Callable[[], Any], timeout: float = 60, interval: float = 0.5) -> Any:
    """Call `fn` until it returns something truthy; fail the test with the last value at the deadline."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
