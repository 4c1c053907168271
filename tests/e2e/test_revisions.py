"""Revisions on the real test cluster: an old release upgraded in place, a canary next to the default,
revision tags, enrolment with -r, version per revision/node/namespace, and uninstalling the canary
while the default (with the real istiod programming waypoints) keeps working.

The tests run in file order and share one mesh; the module starts from and leaves a cluster without
anything of ours (`uninstall --purge --force -y`).
"""

from __future__ import annotations

import uuid

import pytest

from ambientctl.errors import ExitCode
from tests.support.istiod import start_istiod
from tests.support.waiting import wait_until
from tests.support.reference import pilot_discovery_bin, reference_binaries  # noqa: F401 (fixtures)

pytestmark = pytest.mark.e2e

NS = "istio-system"
OLD = "1.30.2"
NEW = "1.31.0"
WAIT = ("--readiness-timeout", "180s")
ADMISSION = "admissionregistration.k8s.io/v1"


@pytest.fixture(scope="module")
def app_ns(kube):
    name = f"e2e-rev-{uuid.uuid4().hex[:6]}"
    kube.create({"apiVersion": "v1", "kind": "Namespace",
                 "metadata": {"name": name, "labels": {"ambientctl.test/e2e": "true"}}})
    yield name
    kube.delete("v1", "Namespace", name)


def _purge(kube, purge_mesh) -> None:
    for hook in kube.list(ADMISSION, "MutatingWebhookConfiguration", label_selector="istio.io/tag"):
        kube.delete(ADMISSION, "MutatingWebhookConfiguration", hook["metadata"]["name"])
    purge_mesh()


@pytest.fixture(scope="module", autouse=True)
def clean_slate(kube, purge_mesh):
    _purge(kube, purge_mesh)
    yield
    _purge(kube, purge_mesh)


def _nodes(kube) -> list[str]:
    return sorted(n["metadata"]["name"] for n in kube.list("v1", "Node"))


# ---------------------------------------------------------------------------------------- an old release


def test_install_an_older_release_and_version_reports_it_per_node(run, kube):
    result = run("install", "--set", "profile=ambient", "--set", f"tag={OLD}", "-y", *WAIT)
    assert result.exit_code == 0, result.stderr
    nodes = _nodes(kube)

    def ztunnels():
        doc = run("version", "-o", "json").json
        return doc if len(doc["dataPlane"]["ztunnel"]) == len(nodes) else None
    doc = wait_until("a ztunnel pod on every node", ztunnels, timeout=90, interval=1)
    assert [(c["revision"], c["version"], c["ready"]) for c in doc["controlPlane"]] == [("default", OLD, 1)]
    assert sorted(z["node"] for z in doc["dataPlane"]["ztunnel"]) == nodes
    assert {z["version"] for z in doc["dataPlane"]["ztunnel"]} == {OLD}
    text = run("version").stdout
    assert f"control plane version: {OLD} (revision default, 1/1 istiod pods ready)" in text
    assert f"data plane version: {OLD} ({len(nodes)} ztunnel, 0 waypoint pods)" in text


def test_precheck_reads_the_running_version_of_a_revision(run):
    result = run("precheck", "-r", "default", "-o", "json")
    check = [c for c in result.json["checks"] if c["check"] == "upgrade-version"][0]
    assert check["status"] == "ok" and f"{OLD} → {NEW}" in check["message"], check
    far = run("precheck", "--from-version", "1.28")
    assert far.exit_code == ExitCode.CHECK_FAILED and "more than Istio supports" in far.stdout


