"""Service-account → Services matching, and the pure status/list/added-labels helpers."""

from __future__ import annotations

import json

import pytest

from ambientctl.waypoint import cluster, manifest, records, report
from ambientctl.waypoint.match import match_service_account
from ambientctl.gateways import is_programmed, is_waypoint
from ambientctl.ownership import ADDED_LABELS_ANNOTATION


def pod(name, sa, labels, phase="Running", deleting=False):
    meta = {"name": name, "labels": labels}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    spec = {"serviceAccountName": sa} if sa else {}
    return {"metadata": meta, "spec": spec, "status": {"phase": phase}}


def service(name, selector):
    return {"metadata": {"name": name}, "spec": {"selector": selector} if selector is not None else {}}


BOOKINFO_PODS = [
    pod("productpage-v1-a", "bookinfo-productpage", {"app": "productpage", "version": "v1"}),
    pod("reviews-v1-a", "bookinfo-reviews", {"app": "reviews", "version": "v1"}),
    pod("reviews-v2-a", "bookinfo-reviews", {"app": "reviews", "version": "v2"}),
    pod("ratings-v1-a", "bookinfo-ratings", {"app": "ratings", "version": "v1"}),
]
BOOKINFO_SERVICES = [
    service("productpage", {"app": "productpage"}),
    service("reviews", {"app": "reviews"}),
    service("reviews-v2", {"app": "reviews", "version": "v2"}),
    service("ratings", {"app": "ratings"}),
    service("external", None),
]


def test_productpage_account_matches_only_its_service():
    match = match_service_account("bookinfo-productpage", BOOKINFO_SERVICES, BOOKINFO_PODS)
    assert match.exclusive == ["productpage"]
    assert match.shared == {} and match.unfronted_pods == [] and match.pods == 1


def test_reviews_account_matches_every_service_of_its_pods():
    match = match_service_account("bookinfo-reviews", BOOKINFO_SERVICES, BOOKINFO_PODS)
    assert match.exclusive == ["reviews", "reviews-v2"]
    assert match.pods == 2


def test_service_fronting_two_accounts_is_shared_not_exclusive():
    pods = BOOKINFO_PODS + [pod("reviews-v3-a", "other-sa", {"app": "reviews", "version": "v3"})]
    match = match_service_account("bookinfo-reviews", BOOKINFO_SERVICES, pods)
    assert match.exclusive == ["reviews-v2"]
    assert match.shared == {"reviews": ["other-sa"]}


def test_pods_without_a_service_are_reported():
    pods = BOOKINFO_PODS + [pod("batch-1", "bookinfo-productpage", {"app": "batch"})]
    match = match_service_account("bookinfo-productpage", BOOKINFO_SERVICES, pods)
    assert match.exclusive == ["productpage"]
    assert match.unfronted_pods == ["batch-1"]


def test_no_pods_no_match():
    match = match_service_account("nobody", BOOKINFO_SERVICES, BOOKINFO_PODS)
    assert (match.exclusive, match.shared, match.unfronted_pods, match.pods) == ([], {}, [], 0)


def test_empty_selector_selects_nothing():
    match = match_service_account("bookinfo-ratings", [service("all", {})], BOOKINFO_PODS)
    assert match.exclusive == [] and match.unfronted_pods == ["ratings-v1-a"]


def test_finished_and_terminating_pods_are_ignored():
    pods = [
        pod("done", "sa", {"app": "x"}, phase="Succeeded"),
        pod("going", "sa", {"app": "x"}, deleting=True),
        pod("other", "other", {"app": "x"}, phase="Failed"),
    ]
    match = match_service_account("sa", [service("x", {"app": "x"})], pods)
    assert match.exclusive == [] and match.pods == 0


def test_pod_without_service_account_runs_as_default():
    pods = [pod("p", None, {"app": "x"})]
    assert match_service_account("default", [service("x", {"app": "x"})], pods).exclusive == ["x"]


def with_annotation(value):
    return {"metadata": {"labels": {"istio.io/use-waypoint": "wp", "team": "a"},
                         "annotations": {ADDED_LABELS_ANNOTATION: value}}}


