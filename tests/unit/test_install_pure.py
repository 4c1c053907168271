"""The pure parts of install/uninstall: prune sets, diff normalisation, lock staleness, confirmation, durations."""

from __future__ import annotations

import datetime as dt

import pytest

from ambientctl.errors import InvalidInputError
from ambientctl.install.diff import normalize_for_diff, object_diff
from ambientctl.install.installer import (
    Action,
    Confirmation,
    InstallReport,
    ObjectChange,
    classify,
    confirmation_decision,
)
from ambientctl.install.kinds import (
    CREATED_NAMESPACE_LABELS,
    INSTALL_COMPONENTS,
    MANAGED_KINDS,
    NEVER_PRUNED,
    object_key,
    prune_kinds,
    prune_set,
)
from ambientctl.install.lock import LockState, format_time, lock_is_stale
from ambientctl.install.uninstall import blockers, removable_namespaces, select_for_uninstall
from ambientctl.ownership import MANAGED_BY_LABEL, owner_labels


def obj(kind, name, namespace=None, api_version="v1", labels=None, uid=None, **extra):
    meta = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    if labels is not None:
        meta["labels"] = labels
    if uid:
        meta["uid"] = uid
    return {"apiVersion": api_version, "kind": kind, "metadata": meta, **extra}


OURS = owner_labels("Pilot", "default")


# ------------------------------------------------------------------ prune


def test_prune_set_is_live_owned_minus_rendered():
    rendered = [obj("ConfigMap", "istio", "istio-system", labels=OURS)]
    live = [
        obj("ConfigMap", "istio", "istio-system", labels=OURS, uid="1"),
        obj("ConfigMap", "old", "istio-system", labels=OURS, uid="2"),
    ]
    assert [o["metadata"]["name"] for o in prune_set(rendered, live)] == ["old"]


def test_prune_never_touches_unlabelled_objects_even_if_a_selector_returned_them():
    live = [obj("ConfigMap", "lookalike", "istio-system", labels={}, uid="3"),
            obj("ConfigMap", "other", "istio-system", labels={MANAGED_BY_LABEL: "helm"}, uid="4")]
    assert prune_set([], live) == []


def test_prune_leaves_the_endpoint_slices_kubernetes_copies_our_labels_onto():
    """The EndpointSlice controller copies a Service's labels (ours) to its slices; only the remote
    profile's slice, managed by ambientctl, is ours to prune."""
    copied = {**OURS, "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}
    ours = {**OURS, "endpointslice.kubernetes.io/managed-by": "ambientctl"}
    live = [obj("EndpointSlice", "istiod-x7k2p", "istio-system", api_version="discovery.k8s.io/v1", labels=copied),
            obj("EndpointSlice", "istiod", "istio-system", api_version="discovery.k8s.io/v1", labels=ours)]
    assert [o["metadata"]["name"] for o in prune_set([], live)] == ["istiod"]


def test_prune_never_deletes_crds_or_namespaces():
    live = [obj("CustomResourceDefinition", "gateways.networking.istio.io", api_version="apiextensions.k8s.io/v1",
                labels=OURS, uid="5"),
            obj("Namespace", "istio-system", labels=OURS, uid="6")]
    assert prune_set([], live) == []


def test_prune_identity_ignores_api_version_but_not_group():
    rendered = [obj("HorizontalPodAutoscaler", "istiod", "istio-system", api_version="autoscaling/v2", labels=OURS)]
    live_same = obj("HorizontalPodAutoscaler", "istiod", "istio-system", api_version="autoscaling/v1", labels=OURS)
    live_other_group = obj("Gateway", "istiod", "istio-system", api_version="networking.istio.io/v1", labels=OURS)
    pruned = prune_set(rendered, [live_same, live_other_group])
    assert [o["kind"] for o in pruned] == ["Gateway"]


def test_prune_set_comes_out_in_delete_order():
    live = [obj("ServiceAccount", "a", "ns", labels=OURS), obj("Deployment", "b", "ns", api_version="apps/v1", labels=OURS),
            obj("MutatingWebhookConfiguration", "c", api_version="admissionregistration.k8s.io/v1", labels=OURS)]
    assert [o["kind"] for o in prune_set([], live)] == ["MutatingWebhookConfiguration", "Deployment", "ServiceAccount"]


def test_prune_kinds_cover_managed_kinds_and_new_rendered_kinds_but_not_crds():
    kinds = prune_kinds([obj("NetworkAttachmentDefinition", "istio-cni", "kube-system",
                             api_version="k8s.cni.cncf.io/v1", labels=OURS)])
    assert ("k8s.cni.cncf.io/v1", "NetworkAttachmentDefinition") in kinds
    assert ("apps/v1", "DaemonSet") in kinds
    assert not [k for k in kinds if k[1] in NEVER_PRUNED]
    assert len(kinds) == len(set(kinds))


def test_managed_kinds_include_every_kind_the_ambient_charts_render():
    kinds = {k.kind for k in MANAGED_KINDS}
    assert {"CustomResourceDefinition", "ServiceAccount", "ConfigMap", "ClusterRole", "ClusterRoleBinding",
            "Role", "RoleBinding", "Service", "Deployment", "DaemonSet", "MutatingWebhookConfiguration",
            "ValidatingWebhookConfiguration", "PodDisruptionBudget", "HorizontalPodAutoscaler"} <= kinds


def test_object_key():
    assert object_key(obj("Deployment", "istiod", "istio-system", api_version="apps/v1")) == \
        ("apps", "Deployment", "istio-system", "istiod")
    assert object_key(obj("ClusterRole", "x", api_version="rbac.authorization.k8s.io/v1")) == \
        ("rbac.authorization.k8s.io", "ClusterRole", "", "x")


# ------------------------------------------------------------------ diff


def _live_deployment(image="docker.io/istio/pilot:1.31.0", rv="10"):
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "istiod", "namespace": "istio-system", "uid": "u1", "resourceVersion": rv,
                     "generation": 3, "creationTimestamp": "2026-01-01T00:00:00Z",
                     "managedFields": [{"manager": "ambientctl"}],
                     "annotations": {"deployment.kubernetes.io/revision": "3"}},
        "spec": {"template": {"spec": {"containers": [{"name": "discovery", "image": image}]}}},
        "status": {"readyReplicas": 1},
    }


