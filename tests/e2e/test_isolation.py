"""No packet of the test cluster leaves this machine, and webhooks behave as on a real cluster (issue 12).

kube-apiserver sends its webhook, aggregated-API and kubelet connections through
the egress proxy (tests/support/egressproxy.py), which allows 127.0.0.0/8 and
registered local Services only and logs every attempt to ``<state>/egress.log``.
These tests run the webhook-heavy paths (install, Istio CRs, a pod in an
injection namespace, waypoint apply, a kubelet call) and then read that log
and sample every cluster process's sockets (tests/support/egresswatch.py).

The module owns the default-revision installation in istio-system while it runs
(like tests/e2e/test_install.py): it starts from and leaves a cluster without one.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import time
import uuid

import pytest

from tests.support import localservices
from tests.support.cli import invoke
from tests.support.egresswatch import SocketWatch
from tests.support.istiod import start_istiod
from tests.support.reference import pilot_discovery_bin, reference_binaries  # noqa: F401 (fixtures)

pytestmark = pytest.mark.e2e

ISTIO_NS = "istio-system"
INSTALL = ("install", "--set", "profile=ambient", "-y", "--readiness-timeout", "120s")
INJECTOR = "namespace.sidecar-injector.istio.io"
VALIDATOR = "istiod-default-validator"
REFUSED = "egress refused by the test cluster's proxy"


def _run(cluster, *args: str):
    return invoke("-c", cluster.kubeconfig, *args)


def _purge(cluster) -> None:
    from ambientctl.install.lock import LOCK_NAME
    from ambientctl.kube.client import KubeClient

    KubeClient.connect(cluster.kubeconfig).delete("v1", "ConfigMap", LOCK_NAME,
                                                                                  ISTIO_NS)
    result = _run(cluster, "uninstall", "--purge", "--force", "-y")
    assert result.exit_code == 0, result.stderr


@pytest.fixture(scope="module", autouse=True)
def clean_slate(cluster):
    _purge(cluster)
    yield
    _purge(cluster)


@pytest.fixture
def installed(cluster):
    """The ambient profile in istio-system (a no-op when the previous test left it installed)."""
    result = _run(cluster, *INSTALL)
    assert result.exit_code == 0, result.stderr


def _core(cluster):
    from kubernetes import client

    return client.CoreV1Api(cluster.api_client())


def _custom(cluster):
    from kubernetes import client

    return client.CustomObjectsApi(cluster.api_client())


def _state(cluster) -> dict:
    with open(os.path.join(cluster.state_dir, "cluster.json")) as f:
        return json.load(f)


def _istiod_address(cluster) -> str:
    """ClusterIP:443 of the istiod Service: where the webhooks send kube-apiserver."""
    return f"{_core(cluster).read_namespaced_service('istiod', ISTIO_NS).spec.cluster_ip}:443"


def _authz(name: str, spec: dict | None = None) -> dict:
    return {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
            "metadata": {"name": name}, "spec": spec if spec is not None else {"action": "DENY", "rules": [
                {"from": [{"source": {"namespaces": ["elsewhere"]}}]}]}}


def _create_authz(cluster, namespace: str, body: dict):
    return _custom(cluster).create_namespaced_custom_object("security.istio.io", "v1", namespace,
                                                            "authorizationpolicies", body)


def _pod(name: str):
    from kubernetes import client

    return client.V1Pod(metadata=client.V1ObjectMeta(name=name),
                        spec=client.V1PodSpec(containers=[client.V1Container(name="app", image="curlimages/curl")]))


def _injection_on(cluster, namespace: str) -> None:
    _core(cluster).patch_namespace(namespace, {"metadata": {"labels": {"istio-injection": "enabled"}}})


def _host(address: str) -> str:
    return address.rsplit(":", 1)[0].strip("[]")


def _loopback(address: str | None) -> bool:
    if not address:
        return False
    host = _host(address)
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def off_machine(records: list[dict]) -> list[dict]:
    """Records of a connection that was made to somewhere outside 127.0.0.0/8.

    A refused attempt made no connection: the proxy answered it and dialled nothing."""
    bad = []
    for r in records:
        if r["decision"] == "allowed" and not _loopback(r["destination"]):
            bad.append(r)
        elif r["decision"] == "mapped" and not _loopback(r["mapped_to"]):
            bad.append(r)
        elif r["decision"] == "refused" and r.get("mapped_to"):
            bad.append(r)
        elif r["decision"] not in ("allowed", "mapped", "refused"):
            bad.append(r)
    return bad


def _apiserver_log_since(cluster, offset: int) -> str:
    with open(os.path.join(cluster.state_dir, "logs", "kube-apiserver.log"), errors="replace") as f:
        f.seek(offset)
        return f.read()


def _apiserver_log_size(cluster) -> int:
    return os.path.getsize(os.path.join(cluster.state_dir, "logs", "kube-apiserver.log"))


# ----------------------------------------------------------------------------------------- tests


def test_webhook_heavy_paths_stay_on_this_machine(cluster, namespace):
    from kubernetes.client.rest import ApiException

    state = _state(cluster)
    assert localservices.entries(cluster.state_dir) == {}, "a local istiod is registered; this test wants none"
    log_start, apiserver_start = len(cluster.connections()), _apiserver_log_size(cluster)
    with SocketWatch(state["pids"]) as watch:
        result = _run(cluster, *INSTALL)
        assert result.exit_code == 0, result.stderr
        _create_authz(cluster, namespace, _authz("deny-elsewhere"))  # validation webhook: Ignore
        _custom(cluster).create_namespaced_custom_object(
            "security.istio.io", "v1", namespace, "peerauthentications",
            {"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication", "metadata": {"name": "strict"},
             "spec": {"mtls": {"mode": "STRICT"}}})
        _injection_on(cluster, namespace)
        with pytest.raises(ApiException):  # injection webhook: Fail, and no istiod answers
            _core(cluster).create_namespaced_pod(namespace, _pod("injected"))
        waypoint = _run(cluster, "waypoint", "apply", "-n", namespace, "--name", "wp")
        assert waypoint.exit_code == 0, waypoint.stderr
        ztunnel = _core(cluster).list_namespaced_pod(ISTIO_NS, label_selector="app=ztunnel").items[0]
        assert "simulated" in _core(cluster).read_namespaced_pod_log(ztunnel.metadata.name, ISTIO_NS)  # kubelet
    records = cluster.connections()[log_start:]

    assert off_machine(records) == []
    assert watch.off_machine() == [], f"sockets to outside 127.0.0.0/8: {watch.off_machine()}"
    istiod = _istiod_address(cluster)
    webhook_calls = [r for r in records if r["destination"] == istiod]
    assert len(webhook_calls) >= 3, f"expected the validation and injection calls to {istiod} in the log: {records}"
    assert {r["decision"] for r in webhook_calls} == {"refused"}
    assert all(r["service"] == f"{ISTIO_NS}/istiod" for r in webhook_calls)
    kwok = f"127.0.0.1:{state['ports']['kwok']}"
    # kube-apiserver keeps its tunnel to kwok open between requests, so the log read above may
    # reuse one an earlier test opened: look for it over the instance's whole log.
    everything = cluster.connections()
    assert any(r["destination"] == kwok and r["decision"] == "allowed" for r in everything), records
    assert "x509" not in _apiserver_log_since(cluster, apiserver_start)  # the symptom of issue 12
    assert watch.samples > 10


def test_without_istiod_a_webhook_call_fails_fast_and_locally(cluster, namespace, installed):
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    assert localservices.entries(cluster.state_dir) == {}
    hooks = client.AdmissionregistrationV1Api(cluster.api_client()).read_mutating_webhook_configuration(
        "istio-sidecar-injector")
    timeout = max((h.timeout_seconds or 10) for h in hooks.webhooks if h.name == INJECTOR)
    _injection_on(cluster, namespace)
    log_start = len(cluster.connections())

    started = time.monotonic()
    with pytest.raises(ApiException) as refused:
        _core(cluster).create_namespaced_pod(namespace, _pod("injected"))
    elapsed = time.monotonic() - started
    # failurePolicy Fail: the API server reports the failed call, which the proxy refused at once.
    assert refused.value.status == 500, refused.value.body
    message = json.loads(refused.value.body)["message"]
    assert f'failed calling webhook "{INJECTOR}"' in message
    assert REFUSED in message and "off this machine" in message
    assert elapsed < timeout, f"the call waited {elapsed:.1f}s, as if for the webhook's {timeout}s timeout"

    # failurePolicy Ignore (validation, until istiod switches it): the object is admitted.
    _create_authz(cluster, namespace, _authz("admitted-without-istiod"))
    records = cluster.connections()[log_start:]
    istiod = _istiod_address(cluster)
    calls = [r["decision"] for r in records if r["destination"] == istiod]
    assert len(calls) >= 2 and set(calls) == {"refused"}, records  # the injection and the validation call
    assert off_machine(records) == []


def test_real_istiod_answers_the_validation_webhook_and_rejects_an_invalid_policy(
        cluster, namespace, installed, pilot_discovery_bin):
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    try:
        istiod = start_istiod(pilot_discovery_bin, cluster.kubeconfig)
    except RuntimeError as e:
        pytest.fail(f"the real istiod could not run: {e}", pytrace=False)
    try:
        https_port = istiod.https_port
        assert https_port, "tests/support/istiod.py does not report istiod's webhook (https) port"
        root = _istiod_root(cluster)
        admission = client.AdmissionregistrationV1Api(cluster.api_client())
        admission.patch_validating_webhook_configuration(VALIDATOR, {"webhooks": [
            {"name": "validation.istio.io", "clientConfig": {"caBundle": base64.b64encode(root.encode()).decode()}}]})
        # start_istiod registered it as the backend of istio-system/istiod:443 (tests/support/localservices.py)
        entry = localservices.entries(cluster.state_dir).get(f"{ISTIO_NS}/istiod:443")
        assert entry is not None and entry.target == f"127.0.0.1:{https_port}", localservices.entries(cluster.state_dir)
        log_start = len(cluster.connections())
        invalid = _authz(f"invalid-{uuid.uuid4().hex[:6]}", {"rules": [{"when": [{"key": "", "values": ["x"]}]}]})
        with pytest.raises(ApiException) as rejected:
            _create_authz(cluster, namespace, invalid)
        _create_authz(cluster, namespace, _authz("valid"))  # and istiod admits a valid one
        records = cluster.connections()[log_start:]
    finally:
        istiod.stop()

    assert 400 <= rejected.value.status < 500, rejected.value.body
    message = json.loads(rejected.value.body)["message"]
    assert 'admission webhook "validation.istio.io" denied the request' in message, message
    assert "must not be empty" in message, message  # istiod's own words about the empty `key`
    mapped = [r for r in records if r["decision"] == "mapped"]
    assert mapped, records  # one CONNECT at least: kube-apiserver keeps the tunnel for the next call
    assert {(r["service"], r["mapped_to"]) for r in mapped} == {(f"{ISTIO_NS}/istiod", f"127.0.0.1:{https_port}")}
    assert off_machine(records) == []


def _istiod_root(cluster, timeout: float = 60) -> str:
    """The root certificate istiod publishes (ConfigMap istio-ca-root-cert), which signed its serving cert."""
    from kubernetes.client.rest import ApiException

    deadline = time.monotonic() + timeout
    while True:
        try:
            return _core(cluster).read_namespaced_config_map("istio-ca-root-cert", ISTIO_NS).data["root-cert.pem"]
        except ApiException as e:
            if e.status != 404 or time.monotonic() > deadline:
                raise
        time.sleep(0.5)
