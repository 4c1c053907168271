"""Pod facts every reader shares (ambientctl.workloads): selectors, service account, liveness, sidecar, capture."""

from __future__ import annotations

from ambientctl.workloads import has_sidecar, is_captured, is_live, pod_service_account, selector_matches


def test_selector_must_match_every_key():
    assert selector_matches({"app": "a", "v": "1"}, {"app": "a", "v": "1", "extra": "y"})
    assert not selector_matches({"app": "a", "v": "1"}, {"app": "a"})
    assert not selector_matches({}, {"app": "a"})  # an empty Service selector selects nothing
    assert not selector_matches(None, {"app": "a"})


def test_service_account_defaults_to_default():
    assert pod_service_account({"spec": {"serviceAccountName": "sleep"}}) == "sleep"
    assert pod_service_account({"spec": {"serviceAccount": "legacy"}}) == "legacy"
    assert pod_service_account({}) == "default"


def test_live_pods():
    assert is_live({"status": {"phase": "Running"}}) and is_live({"status": {"phase": "Pending"}}) and is_live({})
    assert not is_live({"status": {"phase": "Succeeded"}}) and not is_live({"status": {"phase": "Failed"}})
    assert not is_live({"metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z"}, "status": {"phase": "Running"}})


def test_sidecar_by_annotation_or_container():
    assert has_sidecar({"metadata": {"annotations": {"sidecar.istio.io/status": "{}"}}})
    assert has_sidecar({"spec": {"initContainers": [{"name": "istio-proxy"}]}})
    assert not has_sidecar({"spec": {"containers": [{"name": "app"}], "initContainers": None}})


def test_captured_by_istio_cni_annotation():
    assert is_captured({"metadata": {"annotations": {"ambient.istio.io/redirection": "enabled"}}})
    assert not is_captured({"metadata": {"annotations": {"ambient.istio.io/redirection": "disabled"}}})
    assert not is_captured({})
