"""`upgrade` and `precheck --from-version/-r` on the in-memory API server."""

from __future__ import annotations

import json

import pytest

from ambientctl.errors import ExitCode
from ambientctl.install.record import RECORD_NAME
from ambientctl.revision.upgrade import strip_overlay_pins, strip_version_pins, version_step
from ambientctl.install.checks import Status
from tests.support.fakekube import invoke_with
from tests.unit.test_revision_versions import VersionedKube

OLD = "1.30.2"


def installed(*args: str) -> VersionedKube:
    kube = VersionedKube()
    result = invoke_with(kube, "install", "--set", "profile=ambient", *args, "-y", "--skip-wait")
    assert result.exit_code == 0, result.stderr
    for (_, kind, ns, name), obj in list(kube.store.items()):
        if kind == "Deployment":
            template = obj["spec"]["template"]
            kube.add({"apiVersion": "v1", "kind": "Pod", "metadata": {
                "name": f"{name}-pod", "namespace": ns, "labels": template["metadata"]["labels"]},
                "spec": {"containers": template["spec"]["containers"]},
                "status": {"conditions": [{"type": "Ready", "status": "True"}]}})
    kube.writes.clear()
    return kube


def _image(kube: VersionedKube, kind: str, name: str) -> str:
    return kube.live("apps/v1", kind, name, "istio-system")["spec"]["template"]["spec"]["containers"][0]["image"]


@pytest.mark.parametrize("source,status,in_place", [
    ("1.31.0", Status.OK, True), ("1.31.0-distroless", Status.OK, True), ("1.30.2", Status.OK, True),
    ("1.29.0", Status.FAIL, True), ("1.29.0", Status.WARN, False), ("1.28.5", Status.FAIL, False),
    ("1.32.0", Status.FAIL, False), ("2.0.0", Status.FAIL, False), ("0.8", Status.FAIL, False)])
def test_version_steps_istio_supports(source, status, in_place):
    assert version_step(source, "1.31.0", in_place=in_place).status is status


def test_pins_are_found_in_set_flags_and_overlays():
    kept, dropped = strip_version_pins(["profile=ambient", "tag=1.30.2", "values.global.tag=x",
                                        "values.pilot.tag=y", "components.ztunnel.tag=z", "values.pilot.env.tag=keep"])
    assert kept == ["profile=ambient", "values.pilot.env.tag=keep"] and len(dropped) == 4
    overlay = {"spec": {"tag": "1", "hub": "h", "values": {"global": {"tag": "2", "hub": "h"}},
                        "components": {"cni": {"tag": "3", "enabled": True}}}}
    cleaned, removed = strip_overlay_pins(overlay)
    assert cleaned == {"spec": {"hub": "h", "values": {"global": {"hub": "h"}}, "components": {"cni": {"enabled": True}}}}
    assert removed == ["spec.tag", "spec.values.global.tag", "spec.components.cni.tag"]
    assert overlay["spec"]["tag"] == "1"  # the record's own copy is left alone


def test_precheck_from_version_adds_the_upgrade_check():
    kube = VersionedKube()
    ok = invoke_with(kube, "precheck", "--from-version", "1.30.0", "-o", "json")
    assert ok.exit_code == 0, ok.stderr
    check = [c for c in ok.json["checks"] if c["check"] == "upgrade-version"][0]
    assert check["status"] == "ok" and "one minor version" in check["message"]
    canary = invoke_with(kube, "precheck", "-f", "1.29.0", "-o", "json")
    assert canary.exit_code == 0
    assert [c["status"] for c in canary.json["checks"] if c["check"] == "upgrade-version"] == ["warn"]
    too_far = invoke_with(kube, "precheck", "--from-version", "1.27.0")
    assert too_far.exit_code == ExitCode.CHECK_FAILED and "more than Istio supports" in too_far.stdout


def test_precheck_with_a_bad_version_is_refused_before_any_request():
    kube = VersionedKube()
    result = invoke_with(kube, "precheck", "--from-version", "banana")
    assert result.exit_code == ExitCode.INVALID_INPUT and kube.calls == []


def test_precheck_revision_reads_the_running_version_and_refuses_a_missing_revision():
    kube = installed("--set", f"tag={OLD}")
    result = invoke_with(kube, "precheck", "-r", "default", "-o", "json")
    check = [c for c in result.json["checks"] if c["check"] == "upgrade-version"][0]
    assert check["status"] == "ok" and f"revision default: one minor version {OLD}" in check["message"]
    missing = invoke_with(kube, "precheck", "-r", "canary")
    assert missing.exit_code == ExitCode.CHECK_FAILED and "revision canary has no control plane" in missing.stdout


def test_upgrade_dry_run_prints_the_diff_and_changes_nothing():
    kube = installed("--set", f"tag={OLD}")
    result = invoke_with(kube, "upgrade", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert f"-        image: docker.io/istio/pilot:{OLD}-distroless" in result.stdout
    assert "+        image: docker.io/istio/pilot:1.31.0-distroless" in result.stdout
    assert f"Revision default: {OLD} → 1.31.0" in result.stderr and "Version pins dropped: tag" in result.stderr
    assert [w for w in kube.writes if w[0] != "apply-dry"] == []
    assert _image(kube, "Deployment", "istiod").endswith(f"{OLD}-distroless")


def test_upgrade_applies_the_pinned_release_and_records_it_without_the_pin():
    kube = installed("--set", f"tag={OLD}")
    result = invoke_with(kube, "upgrade", "-y")
    assert result.exit_code == 0, result.stderr
    assert _image(kube, "Deployment", "istiod") == "docker.io/istio/pilot:1.31.0-distroless"
    assert _image(kube, "DaemonSet", "ztunnel") == "docker.io/istio/ztunnel:1.31.0-distroless"
    data = kube.live("v1", "ConfigMap", RECORD_NAME, "istio-system")["data"]
    assert json.loads(data["set"]) == ["profile=ambient"] and data["version"] == "1.31.0"
    again = invoke_with(kube, "upgrade", "-y")
    assert again.exit_code == 0 and "Nothing to upgrade" in again.stderr


def test_upgrade_without_y_and_without_a_terminal_is_refused():
    kube = installed("--set", f"tag={OLD}")
    result = invoke_with(kube, "upgrade")
    assert result.exit_code == ExitCode.USAGE and "-y" in result.stderr
    assert _image(kube, "Deployment", "istiod").endswith(f"{OLD}-distroless")


def test_an_unsupported_step_is_refused_unless_forced():
    kube = installed("--set", "tag=1.29.0")
    refused = invoke_with(kube, "upgrade", "-y")
    assert refused.exit_code == ExitCode.CHECK_FAILED and "canary upgrade only" in refused.stderr
    assert _image(kube, "Deployment", "istiod").endswith("1.29.0-distroless")
    assert invoke_with(kube, "upgrade", "-y", "--force").exit_code == 0
    assert _image(kube, "Deployment", "istiod").endswith("1.31.0-distroless")


def test_upgrade_needs_an_installed_revision_and_a_record():
    kube = installed()
    assert invoke_with(kube, "upgrade", "-r", "canary", "-y").exit_code == ExitCode.NOT_FOUND
    kube.delete("v1", "ConfigMap", RECORD_NAME, "istio-system")
    result = invoke_with(kube, "upgrade", "-y")
    assert result.exit_code == ExitCode.USAGE and "no install record" in result.stderr
    assert invoke_with(kube, "upgrade", "-y", "--set", "profile=ambient").exit_code == 0
