"""Every read command on a mesh ambientctl did not install: `istioctl install --set profile=ambient`, or Helm.

The cluster is FakeKube holding the reference istioctl's own render
(tests/support/foreignmesh.py, regenerated from the binary by
tests/parity/test_foreign_fixture.py) with the labels `istioctl install` adds,
or the same objects as Helm leaves them. Its ztunnel DaemonSet carries no
`app` label: lookups must go by the pods' labels and the workloads' names.
The same commands against a real istioctl install: tests/e2e/test_foreign_mesh.py.
"""

from __future__ import annotations

import json

import pytest

from ambientctl.errors import ExitCode
from ambientctl.meshparts import find_installed
from tests.support import dumpgen
from tests.support import foreignmesh
from tests.support.fakekube import FakeKube, invoke_with

MESHES = {"istioctl": foreignmesh.istioctl_mesh, "helm": foreignmesh.helm_mesh}


class VersionedKube(FakeKube):
    """FakeKube that also answers /version (version, precheck)."""

    def server_version(self) -> dict[str, str]:
        return {"gitVersion": "v1.36.3", "major": "1", "minor": "36", "platform": "linux/amd64"}


def mesh(tool: str, *extra: dict) -> VersionedKube:
    return VersionedKube([*MESHES[tool](), *extra])


def _app_pod(namespace: str, name: str, node: str = "ambient-worker", account: str = "sleep") -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": name},
                         "annotations": {"ambient.istio.io/redirection": "enabled"}},
            "spec": {"nodeName": node, "serviceAccountName": account, "containers": [{"name": "app"}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}


def _namespace(name: str, labels: dict | None = None) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels or {}}}


@pytest.fixture
def admin(monkeypatch):
    """Every pod's admin port answers with a ztunnel dump; records (pod, port, path)."""
    from ambientctl.kube import portforward

    calls: list[tuple[str, int, str]] = []
    body = json.dumps(dumpgen.generate_dump([("demo", "sleep")])).encode()

    def fake_http_get(kube, pod, namespace, port, path, timeout=None, **kwargs):
        calls.append((pod, port, path))
        return body

    monkeypatch.setattr(portforward, "http_get", fake_http_get)
    return calls


# ------------------------------------------------------------------ the shared lookup


@pytest.mark.parametrize("tool", MESHES)
def test_the_lookup_finds_every_component_and_who_installed_it(tool):
    found = find_installed(mesh(tool), "istio-system")
    assert [(e.component, e.kind, e.name, e.revision, e.installer, e.version) for e in found] == [
        ("istiod", "Deployment", "istiod", "default", tool, "1.31.0"),
        ("ztunnel", "DaemonSet", "ztunnel", "default", tool, "1.31.0"),
        ("istio-cni", "DaemonSet", "istio-cni-node", "default", tool, "1.31.0"),
    ]
    assert [e.ready for e in found] == [1, 3, 3]


def test_helm_releases_are_read_from_helms_annotations():
    found = find_installed(mesh("helm"), "istio-system")
    assert {e.name: e.helm_release for e in found} == {"istiod": "istiod", "ztunnel": "ztunnel",
                                                       "istio-cni-node": "istio-cni"}


# ------------------------------------------------------------------ version


@pytest.mark.parametrize("tool", MESHES)
def test_version_reports_each_component_and_its_installer(tool):
    result = invoke_with(mesh(tool), "version", "-o", "json")
    assert result.exit_code == 0, result.stderr
    entries = json.loads(result.stdout)["meshVersion"]
    assert [(e["component"], e["version"], e["tag"], e["pods"], e["installedBy"]) for e in entries] == [
        ("istiod", "1.31.0", "1.31.0-distroless", 1, tool),
        ("ztunnel", "1.31.0", "1.31.0-distroless", 3, tool),
        ("istio-cni", "1.31.0", "1.31.0-distroless", 3, tool),
    ]
    text = invoke_with(mesh(tool), "version").stdout
    assert f"ztunnel version: 1.31.0 (3 pods, revision default, installed by {tool})" in text


# ------------------------------------------------------------------ verify-install


@pytest.mark.parametrize("tool", MESHES)
def test_verify_install_without_a_record_checks_what_it_can(tool):
    kube = mesh(tool)
    result = invoke_with(kube, "verify-install")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"Found a mesh installed by {tool}, not by ambientctl" in result.stderr
    assert f"✔ DaemonSet istio-system/ztunnel ({tool}): 3/3 ready, 3/3 updated; a ready pod on every schedulable node" \
        in result.stdout
    assert "✔ Versions: Istio 1.31.0 on every component" in result.stdout
    assert "✔ Istio CRDs: 15 Istio CRDs established" in result.stdout
    assert f"✔ Istio installed by {tool} is ready: 3 components (revision default)" in result.stdout
    assert "not managed by ambientctl" not in result.stdout
    assert kube.writes == []


