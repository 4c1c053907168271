"""verify-install's pure comparisons and its per-component verdicts (with the in-memory API server)."""

from __future__ import annotations

from ambientctl.install.checks import Status
from ambientctl.install.verify import (
    Verifier,
    component_result,
    container_images,
    image_drift,
    missing_labels,
    unready_nodes,
)
from ambientctl.ownership import owner_labels
from tests.support.fakekube import FakeKube
from tests.unit.test_install_flow import make_render, run_install


def _workload(image, init_image=None, labels=None):
    spec = {"containers": [{"name": "discovery", "image": image}]}
    if init_image:
        spec["initContainers"] = [{"name": "init", "image": init_image}]
    return {"metadata": {"labels": labels or {}}, "spec": {"template": {"spec": spec}}}


def test_container_images_include_init_containers():
    assert container_images(_workload("a:1", "b:1")) == {"init": "b:1", "discovery": "a:1"}


def test_image_drift_names_container_and_both_images():
    assert image_drift(_workload("a:1"), _workload("a:1")) == []
    assert image_drift(_workload("a:2"), _workload("a:1")) == ["discovery: a:1 (want a:2)"]


def test_missing_owner_labels_only():
    ours = owner_labels("Pilot", "default")
    rendered = _workload("a", labels={**ours, "app": "istiod"})
    assert missing_labels(rendered, _workload("a", labels={**ours})) == []  # app is not an owner label
    assert missing_labels(rendered, _workload("a", labels={"app": "istiod"})) == [f"{k}={v}" for k, v in ours.items()]


def _node(name, unschedulable=False):
    return {"metadata": {"name": name}, "spec": {"unschedulable": True} if unschedulable else {}}


def _pod(node, ready=True):
    return {"spec": {"nodeName": node},
            "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def test_unready_nodes_ignores_cordoned_nodes_and_unready_pods_count_as_missing():
    nodes = [_node("a"), _node("b"), _node("c", unschedulable=True)]
    assert unready_nodes(nodes, [_pod("a"), _pod("b")]) == []
    assert unready_nodes(nodes, [_pod("a"), _pod("b", ready=False)]) == ["b"]


def test_component_result_messages():
    assert component_result(12, [], [], [], []).message == "12 objects, ready"
    result = component_result(12, ["ConfigMap/istio-system/istio"], [], [], ["Deployment/x: 0/1 ready"])
    assert result.status is Status.FAIL
    assert result.message == "12 objects: 1 missing, 1 not ready"
    assert result.details == ["missing: ConfigMap/istio-system/istio", "not ready: Deployment/x: 0/1 ready"]
    assert "re-run `ambientctl install`" in result.hint


def test_component_result_caps_details():
    result = component_result(20, [f"o{i}" for i in range(8)], [], [], [])
    assert len(result.details) == 6 and result.details[-1] == "missing: ... and 3 more"


def test_verifier_passes_after_install_and_fails_on_drift_and_deletion():
    kube = FakeKube()
    rendered = make_render()
    run_install(kube, rendered)[0].install()
    outcomes = Verifier(kube, rendered).component(rendered.components[1])
    assert outcomes.result.status is Status.OK and outcomes.result.message == "4 objects, ready"
    # someone edits the image and deletes the mesh config
    live = kube.store[("apps", "Deployment", "istio-system", "istiod")]
    live["spec"]["template"]["spec"]["containers"][0]["image"] = "evil:1"
    del kube.store[("", "ConfigMap", "istio-system", "istio")]
    outcome = Verifier(kube, rendered).component(rendered.components[1])
    assert outcome.description == "Istiod"
    assert outcome.result.status is Status.FAIL
    assert "1 missing" in outcome.result.message and "1 changed since install" in outcome.result.message


def _groups(rendered):
    counts = {}
    for obj in rendered.all_objects():
        key = (obj["apiVersion"], obj["kind"], obj["metadata"].get("namespace", ""))
        counts[key] = counts.get(key, 0) + 1
    return counts


def test_verifier_reads_each_kind_with_one_list_not_one_get_per_object():
    """Issue 17: a GET per rendered object (51 for the ambient profile) became a LIST per kind and namespace."""
    kube = FakeKube()
    rendered = make_render()
    run_install(kube, rendered)[0].install()
    kube.requests.clear()
    verifier = Verifier(kube, rendered)
    outcomes = [verifier.component(c) for c in rendered.components]
    assert all(o.result.status is Status.OK for o in outcomes)
    groups = _groups(rendered)
    assert any(count > 1 for count in groups.values())
    assert kube.requests["list"] == sum(1 for count in groups.values() if count > 1)
    assert kube.requests["get"] == sum(1 for count in groups.values() if count == 1)
    assert kube.requests["get"] + kube.requests["list"] < len(rendered.all_objects())


def test_verifier_still_finds_an_object_that_lost_our_labels():
    """The LISTs select our owner label; an object without it is read by a GET and reported as not ours."""
    kube = FakeKube()
    rendered = make_render()
    run_install(kube, rendered)[0].install()
    live = kube.store[("", "ServiceAccount", "istio-system", "istiod")]
    live["metadata"]["labels"] = {}
    outcome = Verifier(kube, rendered).component(rendered.components[1])
    assert outcome.result.status is Status.FAIL
    assert any("ServiceAccount" in d and "istiod" in d and "lacks" in d for d in outcome.result.details)
