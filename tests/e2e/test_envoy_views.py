"""`pc cluster|listener|route|endpoint|all` on waypoint pods of the test cluster: real pods (kwok), the REAL
port-forward through the API server, and the stand-in admin server (tests/support/standin.py) answering
for every pod's port 15000 with a waypoint-shaped Envoy dump (tests/support/envoydump.py)."""

from __future__ import annotations

import json

import pytest

from ambientctl.proxy.envoy import clusters, endpoints, listeners
from ambientctl.proxy.envoy import dump as envoydump
from tests.e2e.test_proxy_admin import WAYPOINT, _kube, _workload
from tests.support import envoydump as fixtures
from tests.support.cli import invoke

pytestmark = pytest.mark.e2e


@pytest.fixture
def waypoint_admin(standin):
    standin.reset()
    doc = fixtures.waypoint_dump()
    standin.admin.set_config_dump(doc)
    standin.admin.set_route("/clusters", json.dumps(fixtures.clusters_json(doc)), "application/json")
    yield standin.admin, doc
    standin.reset()


def test_waypoint_views_through_a_real_port_forward(cluster, namespace, waypoint_admin):
    admin, doc = waypoint_admin
    _workload(cluster, namespace, "Deployment", "waypoint", WAYPOINT, replicas=1)
    parsed = envoydump.from_document(doc)
    result = invoke(*_kube(cluster), "pc", "cluster", "deploy/waypoint", "-n", namespace, "--fqdn", "reviews")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == clusters.format_clusters(parsed, clusters.ClusterFilter(fqdn="reviews"))
    result = invoke(*_kube(cluster), "pc", "listener", "waypoint", "-n", namespace, "--waypoint")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == listeners.format_waypoint(parsed)
    result = invoke(*_kube(cluster), "pc", "endpoint", "deploy/waypoint", "-n", namespace)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == endpoints.format_hosts(fixtures.clusters_json(doc))
    assert ("GET", "/clusters?format=json") in admin.requests


def test_pc_all_asks_for_eds_and_prints_every_section(cluster, namespace, waypoint_admin):
    admin, _ = waypoint_admin
    _workload(cluster, namespace, "Deployment", "waypoint", WAYPOINT, replicas=1)
    result = invoke(*_kube(cluster), "pc", "all", "deploy/waypoint", "-n", namespace, "--with-headers")
    assert result.exit_code == 0, result.stderr
    for title in ("BOOTSTRAP", "CLUSTER", "LISTENER", "ROUTE", "SECRET", "ENDPOINTS"):
        assert f"------ {title} INFO ------" in result.stdout
    assert ("GET", "/config_dump?include_eds=true") in admin.requests
