"""`ambientctl waypoint` against the real test cluster (kube-apiserver v1.36 + Gateway API v1.6.0 CRDs, no istiod).

Nothing programs Gateways here, so tests that need a Programmed waypoint set
its status the way istiod would, through the /status subresource.
"""

from __future__ import annotations

import datetime
import json
import threading
import time

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from ambientctl.errors import ExitCode
from ambientctl.ownership import ADDED_LABELS_ANNOTATION
from tests.support.cli import invoke
from tests.support.waiting import IMAGE, wait_until

pytestmark = pytest.mark.e2e

GROUP, VERSION, PLURAL = "gateway.networking.k8s.io", "v1", "gateways"


def cli(cluster, namespace, *args, readonly=False):
    kubeconfig = cluster.readonly_kubeconfig if readonly else cluster.kubeconfig
    return invoke("-c", kubeconfig, "-n", namespace, "waypoint", *args)


def gateways(cluster):
    return client.CustomObjectsApi(cluster.api_client())


def get_gateway(cluster, namespace, name):
    try:
        return gateways(cluster).get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def deploy(cluster, namespace, app, service_account, service_labels=None):
    """A ServiceAccount, a one-replica Deployment running as it, and a Service selecting app=<app>."""
    core = client.CoreV1Api(cluster.api_client())
    apps = client.AppsV1Api(cluster.api_client())
    try:
        core.create_namespaced_service_account(namespace, client.V1ServiceAccount(
            metadata=client.V1ObjectMeta(name=service_account)))
    except ApiException as exc:
        if exc.status != 409:
            raise
    labels = {"app": app}
    apps.create_namespaced_deployment(namespace, client.V1Deployment(
        metadata=client.V1ObjectMeta(name=app),
        spec=client.V1DeploymentSpec(
            replicas=1, selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(service_account_name=service_account,
                                      containers=[client.V1Container(name="main", image=IMAGE)])))))
    core.create_namespaced_service(namespace, client.V1Service(
        metadata=client.V1ObjectMeta(name=app, labels=service_labels or {}),
        spec=client.V1ServiceSpec(selector=labels, ports=[client.V1ServicePort(port=9080, name="http")])))
    wait_until(f"a pod of {app}", lambda: core.list_namespaced_pod(namespace, label_selector=f"app={app}").items)


def service_meta(cluster, namespace, name):
    return client.CoreV1Api(cluster.api_client()).read_namespaced_service(name, namespace).metadata


def set_programmed(cluster, namespace, name):
    """Write the status istiod writes once the waypoint's Deployment is ready."""
    api = gateways(cluster)
    gw = api.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    generation = gw["metadata"]["generation"]
    gw["status"] = {"conditions": [
        {"type": t, "status": "True", "reason": t, "message": "set by the test", "lastTransitionTime": now,
         "observedGeneration": generation} for t in ("Accepted", "Programmed")]}
    api.replace_namespaced_custom_object_status(GROUP, VERSION, namespace, PLURAL, name, gw)


def test_apply_is_idempotent_then_list_and_status(cluster, namespace):
    first = cli(cluster, namespace, "apply")
    assert first.exit_code == 0, first.stderr
    assert first.stdout == f"✔ waypoint {namespace}/waypoint applied\n"
    gw = get_gateway(cluster, namespace, "waypoint")
    assert gw["spec"]["gatewayClassName"] == "istio-waypoint"
    assert gw["spec"]["listeners"] == [{"name": "mesh", "port": 15008, "protocol": "HBONE",
                                        "allowedRoutes": gw["spec"]["listeners"][0]["allowedRoutes"]}]
    assert gw["metadata"]["labels"]["ambientctl.dev/managed-by"] == "ambientctl"
    assert any(m["manager"] == "ambientctl" and m["operation"] == "Apply" for m in gw["metadata"]["managedFields"])

    second = cli(cluster, namespace, "apply")
    assert second.exit_code == 0, second.stderr
    again = get_gateway(cluster, namespace, "waypoint")
    assert again["metadata"]["resourceVersion"] == gw["metadata"]["resourceVersion"], "second apply changed it"
    assert again["metadata"]["generation"] == gw["metadata"]["generation"]

    listed = cli(cluster, namespace, "list")
    assert listed.stdout.splitlines() == [
        "NAME       REVISION   TRAFFIC TYPE   PROGRAMMED",
        "waypoint   default    none           Unknown",
    ]
    everywhere = cli(cluster, namespace, "list", "-A", "-o", "json").json["waypoints"]
    assert {"namespace": namespace, "name": "waypoint"}.items() <= next(
        w for w in everywhere if w["namespace"] == namespace).items()

    status = cli(cluster, namespace, "status")
    assert status.exit_code == 0
    rows = status.stdout.splitlines()
    assert rows[0].split() == ["NAME", "STATUS", "TYPE", "REASON", "MESSAGE"]
    assert rows[1].split()[:4] == ["waypoint", "Unknown", "Programmed", "Pending"]
    assert "no controller has accepted this Gateway" in rows[1]


