"""Checks that the local test cluster (tests/cluster) behaves like a real one.

Uses only the official Python ``kubernetes`` client (no kubectl).
"""

from __future__ import annotations

import json

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException
from kubernetes.stream import portforward

from tests.support import dumpgen
from tests.support.waiting import IMAGE, NODES, wait_until

pytestmark = pytest.mark.e2e


def pod_template(labels, ports=()):
    return client.V1PodTemplateSpec(
        metadata=client.V1ObjectMeta(labels=labels),
        spec=client.V1PodSpec(containers=[client.V1Container(
            name="main", image=IMAGE,
            ports=[client.V1ContainerPort(container_port=p) for p in ports])]))


def test_server_version_is_pinned(cluster):
    info = client.VersionApi(cluster.api_client()).get_code()
    assert info.git_version == "v1.36.3"
    assert (info.major, info.minor.rstrip("+")) == ("1", "36")


def test_three_ready_nodes(cluster):
    nodes = client.CoreV1Api(cluster.api_client()).list_node().items
    assert {n.metadata.name for n in nodes} == set(NODES)
    for n in nodes:
        ready = [c for c in n.status.conditions if c.type == "Ready"]
        assert ready and ready[0].status == "True", n.metadata.name
        assert n.metadata.labels["kubernetes.io/hostname"] == n.metadata.name
        assert not n.spec.taints, f"{n.metadata.name} is tainted: {n.spec.taints}"
    cp = next(n for n in nodes if n.metadata.name == "ambient-control-plane")
    assert "node-role.kubernetes.io/control-plane" in cp.metadata.labels


def test_daemonset_ready_on_every_node(cluster, namespace):
    apps = client.AppsV1Api(cluster.api_client())
    labels = {"app": "ds-probe"}
    apps.create_namespaced_daemon_set(namespace, client.V1DaemonSet(
        metadata=client.V1ObjectMeta(name="ds-probe"),
        spec=client.V1DaemonSetSpec(selector=client.V1LabelSelector(match_labels=labels),
                                    template=pod_template(labels))))

    def ready():
        st = apps.read_namespaced_daemon_set_status("ds-probe", namespace).status
        return st if st.desired_number_scheduled == 3 and st.number_ready == 3 else None

    wait_until("DaemonSet ready on 3 nodes", ready, timeout=60)
    pods = client.CoreV1Api(cluster.api_client()).list_namespaced_pod(namespace, label_selector="app=ds-probe").items
    assert {p.spec.node_name for p in pods} == set(NODES)
    assert all(p.status.phase == "Running" and p.status.pod_ip for p in pods)


def test_deployment_becomes_ready(cluster, namespace):
    apps = client.AppsV1Api(cluster.api_client())
    labels = {"app": "deploy-probe"}
    apps.create_namespaced_deployment(namespace, client.V1Deployment(
        metadata=client.V1ObjectMeta(name="deploy-probe"),
        spec=client.V1DeploymentSpec(replicas=2, selector=client.V1LabelSelector(match_labels=labels),
                                     template=pod_template(labels))))

    def ready():
        st = apps.read_namespaced_deployment_status("deploy-probe", namespace).status
        return st if st.ready_replicas == 2 and st.available_replicas == 2 else None

    wait_until("Deployment with 2 ready replicas", ready, timeout=60)


def test_job_completes(cluster, namespace):
    batch = client.BatchV1Api(cluster.api_client())
    tmpl = pod_template({"app": "job-probe"})
    tmpl.spec.restart_policy = "Never"
    batch.create_namespaced_job(namespace, client.V1Job(
        metadata=client.V1ObjectMeta(name="job-probe"),
        spec=client.V1JobSpec(template=tmpl, backoff_limit=0)))
    wait_until("Job to succeed",
               lambda: (batch.read_namespaced_job_status("job-probe", namespace).status.succeeded or 0) >= 1,
               timeout=60)


def test_readonly_user_can_read_but_not_write(cluster, namespace):
    admin = client.CoreV1Api(cluster.api_client())
    admin.create_namespaced_config_map(namespace, client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="existing"), data={"k": "v"}))
    ro = client.CoreV1Api(cluster.api_client(readonly=True))
    assert ro.read_namespaced_config_map("existing", namespace).data == {"k": "v"}
    assert {n.metadata.name for n in ro.list_node().items} == set(NODES)
    with pytest.raises(ApiException) as exc:
        ro.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="denied")))
    assert exc.value.status == 403
    with pytest.raises(ApiException) as exc:
        ro.delete_namespaced_config_map("existing", namespace)
    assert exc.value.status == 403