def test_normalize_drops_server_owned_fields_only():
    clean = normalize_for_diff(_live_deployment())
    assert "status" not in clean
    assert set(clean["metadata"]) == {"name", "namespace"}
    assert clean["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":1.31.0")


def test_normalize_does_not_mutate_its_input():
    live = _live_deployment()
    normalize_for_diff(live)
    assert live["metadata"]["resourceVersion"] == "10" and "status" in live


def test_normalize_drops_volatile_annotations_without_touching_the_input():
    """normalize_for_diff copies only what it changes (issue 17: it deep-copied every CRD schema)."""
    live = _live_deployment()
    live["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": "3"}
    clean = normalize_for_diff(live)
    assert "annotations" not in clean["metadata"]
    assert live["metadata"]["annotations"] == {"deployment.kubernetes.io/revision": "3"}
    live["metadata"]["annotations"]["keep"] = "x"
    assert normalize_for_diff(live)["metadata"]["annotations"] == {"keep": "x"}


def test_diff_is_empty_when_only_server_fields_differ():
    a, b = _live_deployment(rv="10"), _live_deployment(rv="11")
    b["status"] = {"readyReplicas": 0}
    assert object_diff(a, b, "Deployment/istio-system/istiod") == ""


def test_diff_shows_the_changed_image_as_a_unified_diff():
    text = object_diff(_live_deployment(), _live_deployment("docker.io/istio/pilot:1.31.1"), "Deployment/istio-system/istiod")
    assert text.startswith("--- live/Deployment/istio-system/istiod\n+++ rendered/Deployment/istio-system/istiod\n")
    assert "-      - image: docker.io/istio/pilot:1.31.0\n" in text
    assert "+      - image: docker.io/istio/pilot:1.31.1\n" in text
    assert "resourceVersion" not in text


def test_classify():
    live = _live_deployment(rv="10")
    assert classify(None, live, dry_run=False) is Action.CREATED
    assert classify(live, _live_deployment(rv="10"), dry_run=False) is Action.UNCHANGED
    assert classify(live, _live_deployment(rv="11"), dry_run=False) is Action.CONFIGURED
    # dry runs keep the resourceVersion: compare content instead
    assert classify(live, _live_deployment("x:2", rv="10"), dry_run=True) is Action.CONFIGURED
    assert classify(live, _live_deployment(rv="10"), dry_run=True) is Action.UNCHANGED


def test_report_summary():
    report = InstallReport([ObjectChange("a", Action.UNCHANGED), ObjectChange("b", Action.UNCHANGED)])
    assert report.summary() == "no changes: all 2 objects already match"
    assert not report.changed
    report.changes += [ObjectChange("c", Action.CREATED), ObjectChange("d", Action.PRUNED)]
    assert report.summary() == "1 created, 2 unchanged, 1 pruned"


# ------------------------------------------------------------------ lock


NOW = dt.datetime(2026, 5, 1, 12, 0, 0, tzinfo=dt.timezone.utc)


def _lock(acquired_s_ago, renewed_s_ago=None, data=True):
    acquired = NOW - dt.timedelta(seconds=acquired_s_ago)
    cm = {"metadata": {"uid": "u", "creationTimestamp": format_time(acquired)}, "data": {}}
    if data:
        cm["data"] = {"holder": "alice@laptop pid 42", "acquiredAt": format_time(acquired)}
        if renewed_s_ago is not None:
            cm["data"]["renewedAt"] = format_time(NOW - dt.timedelta(seconds=renewed_s_ago))
    return LockState.from_configmap(cm)


def test_fresh_lock_is_not_stale():
    assert not lock_is_stale(_lock(10), NOW, stale_after=420)


def test_lock_older_than_timeout_without_renewal_is_stale():
    assert lock_is_stale(_lock(421), NOW, stale_after=420)


def test_renewed_lock_is_alive_even_if_acquired_long_ago():
    state = _lock(3000, renewed_s_ago=30)
    assert not lock_is_stale(state, NOW, stale_after=420)
    assert state.age_seconds(NOW) == 3000


def test_lock_without_data_falls_back_to_creation_time():
    state = _lock(1000, data=False)
    assert state.holder == "unknown"
    assert lock_is_stale(state, NOW, stale_after=420)


def test_lock_with_garbage_timestamps_is_stale():
    state = LockState.from_configmap({"metadata": {}, "data": {"acquiredAt": "yesterday"}})
    assert lock_is_stale(state, NOW, stale_after=10_000)


# ------------------------------------------------------------------ confirmation, durations


@pytest.mark.parametrize(
    ("skip", "changes_nothing", "tty", "expected"),
    [
        (True, False, False, Confirmation.PROCEED),
        (False, True, False, Confirmation.PROCEED),
        (False, False, True, Confirmation.ASK),
        (False, False, False, Confirmation.REFUSE),
    ],
)
def test_confirmation_decision(skip, changes_nothing, tty, expected):
    assert confirmation_decision(skip, changes_nothing, tty) is expected


# ------------------------------------------------------------------ uninstall selection


def test_uninstall_revision_keeps_crds_other_revisions_and_foreign_objects():
    crd = obj("CustomResourceDefinition", "x.istio.io", api_version="apiextensions.k8s.io/v1",
              labels=owner_labels("Base", "default"))
    mine = obj("Deployment", "istiod", "istio-system", api_version="apps/v1", labels=owner_labels("Pilot", "default"))
    canary = obj("Deployment", "istiod-canary", "istio-system", api_version="apps/v1",
                 labels=owner_labels("Pilot", "canary"))
    foreign = obj("ConfigMap", "istio", "istio-system", labels={})
    chosen = select_for_uninstall([crd, mine, canary, foreign], "default", purge=False)
    assert chosen == [mine]
    purged = select_for_uninstall([crd, mine, canary, foreign], "default", purge=True)
    assert {o["metadata"]["name"] for o in purged[:2]} == {"istiod", "istiod-canary"}
    assert purged[-1] is crd  # CRDs last: their resources go with them


def test_namespace_removed_only_if_ours_and_nothing_of_ours_stays():
    ours_ns = obj("Namespace", "istio-system", labels=dict(CREATED_NAMESPACE_LABELS), uid="n1")
    theirs_ns = obj("Namespace", "other", labels={}, uid="n2")
    samples_ns = obj("Namespace", "bookinfo", labels={MANAGED_BY_LABEL: "ambientctl"}, uid="n3")
    assert removable_namespaces([samples_ns], [], [], purge=True) == []
    mine = obj("Deployment", "istiod", "istio-system", labels=owner_labels("Pilot", "default"), uid="a")
    canary = obj("Deployment", "istiod-canary", "istio-system", labels=owner_labels("Pilot", "canary"), uid="b")
    assert removable_namespaces([ours_ns, theirs_ns], [mine, canary], [mine], purge=False) == []
    assert removable_namespaces([ours_ns, theirs_ns], [mine], [mine], purge=False) == [ours_ns]
    assert removable_namespaces([ours_ns, theirs_ns], [mine, canary], [mine, canary], purge=True) == [ours_ns]


def test_blockers_name_ambient_namespaces_and_waypoints_of_the_revision():
    ambient = [obj("Namespace", "bookinfo", labels={"istio.io/dataplane-mode": "ambient"}),
               obj("Namespace", "canary-apps", labels={"istio.io/dataplane-mode": "ambient", "istio.io/rev": "canary"})]
    waypoints = [obj("Gateway", "waypoint", "bookinfo", api_version="gateway.networking.k8s.io/v1",
                     spec={"gatewayClassName": "istio-waypoint"})]
    lines = blockers(ambient, [], waypoints, "default", purge=False)
    assert lines == ["namespace bookinfo is enrolled in ambient (istio.io/dataplane-mode=ambient)",
                     "waypoint bookinfo/waypoint (class istio-waypoint) exists"]
    assert len(blockers(ambient, [], waypoints, "canary", purge=False)) == 1
    assert len(blockers(ambient, [], waypoints, "default", purge=True)) == 3


def test_foreign_content_ignores_ours_automatic_and_controller_owned_objects():
    from ambientctl.install.lock import LOCK_NAME
    from ambientctl.install.uninstall import foreign_content

    objects = [
        obj("ConfigMap", "istio", "istio-system", labels=OURS),
        obj("ConfigMap", "kube-root-ca.crt", "istio-system"),
        obj("ConfigMap", "istio-ca-root-cert", "istio-system"),
        obj("ConfigMap", LOCK_NAME, "istio-system"),
        {"kind": "Secret", "metadata": {"name": "x", "ownerReferences": [{"kind": "Deployment"}]}},
        obj("Secret", "cacerts", "istio-system"),  # a user's CA: deleting the namespace would lose it
        {"kind": "ConfigMap", "metadata": {"name": "istio-leader", "managedFields": [{"manager": "pilot-discovery"}]}},
        {"kind": "ConfigMap", "metadata": {"name": "edited", "managedFields": [{"manager": "pilot-discovery"},
                                                                             {"manager": "kubectl-edit"}]}},
    ]
    assert [o["metadata"]["name"] for o in foreign_content(objects)] == ["cacerts", "edited"]


def test_terminating_namespaces_do_not_block_uninstall():
    terminating = obj("Namespace", "leaving", labels={"istio.io/dataplane-mode": "ambient"})
    terminating["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert blockers([terminating], [], [], "default", purge=True) == []


SAMPLE = {**owner_labels(), "ambientctl.dev/component": "samples"}


def test_prune_and_uninstall_leave_other_features_objects_alone():
    """samples/waypoint/authz put the same managed-by label on their objects, with another component."""
    sample = obj("Deployment", "productpage-v1", "bookinfo", api_version="apps/v1", labels=SAMPLE, uid="s1")
    waypoint_sa = obj("ServiceAccount", "waypoint", "bookinfo", labels=owner_labels("waypoint", "default"), uid="s2")
    assert prune_set([], [sample, waypoint_sa]) == []
    assert select_for_uninstall([sample, waypoint_sa], "default", purge=True) == []


def test_install_components_are_the_renderers():
    from ambientctl.render import COMPONENT_ORDER

    assert INSTALL_COMPONENTS == COMPONENT_ORDER


def test_rollout_note_explains_a_stuck_rollout():
    from ambientctl.install.installer import rollout_note

    stuck = {"kind": "Deployment", "spec": {"replicas": 1}, "status": {"replicas": 2}}
    assert rollout_note(stuck) == ", rollout stuck: 2 pods for 1 wanted (new pods not ready)"
    assert rollout_note({"kind": "Deployment", "spec": {"replicas": 1}, "status": {"replicas": 1}}) == ""
    assert rollout_note({"kind": "DaemonSet", "status": {"replicas": 5}}) == ""


def test_revision_uninstall_keeps_istio_core_cluster_scoped_objects_for_other_revisions():
    validator = obj("ValidatingWebhookConfiguration", "istiod-default-validator",
                    api_version="admissionregistration.k8s.io/v1", labels=owner_labels("Base", "rel"))
    reader_sa = obj("ServiceAccount", "istio-reader-service-account", "e2e-rel-istio", labels=owner_labels("Base", "rel"))
    assert select_for_uninstall([validator, reader_sa], "rel", purge=False) == [reader_sa]
    assert len(select_for_uninstall([validator, reader_sa], "rel", purge=True)) == 2