@pytest.mark.parametrize("value,expected", [
    ('{"istio.io/use-waypoint":"wp"}', {"istio.io/use-waypoint": "wp"}),
    ('["istio.io/use-waypoint"]', {"istio.io/use-waypoint": "wp"}),
    ("istio.io/use-waypoint=wp,team", {"istio.io/use-waypoint": "wp", "team": "a"}),
    ("", {}),
    ("42", {}),
])
def test_read_added_labels_formats(value, expected):
    assert records.read_added_labels(with_annotation(value)) == expected


@pytest.mark.parametrize("value,expected", [
    ('{"istio.io/use-waypoint":"theirs"}', {"istio.io/use-waypoint": "theirs"}),
    ('["istio.io/use-waypoint"]', {}),  # no value recorded: nothing to restore, never the live one
    ("istio.io/use-waypoint", {}),
    ("not json", {}),
])
def test_read_replaced_labels_needs_the_recorded_value(value, expected):
    obj = {"metadata": {"labels": {"istio.io/use-waypoint": "wp"},
                        "annotations": {"ambientctl.dev/replaced-labels": value}}}
    assert records.read_replaced_labels(obj) == expected


def test_encode_label_record_round_trips_and_empties_to_none():
    encoded = records.encode_label_record({"b": "2", "a": "1"})
    assert json.loads(encoded) == {"a": "1", "b": "2"}
    assert records.encode_label_record({}) is None


def gateway(name, ns="default", conditions=None, labels=None, generation=1, klass="istio-waypoint"):
    gw = {"metadata": {"name": name, "namespace": ns, "generation": generation, "labels": labels or {}},
          "spec": {"gatewayClassName": klass}}
    if conditions is not None:
        gw["status"] = {"conditions": conditions}
    return gw


API_DEFAULT = [
    {"type": "Accepted", "status": "Unknown", "reason": "Pending", "message": "Waiting for controller",
     "lastTransitionTime": "1970-01-01T00:00:00Z"},
    {"type": "Programmed", "status": "Unknown", "reason": "Pending", "message": "Waiting for controller",
     "lastTransitionTime": "1970-01-01T00:00:00Z"},
]
PROGRAMMED = [
    {"type": "Accepted", "status": "True", "reason": "Accepted", "message": "ok", "observedGeneration": 1,
     "lastTransitionTime": "2026-01-01T00:00:00Z"},
    {"type": "Programmed", "status": "True", "reason": "Programmed", "message": "Resources programmed",
     "observedGeneration": 1, "lastTransitionTime": "2026-01-01T00:00:00Z"},
]
NOT_READY = [
    {"type": "Accepted", "status": "True", "reason": "Accepted", "message": "ok", "observedGeneration": 1,
     "lastTransitionTime": "2026-01-01T00:00:00Z"},
    {"type": "Programmed", "status": "False", "reason": "NoResources", "message": "Deployment waypoint\n not ready",
     "observedGeneration": 1, "lastTransitionTime": "2026-01-01T00:00:00Z"},
]


def test_api_server_default_status_means_no_controller():
    for conditions in (None, [], API_DEFAULT):
        gw = gateway("w", conditions=conditions)
        assert report.untouched_by_controller(gw)
        assert report.not_programmed_reasons(gw) == [report.NO_CONTROLLER]
        assert not is_programmed(gw)


def test_programmed_needs_current_generation():
    assert is_programmed(gateway("w", conditions=PROGRAMMED))
    assert not is_programmed(gateway("w", conditions=PROGRAMMED, generation=2))
    reasons = report.not_programmed_reasons(gateway("w", conditions=PROGRAMMED, generation=2))
    assert "older generation" in reasons[0]


def test_not_programmed_reasons_quote_the_condition():
    reasons = report.not_programmed_reasons(gateway("w", conditions=NOT_READY))
    assert reasons == ["Programmed=False (NoResources: Deployment waypoint not ready)"]


def test_list_rows_use_istioctl_defaults():
    rows = report.list_rows([
        gateway("b", conditions=PROGRAMMED, labels={"istio.io/rev": "canary", "istio.io/waypoint-for": "all"}),
        gateway("a"),
        gateway("c", ns="aaa", conditions=NOT_READY),
    ])
    assert [(r["namespace"], r["name"], r["revision"], r["trafficType"], r["programmed"]) for r in rows] == [
        ("aaa", "c", "default", "none", "False"),
        ("default", "a", "default", "none", "False"),
        ("default", "b", "canary", "all", "True"),
    ]


