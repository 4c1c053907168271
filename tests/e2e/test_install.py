"""The install lifecycle on the real test cluster: precheck, install, re-install, verify, diff,
dry run, upgrade, prune, readiness diagnosis, lock, uninstall refusal and purge.

The tests run in file order and share one installation in istio-system; the
module starts from and leaves a cluster without anything of ours
(`uninstall --purge --force -y`).
"""

from __future__ import annotations

from typing import Any

import pytest

from ambientctl.install.kinds import is_installed
from ambientctl.install.lock import LOCK_NAME
from ambientctl.ownership import is_owned
from ambientctl.render import render
from ambientctl.install.uninstall import list_owned, object_revision
from tests.support.cli import invoke

pytestmark = pytest.mark.e2e

NS = "istio-system"
PROFILE = ("--set", "profile=ambient")
WAIT = ("--readiness-timeout", "120s")
LINES = ["✔ Istio core installed", "✔ Istiod installed", "✔ CNI installed", "✔ Ztunnel installed",
         "✔ Ingress gateways installed", "✔ Installation complete"]
LOOKALIKE_NS = "e2e-install-lookalikes"
USER_CONFIGMAP = "istio-user-notes"


def _purge(kube, purge_mesh) -> None:
    kube.delete("v1", "ConfigMap", LOCK_NAME, NS)
    kube.delete("v1", "ConfigMap", USER_CONFIGMAP, NS)  # left by an interrupted run of this module
    purge_mesh()


@pytest.fixture(scope="module", autouse=True)
def clean_slate(kube, purge_mesh):
    _purge(kube, purge_mesh)
    yield kube.get_or_none("v1", "Namespace", NS) is None
    _purge(kube, purge_mesh)
    kube.delete("v1", "Namespace", LOOKALIKE_NS)


def owned_versions(kube) -> dict[str, Any]:
    """Every object of the default revision → the record of our field manager's writes.

    A write by ambientctl changes its managedFields entry (time, fields); a
    no-op server-side apply does not. resourceVersion alone cannot tell: the
    HPA controller and a running istiod (caBundle on webhooks) write too.
    """
    versions = {}
    for obj in list_owned(kube):
        if obj["kind"] == "CustomResourceDefinition" or object_revision(obj) != "default":
            continue  # CRDs are shared with other revisions' installs (tests/reliability runs one)
        ours = [(m.get("operation"), m.get("time"), repr(m.get("fieldsV1"))) for m in obj["metadata"].get("managedFields") or []
                if m.get("manager") == "ambientctl"]
        versions[f"{obj['kind']}/{obj['metadata'].get('namespace', '')}/{obj['metadata']['name']}"] = ours
    return versions


def live(kube, obj: dict[str, Any]) -> dict[str, Any] | None:
    meta = obj["metadata"]
    return kube.get_or_none(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))


def images(kube, kind: str, name: str) -> list[str]:
    obj = kube.get("apps/v1", kind, name, NS)
    return [c["image"] for c in obj["spec"]["template"]["spec"]["containers"]]


# ------------------------------------------------------------------ before install


def test_precheck_passes_for_the_admin(run):
    result = run("precheck")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "✔ Kubernetes version: v1.36.3 is supported by Istio 1.31.0" in result.stdout
    assert "✔ Install permissions:" in result.stdout
    assert "✔ Gateway API: Gateway API CRDs installed (v1.6.0)" in result.stdout
    assert result.stdout.rstrip().endswith("Istio is safe to install or upgrade!")


def test_precheck_fails_for_the_readonly_user_and_lists_missing_permissions(cluster):
    result = invoke("-c", cluster.readonly_kubeconfig, "x", "precheck", "-o", "json")
    assert result.exit_code == 3
    checks = {c["check"]: c for c in result.json["checks"]}
    assert checks["install-permissions"]["status"] == "fail"
    assert "create, patch, delete clusterroles.rbac.authorization.k8s.io" in checks["install-permissions"]["details"]
    assert checks["kubernetes-version"]["status"] == "ok"
    assert "precheck: 1 check(s) failed (Install permissions)" in result.stderr


