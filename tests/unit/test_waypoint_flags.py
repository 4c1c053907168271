"""Flag validation of the waypoint commands: one actionable line, a distinct exit code, no cluster needed."""

from __future__ import annotations

import pytest

from ambientctl.waypoint import manifest
from ambientctl.errors import ExitCode
from tests.support.cli import invoke


def one_error_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ") and "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.parametrize("command", ["generate", "apply"])
def test_invalid_for_lists_the_choices(command):
    result = invoke("waypoint", command, "--for", "mesh")
    assert result.exit_code == ExitCode.INVALID_INPUT
    line = one_error_line(result)
    assert "'mesh'" in line and "all, none, service, workload" in line
    assert result.stdout == ""


@pytest.mark.parametrize("command", ["generate", "apply"])
def test_name_none_is_reserved(command):
    result = invoke("waypoint", command, "--name", "none")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "reserved" in one_error_line(result)


@pytest.mark.parametrize("name", ["Waypoint", "way_point", "-wp", "wp-", "1wp", "a" * 64, "wp.x", ""])
def test_bad_names_are_refused_with_one_line(name):
    if name == "":
        result = invoke("waypoint", "generate", "--name", name)
        assert result.exit_code == 0  # as istioctl: an empty name means the default
        assert "name: waypoint" in result.stdout
        return
    result = invoke("waypoint", "generate", "--name", name)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert f"invalid waypoint name {name!r}" in one_error_line(result)


def test_service_account_that_is_no_valid_name_asks_for_name():
    result = invoke("waypoint", "generate", "--service-account", "team.reviews")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "--name" in one_error_line(result)
    ok = invoke("waypoint", "generate", "--service-account", "team.reviews", "--name", "reviews")
    assert ok.exit_code == 0 and "istio.io/service-account: team.reviews" in ok.stdout


@pytest.mark.parametrize("bad", ["Bad_SA", "-sa", "x" * 254])
def test_bad_service_account_refused(bad):
    result = invoke("waypoint", "generate", "--service-account", bad)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "service account" in one_error_line(result)


@pytest.mark.parametrize("bad", ["-canary", "can ary", "x" * 64])
def test_bad_revision_refused(bad):
    result = invoke("waypoint", "generate", f"--revision={bad}")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "invalid revision" in one_error_line(result)


def test_bad_gateway_class_refused():
    result = invoke("waypoint", "generate", "--gateway-class", "Istio_Waypoint")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "gateway class" in one_error_line(result)


def test_istio_mesh_warning_names_the_current_class():
    spec, warnings = manifest.make_spec(gateway_class="istio-mesh")
    assert spec.gateway_class == "istio-mesh"
    assert len(warnings) == 1 and "istio-waypoint" in warnings[0]
    assert manifest.make_spec(gateway_class="custom")[1] == []


def test_bad_waypoint_timeout_fails_before_any_cluster_access(tmp_path):
    result = invoke("-c", str(tmp_path / "missing-kubeconfig"), "waypoint", "apply", "--wait",
                    "--waypoint-timeout", "soon")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "--waypoint-timeout" in one_error_line(result)


def test_delete_needs_names_or_all():
    result = invoke("waypoint", "delete")
    assert result.exit_code == ExitCode.USAGE
    assert "--all" in one_error_line(result)


def test_delete_names_with_all_refused():
    result = invoke("waypoint", "delete", "waypoint", "--all")
    assert result.exit_code == ExitCode.USAGE
    assert "cannot name waypoints together with --all" in one_error_line(result)


def test_status_name_with_all_namespaces_refused(tmp_path):
    result = invoke("waypoint", "status", "waypoint", "-A")
    assert result.exit_code == ExitCode.USAGE
    one_error_line(result)


def test_help_lists_every_traffic_type():
    result = invoke("waypoint", "apply", "--help")
    assert result.exit_code == 0
    assert all(choice in result.stdout for choice in manifest.TRAFFIC_TYPES)


def test_loading_the_cli_does_not_load_the_waypoint_domain():
    """Other commands' startup must not pay for ambientctl.waypoint (it loads when a waypoint command runs)."""
    import subprocess
    import sys

    code = "import sys, ambientctl.cli.app; assert 'ambientctl.waypoint' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0