def test_upgrade_dry_run_shows_the_diff_and_changes_nothing(run, kube):
    before = kube.get("apps/v1", "Deployment", "istiod", NS)["metadata"]["resourceVersion"]
    result = run("upgrade", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert f"+        image: docker.io/istio/pilot:{NEW}-distroless" in result.stdout
    assert f"Revision default: {OLD} → {NEW}" in result.stderr
    assert kube.get("apps/v1", "Deployment", "istiod", NS)["metadata"]["resourceVersion"] == before
    refused = run("upgrade")  # no terminal, no -y
    assert refused.exit_code == ExitCode.USAGE


def test_upgrade_in_place_to_the_pinned_release(run, kube):
    result = run("upgrade", "-y", "--verify", *WAIT)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"✔ Revision default upgraded to {NEW}" in result.stderr

    def upgraded():
        doc = run("version", "-o", "json").json
        versions = {c["version"] for c in doc["controlPlane"]} | {z["version"] for z in doc["dataPlane"]["ztunnel"]}
        return doc if versions == {NEW} else None
    wait_until("every pod on the new release", upgraded, timeout=90, interval=1)
    again = run("upgrade", "-y")
    assert again.exit_code == 0 and "Nothing to upgrade" in again.stderr


# ---------------------------------------------------------------------------------------- a canary next to it


def test_a_canary_installs_next_to_the_default_without_taking_its_data_plane(run, kube):
    ztunnel_uid = kube.get("apps/v1", "DaemonSet", "ztunnel", NS)["metadata"]["uid"]
    result = run("install", "--set", "profile=ambient", "-r", "canary", "-y", *WAIT)
    assert result.exit_code == 0, result.stderr
    assert "Ztunnel" in result.stderr and "stay with revision default" in result.stderr
    ztunnel = kube.get("apps/v1", "DaemonSet", "ztunnel", NS)
    assert ztunnel["metadata"]["uid"] == ztunnel_uid
    assert ztunnel["metadata"]["labels"]["ambientctl.dev/revision"] == "default"
    for args in ((), ("-r", "canary")):
        verified = run("verify-install", *args)
        assert verified.exit_code == 0, verified.stdout + verified.stderr
    doc = run("version", "-o", "json").json
    assert [(c["revision"], c["version"]) for c in doc["controlPlane"]] == [("canary", NEW), ("default", NEW)]


def test_tag_set_points_a_tag_at_the_canary_with_istioctls_objects(run, kube):
    refused = run("tag", "set", "prod", "-r", "nope")
    assert refused.exit_code == ExitCode.NOT_FOUND and "installed revisions: canary, default" in refused.stderr
    result = run("tag", "set", "prod", "-r", "canary")
    assert result.exit_code == 0, result.stderr
    hook = kube.get(ADMISSION, "MutatingWebhookConfiguration", "istio-revision-tag-prod")
    assert hook["metadata"]["labels"]["istio.io/tag"] == "prod"
    assert hook["metadata"]["labels"]["istio.io/rev"] == "canary"
    assert {h["clientConfig"]["service"]["name"] for h in hook["webhooks"]} == {"istiod-canary"}
    service = kube.get("v1", "Service", "istiod-revision-tag-prod", NS)
    assert service["spec"]["selector"] == {"app": "istiod", "istio.io/rev": "canary"}
    again = run("tag", "set", "prod", "-r", "default")
    assert again.exit_code == ExitCode.CONFLICT
    generated = run("tag", "generate", "stable", "-r", "default")
    assert generated.exit_code == 0 and "istio-revision-tag-stable" in generated.stdout
    assert kube.get_or_none(ADMISSION, "MutatingWebhookConfiguration", "istio-revision-tag-stable") is None


def test_enroll_with_the_tag_and_list_and_version_follow_it(run, kube, app_ns):
    result = run("dataplane", "enroll", app_ns, "-r", "prod")
    assert result.exit_code == 0, result.stderr
    labels = kube.get("v1", "Namespace", app_ns)["metadata"]["labels"]
    assert labels["istio.io/rev"] == "prod" and labels["istio.io/dataplane-mode"] == "ambient"
    assert run("tag", "list", "-o", "json").json == [{"tag": "prod", "revision": "canary", "namespaces": [app_ns]}]
    assert run("tag", "list").stdout.splitlines()[1].split() == ["prod", "canary", app_ns]
    doc = run("version", "-r", "prod", "-o", "json").json
    assert [c["revision"] for c in doc["controlPlane"]] == ["canary"]


def test_tag_remove_is_refused_while_a_namespace_uses_it(run, kube, app_ns):
    refused = run("tag", "remove", "prod")
    assert refused.exit_code == ExitCode.CONFLICT and app_ns in refused.stderr
    assert kube.get_or_none(ADMISSION, "MutatingWebhookConfiguration", "istio-revision-tag-prod") is not None
    assert run("dataplane", "unenroll", app_ns).exit_code == 0
    labels = kube.get("v1", "Namespace", app_ns)["metadata"].get("labels") or {}
    assert "istio.io/rev" not in labels and "istio.io/dataplane-mode" not in labels
    removed = run("tag", "remove", "prod")
    assert removed.exit_code == 0 and removed.stdout == "Revision tag prod removed\n"
    assert kube.get_or_none(ADMISSION, "MutatingWebhookConfiguration", "istio-revision-tag-prod") is None
    assert kube.get_or_none("v1", "Service", "istiod-revision-tag-prod", NS) is None


# ---------------------------------------------------------------------------------------- the canary goes


def test_uninstalling_the_default_is_refused_while_the_canary_needs_its_ztunnel(run, kube):
    result = run("uninstall", "-y")
    assert result.exit_code == ExitCode.CONFLICT
    assert "DaemonSet istio-system/ztunnel of revision default also carries revision canary" in result.stderr
    assert kube.get_or_none("apps/v1", "Deployment", "istiod", NS) is not None


def test_uninstalling_the_canary_leaves_the_default_working_with_the_real_istiod(cluster, run, kube, app_ns,
                                                                                 pilot_discovery_bin):
    result = run("uninstall", "-r", "canary", "-y")
    assert result.exit_code == 0, result.stderr
    assert kube.get_or_none("apps/v1", "Deployment", "istiod-canary", NS) is None
    assert kube.get_or_none(ADMISSION, "MutatingWebhookConfiguration", "istio-sidecar-injector-canary") is None
    verified = run("verify-install")
    assert verified.exit_code == 0, verified.stdout + verified.stderr
    assert run("dataplane", "enroll", app_ns).exit_code == 0
    try:
        istiod = start_istiod(pilot_discovery_bin, cluster.kubeconfig)
    except RuntimeError as e:
        pytest.fail(f"the real istiod could not run: {e}", pytrace=False)
    try:
        applied = run("-n", app_ns, "waypoint", "apply", "--wait", "--waypoint-timeout", "90s")
        assert applied.exit_code == 0, f"{applied.stderr}\n--- istiod ---\n{istiod.log_tail(20)}"

        def waypoint_versions():
            doc = run("version", "-o", "json").json
            return [w for w in doc["dataPlane"]["waypoints"] if w["namespace"] == app_ns and w["pods"]]
        waypoints = wait_until("the waypoint's pod in version's report", waypoint_versions, timeout=90, interval=1)
    finally:
        istiod.stop()
    assert [(w["name"], w["revision"], w["version"]) for w in waypoints] == [("waypoint", "default", NEW)]
    text = run("version").stdout
    assert any(line.split()[:4] == [app_ns, "waypoint", NEW, "default"] for line in text.splitlines())
    assert run("-n", app_ns, "waypoint", "delete", "--all").exit_code == 0
    assert run("dataplane", "unenroll", app_ns).exit_code == 0