def test_verify_install_names_the_node_without_a_ztunnel():
    kube = mesh("istioctl")
    del kube.store[kube.key("v1", "Pod", "ztunnel-n2", "istio-system")]
    result = invoke_with(kube, "verify-install")
    assert result.exit_code == ExitCode.CHECK_FAILED
    assert "✘ DaemonSet istio-system/ztunnel (istioctl): no ready pod on 1 node(s)" in result.stdout
    assert "    ambient-worker2" in result.stdout
    assert "repair with the tool that installed it (istioctl)" in result.stderr


def test_verify_install_fails_when_a_component_is_missing_and_as_json():
    kube = mesh("istioctl")
    del kube.store[kube.key("apps/v1", "DaemonSet", "istio-cni-node", "istio-system")]
    result = invoke_with(kube, "verify-install", "-o", "json")
    assert result.exit_code == ExitCode.CHECK_FAILED
    document = json.loads(result.stdout)
    assert document["installedBy"] == ["istioctl"]
    failed = [c for c in document["checks"] if c["status"] == "fail"]
    assert [c["description"] for c in failed] == ["DaemonSet istio-cni-node"]
    assert failed[0]["message"] == "not found: no DaemonSet istio-cni-node"


def test_verify_install_warns_on_mixed_releases():
    kube = mesh("istioctl")
    ds = kube.live("apps/v1", "DaemonSet", "ztunnel", "istio-system")
    ds["spec"]["template"]["spec"]["containers"][0]["image"] = "docker.io/istio/ztunnel:1.30.2-distroless"
    result = invoke_with(kube, "verify-install")
    assert result.exit_code == 0
    assert "! Versions: components run different releases: 1.30.2, 1.31.0" in result.stdout


def test_verify_install_with_flags_checks_istioctls_objects_for_presence_and_readiness():
    result = invoke_with(mesh("istioctl"), "verify-install", "--set", "profile=ambient")
    assert "installed by istioctl (presence and readiness checked)" in result.stdout
    assert "ServiceAccount/istio-system/ztunnel (lacks" not in result.stdout
    # ambientctl's ambient profile keeps the guide's ingress gateway, which istioctl's does not render
    assert "missing: Deployment/istio-system/istio-ingressgateway" in result.stdout
    assert result.exit_code == ExitCode.CHECK_FAILED


# ------------------------------------------------------------------ uninstall


@pytest.mark.parametrize("argv", [["uninstall", "-y"], ["uninstall", "--purge", "-y"], ["uninstall", "--dry-run"]])
def test_uninstall_removes_nothing_of_istioctls_and_says_what_to_use(argv):
    kube = mesh("istioctl")
    result = invoke_with(kube, *argv)
    assert result.exit_code == ExitCode.USAGE
    assert kube.writes == []
    line, = [x for x in result.stderr.splitlines() if x.startswith("Error:")]
    assert ("nothing to uninstall: ambientctl did not install the mesh it found (istioctl: Deployment "
            "istio-system/istiod, DaemonSet istio-system/ztunnel, DaemonSet istio-system/istio-cni-node)") in line
    assert "remove it with `istioctl uninstall --purge`" in line


def test_uninstall_of_a_helm_mesh_names_the_releases():
    kube = mesh("helm")
    result = invoke_with(kube, "uninstall", "-y")
    assert result.exit_code == ExitCode.USAGE and kube.writes == []
    assert "`helm uninstall istio-cni -n istio-system` and `helm uninstall istiod -n istio-system` and " \
           "`helm uninstall ztunnel -n istio-system`" in result.stderr


def test_uninstall_beside_an_istioctl_mesh_removes_only_ambientctls_objects():
    from ambientctl.render import render

    ours = [o for o in render(set_values=["profile=ambient", "revision=canary"]).all_objects()
            if o["kind"] in ("Deployment", "ServiceAccount") and "canary" in o["metadata"]["name"]]
    kube = mesh("istioctl", *ours)
    result = invoke_with(kube, "uninstall", "-r", "canary", "-y")
    assert result.exit_code == 0, result.stderr
    deleted = {name for verb, _, name in kube.writes if verb == "delete"}
    assert deleted == {o["metadata"]["name"] for o in ours}
    assert "istiod" in kube.names("Deployment")
    assert "found Istio components ambientctl did not install (istioctl: Deployment istio-system/istiod" in result.stderr
    assert "uninstall will not remove them" in result.stderr


# ------------------------------------------------------------------ proxies: pc, zc, proxy-status


@pytest.mark.parametrize("tool", MESHES)
def test_pc_secret_without_a_reference_finds_ztunnel_by_its_pods_label(tool, admin):
    kube = mesh(tool)
    result = invoke_with(kube, "pc", "secret", "-n", "istio-system", "--node", "ambient-worker")
    assert result.exit_code == 0, result.stderr
    assert admin == [("ztunnel-n1", 15000, "/config_dump")]
    assert "spiffe://cluster.local/ns/demo/sa/sleep" in result.stdout
    assert ("get", "DaemonSet", "ztunnel") not in kube.calls  # the pods' label, not the DaemonSet's


