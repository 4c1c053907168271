"""apply/list/status/delete against an in-memory API (the e2e tests repeat the key cases on a real cluster).

The fake (tests/support/fakekube.py) keeps objects and resourceVersions, applies
merge patches (null deletes a key, a stale resourceVersion is a conflict) and
honours delete preconditions, so these tests check which objects the commands
change, not how they call the client.
"""

from __future__ import annotations

import json

import pytest

from ambientctl.errors import ExitCode
from ambientctl.ownership import ADDED_LABELS_ANNOTATION
from tests.support.cli import Result
from tests.support.fakekube import FakeKube, invoke_with

GW = "gateway.networking.k8s.io/v1"


def run(fake: FakeKube, *args: str) -> Result:
    return invoke_with(fake, *args)


def namespace(name="default", labels=None):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels or {}}}


def service(name, selector, labels=None, ns="default"):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": ns, "labels": labels or {}}, "spec": {"selector": selector}}


def pod(name, sa, labels, ns="default"):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"serviceAccountName": sa}, "status": {"phase": "Running"}}


def gateway(name, klass="istio-waypoint", ns="default", labels=None, conditions=None):
    gw = {"apiVersion": GW, "kind": "Gateway", "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
          "spec": {"gatewayClassName": klass, "listeners": [{"name": "mesh", "port": 15008, "protocol": "HBONE"}]}}
    if conditions is not None:
        gw["status"] = {"conditions": conditions}
    return gw


@pytest.fixture
def bookinfo() -> FakeKube:
    fake = FakeKube()
    fake.add(namespace("default", {"istio.io/dataplane-mode": "ambient"}))
    for sa in ("bookinfo-productpage", "bookinfo-reviews"):
        fake.add({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa, "namespace": "default"}})
    fake.add(pod("productpage-v1", "bookinfo-productpage", {"app": "productpage"}))
    fake.add(pod("reviews-v1", "bookinfo-reviews", {"app": "reviews", "version": "v1"}))
    fake.add(pod("reviews-v2", "bookinfo-reviews", {"app": "reviews", "version": "v2"}))
    fake.add(service("productpage", {"app": "productpage"}, labels={"team": "web"}))
    fake.add(service("reviews", {"app": "reviews"}))
    return fake


def labels_of(fake: FakeKube, kind: str, name: str) -> dict:
    return fake.get("v1", kind, name, "default")["metadata"].get("labels") or {}


def test_apply_creates_owned_gateway_and_is_idempotent(bookinfo):
    first = run(bookinfo, "waypoint", "apply", "-n", "default")
    assert first.exit_code == 0, first.stderr
    assert first.stdout == "✔ waypoint default/waypoint applied\n"
    gw = bookinfo.get(GW, "Gateway", "waypoint", "default")
    assert gw["metadata"]["labels"]["ambientctl.dev/managed-by"] == "ambientctl"
    writes = list(bookinfo.writes)
    second = run(bookinfo, "waypoint", "apply", "-n", "default")
    assert second.exit_code == 0
    assert bookinfo.writes == writes, "second apply changed something"


def test_service_account_labels_only_its_services_and_records_them(bookinfo):
    result = run(bookinfo, "waypoint", "apply", "-n", "default", "--service-account", "bookinfo-productpage")
    assert result.exit_code == 0, result.stderr
    assert 'service default/productpage labeled with "istio.io/use-waypoint: bookinfo-productpage-waypoint"' in result.stdout
    assert labels_of(bookinfo, "Service", "productpage")["istio.io/use-waypoint"] == "bookinfo-productpage-waypoint"
    assert "istio.io/use-waypoint" not in labels_of(bookinfo, "Service", "reviews")
    annotations = bookinfo.get("v1", "Service", "productpage", "default")["metadata"]["annotations"]
    assert json.loads(annotations[ADDED_LABELS_ANNOTATION]) == {"istio.io/use-waypoint": "bookinfo-productpage-waypoint"}
    gw = bookinfo.get(GW, "Gateway", "bookinfo-productpage-waypoint", "default")
    assert gw["metadata"]["annotations"] == {"istio.io/service-account": "bookinfo-productpage"}

    writes = list(bookinfo.writes)
    again = run(bookinfo, "waypoint", "apply", "-n", "default", "--service-account", "bookinfo-productpage")
    assert again.exit_code == 0 and bookinfo.writes == writes
    assert "already labeled" in again.stdout


