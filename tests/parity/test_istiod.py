"""The real istiod programs a waypoint that `ambientctl waypoint apply --wait` created.

istiod (pilot-discovery from Istio's Go module) runs as a local process against
the private test cluster (tests/support/istiod.py), once over a control plane
installed by istioctl and once over one installed by ambientctl.  Its gateway
deployment controller must create the waypoint's Deployment and Service, kwok
makes the pods Ready, istiod marks the Gateway Programmed, `apply --wait`
returns, and `waypoint status` shows Istio's own conditions: the same
Programmed row as `istioctl waypoint status`."""

from __future__ import annotations

import uuid

import pytest
import yaml

from tests.parity.controlplane import reinstall_istio
from tests.parity.tools import ambientctl_subprocess, istioctl, parse_table

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", params=["istioctl", "ambientctl"], ids=lambda t: f"installed-by-{t}")
def istio_control_plane(request, istioctl_bin, parity_cluster) -> str:
    """Istio installed on the private cluster by the tool of the parameter; its admin kubeconfig."""
    kubeconfig = parity_cluster.kubeconfig
    reinstall_istio(request.param, istioctl_bin, kubeconfig)
    return kubeconfig


@pytest.fixture
def parity_namespace(parity_cluster):
    from kubernetes import client

    core = client.CoreV1Api(parity_cluster.api_client())
    name = f"parity-{uuid.uuid4().hex[:8]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)


def test_the_installed_injector_can_deploy_waypoints(istio_control_plane, parity_cluster):
    """istiod's gateway deployment controller renders waypoints from the injector's `waypoint` template."""
    from kubernetes import client

    cm = client.CoreV1Api(parity_cluster.api_client()).read_namespaced_config_map(
        "istio-sidecar-injector", "istio-system")
    templates = (yaml.safe_load(cm.data["config"]) or {}).get("templates") or {}
    assert "waypoint" in templates, (
        f"istio-sidecar-injector has templates {sorted(templates)}: istiod cannot deploy a waypoint "
        "(it logs: no \"waypoint\" template defined)")


def test_waypoint_applied_by_ambientctl_is_programmed_by_istiod(local_istiod, parity_cluster, parity_namespace,
                                                                 istioctl_bin):
    from kubernetes import client, dynamic

    kubeconfig = parity_cluster.kubeconfig
    applied = ambientctl_subprocess("-n", parity_namespace, "waypoint", "apply", "--wait",
                                    "--waypoint-timeout", "90s", kubeconfig=kubeconfig, timeout=300)
    assert applied.ok, f"{applied}\n--- istiod log ---\n{local_istiod.log_tail(15)}"

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
    columns = ("NAME", "STATUS", "TYPE", "REASON", "MESSAGE")
    assert {k: their_row[k] for k in columns} == {k: rows["Programmed"][k] for k in columns}
