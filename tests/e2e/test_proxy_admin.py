"""`pc log`, `zc log` and `pc rootca-compare` against the test cluster: real pods (kwok), a REAL
port-forward through the API server, and POST requests reaching the stand-in admin server
(tests/support/standin.py) that answers for every pod's port 15000."""

from __future__ import annotations

import json

import pytest
from kubernetes import client

from ambientctl.errors import ExitCode
from tests.support import envoysecrets as es
from tests.support.cli import invoke
from tests.support.waiting import IMAGE, wait_until

pytestmark = pytest.mark.e2e

ENVOY_LISTING = "active loggers:\n  admin: warning\n  http: warning\n  router: warning\n"
WAYPOINT = {"gateway.networking.k8s.io/gateway-name": "waypoint"}


def _ready(pod) -> bool:
    return pod.status.phase == "Running" and any(
        c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))


def _workload(cluster, namespace: str, kind: str, name: str, labels: dict, replicas: int = 2) -> list[str]:
    """A Deployment or DaemonSet of `istio-proxy` pods (admin port 15000), Ready; their names."""
    apps = client.AppsV1Api(cluster.api_client())
    core = client.CoreV1Api(cluster.api_client())
    template = client.V1PodTemplateSpec(
        metadata=client.V1ObjectMeta(labels=labels),
        spec=client.V1PodSpec(containers=[client.V1Container(
            name="istio-proxy", image=IMAGE, ports=[client.V1ContainerPort(container_port=15000)])]))
    selector = client.V1LabelSelector(match_labels=labels)
    if kind == "Deployment":
        apps.create_namespaced_deployment(namespace, client.V1Deployment(
            metadata=client.V1ObjectMeta(name=name, labels=labels),
            spec=client.V1DeploymentSpec(replicas=replicas, selector=selector, template=template)))
    else:
        apps.create_namespaced_daemon_set(namespace, client.V1DaemonSet(
            metadata=client.V1ObjectMeta(name=name, labels=labels),
            spec=client.V1DaemonSetSpec(selector=selector, template=template)))
    want = replicas if kind == "Deployment" else 3
    label = ",".join(f"{k}={v}" for k, v in labels.items())

    def ready():
        pods = [p.metadata.name for p in core.list_namespaced_pod(namespace, label_selector=label).items if _ready(p)]
        return sorted(pods) if len(pods) == want else None

    return wait_until(f"{kind} {name} Ready", ready)


@pytest.fixture
def admin(standin):
    standin.reset()
    yield standin.admin
    standin.reset()


def _kube(cluster) -> list[str]:
    return ["-c", cluster.kubeconfig]


def test_pc_log_posts_through_a_real_port_forward(cluster, namespace, admin):
    pods = _workload(cluster, namespace, "Deployment", "waypoint", WAYPOINT)
    admin.set_route("/logging", ENVOY_LISTING)
    result = invoke(*_kube(cluster), "pc", "log", "deploy/waypoint", "-n", namespace, "--level", "http:debug")
    assert result.exit_code == 0, result.stderr
    for pod in pods:
        assert f"{pod}.{namespace}:\nactive loggers:\n" in result.stdout
    assert admin.requests.count(("POST", "/logging")) == 2
    assert admin.requests.count(("POST", "/logging?http=debug")) == 2
    assert not any(method == "GET" for method, _ in admin.requests)


def test_pc_log_error_answer_is_reported_with_its_text(cluster, namespace, admin):
    _workload(cluster, namespace, "Deployment", "waypoint", WAYPOINT, replicas=1)
    admin.set_route("/logging", "error: unknown logger name\n", status=404)
    result = invoke(*_kube(cluster), "pc", "log", "deploy/waypoint", "-n", namespace)
    assert result.exit_code != 0
    assert "answered HTTP 404: error: unknown logger name" in result.stderr
    assert "Traceback" not in result.stderr


def test_zc_log_on_every_ztunnel(cluster, namespace, admin):
    pods = _workload(cluster, namespace, "DaemonSet", "ztunnel", {"app": "ztunnel"})
    admin.set_route("/logging", "current log level is info\n")
    result = invoke(*_kube(cluster), "zc", "log", "-n", namespace, "--level", "access:debug")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "".join(f"{p}.{namespace}:\ncurrent log level is info\n\n" for p in pods)
    assert admin.requests.count(("POST", "/logging?level=access=debug")) == 3


def test_rootca_compare_between_two_live_proxies(cluster, namespace, admin):
    first, second = _workload(cluster, namespace, "Deployment", "waypoint", WAYPOINT)
    admin.set_config_dump(es.waypoint_dump())
    result = invoke(*_kube(cluster), "pc", "rootca-compare", f"{first}.{namespace}", f"{second}.{namespace}")
    assert result.exit_code == 0, result.stderr
    assert "have the identical ROOTCA" in result.stdout
    admin.set_config_dump(es.envoy_dump([]))
    result = invoke(*_kube(cluster), "pc", "rootca-compare", f"{first}.{namespace}", f"{second}.{namespace}")
    assert result.exit_code == ExitCode.INVALID_INPUT and "no active ROOTCA" in result.stderr