def test_precheck_warns_about_sidecar_injected_namespaces(run, kube, namespace):
    kube.merge_patch("v1", "Namespace", namespace, None, {"metadata": {"labels": {"istio-injection": "enabled"}}})
    result = run("precheck")
    assert result.exit_code == 0
    assert "! Sidecar namespaces:" in result.stdout
    assert f"    {namespace} (istio-injection=enabled)" in result.stdout


def test_install_without_y_on_a_pipe_refuses_and_changes_nothing(run, kube, clean_slate):
    result = run("install", *PROFILE)
    assert result.exit_code == 2
    assert "pass -y" in result.stderr
    assert owned_versions(kube) == {}
    if clean_slate:
        assert kube.get_or_none("v1", "Namespace", NS) is None


def test_dry_run_before_install_changes_nothing(run, kube, clean_slate):
    result = run("install", *PROFILE, "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "Deployment/istio-system/istiod created" in result.stdout
    assert "nothing was changed" in result.stderr
    assert owned_versions(kube) == {}
    if clean_slate:
        assert kube.get_or_none("v1", "Namespace", NS) is None


# ------------------------------------------------------------------ install


def test_install_prints_istioctl_lines_and_creates_labelled_objects(run, kube, clean_slate):
    result = run("install", *PROFILE, "-y", *WAIT)
    assert result.exit_code == 0, result.stderr
    status_lines = [line for line in result.stderr.splitlines() if line.startswith("✔")]
    assert status_lines == LINES
    rendered = render(set_values=["profile=ambient"])
    for obj in rendered.all_objects():
        found = live(kube, obj)
        assert found is not None, obj["metadata"]["name"]
        assert is_owned(found), obj["metadata"]["name"]
    namespace = kube.get("v1", "Namespace", NS)
    assert is_installed(namespace) == clean_slate  # labelled only if we created it
    assert kube.get_or_none("v1", "ConfigMap", LOCK_NAME, NS) is None  # lock released


def test_second_install_changes_nothing(run, kube):
    before = owned_versions(kube)
    result = run("install", *PROFILE, "-y", *WAIT)
    assert result.exit_code == 0, result.stderr
    assert "no changes: all" in result.stderr
    assert owned_versions(kube) == before


def test_verify_install_passes(run):
    result = run("verify-install", *PROFILE)
    assert result.exit_code == 0, result.stdout + result.stderr
    for title in ("Istio core", "Istiod", "CNI", "Ztunnel", "Ingress gateways"):
        assert f"✔ {title}: " in result.stdout
    assert "✔ DaemonSet istio-system/ztunnel: a ready pod on each of 3 schedulable node(s)" in result.stdout
    assert "✔ DaemonSet istio-system/istio-cni-node: a ready pod on each of 3 schedulable node(s)" in result.stdout
    assert "✔ Deployment istio-system/istiod: 1 pod(s) ready" in result.stdout
    assert "✔ Deployment istio-system/istio-ingressgateway: 1 pod(s) ready" in result.stdout


def test_verify_install_without_flags_checks_the_recorded_install(run, kube):
    """Issue 16: a bare verify-install after `install --set profile=ambient` checked the default profile (exit 3)."""
    from ambientctl.install.record import RECORD_NAME, from_configmap

    record = from_configmap(kube.get("v1", "ConfigMap", RECORD_NAME, NS))
    assert record is not None and record.profile == "ambient" and record.set_values == ("profile=ambient",)
    result = run("verify-install")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"Using the install recorded at {record.installed_at}: profile=ambient, 1 --set" in result.stderr
    assert "(profile ambient, revision default)" in result.stdout


def test_diff_and_dry_run_of_an_upgrade_change_nothing(run, kube):
    before = owned_versions(kube)
    diff = run("install", *PROFILE, "--set", "tag=1.31.1", "--diff")
    assert diff.exit_code == 0, diff.stderr
    assert "--- live/Deployment/istio-system/istiod\n+++ rendered/Deployment/istio-system/istiod\n" in diff.stdout
    assert "\n-        image: docker.io/istio/pilot:1.31.0-distroless\n+        image: docker.io/istio/pilot:1.31.1-distroless\n" in diff.stdout
    assert "resourceVersion" not in diff.stdout and "managedFields" not in diff.stdout
    assert "Diff: " in diff.stderr and "nothing was changed" in diff.stderr
    dry = run("install", *PROFILE, "--set", "tag=1.31.1", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "Deployment/istio-system/istiod configured (server dry run)" in dry.stdout
    assert all(line.split(" ", 1)[1] in ("configured (server dry run)", "unchanged (server dry run)")
               for line in dry.stdout.splitlines())
    assert owned_versions(kube) == before


def test_diff_without_changes_says_so(run):
    result = run("install", *PROFILE, "--diff")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "No differences: the cluster matches the render" in result.stderr


def test_upgrade_changes_the_images_in_place(run, kube):
    uid = kube.get("apps/v1", "Deployment", "istiod", NS)["metadata"]["uid"]
    result = run("install", *PROFILE, "--set", "tag=1.31.1", "-y", *WAIT)
    assert result.exit_code == 0, result.stderr
    assert images(kube, "Deployment", "istiod") == ["docker.io/istio/pilot:1.31.1-distroless"]
    assert images(kube, "DaemonSet", "ztunnel") == ["docker.io/istio/ztunnel:1.31.1-distroless"]
    assert kube.get("apps/v1", "Deployment", "istiod", NS)["metadata"]["uid"] == uid  # in place
    assert run("verify-install", *PROFILE, "--set", "tag=1.31.1").exit_code == 0
    stale = run("verify-install", *PROFILE)  # the old input no longer matches
    assert stale.exit_code == 3
    assert "✘ Istiod:" in stale.stdout and "changed since install" in stale.stdout
    recorded = run("verify-install")  # the record follows the last install
    assert recorded.exit_code == 0, recorded.stdout + recorded.stderr
    assert "profile=ambient, 2 --set" in recorded.stderr


def test_prune_removes_what_the_render_dropped(run, kube):
    gateway = kube.get("apps/v1", "Deployment", "istio-ingressgateway", NS)
    result = run("install", *PROFILE, "--set", "tag=1.31.1", "--set", "components.ingressGateways[0].enabled=false",
                 "-y", *WAIT)
    assert result.exit_code == 0, result.stderr
    assert "✔ Ingress gateways installed" not in result.stderr
    assert "pruned" in result.stderr
    assert kube.get_or_none("apps/v1", "Deployment", "istio-ingressgateway", NS) is None
    assert kube.get_or_none("v1", "Service", "istio-ingressgateway", NS) is None
    assert gateway["metadata"]["uid"]  # it existed before
    # back to the full profile: the gateway returns
    result = run("install", *PROFILE, "--set", "tag=1.31.1", "-y", *WAIT)
    assert result.exit_code == 0, result.stderr
    assert kube.get_or_none("apps/v1", "Deployment", "istio-ingressgateway", NS) is not None


def test_readiness_timeout_says_which_pod_and_why(run, kube):
    result = run("install", *PROFILE, "--set", "tag=1.31.1", "--set", "values.pilot.nodeSelector.e2e=nowhere",
                 "-y", "--readiness-timeout", "8s")
    assert result.exit_code == 4, result.stderr
    assert "✔ Istio core installed" in result.stderr
    assert "✘ Istiod: not ready after 8s" in result.stderr
    assert "Deployment/istio-system/istiod" in result.stderr
    assert "unschedulable: 0/3 nodes are available" in result.stderr
    assert "Error: Istiod not ready after 8s: pod istio-system/istiod-" in result.stderr
    assert kube.get_or_none("v1", "ConfigMap", LOCK_NAME, NS) is None
    # re-running without the bad value repairs
    repaired = run("install", *PROFILE, "--set", "tag=1.31.1", "-y", *WAIT)
    assert repaired.exit_code == 0, repaired.stderr
    assert run("verify-install", *PROFILE, "--set", "tag=1.31.1").exit_code == 0


def test_a_running_install_blocks_a_second_one(run, kube):
    kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": LOCK_NAME, "namespace": NS},
                 "data": {"holder": "carol@ci pid 99", "acquiredAt": "2099-01-01T00:00:00Z",
                          "renewedAt": "2099-01-01T00:00:00Z"}})
    try:
        result = run("install", *PROFILE, "--set", "tag=1.31.1", "-y", "--lock-timeout", "0")
        assert result.exit_code == 9
        assert "another install is running: carol@ci pid 99 holds the lock" in result.stderr
        assert kube.get("v1", "ConfigMap", LOCK_NAME, NS)["data"]["holder"] == "carol@ci pid 99"
    finally:
        kube.delete("v1", "ConfigMap", LOCK_NAME, NS)


