"""mesh.load reads the cluster's kinds concurrently (issue 17) and keeps the sequential order and errors."""

from __future__ import annotations

import threading

import pytest

from ambientctl.errors import ClusterUnreachableError, ForbiddenError
from ambientctl.mesh.load import READERS, load_cluster, read_concurrently
from tests.support.fakekube import FakeKube
from tests.unit.test_analyze import ns, pod, service, waypoint


def test_reads_overlap_and_come_back_in_the_order_given():
    barrier = threading.Barrier(READERS, timeout=10)  # passes only if READERS reads are in flight at once

    def read(i):
        def run(notes):
            barrier.wait()
            notes.append(f"note {i}")
            return i
        return run

    results = read_concurrently([read(i) for i in range(READERS)])
    assert results == [(i, [f"note {i}"]) for i in range(READERS)]


def test_the_first_failing_read_in_order_raises():
    def fail(error):
        def run(notes):
            raise error
        return run

    first, second = ForbiddenError("first"), ClusterUnreachableError("second")
    with pytest.raises(ForbiddenError):
        read_concurrently([lambda notes: 1, fail(first), fail(second)])


def test_a_failure_raises_without_waiting_for_reads_in_flight():
    """Ctrl-C or an error must not wait for a slow LIST (10,000 pods: seconds) still running beside it."""
    release = threading.Event()
    ran = []

    def slow(notes):
        release.wait(10)
        return "slow"

    def interrupted(notes):
        raise KeyboardInterrupt

    def later(notes):
        ran.append("later")

    reads = [interrupted, slow] + [slow] * READERS + [later]
    try:
        with pytest.raises(KeyboardInterrupt):
            read_concurrently(reads)
        assert not release.is_set()  # raised while the slow reads were still blocked
        assert ran == []             # the read queued behind them was cancelled, never run
    finally:
        release.set()


def test_load_cluster_adds_every_kind_in_order_with_its_notes():
    objects = [ns("a", **{"istio.io/dataplane-mode": "ambient"}), ns("b"),
               pod("p1", "sa", "x", namespace="a"), pod("p2", "sa", "x", namespace="b"),
               service("s", "x", namespace="a"), waypoint("w", namespace="a")]
    kube = FakeKube(objects)
    kube.deny("AuthorizationPolicy", "list")
    kube.deny("VirtualService", "list")
    state = load_cluster(kube, None, "istio-system", istio_analyzer_kinds=True)
    assert sorted(state.namespaces) == ["a", "b"]
    assert [p["metadata"]["name"] for p in state.pods] == ["p1", "p2"]
    assert [w["metadata"]["name"] for w in state.waypoints()] == ["w"] and state.gateway_api is True
    assert [n.split(" (")[0] for n in state.unreadable] == [
        "not allowed to list AuthorizationPolicy objects", "not allowed to list VirtualService objects"]