def test_apply_with_for_and_revision_labels(cluster, namespace):
    result = cli(cluster, namespace, "apply", "--name", "wp", "--for", "all", "-r", "canary")
    assert result.exit_code == 0, result.stderr
    labels = get_gateway(cluster, namespace, "wp")["metadata"]["labels"]
    assert labels["istio.io/waypoint-for"] == "all" and labels["istio.io/rev"] == "canary"
    row = cli(cluster, namespace, "list").stdout.splitlines()[1].split()
    assert row == ["wp", "canary", "all", "Unknown"]


def test_service_account_labels_the_right_services_only(cluster, namespace):
    deploy(cluster, namespace, "productpage", "bookinfo-productpage", service_labels={"team": "web"})
    deploy(cluster, namespace, "reviews", "bookinfo-reviews")
    result = cli(cluster, namespace, "apply", "--service-account", "bookinfo-productpage")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"✔ waypoint {namespace}/bookinfo-productpage-waypoint applied",
        f'✔ service {namespace}/productpage labeled with "istio.io/use-waypoint: bookinfo-productpage-waypoint"',
    ]
    gw = get_gateway(cluster, namespace, "bookinfo-productpage-waypoint")
    assert gw["metadata"]["annotations"]["istio.io/service-account"] == "bookinfo-productpage"

    productpage = service_meta(cluster, namespace, "productpage")
    assert productpage.labels == {"team": "web", "istio.io/use-waypoint": "bookinfo-productpage-waypoint"}
    assert json.loads(productpage.annotations[ADDED_LABELS_ANNOTATION]) == {
        "istio.io/use-waypoint": "bookinfo-productpage-waypoint"}
    reviews = service_meta(cluster, namespace, "reviews")
    assert "istio.io/use-waypoint" not in (reviews.labels or {})
    assert ADDED_LABELS_ANNOTATION not in (reviews.annotations or {})

    before = productpage.resource_version
    again = cli(cluster, namespace, "apply", "--service-account", "bookinfo-productpage")
    assert again.exit_code == 0
    assert service_meta(cluster, namespace, "productpage").resource_version == before


def test_delete_leaves_other_gateways_and_user_labels(cluster, namespace):
    deploy(cluster, namespace, "reviews", "bookinfo-reviews", service_labels={"owner": "team-a"})
    deploy(cluster, namespace, "ratings", "bookinfo-ratings")
    gateways(cluster).create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "Gateway", "metadata": {"name": "ingress"},
        "spec": {"gatewayClassName": "some-ingress", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]}})
    assert cli(cluster, namespace, "apply", "--service-account", "bookinfo-reviews").exit_code == 0
    # a user points ratings at the same waypoint by hand: delete must not undo that
    client.CoreV1Api(cluster.api_client()).patch_namespaced_service(
        "ratings", namespace, {"metadata": {"labels": {"istio.io/use-waypoint": "bookinfo-reviews-waypoint"}}})

    named = cli(cluster, namespace, "delete", "ingress")
    assert named.exit_code == 0
    assert "is not a waypoint; left alone" in named.stderr
    result = cli(cluster, namespace, "delete", "--all")
    assert result.exit_code == 0, result.stderr
    assert f"waypoint {namespace}/bookinfo-reviews-waypoint deleted" in result.stdout
    assert f"service {namespace}/reviews: removed label istio.io/use-waypoint" in result.stdout
    assert "service ratings still uses bookinfo-reviews-waypoint" in result.stderr

    assert get_gateway(cluster, namespace, "bookinfo-reviews-waypoint") is None
    assert get_gateway(cluster, namespace, "ingress") is not None
    reviews = service_meta(cluster, namespace, "reviews")
    assert reviews.labels == {"owner": "team-a"}
    assert ADDED_LABELS_ANNOTATION not in (reviews.annotations or {})
    assert service_meta(cluster, namespace, "ratings").labels["istio.io/use-waypoint"] == "bookinfo-reviews-waypoint"