def test_status_rows_one_per_condition_or_no_controller():
    rows = report.status_rows([gateway("a", conditions=API_DEFAULT), gateway("b", conditions=NOT_READY)])
    assert [(r["name"], r["type"], r["status"]) for r in rows] == [
        ("a", "Programmed", "Unknown"), ("b", "Accepted", "True"), ("b", "Programmed", "False")]
    assert rows[0]["message"] == report.NO_CONTROLLER
    assert rows[2]["message"] == "Deployment waypoint not ready"


def test_owned_manifest_adds_owner_labels_to_the_generated_gateway():
    spec, _ = manifest.make_spec(namespace="default", revision="canary")
    owned = manifest.owned_gateway_manifest(spec)
    plain = manifest.gateway_manifest(spec)
    assert owned["spec"] == plain["spec"]
    assert owned["metadata"]["labels"]["ambientctl.dev/managed-by"] == "ambientctl"
    assert owned["metadata"]["labels"]["istio.io/rev"] == "canary"
    assert is_waypoint(owned)


def applied_gateway(labels, annotations=None, owned_labels=None, owned_listener='k:{"name":"mesh"}'):
    """A Gateway as the API server returns it after our apply (defaults and managedFields included)."""
    owned_labels = list(labels) if owned_labels is None else owned_labels
    meta_fields = {"f:labels": {f"f:{k}": {} for k in owned_labels}}
    if annotations:
        meta_fields["f:annotations"] = {f"f:{k}": {} for k in annotations}
    return {
        "metadata": {
            "name": "waypoint", "namespace": "default", "labels": dict(labels),
            **({"annotations": dict(annotations)} if annotations else {}),
            "managedFields": [{"manager": "ambientctl", "operation": "Apply", "fieldsV1": {
                "f:metadata": meta_fields,
                "f:spec": {"f:gatewayClassName": {}, "f:listeners": {
                    owned_listener: {".": {}, "f:name": {}, "f:port": {}, "f:protocol": {}}}},
            }}],
        },
        "spec": {"gatewayClassName": "istio-waypoint", "listeners": [
            {"name": "mesh", "port": 15008, "protocol": "HBONE", "allowedRoutes": {"namespaces": {"from": "Same"}}}]},
    }


def test_already_applied_detects_a_no_op():
    spec, _ = manifest.make_spec(namespace="default", service_account=None)
    desired = manifest.owned_gateway_manifest(spec)
    live = applied_gateway(desired["metadata"]["labels"])
    assert cluster.already_applied(live, desired, "ambientctl")
    assert not cluster.already_applied(live, desired, "istioctl")


def test_already_applied_sees_every_change():
    spec, _ = manifest.make_spec(namespace="default")
    desired = manifest.owned_gateway_manifest(spec)
    labels = desired["metadata"]["labels"]
    # a label we applied before and no longer want must be removed by a real apply
    assert not cluster.already_applied(applied_gateway({**labels, "istio.io/rev": "old"}), desired, "ambientctl")
    with_for, _ = manifest.make_spec(namespace="default", traffic_type="all")
    assert not cluster.already_applied(applied_gateway(labels), manifest.owned_gateway_manifest(with_for), "ambientctl")
    changed = applied_gateway(labels)
    changed["spec"]["listeners"][0]["port"] = 15009
    assert not cluster.already_applied(changed, desired, "ambientctl")
    other_class = applied_gateway(labels)
    other_class["spec"]["gatewayClassName"] = "istio-mesh"
    assert not cluster.already_applied(other_class, desired, "ambientctl")
    assert not cluster.already_applied(applied_gateway(labels, owned_listener='k:{"name":"old"}'), desired, "ambientctl")
    sa, _ = manifest.make_spec(namespace="default", service_account="sa", name="waypoint")
    assert not cluster.already_applied(applied_gateway(labels), manifest.owned_gateway_manifest(sa), "ambientctl")
    sa_desired = manifest.owned_gateway_manifest(sa)
    assert cluster.already_applied(applied_gateway(labels, sa_desired["metadata"]["annotations"]), sa_desired, "ambientctl")
