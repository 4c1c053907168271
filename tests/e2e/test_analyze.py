"""`ambientctl analyze` on the real test cluster: cluster state, local files overlaid on it, scope, and users.

The cluster serves the Gateway API CRDs; Istio's CRDs may or may not be installed (other modules install
and purge Istio), so policies are given as local files (`-f`), which analyze overlays on the cluster, as
istioctl analyze does. Not checked: what ztunnel or a waypoint would do with the traffic (no proxies run).
"""

from __future__ import annotations

import json

import pytest
from kubernetes import client

from tests.support.cli import invoke
from tests.support.waiting import IMAGE, wait_until

pytestmark = pytest.mark.e2e

GW = ("gateway.networking.k8s.io", "v1", "gateways")


@pytest.fixture
def app(cluster, namespace):
    """The namespace enrolled in ambient, with bookinfo and sleep from `samples apply`, pods running."""
    run = invoke("-c", cluster.kubeconfig, "-n", namespace, "samples", "apply", "bookinfo", "sleep", "notsleep")
    assert run.exit_code == 0, run.stderr
    assert invoke("-c", cluster.kubeconfig, "dataplane", "enroll", namespace).exit_code == 0
    core = client.CoreV1Api(cluster.api_client())
    wait_until("7 running pods", lambda: len([p for p in core.list_namespaced_pod(namespace).items
                                               if p.status.phase == "Running"]) == 7)
    return namespace


def analyze(cluster, namespace, *args, readonly=False):
    kubeconfig = cluster.readonly_kubeconfig if readonly else cluster.kubeconfig
    return invoke("-c", kubeconfig, "-n", namespace, "analyze", *args)


def policy_file(tmp_path, namespace, name, spec):
    path = tmp_path / f"{name}.yaml"
    path.write_text(json.dumps({"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
                                "metadata": {"name": name, "namespace": namespace}, "spec": spec}))
    return str(path)


def test_clean_namespace_has_no_issues(cluster, app):
    result = analyze(cluster, app)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout == ""  # as istioctl: the all-clear line is not data, it goes to stderr
    assert f"✔ No validation issues found when analyzing namespace: {app}.\n" in result.stderr


def test_l7_policy_file_is_judged_against_the_live_pods(cluster, app, tmp_path):
    path = policy_file(tmp_path, app, "pp-l7", {
        "selector": {"matchLabels": {"app": "productpage"}}, "action": "ALLOW",
        "rules": [{"from": [{"source": {"principals": [f"cluster.local/ns/{app}/sa/sleep",
                                                       f"cluster.local/ns/{app}/sa/slep"]}}],
                   "to": [{"operation": {"methods": ["GET"]}}]}]})
    result = analyze(cluster, app, "-f", path, "-o", "json")
    assert result.exit_code == 79, result.stderr
    found = {(m["code"], m["origin"]) for m in result.json}
    assert found == {("AMB0001", f"AuthorizationPolicy {app}/pp-l7"), ("AMB0006", f"AuthorizationPolicy {app}/pp-l7")}
    amb0001 = next(m for m in result.json if m["code"] == "AMB0001")
    # the live pods tell which account and Service to put behind a waypoint
    assert "--service-account bookinfo-productpage --name productpage-waypoint" in amb0001["message"]
    assert amb0001["reference"] == f"{path}:1"  # the file (one line of JSON), as istioctl's `reference`


def test_use_waypoint_naming_a_missing_waypoint_then_fixed(cluster, app):
    core = client.CoreV1Api(cluster.api_client())
    core.patch_namespaced_service("reviews", app,
                                  {"metadata": {"labels": {"istio.io/use-waypoint": "reviews-waypoint"}}})
    result = analyze(cluster, app)
    assert result.exit_code == 79
    assert result.stdout.startswith(f"Error [AMB0004] (Service {app}/reviews) istio.io/use-waypoint=reviews-waypoint")
    made = invoke("-c", cluster.kubeconfig, "-n", app, "waypoint", "apply", "--name", "reviews-waypoint")
    assert made.exit_code == 0, made.stderr
    after = analyze(cluster, app)
    assert after.exit_code == 0  # not Programmed yet (no istiod): a warning only
    assert [line.split()[:2] for line in after.stdout.splitlines()] == [["Warning", "[AMB0005]"]]


def test_sidecar_pod_in_an_enrolled_namespace(cluster, app):
    core = client.CoreV1Api(cluster.api_client())
    core.create_namespaced_pod(app, client.V1Pod(
        metadata=client.V1ObjectMeta(name="legacy", annotations={"sidecar.istio.io/status": "{}"}),
        spec=client.V1PodSpec(containers=[client.V1Container(name="app", image=IMAGE),
                                          client.V1Container(name="istio-proxy", image=IMAGE)])))
    wait_until("the legacy pod", lambda: core.read_namespaced_pod("legacy", app).status.phase == "Running")
    result = analyze(cluster, app, "--failure-threshold", "Warning")
    assert result.exit_code == 79
    assert result.stdout.startswith(f"Warning [AMB0003] (Namespace {app}) 1 pod(s) keep their Istio sidecars")


def test_all_namespaces_and_the_readonly_user(cluster, app, tmp_path):
    everything = analyze(cluster, app, "-A", "-o", "json")
    assert everything.exit_code in (0, 79), everything.stderr
    assert all(m["code"][:3] in ("AMB", "IST") for m in everything.json)
    readonly = analyze(cluster, app, readonly=True)
    assert readonly.exit_code == 0, readonly.stderr
    assert readonly.stdout == ""
    # `view` does not cover Istio's kinds unless Istio's aggregated roles exist: said, not fatal
    for line in readonly.stderr.splitlines():
        assert line.startswith("Note: not allowed to list ") or line == (
            f"✔ No validation issues found when analyzing namespace: {app}."), readonly.stderr


def test_files_only_never_touches_the_cluster(tmp_path):
    path = policy_file(tmp_path, "default", "x", {"targetRefs": [{"kind": "Service", "group": "", "name": "nope"}]})
    result = invoke("-c", str(tmp_path / "no-such-kubeconfig"), "analyze", "--use-kube=false", path)
    assert result.exit_code == 79
    assert "Error [AMB0002]" in result.stdout and "Service default/nope, which does not exist" in result.stdout