def test_service_with_other_waypoint_kept_without_overwrite(bookinfo):
    bookinfo.live("v1", "Service", "reviews", "default")["metadata"]["labels"]["istio.io/use-waypoint"] = "mine"
    result = run(bookinfo, "waypoint", "apply", "-n", "default", "--service-account", "bookinfo-reviews")
    assert result.exit_code == 0
    assert labels_of(bookinfo, "Service", "reviews")["istio.io/use-waypoint"] == "mine"
    assert "already uses waypoint mine" in result.stderr and "--overwrite" in result.stderr
    forced = run(bookinfo, "waypoint", "apply", "-n", "default", "--service-account", "bookinfo-reviews",
                 "--overwrite")
    assert forced.exit_code == 0
    assert labels_of(bookinfo, "Service", "reviews")["istio.io/use-waypoint"] == "bookinfo-reviews-waypoint"
    deleted = run(bookinfo, "waypoint", "delete", "bookinfo-reviews-waypoint", "-n", "default")
    assert "service default/reviews: label istio.io/use-waypoint set back to 'mine'" in deleted.stdout
    assert labels_of(bookinfo, "Service", "reviews")["istio.io/use-waypoint"] == "mine"


def test_delete_removes_only_labels_it_added(bookinfo):
    run(bookinfo, "waypoint", "apply", "-n", "default", "--service-account", "bookinfo-reviews")
    # a user attaches another Service to the same waypoint by hand: not ours to remove
    bookinfo.live("v1", "Service", "productpage", "default")["metadata"]["labels"]["istio.io/use-waypoint"] = \
        "bookinfo-reviews-waypoint"
    result = run(bookinfo, "waypoint", "delete", "bookinfo-reviews-waypoint", "-n", "default")
    assert result.exit_code == 0, result.stderr
    assert "waypoint default/bookinfo-reviews-waypoint deleted" in result.stdout
    assert "service default/reviews: removed label istio.io/use-waypoint" in result.stdout
    assert "istio.io/use-waypoint" not in labels_of(bookinfo, "Service", "reviews")
    assert ADDED_LABELS_ANNOTATION not in (bookinfo.get("v1", "Service", "reviews", "default")["metadata"]
                                           .get("annotations") or {})
    assert labels_of(bookinfo, "Service", "productpage") == {"team": "web", "istio.io/use-waypoint": "bookinfo-reviews-waypoint"}
    assert "service productpage still uses bookinfo-reviews-waypoint" in result.stderr
    assert bookinfo.get_or_none(GW, "Gateway", "bookinfo-reviews-waypoint", "default") is None


def test_delete_leaves_a_relabelled_service_alone(bookinfo):
    run(bookinfo, "waypoint", "apply", "-n", "default", "--service-account", "bookinfo-productpage")
    bookinfo.live("v1", "Service", "productpage", "default")["metadata"]["labels"]["istio.io/use-waypoint"] = "x"
    run(bookinfo, "waypoint", "delete", "bookinfo-productpage-waypoint", "-n", "default")
    assert labels_of(bookinfo, "Service", "productpage")["istio.io/use-waypoint"] == "x"


def test_delete_never_touches_other_gateways(bookinfo):
    bookinfo.add(gateway("ingress", klass="istio"))
    bookinfo.add(gateway("waypoint"))
    bookinfo.add(gateway("legacy", klass="istio-mesh"))
    named = run(bookinfo, "waypoint", "delete", "ingress", "-n", "default")
    assert named.exit_code == 0
    assert "gateway default/ingress (class istio) is not a waypoint; left alone" in named.stderr
    assert bookinfo.get_or_none(GW, "Gateway", "ingress", "default") is not None
    everything = run(bookinfo, "waypoint", "delete", "--all", "-n", "default")
    assert everything.stdout.splitlines() == ["waypoint default/legacy deleted", "waypoint default/waypoint deleted"]
    assert bookinfo.get_or_none(GW, "Gateway", "ingress", "default") is not None


def test_delete_by_revision(bookinfo):
    bookinfo.add(gateway("old", labels={"istio.io/rev": "1-30"}))
    bookinfo.add(gateway("new", labels={"istio.io/rev": "1-31"}))
    result = run(bookinfo, "waypoint", "delete", "-r", "1-30", "-n", "default")
    assert result.stdout == "waypoint default/old deleted\n"
    assert bookinfo.get_or_none(GW, "Gateway", "new", "default") is not None


