"""The one waypoint rule end to end in-process: a `--gateway-class X` waypoint is a waypoint to every command.

`waypoint apply --gateway-class X` makes it; `waypoint list`, `analyze`,
`x graph` and `dataplane unenroll` (which refuses while waypoints exist)
then all see it, and none of them takes an ordinary Gateway of class X for a
waypoint. (uninstall's check: tests/unit/test_gateways.py and the e2e test.)
"""

from __future__ import annotations

from ambientctl.errors import ExitCode
from tests.support.fakekube import FakeKube, invoke_with

CLASS = "custom-class"


def cluster_with_custom_waypoint() -> FakeKube:
    fake = FakeKube()
    fake.add({"apiVersion": "v1", "kind": "Namespace",
              "metadata": {"name": "shop", "labels": {"istio.io/dataplane-mode": "ambient"}}})
    applied = invoke_with(fake, "-n", "shop", "waypoint", "apply", "--name", "custom-wp", "--gateway-class", CLASS)
    assert applied.exit_code == 0, applied.stderr
    fake.add({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
              "metadata": {"name": "ingress", "namespace": "shop"},
              "spec": {"gatewayClassName": CLASS, "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]}})
    for name in ("custom-wp", "ingress"):  # Services named like the Gateways: AMB0011 for waypoints only
        fake.add({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "shop"},
                  "spec": {"selector": {"app": name}, "ports": [{"port": 80}]}})
    return fake


def test_waypoint_list() -> None:
    result = invoke_with(cluster_with_custom_waypoint(), "-n", "shop", "waypoint", "list", "-o", "json")
    assert [(w["name"], w["gatewayClass"]) for w in result.json["waypoints"]] == [("custom-wp", CLASS)]


def test_analyze() -> None:
    result = invoke_with(cluster_with_custom_waypoint(), "-n", "shop", "analyze", "-o", "json")
    assert [m["origin"] for m in result.json if m["code"] == "AMB0011"] == ["Gateway shop/custom-wp"]


def test_graph() -> None:
    result = invoke_with(cluster_with_custom_waypoint(), "-n", "shop", "x", "graph")
    assert result.exit_code == 0, result.stderr
    assert "waypoint custom-wp (not Programmed, for service, 0 pod(s))" in result.stdout
    assert "waypoint ingress" not in result.stdout


def test_dataplane_unenroll_refuses_while_it_exists() -> None:
    result = invoke_with(cluster_with_custom_waypoint(), "dataplane", "unenroll", "shop")
    assert result.exit_code == ExitCode.USAGE, result.stderr
    assert "waypoint custom-wp" in result.stderr and "waypoint ingress" not in result.stderr