# ------------------------------------------------------------------ uninstall


def test_uninstall_refuses_while_a_namespace_is_enrolled(run, kube, namespace):
    kube.merge_patch("v1", "Namespace", namespace, None,
                     {"metadata": {"labels": {"istio.io/dataplane-mode": "ambient"}}})
    before = owned_versions(kube)
    result = run("uninstall", "--purge", "-y")
    assert result.exit_code == 9
    assert "refusing to uninstall while the mesh is in use: " in result.stderr
    assert f"namespace {namespace} is enrolled in ambient (istio.io/dataplane-mode=ambient)" in result.stderr
    assert "--force" in result.stderr
    assert owned_versions(kube) == before


def test_uninstall_dry_run_lists_and_keeps_everything(run, kube):
    before = owned_versions(kube)
    result = run("uninstall", "--purge", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "  Deployment/istio-system/istiod\n" in result.stdout
    assert "  CustomResourceDefinition/" in result.stdout
    assert owned_versions(kube) == before


def test_uninstall_purge_removes_only_what_we_created(run, kube, clean_slate):
    rendered = render(set_values=["profile=ambient", "tag=1.31.1"])
    crds = [o["metadata"]["name"] for o in rendered.all_objects() if o["kind"] == "CustomResourceDefinition"]
    assert crds
    # look-alikes: same names, not ours
    if kube.get_or_none("v1", "Namespace", LOOKALIKE_NS) is None:
        kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": LOOKALIKE_NS}})
    kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "istio", "namespace": LOOKALIKE_NS},
                 "data": {"mesh": "mine"}})
    kube.create({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "istiod", "namespace": LOOKALIKE_NS},
                 "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "istiod"}},
                          "template": {"metadata": {"labels": {"app": "istiod"}},
                                       "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]}}}})
    kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": USER_CONFIGMAP, "namespace": NS}})

    # --force: the shared test cluster may hold other tests' ambient namespaces
    result = run("uninstall", "--purge", "--force", "-y")
    assert result.exit_code == 0, result.stderr
    assert "✔ Uninstall complete" in result.stderr
    if clean_slate:
        assert "namespace istio-system will be kept: it holds objects ambientctl did not create " \
               f"(ConfigMap/istio-system/{USER_CONFIGMAP})" in result.stderr
    assert list_owned(kube) == []  # needs exclusive use of the cluster: --purge removes every revision
    for name in crds:
        assert kube.get_or_none("apiextensions.k8s.io/v1", "CustomResourceDefinition", name) is None, name
    assert kube.get("v1", "ConfigMap", "istio", LOOKALIKE_NS)["data"] == {"mesh": "mine"}
    assert kube.get_or_none("apps/v1", "Deployment", "istiod", LOOKALIKE_NS) is not None
    assert kube.get_or_none("v1", "ConfigMap", USER_CONFIGMAP, NS) is not None
    assert kube.get_or_none("apiextensions.k8s.io/v1", "CustomResourceDefinition",
                            "gateways.gateway.networking.k8s.io") is not None  # Gateway API is not ours

    # once the user's object is gone, the namespace we created goes too
    kube.delete("v1", "ConfigMap", USER_CONFIGMAP, NS)
    if clean_slate:
        result = run("uninstall", "--purge", "--force", "-y")
        assert result.exit_code == 0, result.stderr
        assert "  Namespace/istio-system\n" in result.stdout
        assert kube.get_or_none("v1", "Namespace", NS) is None
    again = run("uninstall", "--purge", "--force", "-y")
    assert again.exit_code == 0 and "Nothing to uninstall" in again.stderr