def test_gateway_api_crds_established(cluster):
    if not cluster.gateway_api:
        pytest.fail("cluster was brought up with --no-gateway-api; expected the CRDs by default")
    ext = client.ApiextensionsV1Api(cluster.api_client())
    crds = {c.metadata.name: c for c in ext.list_custom_resource_definition().items
            if c.spec.group == "gateway.networking.k8s.io"}
    for name in ("gateways.gateway.networking.k8s.io", "httproutes.gateway.networking.k8s.io",
                 "gatewayclasses.gateway.networking.k8s.io"):
        assert name in crds
        conds = {c.type: c.status for c in crds[name].status.conditions}
        assert conds.get("Established") == "True"
        assert crds[name].metadata.annotations["gateway.networking.k8s.io/bundle-version"] == "v1.6.0"


def _http_get_over(sock, path):
    """Raw HTTP/1.1 GET over an already-connected socket; returns (status, body bytes)."""
    sock.settimeout(20)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("iso-8859-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in lines[1:] if ":" in h)}
    length = int(headers.get("content-length", "-1"))
    while length < 0 or len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, body


@pytest.fixture
def ztunnel_like_pod(cluster, namespace):
    core = client.CoreV1Api(cluster.api_client())
    core.create_namespaced_pod(namespace, client.V1Pod(
        metadata=client.V1ObjectMeta(name="ztunnel-probe", labels={"app": "ztunnel"}),
        spec=client.V1PodSpec(containers=[client.V1Container(
            name="istio-proxy", image="docker.io/istio/ztunnel:1.28.0",
            ports=[client.V1ContainerPort(container_port=15000), client.V1ContainerPort(container_port=15020)])])))

    def running():
        p = core.read_namespaced_pod("ztunnel-probe", namespace)
        ready = [c for c in (p.status.conditions or []) if c.type == "Ready" and c.status == "True"]
        return p if p.status.phase == "Running" and ready else None

    wait_until("pod Running and Ready", running, timeout=60)
    return "ztunnel-probe"


def test_port_forward_reaches_standin(cluster, standin, namespace, ztunnel_like_pod):
    dump = dumpgen.generate_dump([("default", "sleep"), (namespace, "ztunnel-probe")])
    standin.admin.set_config_dump(dump)
    standin.stats.set_stats("# TYPE istio_requests_total counter\nistio_requests_total{response_code=\"200\"} 7\n")
    core = client.CoreV1Api(cluster.api_client())

    pf = portforward(core.connect_get_namespaced_pod_portforward, ztunnel_like_pod, namespace, ports="15000")
    try:
        status, body = _http_get_over(pf.socket(15000), "/config_dump")
        assert pf.error(15000) is None
    finally:
        pf.close()
    assert status == 200
    assert json.loads(body) == dump
    assert ("GET", "/config_dump") in standin.admin.requests

    pf = portforward(core.connect_get_namespaced_pod_portforward, ztunnel_like_pod, namespace, ports="15020")
    try:
        status, body = _http_get_over(pf.socket(15020), "/stats/prometheus")
    finally:
        pf.close()
    assert status == 200
    assert b'istio_requests_total{response_code="200"} 7' in body


def _get_via_port_forward(core, namespace, pod, port, path):
    pf = portforward(core.connect_get_namespaced_pod_portforward, pod, namespace, ports=str(port))
    try:
        return _http_get_over(pf.socket(port), path)
    finally:
        pf.close()


def test_per_pod_forward_override(cluster, standin, namespace, ztunnel_like_pod):
    from tests.support.standin import StandIn

    core = client.CoreV1Api(cluster.api_client())
    default_dump = dumpgen.generate_dump([("default", "sleep")], with_workloads=False)
    special_dump = dumpgen.generate_dump([(namespace, "special")], states={(namespace, "special"): "Initializing"})
    standin.admin.set_config_dump(default_dump)
    with StandIn(0) as special:
        special.set_config_dump(special_dump)
        cluster.forward_pod(namespace, ztunnel_like_pod, {15000: special.port})

        def overridden():
            try:
                status, body = _get_via_port_forward(core, namespace, ztunnel_like_pod, 15000, "/config_dump")
            except Exception:  # noqa: BLE001 - kwok may not have seen the PortForward yet
                return None
            return status == 200 and json.loads(body) == special_dump

        wait_until("per-pod PortForward to take effect", overridden, timeout=15)
        cluster.unforward_pod(namespace, ztunnel_like_pod)

        def back_to_default():
            try:
                status, body = _get_via_port_forward(core, namespace, ztunnel_like_pod, 15000, "/config_dump")
            except Exception:  # noqa: BLE001
                return None
            return status == 200 and json.loads(body) == default_dump

        wait_until("pod to fall back to the cluster-wide stand-in", back_to_default, timeout=15)


def test_pod_logs_are_served(cluster, namespace, ztunnel_like_pod):
    core = client.CoreV1Api(cluster.api_client())
    text = core.read_namespaced_pod_log(ztunnel_like_pod, namespace, container="istio-proxy")
    assert "simulated container log" in text