def test_delete_missing_name_warns(bookinfo):
    result = run(bookinfo, "waypoint", "delete", "ghost", "-n", "default")
    assert result.exit_code == 0 and "waypoint default/ghost not found" in result.stderr


def test_enroll_namespace_refuses_to_repoint_without_overwrite(bookinfo):
    bookinfo.live("v1", "Namespace", "default")["metadata"]["labels"]["istio.io/use-waypoint"] = "other"
    result = run(bookinfo, "waypoint", "apply", "-n", "default", "--enroll-namespace")
    assert result.exit_code == ExitCode.CONFLICT
    assert "--overwrite" in result.stderr
    assert bookinfo.get_or_none(GW, "Gateway", "waypoint", "default") is None
    ok = run(bookinfo, "waypoint", "apply", "-n", "default", "--enroll-namespace", "--overwrite")
    assert ok.exit_code == 0
    assert 'namespace default labeled with "istio.io/use-waypoint: waypoint"' in ok.stdout
    removed = run(bookinfo, "waypoint", "delete", "waypoint", "-n", "default")
    # the value the user had set before --overwrite comes back, and no record of it is left
    assert "namespace default: label istio.io/use-waypoint set back to 'other'" in removed.stdout
    assert labels_of(bookinfo, "Namespace", "default")["istio.io/use-waypoint"] == "other"
    assert not (bookinfo.get("v1", "Namespace", "default")["metadata"].get("annotations") or {})


def test_enroll_namespace_then_delete_removes_the_label_it_added(bookinfo):
    run(bookinfo, "waypoint", "apply", "-n", "default", "--enroll-namespace")
    removed = run(bookinfo, "waypoint", "delete", "waypoint", "-n", "default")
    assert "namespace default: removed label istio.io/use-waypoint" in removed.stdout
    assert "istio.io/use-waypoint" not in labels_of(bookinfo, "Namespace", "default")


def test_enroll_namespace_warns_when_not_ambient():
    fake = FakeKube()
    fake.add(namespace("plain"))
    result = run(fake, "waypoint", "apply", "-n", "plain", "--enroll-namespace")
    assert result.exit_code == 0
    assert "not enrolled in ambient" in result.stderr and "dataplane enroll plain" in result.stderr


def test_apply_refuses_to_take_over_a_non_waypoint_gateway(bookinfo):
    bookinfo.add(gateway("waypoint", klass="istio"))
    result = run(bookinfo, "waypoint", "apply", "-n", "default")
    assert result.exit_code == ExitCode.CONFLICT
    assert "not a waypoint (class istio)" in result.stderr
    assert bookinfo.get(GW, "Gateway", "waypoint", "default")["spec"]["gatewayClassName"] == "istio"


def test_missing_gateway_api_crds():
    fake = FakeKube(gateway_api=False)
    fake.add(namespace())
    for args in (["apply"], ["list"], ["status"], ["delete", "--all"]):
        result = run(fake, "waypoint", *args, "-n", "default")
        assert result.exit_code == ExitCode.CRD_MISSING, (args, result.stderr)
        assert "Gateway API v1.6.0 CRDs" in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_wait_timeout_says_no_controller(bookinfo):
    result = run(bookinfo, "waypoint", "apply", "-n", "default", "--wait", "--waypoint-timeout", "300ms")
    assert result.exit_code == ExitCode.TIMEOUT
    assert "✔ waypoint default/waypoint applied" in result.stdout
    assert "not programmed after 0.3s" in result.stderr
    assert "no controller has accepted this Gateway: is istiod running with ambient enabled?" in result.stderr
    assert "GatewayClass istio-waypoint does not exist" in result.stderr


def test_wait_succeeds_when_programmed(bookinfo):
    bookinfo.add(gateway("waypoint", conditions=[{"type": "Programmed", "status": "True", "reason": "Programmed",
                                                   "observedGeneration": 1}]))
    result = run(bookinfo, "waypoint", "apply", "-n", "default", "-w", "--service-account", "bookinfo-reviews",
                 "--name", "waypoint")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["✔ waypoint default/waypoint applied", "✔ waypoint default/waypoint is ready"]
    assert "service default/reviews labeled" in lines[2]


