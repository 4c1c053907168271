"""`waypoint generate`: golden YAML per flag combination, each valid against the Gateway API v1.6.0 Gateway CRD."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

from ambientctl.errors import ExitCode
from tests.support import gatewayapi
from tests.support.cli import invoke
from tests.support.golden import GOLDEN_ROOT, assert_golden

GOLDEN = GOLDEN_ROOT / "waypoint"

CASES = {
    "default": [],
    "namespace": ["-n", "bookinfo"],
    "name": ["-n", "default", "--name", "my-waypoint"],
    "for-service": ["-n", "default", "--for", "service"],
    "for-workload": ["-n", "default", "--for", "workload"],
    "for-all": ["-n", "default", "--for", "all"],
    "for-none": ["-n", "default", "--for", "none"],
    "revision": ["-n", "default", "-r", "canary"],
    "service-account": ["-n", "default", "--service-account", "bookinfo-productpage"],
    "service-account-named": ["-n", "default", "--service-account", "bookinfo-reviews", "--name", "reviews-waypoint"],
    "gateway-class": ["-n", "default", "--gateway-class", "custom-waypoint"],
    "gateway-class-istio-mesh": ["-n", "default", "--gateway-class", "istio-mesh"],
    "everything": ["-n", "bookinfo", "--name", "wp1", "--for", "all", "-r", "1-31-0",
                   "--service-account", "bookinfo-ratings", "--gateway-class", "istio-waypoint"],
    "global-flags-after": ["--for", "workload", "-n", "late"],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_generate_matches_golden_and_crd_schema(case):
    result = invoke("waypoint", "generate", *CASES[case])
    assert result.exit_code == 0, result.stderr
    assert_golden(f"waypoint/{case}.yaml", result.stdout)

    doc = yaml.safe_load(result.stdout)
    assert gatewayapi.validation_errors(doc) == []
    assert "status" not in doc
    assert "creationTimestamp" not in doc["metadata"]
    assert "status:" not in result.stdout and "creationTimestamp" not in result.stdout
    assert doc["spec"]["listeners"] == [{"name": "mesh", "port": 15008, "protocol": "HBONE"}]


def test_every_golden_file_has_a_case():
    assert sorted(p.stem for p in GOLDEN.glob("*.yaml")) == sorted(CASES)


def test_flags_land_in_the_right_fields():
    doc = invoke("waypoint", "generate", *CASES["everything"]).yaml
    assert doc["metadata"] == {
        "name": "wp1",
        "namespace": "bookinfo",
        "labels": {"istio.io/waypoint-for": "all", "istio.io/rev": "1-31-0"},
        "annotations": {"istio.io/service-account": "bookinfo-ratings"},
    }
    assert doc["spec"]["gatewayClassName"] == "istio-waypoint"


def test_without_for_no_waypoint_for_label():
    """As istioctl: the label is set only when --for is given, so istiod's default applies."""
    doc = invoke("waypoint", "generate", "-n", "default").yaml
    assert "labels" not in doc["metadata"]


def test_service_account_names_the_waypoint():
    doc = invoke("waypoint", "generate", "--service-account", "bookinfo-productpage").yaml
    # not the account's own name: istiod would take over that ServiceAccount (see waypoint.build_spec)
    assert doc["metadata"]["name"] == "bookinfo-productpage-waypoint"


def test_istio_mesh_class_warns_on_stderr_only():
    result = invoke("waypoint", "generate", "--gateway-class", "istio-mesh")
    assert result.exit_code == 0
    assert "istio-waypoint" in result.stderr and "istio-mesh" in result.stderr
    assert yaml.safe_load(result.stdout)["spec"]["gatewayClassName"] == "istio-mesh"


def test_default_class_does_not_warn():
    assert invoke("waypoint", "generate").stderr == ""


def test_schema_validation_can_fail():
    """The validator is strict: a wrong type, a missing field or an unknown field is reported."""
    doc = invoke("waypoint", "generate").yaml
    doc["spec"]["listeners"][0]["port"] = "15008"
    del doc["spec"]["gatewayClassName"]
    doc["spec"]["listener"] = []
    errors = gatewayapi.validation_errors(doc)
    assert any("gatewayClassName" in e for e in errors)
    assert any("listeners/0/port" in e for e in errors)
    assert any("listener" in e and "unexpected" in e.lower() for e in errors), errors


def test_generate_needs_no_cluster_and_never_imports_kubernetes(tmp_path):
    code = (
        "import sys\n"
        "from ambientctl.cli import run\n"
        "rc = run(['waypoint', 'generate', '-n', 'x'])\n"
        "assert rc == 0, rc\n"
        "assert 'kubernetes' not in sys.modules, 'kubernetes imported'\n"
    )
    env = {**os.environ, "KUBECONFIG": str(tmp_path / "missing"), "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert "name: waypoint" in result.stdout


def test_bad_namespace_is_refused():
    result = invoke("waypoint", "generate", "-n", "Not_A_Namespace")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert result.stderr.startswith("Error: invalid namespace")
