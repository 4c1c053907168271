"""`waypoint metrics` on the real test cluster: pods found by the Gateway-name label, a REAL port-forward
through the API server to each pod's 15020, answered by the stand-in stats server (tests/support/standin.py).

Not checked here: that a real waypoint (Envoy) exports these series; the stand-in serves text we generate.
"""

from __future__ import annotations


import pytest
from kubernetes import client

from ambientctl.errors import ExitCode
from tests.support.cli import invoke
from tests.unit.test_metrics import series, stats_text
from tests.support.waiting import IMAGE, wait_until

pytestmark = pytest.mark.e2e

GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"


def waypoint_deployment(cluster, namespace: str, name: str = "waypoint", replicas: int = 1) -> list[str]:
    """What istiod deploys for a waypoint, reduced to what `metrics` needs: pods with the Gateway-name label."""
    apps = client.AppsV1Api(cluster.api_client())
    core = client.CoreV1Api(cluster.api_client())
    labels = {GATEWAY_NAME_LABEL: name}
    apps.create_namespaced_deployment(namespace, client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name, labels=labels),
        spec=client.V1DeploymentSpec(
            replicas=replicas, selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(containers=[client.V1Container(
                    name="istio-proxy", image=IMAGE, ports=[client.V1ContainerPort(container_port=15020)])])))))

    def running():
        pods = core.list_namespaced_pod(namespace, label_selector=f"{GATEWAY_NAME_LABEL}={name}").items
        ready = [p.metadata.name for p in pods if p.status.phase == "Running"]
        return ready if len(ready) == replicas else None

    return wait_until(f"{replicas} running pod(s) of waypoint {name}", running)


GUIDE = [series("sleep", 200, 12), series("notsleep", 403, 4)]


def metrics(cluster, namespace, *args):
    return invoke("-c", cluster.kubeconfig, "-n", namespace, "waypoint", "metrics", *args)


def test_metrics_table_through_a_real_port_forward(cluster, namespace, standin):
    standin.reset()
    standin.stats.set_stats(stats_text([series(s["source"], s["code"], s["value"], namespace=namespace)
                                        for s in GUIDE]))
    waypoint_deployment(cluster, namespace)
    result = metrics(cluster, namespace)
    assert result.exit_code == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()[1:]]
    assert [(r[0], r[-3], r[-2], r[-1]) for r in rows] == [
        (f"notsleep.{namespace}", "403", "mutual_tls", "4"),
        (f"sleep.{namespace}", "200", "mutual_tls", "12"),
    ]
    assert rows[0][1] == f"spiffe://cluster.local/ns/{namespace}/sa/notsleep"
    assert ("GET", "/stats/prometheus") in standin.stats.requests


def test_metrics_sums_every_pod_and_prints_json(cluster, namespace, standin):
    standin.reset()
    standin.stats.set_stats(stats_text([series("sleep", 200, 5, namespace=namespace)]))
    waypoint_deployment(cluster, namespace, name="productpage-waypoint", replicas=2)
    result = metrics(cluster, namespace, "productpage-waypoint", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json["waypoint"] == f"{namespace}/productpage-waypoint"
    assert [r["requests"] for r in result.json["requests"]] == [10]  # the same stand-in answers for both pods
    assert standin.stats.requests.count(("GET", "/stats/prometheus")) == 2


def test_watch_prints_a_table_per_refresh_with_new_requests(cluster, namespace, standin):
    standin.reset()
    standin.stats.set_stats(stats_text([series("sleep", 200, 3, namespace=namespace)]))
    waypoint_deployment(cluster, namespace)
    result = metrics(cluster, namespace, "--watch", "--count", "2", "--interval", "0.5")
    assert result.exit_code == 0, result.stderr
    blocks = result.stdout.strip().split("\n\n")
    assert len(blocks) == 2
    assert [b.splitlines()[2].split()[-2:] for b in blocks] == [["3", "3"], ["3", "0"]]


def test_missing_waypoint_is_not_found(cluster, namespace):
    result = metrics(cluster, namespace, "nope")
    assert result.exit_code == ExitCode.NOT_FOUND
    assert f"no running pods of waypoint {namespace}/nope" in result.stderr
