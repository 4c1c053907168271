"""The Installer and Uninstall flow against the in-memory API server (tests/support/fakekube.py, no cluster)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ambientctl.install.permissions import install_permissions
from ambientctl.kube import permissions
from ambientctl.errors import ConflictError, ForbiddenError, KubeTimeoutError
from ambientctl.install.installer import Action, Installer, InstallOptions, InstallProgress
from ambientctl.install.kinds import listed_kinds
from ambientctl.install.lock import LOCK_NAME, InstallLock
from ambientctl.ownership import MANAGED_BY_LABEL, owner_labels
from ambientctl.render import Component, Rendered
from ambientctl.install.uninstall import execute, plan_uninstall, refuse_if_blocked
from tests.support.fakekube import FakeKube

NS = "istio-system"


def _labelled(component: str, objects: list[dict[str, Any]], revision: str = "default") -> list[dict[str, Any]]:
    for o in objects:
        o["metadata"].setdefault("labels", {}).update(owner_labels(component, revision))
    return objects


def _deployment(name: str, image: str) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": NS},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "main", "image": image}]}}}}


def make_render(tag: str = "1.31.0", extra_configmap: bool = True, revision: str | None = None) -> Rendered:
    rev = revision or "default"
    base = _labelled("Base", [
        {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
         "metadata": {"name": "wasmplugins.extensions.istio.io"}, "spec": {"group": "extensions.istio.io"}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "istio-reader-service-account", "namespace": NS}},
    ], rev)
    pilot_objects = [
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
         "metadata": {"name": "istio-sidecar-injector"}, "webhooks": []},
        _deployment("istiod", f"docker.io/istio/pilot:{tag}"),
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "istiod", "namespace": NS}},
    ]
    if extra_configmap:
        pilot_objects.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "istio", "namespace": NS},
                              "data": {"mesh": "{}"}})
    pilot = _labelled("Pilot", pilot_objects, rev)
    ztunnel = _labelled("Ztunnel", [
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "ztunnel", "namespace": NS},
         "spec": {"selector": {"matchLabels": {"app": "ztunnel"}},
                  "template": {"spec": {"containers": [{"name": "istio-proxy", "image": f"docker.io/istio/ztunnel:{tag}"}]}}}},
    ], rev)
    return Rendered("ambient", revision, {}, [Component("Base", NS, base), Component("Pilot", NS, pilot),
                                             Component("Ztunnel", NS, ztunnel)])


def run_install(kube, rendered, **options) -> tuple[Any, InstallProgress]:
    progress = InstallProgress(None, interactive=False)
    opts = InstallOptions(**{"readiness_timeout": 2, "lock_timeout": 0, **options})
    installer = Installer(kube, rendered, opts, progress)
    return installer, progress


def test_install_prints_istioctl_lines_in_component_order():
    kube = FakeKube()
    installer, progress = run_install(kube, make_render())
    report = installer.install()
    assert progress.lines == ["✔ Istio core installed", "✔ Istiod installed", "✔ Ztunnel installed",
                              "✔ Installation complete"]
    assert report.count(Action.CREATED) == 8  # 7 objects + the namespace
    assert kube.crds_waited == ["wasmplugins.extensions.istio.io"]
    assert kube.crd_wait_selectors == ["ambientctl.dev/managed-by=ambientctl"]  # one LIST per poll


def test_reinstall_does_not_wait_for_crds_that_were_already_established():
    kube = FakeKube()
    run_install(kube, make_render())[0].install()
    kube.crds_waited.clear()
    run_install(kube, make_render())[0].install()
    assert kube.crds_waited == []


def test_install_creates_namespace_with_owner_label_and_releases_the_lock():
    kube = FakeKube()
    run_install(kube, make_render())[0].install()
    ns = kube.get("v1", "Namespace", NS)
    assert ns["metadata"]["labels"] == {MANAGED_BY_LABEL: "ambientctl", "ambientctl.dev/component": "Base"}
    assert kube.get_or_none("v1", "ConfigMap", LOCK_NAME, NS) is None
    assert ("create", "ConfigMap", LOCK_NAME) in kube.calls


def test_existing_namespace_is_not_labelled():
    kube = FakeKube()
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS, "labels": {"team": "mesh"}}})
    run_install(kube, make_render())[0].install()
    assert kube.get("v1", "Namespace", NS)["metadata"]["labels"] == {"team": "mesh"}


def test_objects_are_applied_component_by_component_in_kind_order():
    kube = FakeKube()
    run_install(kube, make_render())[0].install()
    applied = [name for verb, _, name in kube.calls if verb == "apply"]
    assert applied == ["wasmplugins.extensions.istio.io", "istio-reader-service-account",
                       "istiod", "istio", "istiod", "istio-sidecar-injector",  # SA, ConfigMap, Deployment, webhook last
                       "ztunnel"]


def test_second_install_changes_nothing_and_says_so():
    kube = FakeKube()
    run_install(kube, make_render())[0].install()
    before = {k: v["metadata"]["resourceVersion"] for k, v in kube.store.items()}
    installer, progress = run_install(kube, make_render())
    report = installer.install()
    after = {k: v["metadata"]["resourceVersion"] for k, v in kube.store.items()}
    assert before == after
    assert not report.changed
    assert report.summary() == "no changes: all 7 objects already match"


def test_upgrade_changes_images_in_place():
    kube = FakeKube()
    run_install(kube, make_render())[0].install()
    report = run_install(kube, make_render(tag="1.31.1"))[0].install()
    image = kube.get("apps/v1", "Deployment", "istiod", NS)["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "docker.io/istio/pilot:1.31.1"
    assert report.count(Action.CONFIGURED) == 2 and report.count(Action.CREATED) == 0


def test_objects_dropped_from_the_render_are_pruned_by_uid_and_lookalikes_survive():
    kube = FakeKube()
    run_install(kube, make_render())[0].install()
    kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "istio-lookalike", "namespace": NS}})
    report = run_install(kube, make_render(extra_configmap=False))[0].install()
    assert kube.names("ConfigMap") == ["istio-lookalike"]
    assert [c.ref for c in report.changes if c.action is Action.PRUNED] == ["ConfigMap/istio-system/istio"]


def test_prune_leaves_other_revisions_alone():
    kube = FakeKube()
    run_install(kube, make_render())[0].install()
    canary = make_render(revision="canary")
    for component in canary.components:
        for o in component.objects:
            o["metadata"]["name"] += "-canary"
    run_install(kube, canary)[0].install()
    assert "istiod" in kube.names("Deployment") and "istiod-canary" in kube.names("Deployment")


def test_dry_run_changes_nothing_and_reports_what_would_happen():
    kube = FakeKube()
    installer, progress = run_install(kube, make_render(), dry_run=True)
    report = installer.plan()
    assert kube.store == {}
    assert progress.lines == []
    created = [c for c in report.changes if c.action is Action.CREATED]
    assert created[0].ref == f"Namespace/{NS}"
    # without the namespace the server cannot validate namespaced objects: say so
    assert any("not validated" in c.note for c in created)


def test_diff_against_an_installed_cluster_shows_only_the_change():
    kube = FakeKube()
    run_install(kube, make_render())[0].install()
    rvs = {k: v["metadata"]["resourceVersion"] for k, v in kube.store.items()}
    report = run_install(kube, make_render(tag="1.31.1", extra_configmap=False), dry_run=True)[0].plan()
    assert {k: v["metadata"]["resourceVersion"] for k, v in kube.store.items()} == rvs
    by_action = {a: [c.ref for c in report.changes if c.action is a] for a in Action}
    assert by_action[Action.CONFIGURED] == ["Deployment/istio-system/istiod", "DaemonSet/istio-system/ztunnel"]
    assert by_action[Action.PRUNED] == ["ConfigMap/istio-system/istio"]
    diff = next(c.diff for c in report.changes if c.ref == "Deployment/istio-system/istiod")
    assert "+      - image: docker.io/istio/pilot:1.31.1" in diff


def test_readiness_timeout_names_the_workload_and_the_pod_reason():
    kube = FakeKube()
    kube.unready.add("istiod")
    kube.store[("", "Pod", NS, "istiod-abc")] = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "istiod-abc", "namespace": NS, "labels": {"app": "istiod"}},
        "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False",
                                                       "message": "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."}]},
    }
    installer, progress = run_install(kube, make_render(), readiness_timeout=0)
    with pytest.raises(KubeTimeoutError) as exc:
        installer.install()
    assert "unschedulable: 0/3 nodes are available" in exc.value.message
    assert progress.lines[:2] == ["✔ Istio core installed", "✘ Istiod: not ready after 0s"]
    assert "    Deployment/istio-system/istiod: 0/1 ready, 1/1 updated" in progress.lines
    assert any(line.strip().startswith("pod istio-system/istiod-abc: unschedulable") for line in progress.lines)
    assert kube.get_or_none("v1", "ConfigMap", LOCK_NAME, NS) is None  # lock released on error


def test_skip_wait_does_not_wait():
    kube = FakeKube()
    kube.unready.add("istiod")
    installer, progress = run_install(kube, make_render(), skip_wait=True)
    installer.install()
    assert progress.lines[-1] == "✔ Installation complete"


def test_conflict_names_the_object_and_force_takes_over():
    kube = FakeKube()
    kube.conflicting.add("istiod")
    with pytest.raises(ConflictError, match=r"^ServiceAccount/istio-system/istiod: apply conflict: .spec.replicas"):
        run_install(kube, make_render())[0].install()
    kube2 = FakeKube()
    kube2.conflicting.add("istiod")
    run_install(kube2, make_render(), force_conflicts=True)[0].install()
    assert "istiod" in kube2.names("Deployment")


def test_ctrl_c_reports_progress_releases_the_lock_and_reraises():
    kube = FakeKube()
    installer, progress = run_install(kube, make_render())
    original = installer.wait_component

    def boom(component, update):
        if component.name == "Pilot":
            raise KeyboardInterrupt
        return original(component, update)

    installer.wait_component = boom
    with pytest.raises(KeyboardInterrupt):
        installer.install()
    assert progress.lines[0] == "✔ Istio core installed"
    assert progress.lines[-1].startswith("! interrupted: Istio core completed")
    assert "re-running the same command finishes or repairs" in progress.lines[-1]
    assert kube.get_or_none("v1", "ConfigMap", LOCK_NAME, NS) is None


def test_a_held_lock_stops_a_second_install_with_holder_and_age():
    kube = FakeKube()
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    InstallLock(kube, NS, stale_after=400, wait=0, holder="bob@ci pid 7").acquire()
    with pytest.raises(ConflictError, match=r"another install is running: bob@ci pid 7 holds the lock .* since \d+s ago"):
        run_install(kube, make_render())[0].install()
    assert kube.names("Deployment") == []
    assert kube.get("v1", "ConfigMap", LOCK_NAME, NS)["data"]["holder"] == "bob@ci pid 7"  # not released by the loser


def test_a_stale_lock_is_taken_over():
    kube = FakeKube()
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": LOCK_NAME, "namespace": NS},
                 "data": {"holder": "dead@host pid 1", "acquiredAt": "2020-01-01T00:00:00Z"}})
    installer, progress = run_install(kube, make_render())
    installer.install()
    assert progress.lines[0].startswith("! taking over a stale install lock held by dead@host pid 1")
    assert kube.get_or_none("v1", "ConfigMap", LOCK_NAME, NS) is None


# ------------------------------------------------------------------ API requests (issue 7)


def preflight_and_install(kube, rendered, **options):
    """What `ambientctl install -y` does: the permission pre-flight, then the install."""
    installer, progress = run_install(kube, rendered, **options)
    permissions.require(kube, install_permissions(
        kube, installer.objects, installer.namespaces(), installer.istio_namespace), "install")
    return installer.install()


def test_fresh_install_sends_one_request_per_object_plus_a_fixed_few():
    """No GET per object before its apply, one access review for a cluster-admin, one LIST per kind."""
    kube = FakeKube()
    rendered = make_render()
    objects = [o for c in rendered.components for o in c.objects]
    preflight_and_install(kube, rendered)
    workloads = 2  # istiod, ztunnel: one readiness GET each
    assert dict(kube.requests) == {
        "review": 1,                                 # may I do everything? yes
        "get": 1 + workloads,                        # the namespace, then readiness
        "create": 2,                                 # the namespace, the lock
        "list": len(listed_kinds(objects)),          # our objects, one LIST per kind
        "apply": len(objects),
        "delete": 1,                                 # the lock
    }
    assert kube.reviews == [("*", "*", "*", "")]


def test_reinstall_sends_the_same_requests_and_changes_nothing():
    kube = FakeKube()
    preflight_and_install(kube, make_render())
    kube.requests.clear()
    before = {k: v["metadata"]["resourceVersion"] for k, v in kube.store.items()}
    report = preflight_and_install(kube, make_render())
    assert {k: v["metadata"]["resourceVersion"] for k, v in kube.store.items()} == before
    assert report.summary() == "no changes: all 7 objects already match"
    assert kube.requests["get"] == 1 + 2 and kube.requests["create"] == 1  # the lock only


def test_objects_another_tool_made_are_configured_not_created_and_still_need_no_get():
    """istioctl (or kubectl) made the webhook: our apply takes it over; the summary must not say created."""
    kube = FakeKube()
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}, manager="kubectl")
    kube.create({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
                 "metadata": {"name": "istio-sidecar-injector"}, "webhooks": []}, manager="istioctl")
    kube.requests.clear()
    report = run_install(kube, make_render())[0].install()
    actions = {c.ref: c.action for c in report.changes}
    assert actions["MutatingWebhookConfiguration/istio-sidecar-injector"] is Action.CONFIGURED
    assert actions["Deployment/istio-system/istiod"] is Action.CREATED
    assert report.count(Action.CREATED) == 6
    assert kube.requests["get"] == 1 + 2


def test_dry_run_diff_of_an_object_we_do_not_own_yet_fetches_only_that_object():
    kube = FakeKube()
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}, manager="kubectl")
    kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "istio", "namespace": NS},
                 "data": {"mesh": "{old: true}"}}, manager="helm")
    kube.requests.clear()
    report = run_install(kube, make_render(), dry_run=True)[0].plan()
    change = next(c for c in report.changes if c.ref == "ConfigMap/istio-system/istio")
    assert change.action is Action.CONFIGURED
    assert "-  mesh: '{old: true}'" in change.diff and "+  mesh: '{}'" in change.diff
    assert kube.requests["get"] == 2  # the namespace, and the ConfigMap for its diff


def test_a_quick_install_does_not_renew_its_lock_but_a_slow_one_does(monkeypatch):
    kube = FakeKube()
    run_install(kube, make_render())[0].install()
    assert kube.requests["patch"] == 0
    monkeypatch.setattr("ambientctl.install.lock.LOCK_RENEW_AFTER", 0.0)
    kube2 = FakeKube()
    run_install(kube2, make_render())[0].install()
    assert kube2.requests["patch"] == 3  # before each of the three components


def test_a_user_who_may_not_do_everything_gets_every_missing_permission_named():
    """The one "*" review is denied: fall back to one review per permission, so the list stays complete."""
    kube = FakeKube()
    installer, _ = run_install(kube, make_render())
    needed = install_permissions(kube, installer.objects, installer.namespaces(), installer.istio_namespace)
    kube.allowed = {(p.verb, p.group, p.resource) for p in needed} - {("patch", "apps", "deployments"),
                                                                        ("list", "apiextensions.k8s.io",
                                                                         "customresourcedefinitions")}
    with pytest.raises(ForbiddenError) as exc:
        permissions.require(kube, needed, "install")
    assert "needs 2 permission(s) you do not have" in exc.value.message
    assert "patch deployments.apps" in exc.value.message
    assert "list customresourcedefinitions.apiextensions.k8s.io cluster-wide" in exc.value.message
    assert kube.reviews[0] == ("*", "*", "*", "") and len(kube.reviews) == 1 + len(set(needed))
    assert kube.store == {}


def test_a_single_permission_is_asked_directly():
    kube = FakeKube()
    assert permissions.missing(kube, [permissions.Permission("delete", "", "namespaces")]) == []
    assert kube.reviews == [("delete", "", "namespaces", "")]


# ------------------------------------------------------------------ uninstall


def _enrol(kube, name):
    kube.create({"apiVersion": "v1", "kind": "Namespace",
                 "metadata": {"name": name, "labels": {"istio.io/dataplane-mode": "ambient"}}})


def test_uninstall_refuses_while_namespaces_are_enrolled():
    kube = FakeKube()
    kube.served_groups.add("gateway.networking.k8s.io")
    run_install(kube, make_render())[0].install()
    _enrol(kube, "bookinfo")
    plan = plan_uninstall(kube, "default", purge=True)
    with pytest.raises(ConflictError, match="refusing to uninstall while the mesh is in use: namespace bookinfo"):
        refuse_if_blocked(plan, force=False)
    refuse_if_blocked(plan, force=True)


def test_uninstall_purge_removes_only_ours_crds_last_and_our_namespace():
    kube = FakeKube()
    run_install(kube, make_render())[0].install()
    kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "istio", "namespace": "default"}})
    plan = plan_uninstall(kube, "default", purge=True)
    assert plan.refs()[-2:] == ["CustomResourceDefinition/wasmplugins.extensions.istio.io", f"Namespace/{NS}"]
    execute(kube, plan, timeout=1)
    remaining = sorted(f"{k[1]}/{k[2]}/{k[3]}" for k in kube.store)
    assert remaining == ["ConfigMap/default/istio"]


def test_uninstall_without_purge_keeps_crds_and_dry_run_keeps_everything():
    kube = FakeKube()
    run_install(kube, make_render())[0].install()
    plan = plan_uninstall(kube, "default", purge=False)
    snapshot = copy.deepcopy(kube.store)
    execute(kube, plan, dry_run=True)
    assert kube.store == snapshot
    execute(kube, plan, timeout=1)
    assert kube.names("CustomResourceDefinition") == ["wasmplugins.extensions.istio.io"]
    assert kube.names("Deployment") == []


def test_purge_keeps_our_namespace_while_it_holds_objects_we_did_not_create():
    kube = FakeKube()
    run_install(kube, make_render())[0].install()
    kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "user-config", "namespace": NS}})
    plan = plan_uninstall(kube, "default", purge=True)
    assert plan.kept_namespaces == {NS: ["ConfigMap/istio-system/user-config"]}
    execute(kube, plan, timeout=1)
    assert kube.get_or_none("v1", "Namespace", NS) is not None
    assert kube.names("ConfigMap") == ["user-config"]
