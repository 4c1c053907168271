"""`dataplane enroll -r` and `unenroll`: istio.io/rev set, recorded as ours, and removed (or restored) exactly."""

from __future__ import annotations

import json

from ambientctl.errors import ExitCode
from ambientctl.ownership import ADDED_LABELS_ANNOTATION, REPLACED_LABELS_ANNOTATION
from tests.support.fakekube import invoke_with
from tests.unit.test_revision_tags import cluster


def _ns(kube, name):
    return kube.live("v1", "Namespace", name)


def _labels(kube, name):
    return _ns(kube, name)["metadata"].get("labels") or {}


def test_enroll_with_a_revision_sets_and_records_the_revision_and_unenroll_removes_only_it():
    kube = cluster(None, "canary", namespaces={"shop": {"team": "a"}})
    result = invoke_with(kube, "dataplane", "enroll", "shop", "-r", "canary")
    assert result.exit_code == 0, result.stderr
    assert "revision canary" in result.stdout
    assert "sidecar injector also matches" in result.stderr
    labels = _labels(kube, "shop")
    assert labels["istio.io/rev"] == "canary" and labels["istio.io/dataplane-mode"] == "ambient"
    annotations = _ns(kube, "shop")["metadata"]["annotations"]
    assert json.loads(annotations[ADDED_LABELS_ANNOTATION]) == {"istio.io/rev": "canary"}
    assert invoke_with(kube, "dataplane", "unenroll", "shop").exit_code == 0
    assert _labels(kube, "shop") == {"team": "a"}
    assert not (_ns(kube, "shop")["metadata"].get("annotations") or {}).get(ADDED_LABELS_ANNOTATION)


def test_enroll_accepts_a_tag_and_says_where_it_points():
    kube = cluster(None, "canary", namespaces={"shop": {}})
    assert invoke_with(kube, "tag", "set", "prod", "-r", "canary").exit_code == 0
    result = invoke_with(kube, "dataplane", "enroll", "shop", "-r", "prod")
    assert result.exit_code == 0, result.stderr
    assert "tag prod points at revision canary" in result.stderr
    assert _labels(kube, "shop")["istio.io/rev"] == "prod"


def test_enroll_with_an_unknown_revision_is_refused_before_any_write():
    kube = cluster(None, namespaces={"shop": {}})
    result = invoke_with(kube, "dataplane", "enroll", "shop", "-r", "canary")
    assert result.exit_code == ExitCode.NOT_FOUND and "no control plane" in result.stderr
    assert kube.writes == []


def test_a_users_revision_label_needs_overwrite_and_is_restored_on_unenroll():
    kube = cluster(None, "canary", namespaces={"shop": {"istio.io/rev": "default"}})
    refused = invoke_with(kube, "dataplane", "enroll", "shop", "-r", "canary")
    assert refused.exit_code == ExitCode.CONFLICT and "--overwrite" in refused.stderr
    assert kube.writes == []
    assert invoke_with(kube, "dataplane", "enroll", "shop", "-r", "canary", "--overwrite").exit_code == 0
    annotations = _ns(kube, "shop")["metadata"]["annotations"]
    assert json.loads(annotations[REPLACED_LABELS_ANNOTATION]) == {"istio.io/rev": "default"}
    assert invoke_with(kube, "dataplane", "unenroll", "shop").exit_code == 0
    assert _labels(kube, "shop") == {"istio.io/rev": "default"}


def test_unenroll_leaves_a_revision_label_that_someone_changed_after_enroll():
    kube = cluster(None, "canary", namespaces={"shop": {}})
    invoke_with(kube, "dataplane", "enroll", "shop", "-r", "canary")
    kube.merge_patch("v1", "Namespace", "shop", None, {"metadata": {"labels": {"istio.io/rev": "default"}}})
    assert invoke_with(kube, "dataplane", "unenroll", "shop").exit_code == 0
    assert _labels(kube, "shop") == {"istio.io/rev": "default"}


def test_enroll_again_with_the_same_revision_changes_nothing_and_moving_our_own_label_needs_no_overwrite():
    kube = cluster(None, "canary", namespaces={"shop": {}})
    invoke_with(kube, "dataplane", "enroll", "shop", "-r", "canary")
    writes = len(kube.writes)
    again = invoke_with(kube, "dataplane", "enroll", "shop", "-r", "canary")
    assert again.exit_code == 0 and "no change" in again.stdout and len(kube.writes) == writes
    moved = invoke_with(kube, "dataplane", "enroll", "shop", "-r", "default")
    assert moved.exit_code == 0, moved.stderr
    assert _labels(kube, "shop")["istio.io/rev"] == "default"
    invoke_with(kube, "dataplane", "unenroll", "shop")
    assert "istio.io/rev" not in _labels(kube, "shop")


def test_plain_enroll_is_unchanged():
    kube = cluster(None, namespaces={"shop": {}})
    assert invoke_with(kube, "dataplane", "enroll", "shop").exit_code == 0
    assert _labels(kube, "shop") == {"istio.io/dataplane-mode": "ambient"}
    assert not (_ns(kube, "shop")["metadata"].get("annotations") or {})


def test_waypoint_apply_for_a_revision_without_a_control_plane_warns():
    kube = cluster(None, "canary", namespaces={"shop": {}})
    served = invoke_with(kube, "-n", "shop", "waypoint", "apply", "-r", "canary")
    assert served.exit_code == 0, served.stderr
    assert "no istiod will program" not in served.stderr
    unserved = invoke_with(kube, "-n", "shop", "waypoint", "apply", "-r", "nope", "--name", "other")
    assert unserved.exit_code == 0, unserved.stderr
    assert "revision 'nope' has no control plane" in unserved.stderr and "no istiod will program" in unserved.stderr