def test_list_table_and_json(bookinfo):
    bookinfo.add(gateway("waypoint", labels={"istio.io/waypoint-for": "service"},
                         conditions=[{"type": "Programmed", "status": "True"}]))
    bookinfo.add(gateway("ingress", klass="istio"))
    bookinfo.add(gateway("other", ns="team-b"))
    table = run(bookinfo, "waypoint", "list", "-n", "default")
    assert table.stdout.splitlines() == [
        "NAME       REVISION   TRAFFIC TYPE   PROGRAMMED",
        "waypoint   default    service        True",
    ]
    everywhere = run(bookinfo, "waypoint", "list", "-A")
    assert everywhere.stdout.splitlines()[0].split() == ["NAMESPACE", "NAME", "REVISION", "TRAFFIC", "TYPE",
                                                         "PROGRAMMED"]
    assert [line.split()[:2] for line in everywhere.stdout.splitlines()[1:]] == [["default", "waypoint"],
                                                                                 ["team-b", "other"]]
    doc = json.loads(run(bookinfo, "waypoint", "list", "-n", "default", "-o", "json").stdout)
    assert [w["name"] for w in doc["waypoints"]] == ["waypoint"]


def test_list_empty_says_so_on_stderr():
    fake = FakeKube()
    result = run(fake, "waypoint", "list", "-n", "default")
    assert result.stdout == "" and "No waypoints found in namespace default." in result.stderr
    assert json.loads(run(fake, "waypoint", "list", "-o", "json").stdout) == {"waypoints": []}


def test_status_shows_conditions_without_waiting(bookinfo):
    bookinfo.add(gateway("waypoint", conditions=[
        {"type": "Accepted", "status": "True", "reason": "Accepted", "message": "ok"},
        {"type": "Programmed", "status": "False", "reason": "Invalid", "message": "bad listener"}]))
    bookinfo.add(gateway("fresh"))
    result = run(bookinfo, "waypoint", "status", "-n", "default")
    assert result.exit_code == 0
    assert [line.split()[:4] for line in result.stdout.splitlines()] == [
        ["NAME", "STATUS", "TYPE", "REASON"],
        ["fresh", "Unknown", "Programmed", "Pending"],
        ["waypoint", "True", "Accepted", "Accepted"],
        ["waypoint", "False", "Programmed", "Invalid"],
    ]
    one = run(bookinfo, "waypoint", "status", "fresh", "-n", "default")
    assert "no controller has accepted this Gateway" in one.stdout and "waypoint " not in one.stdout
    missing = run(bookinfo, "waypoint", "status", "ghost", "-n", "default")
    assert missing.exit_code == ExitCode.NOT_FOUND


def test_status_wait_times_out_with_table_and_exit_4(bookinfo):
    bookinfo.add(gateway("waypoint"))
    result = run(bookinfo, "waypoint", "status", "-n", "default", "--wait", "--waypoint-timeout", "200ms")
    assert result.exit_code == ExitCode.TIMEOUT
    assert "waypoint" in result.stdout and "not programmed" in result.stderr


def test_namespace_scoped_user_can_attach_and_delete(bookinfo):
    """Without read access to Namespace objects, --service-account and delete still work on Services."""
    bookinfo.deny("Namespace")
    bookinfo.deny("GatewayClass")
    applied = run(bookinfo, "waypoint", "apply", "-n", "default", "--service-account", "bookinfo-reviews",
                  "--wait", "--waypoint-timeout", "100ms")
    assert applied.exit_code == ExitCode.TIMEOUT, applied.stderr
    assert "no controller has accepted this Gateway" in applied.stderr
    applied = run(bookinfo, "waypoint", "apply", "-n", "default", "--service-account", "bookinfo-reviews")
    assert applied.exit_code == 0, applied.stderr
    assert labels_of(bookinfo, "Service", "reviews")["istio.io/use-waypoint"] == "bookinfo-reviews-waypoint"
    deleted = run(bookinfo, "waypoint", "delete", "bookinfo-reviews-waypoint", "-n", "default")
    assert deleted.exit_code == 0, deleted.stderr
    assert "istio.io/use-waypoint" not in labels_of(bookinfo, "Service", "reviews")
