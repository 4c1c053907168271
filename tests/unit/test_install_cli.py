"""The install-lifecycle commands' flag handling, without a cluster."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.cli import invoke

_PROBE = """
import sys, io, contextlib
from ambientctl.cli import run
with contextlib.redirect_stdout(io.StringIO()):
    code = run(sys.argv[1:])
print(code, "kubernetes" in sys.modules)
"""


@pytest.mark.parametrize("argv", [["install", "--help"], ["uninstall", "--help"], ["verify-install", "--help"],
                                  ["precheck", "--help"], ["x", "precheck", "--help"]])
def test_help_needs_no_kubernetes_import(argv):
    out = subprocess.run([sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "False"], out.stderr


def test_bad_readiness_timeout_is_invalid_input_before_any_cluster_access():
    result = invoke("-c", "/nonexistent/kubeconfig", "install", "--set", "profile=ambient", "--readiness-timeout", "soon")
    assert result.exit_code == 11
    assert result.stderr == ("Error: invalid duration 'soon' for --readiness-timeout; "
                             "use seconds or a duration such as 90s, 1m30s, .5s or 300ms (units ns, us, ms, s, m, h)\n")


def test_unknown_profile_is_invalid_input():
    result = invoke("-c", "/nonexistent/kubeconfig", "install", "--set", "profile=nope", "-y")
    assert result.exit_code == 11
    assert "unknown profile 'nope'" in result.stderr


def test_purge_and_revision_contradict():
    result = invoke("-c", "/nonexistent/kubeconfig", "uninstall", "--purge", "--revision", "canary")
    assert result.exit_code == 2
    assert "--purge removes every revision" in result.stderr


def test_precheck_rejects_unknown_output_format():
    result = invoke("precheck", "-o", "xml")
    assert result.exit_code == 2
