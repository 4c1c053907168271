"""The real istiod programs a waypoint that `ambientctl waypoint apply --wait` created.

istiod (pilot-discovery from Istio's Go module) runs as a local process against
the private test cluster (tests/support/istiod.py).  Its gateway deployment
controller must create the waypoint's Deployment and Service, kwok makes the
pods Ready, istiod marks the Gateway Programmed, `apply --wait` returns, and
`waypoint status` shows Istio's own conditions (the same row istioctl shows)."""

from __future__ import annotations

import uuid

import pytest

from tests.parity.tools import ambientctl_subprocess, istioctl, parse_table

pytestmark = pytest.mark.e2e


@pytest.fixture
def parity_namespace(parity_cluster):
    from kubernetes import client

    core = client.CoreV1Api(parity_cluster.api_client())
    name = f"parity-{uuid.uuid4().hex[:8]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)


def test_waypoint_applied_by_ambientctl_is_programmed_by_istiod(local_istiod, parity_cluster, parity_namespace,
                                                                 istioctl_bin):
    from kubernetes import client, dynamic

    kubeconfig = parity_cluster.kubeconfig
    applied = ambientctl_subprocess("-n", parity_namespace, "waypoint", "apply", "--wait",
                                    "--waypoint-timeout", "120s", kubeconfig=kubeconfig, timeout=300)
    assert applied.ok, f"{applied}\n--- istiod log ---\n{local_istiod.log_tail()}"

    api = parity_cluster.api_client()
    deployment = client.AppsV1Api(api).read_namespaced_deployment("waypoint", parity_namespace)
    owners = {(o.kind, o.name) for o in deployment.metadata.owner_references or []}
    assert ("Gateway", "waypoint") in owners, "the waypoint Deployment was not made by istiod's controller"
    client.CoreV1Api(api).read_namespaced_service("waypoint", parity_namespace)

    gateways = dynamic.DynamicClient(api).resources.get(api_version="gateway.networking.k8s.io/v1", kind="Gateway")
    conditions = {c["type"]: c for c in gateways.get(name="waypoint", namespace=parity_namespace)
                  .to_dict()["status"]["conditions"]}
    programmed = conditions["Programmed"]
    assert programmed["status"] == "True"

    ours = ambientctl_subprocess("-n", parity_namespace, "waypoint", "status", kubeconfig=kubeconfig)
    assert ours.ok, ours
    rows = {row["TYPE"]: row for row in parse_table(ours.stdout)}
    assert rows["Programmed"]["STATUS"] == "True"
    assert rows["Programmed"]["REASON"] == programmed["reason"]
    assert rows["Programmed"]["MESSAGE"] == programmed["message"]

    theirs = istioctl(istioctl_bin, "waypoint", "status", "-n", parity_namespace, kubeconfig=kubeconfig)
    assert theirs.ok, theirs
    [their_row] = parse_table(theirs.stdout)
    assert {k: their_row[k] for k in ("NAME", "STATUS", "TYPE", "REASON", "MESSAGE")} == \
        {k: rows["Programmed"][k] for k in ("NAME", "STATUS", "TYPE", "REASON", "MESSAGE")}
