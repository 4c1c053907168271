"""One rule for "is this Gateway a waypoint?" on the real test cluster (issue 13).

A waypoint made with `waypoint apply --gateway-class X` (any class: ours by
its owner labels) is a waypoint to `waypoint list`, `analyze`, `x graph` and
uninstall's remaining-waypoints check alike; an ordinary Gateway of another
class is a waypoint to none of them.
"""

from __future__ import annotations

import pytest
from kubernetes import client

from tests.support.cli import invoke

pytestmark = pytest.mark.e2e

GW = ("gateway.networking.k8s.io", "v1", "gateways")
CLASS = "e2e-custom-waypoint-class"


def run(cluster, *args):
    return invoke("-c", cluster.kubeconfig, *args)


@pytest.fixture
def custom_waypoint(cluster, namespace):
    """`waypoint apply --gateway-class CLASS` in the namespace, beside an ingress-style Gateway of the same class."""
    result = run(cluster, "-n", namespace, "waypoint", "apply", "--name", "custom-wp", "--gateway-class", CLASS)
    assert result.exit_code == 0, result.stderr
    client.CustomObjectsApi(cluster.api_client()).create_namespaced_custom_object(*GW[:2], namespace, GW[2], {
        "apiVersion": "/".join(GW[:2]), "kind": "Gateway", "metadata": {"name": "ingress"},
        "spec": {"gatewayClassName": CLASS, "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]}})
    return "custom-wp"


def test_waypoint_list_sees_it(cluster, namespace, custom_waypoint):
    result = run(cluster, "-n", namespace, "waypoint", "list", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert [(w["name"], w["gatewayClass"]) for w in result.json["waypoints"]] == [(custom_waypoint, CLASS)]


def test_analyze_sees_it(cluster, namespace, custom_waypoint):
    """AMB0011 (waypoint named like an existing Service) fires only for Gateways analyze takes for waypoints."""
    core = client.CoreV1Api(cluster.api_client())
    for name in (custom_waypoint, "ingress"):
        core.create_namespaced_service(namespace, client.V1Service(
            metadata=client.V1ObjectMeta(name=name),
            spec=client.V1ServiceSpec(selector={"app": name}, ports=[client.V1ServicePort(port=80)])))
    result = run(cluster, "-n", namespace, "analyze", "-o", "json")
    found = [(m["code"], m["origin"]) for m in result.json if m["code"] == "AMB0011"]
    assert found == [("AMB0011", f"Gateway {namespace}/{custom_waypoint}")], result.stdout


def test_graph_sees_it(cluster, namespace, custom_waypoint):
    result = run(cluster, "-n", namespace, "x", "graph")
    assert result.exit_code == 0, result.stderr
    assert f"waypoint {custom_waypoint} (not Programmed, for service, 0 pod(s))" in result.stdout
    assert "waypoint ingress" not in result.stdout


def test_uninstall_check_sees_it(cluster, namespace, custom_waypoint):
    """An object install would own makes the plan non-empty; the dry run lists what would block uninstall."""
    core = client.CoreV1Api(cluster.api_client())
    core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(
        name="e2e-owned", labels={"ambientctl.dev/managed-by": "ambientctl", "ambientctl.dev/component": "Pilot",
                                  "ambientctl.dev/revision": "default"})))
    result = run(cluster, "uninstall", "--purge", "--dry-run", "-y")
    assert result.exit_code == 0, result.stderr
    assert (f"waypoint {namespace}/{custom_waypoint} (class {CLASS}) exists (uninstall would refuse without --force)"
            in result.stderr)
    assert f"waypoint {namespace}/ingress" not in result.stderr