def test_zc_on_a_workload_pod_reads_the_ztunnel_of_its_node(admin):
    kube = mesh("istioctl", _namespace("demo"), _app_pod("demo", "sleep", node="ambient-worker2"))
    result = invoke_with(kube, "zc", "certificate", "sleep", "-n", "demo")
    assert result.exit_code == 0, result.stderr
    assert admin == [("ztunnel-n2", 15000, "/config_dump")]
    assert "from ztunnel ztunnel-n2 on its node ambient-worker2" in result.stderr


def test_zc_log_without_a_pod_asks_every_ztunnel(monkeypatch):
    from ambientctl.cli import proxyadmin

    asked: list[str] = []
    monkeypatch.setattr(proxyadmin, "_ztunnel_log",
                        lambda cli, pod, port, changes, reset: asked.append(pod["metadata"]["name"]) or "")
    result = invoke_with(mesh("istioctl"), "zc", "log")
    assert result.exit_code == 0, result.stderr
    assert asked == ["ztunnel-n0", "ztunnel-n1", "ztunnel-n2"]


def test_zc_log_without_any_ztunnel_is_one_line():
    result = invoke_with(VersionedKube([_namespace("istio-system")]), "zc", "log")
    assert result.exit_code == ExitCode.NOT_FOUND
    assert "no running ztunnel pod (app=ztunnel) in namespace istio-system" in result.stderr


# ------------------------------------------------------------------ mesh views: dataplane, analyze, graph, waypoints


def test_dataplane_status_counts_no_ztunnel_pod_as_a_sidecar():
    kube = mesh("istioctl", _namespace("demo", {"istio.io/dataplane-mode": "ambient"}), _app_pod("demo", "sleep"))
    result = invoke_with(kube, "dataplane", "status", "-A", "-o", "json")
    assert result.exit_code == 0, result.stderr
    rows = {r["namespace"]: r for r in json.loads(result.stdout)["namespaces"]}
    assert rows["istio-system"]["sidecars"] == 0 and rows["istio-system"]["pods"] == 7
    assert (rows["demo"]["mode"], rows["demo"]["captured"]) == ("ambient", 1)


@pytest.mark.parametrize("tool", MESHES)
def test_analyze_and_graph_read_the_mesh(tool):
    kube = mesh(tool, _namespace("demo", {"istio.io/dataplane-mode": "ambient"}), _app_pod("demo", "sleep"))
    analyzed = invoke_with(kube, "analyze", "-A")
    assert analyzed.exit_code == 0, analyzed.stderr
    assert "No validation issues found" in analyzed.stderr and analyzed.stdout == ""
    graph = invoke_with(kube, "x", "graph", "-A")
    assert graph.exit_code == 0, graph.stderr
    assert "demo" in graph.stdout and "sleep" in graph.stdout


def test_precheck_names_istioctl_as_the_installer():
    result = invoke_with(mesh("istioctl"), "precheck")
    assert "Deployment istio-system/istiod (revision default, installed by istioctl)" in result.stdout


# ------------------------------------------------------------------ bug-report's classification


def test_bug_report_classifies_istioctls_pods():
    from ambientctl.bugreport.collect import classify

    pods = [o for o in foreignmesh.istioctl_mesh() if o["kind"] == "Pod"]
    roles = {p["metadata"]["name"]: classify(p, "istio-system", set()) for p in pods}
    assert roles == {"istiod-abc12": "istiod", "ztunnel-n0": "ztunnel", "ztunnel-n1": "ztunnel",
                     "ztunnel-n2": "ztunnel", "istio-cni-node-n0": "cni", "istio-cni-node-n1": "cni",
                     "istio-cni-node-n2": "cni"}


def test_verify_install_of_istioctls_revision_beside_ambientctls_canary():
    from ambientctl.render import render

    canary = [o for o in render(set_values=["profile=ambient", "revision=canary"]).all_objects()
              if o["kind"] == "Deployment" and o["metadata"]["name"] == "istiod-canary"]
    kube = mesh("istioctl", *canary)
    result = invoke_with(kube, "verify-install")
    assert "Found a mesh installed by istioctl, not by ambientctl" in result.stderr
    assert "istiod-canary" not in result.stdout  # another revision's istiod is not this revision's business
    assert "✔ DaemonSet istio-system/ztunnel (istioctl)" in result.stdout
    ours = invoke_with(kube, "verify-install", "-r", "canary")
    assert "Found a mesh installed by" not in ours.stderr  # ambientctl's own revision: its render is checked
    assert "no install record of revision canary" in ours.stderr


def test_x_describe_finds_the_pods_ztunnel_on_istioctls_mesh(admin):
    kube = mesh("istioctl", _namespace("demo", {"istio.io/dataplane-mode": "ambient"}),
                _app_pod("demo", "sleep", node="ambient-worker2"))
    result = invoke_with(kube, "x", "describe", "pod", "sleep", "-n", "demo")
    assert result.exit_code == 0, result.stderr
    assert admin == [("ztunnel-n2", 15000, "/config_dump")]
    assert "istio-system/ztunnel-n2" in result.stdout