def test_enroll_namespace_and_delete_restores_it(cluster, namespace):
    result = cli(cluster, namespace, "apply", "--enroll-namespace")
    assert result.exit_code == 0, result.stderr
    assert "not enrolled in ambient" in result.stderr
    assert f'✔ namespace {namespace} labeled with "istio.io/use-waypoint: waypoint"' in result.stdout
    core = client.CoreV1Api(cluster.api_client())
    assert core.read_namespace(namespace).metadata.labels["istio.io/use-waypoint"] == "waypoint"
    assert cli(cluster, namespace, "delete", "waypoint").exit_code == 0
    labels = core.read_namespace(namespace).metadata.labels
    assert "istio.io/use-waypoint" not in labels and labels["ambientctl.test/e2e"] == "true"


def test_wait_times_out_with_the_reason(cluster, namespace):
    started = time.monotonic()
    result = cli(cluster, namespace, "apply", "--wait", "--waypoint-timeout", "2s")
    assert result.exit_code == ExitCode.TIMEOUT, result.stderr
    assert time.monotonic() - started < 20
    assert f"✔ waypoint {namespace}/waypoint applied" in result.stdout
    error = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(error) == 1
    assert "not programmed after 2s" in error[0]
    assert "no controller has accepted this Gateway: is istiod running with ambient enabled?" in error[0]


def test_wait_succeeds_once_programmed(cluster, namespace):
    deploy(cluster, namespace, "productpage", "bookinfo-productpage")
    failures = []

    def program_when_created():
        try:
            wait_until("the waypoint Gateway", lambda: get_gateway(cluster, namespace, "bookinfo-productpage-waypoint"),
                       timeout=30, interval=0.2)
            time.sleep(1.0)
            set_programmed(cluster, namespace, "bookinfo-productpage-waypoint")
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)

    thread = threading.Thread(target=program_when_created, daemon=True)
    thread.start()
    result = cli(cluster, namespace, "apply", "--service-account", "bookinfo-productpage", "-w",
                 "--waypoint-timeout", "30s")
    thread.join(timeout=40)
    assert not failures, failures
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"✔ waypoint {namespace}/bookinfo-productpage-waypoint applied",
        f"✔ waypoint {namespace}/bookinfo-productpage-waypoint is ready",
        f'✔ service {namespace}/productpage labeled with "istio.io/use-waypoint: bookinfo-productpage-waypoint"',
    ]
    status = cli(cluster, namespace, "status", "bookinfo-productpage-waypoint")
    assert [line.split()[:3] for line in status.stdout.splitlines()[1:]] == [
        ["bookinfo-productpage-waypoint", "True", "Accepted"], ["bookinfo-productpage-waypoint", "True", "Programmed"]]
    assert cli(cluster, namespace, "list").stdout.splitlines()[1].split()[-1] == "True"


def test_readonly_user_cannot_apply(cluster, namespace):
    result = cli(cluster, namespace, "apply", readonly=True)
    assert result.exit_code == ExitCode.FORBIDDEN
    assert "gateways.gateway.networking.k8s.io" in result.stderr
    assert cli(cluster, namespace, "list", readonly=True).exit_code == 0
