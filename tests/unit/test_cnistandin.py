"""The istio-cni stand-in's decision (tests/support/cnistandin.py): which pods get the redirection annotation."""

from __future__ import annotations

from types import SimpleNamespace as NS

import pytest

from tests.support.cnistandin import wants_redirection


def pod(namespace="apps", labels=None, annotations=None, host_network=False, phase="Running", ip="10.244.1.2",
        deleting=False):
    return NS(metadata=NS(namespace=namespace, labels=labels, annotations=annotations,
                          deletion_timestamp="now" if deleting else None),
              spec=NS(host_network=host_network), status=NS(phase=phase, pod_ip=ip))


def test_running_pod_of_an_ambient_namespace_is_redirected():
    assert wants_redirection(pod(), {"apps"})


@pytest.mark.parametrize("changed", [
    {"namespace": "other"},
    {"labels": {"istio.io/dataplane-mode": "none"}},
    {"host_network": True},
    {"annotations": {"sidecar.istio.io/status": "{}"}},
    {"phase": "Pending"},
    {"ip": None},
    {"deleting": True},
], ids=["namespace-not-ambient", "pod-opts-out", "host-network", "sidecar", "pending", "no-ip", "deleting"])
def test_pods_istio_cni_would_leave_alone(changed):
    assert not wants_redirection(pod(**changed), {"apps"})