def test_pc_secret_envoy_table_through_a_real_port_forward(cluster, namespace, admin):
    first, _ = _workload(cluster, namespace, "Deployment", "waypoint", WAYPOINT)
    admin.set_config_dump(es.spiffe_bundle_dump())
    result = invoke(*_kube(cluster), "pc", "secret", f"pod/{first}", "-n", namespace)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[-2:] == ["TRUST", "DOMAIN"] and len(lines) == 4
    document = invoke(*_kube(cluster), "pc", "secret", f"pod/{first}", "-n", namespace, "-o", "json").stdout
    assert json.loads(document)["dynamicActiveSecrets"][1]["name"] == "ROOTCA"


# -- beside istioctl, on the same pods and the same stand-in ------------------------------------------------


@pytest.fixture
def istioctl_binary():
    from tests.support.reference import ensure_built

    outcome = ensure_built()
    if isinstance(outcome, str):
        pytest.skip("PARITY NOT MEASURED — the reference istioctl could not be built. " + outcome)
    return outcome.istioctl


def _istioctl(binary, cluster, *args: str):
    from tests.parity.tools import istioctl

    return istioctl(binary, *args, kubeconfig=cluster.kubeconfig)


def test_pc_log_sends_istioctls_requests_and_prints_its_output(cluster, namespace, admin, istioctl_binary):
    _workload(cluster, namespace, "Deployment", "waypoint", WAYPOINT, replicas=1)
    admin.set_route("/logging", ENVOY_LISTING)
    for level in (None, "http:debug", "debug", "info,router:trace"):
        extra = ["--level", level] if level else []
        admin.requests.clear()
        theirs = _istioctl(istioctl_binary, cluster, "pc", "log", "deploy/waypoint", "-n", namespace, *extra)
        their_requests = sorted(admin.requests)  # istioctl sends named loggers in Go's random map order
        admin.requests.clear()
        ours = invoke(*_kube(cluster), "pc", "log", "deploy/waypoint", "-n", namespace, *extra)
        assert theirs.ok, theirs
        assert ours.exit_code == 0, ours.stderr
        assert ours.stdout == theirs.stdout, level
        # The same requests; without --level istioctl asks for the listing twice (its two loops), we once.
        assert sorted(set(admin.requests)) == sorted(set(their_requests)), level


def test_a_bare_level_after_named_loggers_keeps_them_unlike_istioctl(cluster, namespace, admin, istioctl_binary):
    """istioctl's --level router:trace,info forgets router:trace (a bare level replaces its map); we keep it."""
    _workload(cluster, namespace, "Deployment", "waypoint", WAYPOINT, replicas=1)
    admin.set_route("/logging", ENVOY_LISTING)
    theirs = _istioctl(istioctl_binary, cluster, "pc", "log", "deploy/waypoint", "-n", namespace,
                       "--level", "router:trace,info")
    their_requests = set(admin.requests)
    admin.requests.clear()
    ours = invoke(*_kube(cluster), "pc", "log", "deploy/waypoint", "-n", namespace, "--level", "router:trace,info")
    assert theirs.ok and ours.exit_code == 0, (theirs, ours.stderr)
    assert set(admin.requests) - their_requests == {("POST", "/logging?router=trace")}
    assert their_requests <= set(admin.requests)


def test_zc_log_prints_istioctls_output(cluster, namespace, admin, istioctl_binary):
    pods = _workload(cluster, namespace, "DaemonSet", "ztunnel", {"app": "ztunnel"})
    admin.set_route("/logging", "current log level is info\n")
    theirs = _istioctl(istioctl_binary, cluster, "zc", "log", "-i", namespace, "--level", "debug")
    their_requests = list(admin.requests)
    admin.requests.clear()
    ours = invoke(*_kube(cluster), "zc", "log", "-i", namespace, "--level", "debug")
    assert theirs.ok, theirs
    assert ours.exit_code == 0, ours.stderr
    assert sorted(ours.stdout.split("\n\n")) == sorted(theirs.stdout.split("\n\n"))  # pods in any order
    assert sorted(admin.requests) == sorted(their_requests) == [("POST", "/logging?level=debug")] * len(pods)


def test_rootca_compare_works_where_istioctl_fails(cluster, namespace, admin, istioctl_binary):
    """A real ROOTCA's trustedCa holds PEM (base64 once in the dump's JSON). istioctl 1.31 decodes it
    from base64 a second time and fails ("illegal base64 data at input byte 0") on every real dump;
    ambientctl reads it and gives istioctl's sentence."""
    first, second = _workload(cluster, namespace, "Deployment", "waypoint", WAYPOINT)
    admin.set_config_dump(es.waypoint_dump())
    pods = [f"{first}.{namespace}", f"{second}.{namespace}"]
    theirs = _istioctl(istioctl_binary, cluster, "pc", "rootca-compare", *pods)
    ours = invoke(*_kube(cluster), "pc", "rootca-compare", *pods)
    assert not theirs.ok and "failed to decode inlinebytes: illegal base64 data at input byte 0" in theirs.stderr
    assert ours.exit_code == 0, ours.stderr
    assert ours.stdout == (f"Both [{pods[0]}] and [{pods[1]}] have the identical ROOTCA, "
                           "theoretically the connectivity between them is available\n")
