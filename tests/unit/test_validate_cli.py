"""`validate -f` through the CLI: one line per problem naming file, line, object and field; exit codes;
directories, stdin and comma lists; no cluster and no `kubernetes` import. (Acceptance beside the reference
istioctl: tests/parity/test_validate.py.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ambientctl.errors import ExitCode
from tests.support.cli import invoke
from tests.support.golden import assert_golden

GOOD = """\
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-sleep, namespace: bookinfo}
spec:
  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]
  rules:
  - from: [{source: {principals: [cluster.local/ns/default/sa/sleep]}}]
    to: [{operation: {methods: [GET], ports: ["9080"]}}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: not-istio}
"""

BAD = """\
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-all}
spec:
  action: DENY
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: typo, namespace: bookinfo}
spec:
  selector: {matchLabels: {app: reviews}}
  rules:
  - to: [{operation: {ports: ["80x"], methods: [""]}}]
    when: [{key: "request.header[x-user]", values: [a]}]
    from: [{source: {serviceAccounts: [a/b/c]}}]
  actoin: ALLOW
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: strict, namespace: istio-system}
spec:
  mtls: {mode: strict}
  portLevelMtls: {"8080": {mode: DISABLE}}
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: tracing}
spec:
  tracing: [{providers: [{name: ""}], randomSamplingPercentage: 150}]
  metrics: [{overrides: [{tagOverrides: {source_canonical_service: {operation: UPSERT}}}]}]
---
apiVersion: extensions.istio.io/v1alpha1
kind: WasmPlugin
metadata: {name: filter}
spec:
  url: ftp://example.com/filter.wasm
  sha256: "123"
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: waypoint}
spec:
  listeners: [{name: mesh, port: 15008, protocol: HBONE}, {name: mesh, port: 70000}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: reviews}
spec:
  parentRefs: [{name: reviews, kind: Service, group: ""}]
  rules: [{backendRefs: [{name: reviews-v1}], matches: [{path: {type: Prefix, value: /}}]}]
"""


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "bad.yml").write_text(BAD)
    (tmp_path / "nested" / "notes.txt").write_text("kind: [")   # not a YAML name: passed over, as istioctl does
    return tmp_path


def test_valid_file_prints_istioctls_line(files):
    result = invoke("validate", "-f", str(files / "good.yaml"))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f'"{files}/good.yaml" is valid\n'
    assert result.stderr == ""


def test_every_problem_is_one_line_naming_file_line_object_and_field(files, monkeypatch):
    monkeypatch.chdir(files)
    result = invoke("validate", "-f", "nested/bad.yml")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert result.stdout == ""
    assert_golden("validate/bad.stderr", result.stderr)
    *problems, last = result.stderr.splitlines()
    assert all(line.startswith(("nested/bad.yml:", "warning: nested/bad.yml:")) for line in problems)
    assert last.startswith("Error: ") and "problem(s) in 1 file(s)" in last


def test_directories_are_walked_and_only_failing_files_lack_the_valid_line(files):
    result = invoke("validate", "-f", str(files))
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert result.stdout == f'"{files}/good.yaml" is valid\n'
    assert "notes.txt" not in result.stderr


def test_comma_lists_stdin_and_a_missing_file(files):
    result = invoke("validate", "-f", f"{files}/good.yaml,-", stdin=GOOD)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [f'"{files}/good.yaml" is valid', "stdin is valid"]
    result = invoke("v", "-f", str(files / "missing.yaml"))
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert f"{files}/missing.yaml: no such file or directory" in result.stderr


def test_yaml_problems_name_the_line(tmp_path):
    (tmp_path / "dup.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n")
    (tmp_path / "broken.yaml").write_text("apiVersion: v1\nkind: [ConfigMap\n")
    result = invoke("validate", "-f", str(tmp_path / "dup.yaml"), "-f", str(tmp_path / "broken.yaml"))
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert f"{tmp_path}/dup.yaml:5: not valid YAML: key 'name' given twice" in result.stderr
    assert f"{tmp_path}/broken.yaml:3: not valid YAML:" in result.stderr


def test_kinds_not_checked_are_named_on_stderr(tmp_path):
    (tmp_path / "vs.yaml").write_text("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v}\n"
                                      "spec: {hosts: [a]}\n")
    result = invoke("validate", "-f", str(tmp_path / "vs.yaml"))
    assert result.exit_code == 0
    assert "note: " in result.stderr and "VirtualService default/v: not checked" in result.stderr


def test_a_warning_alone_keeps_the_file_valid(tmp_path):
    (tmp_path / "deny.yaml").write_text("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
                                        "metadata: {name: d}\nspec:\n  action: DENY\n  rules: [{to: [{operation: "
                                        "{methods: [POST]}}]}]\n")
    result = invoke("validate", "-f", str(tmp_path / "deny.yaml"))
    assert result.exit_code == 0
    assert result.stdout == f'"{tmp_path}/deny.yaml" is valid, with 1 warning(s)\n'
    assert result.stderr.startswith(f"warning: {tmp_path}/deny.yaml:1: AuthorizationPolicy default/d: spec.rules[0]: ")


def test_no_files_is_a_usage_error():
    result = invoke("validate")
    assert result.exit_code == ExitCode.USAGE and "validate needs files" in result.stderr


def test_validate_needs_no_cluster_and_imports_no_kubernetes(files):
    probe = ("import sys, io, contextlib\nfrom ambientctl.cli import run\n"
             "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
             "    code = run(sys.argv[1:])\n"
             "print(code, 'kubernetes' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", probe, "--kubeconfig", "/nonexistent", "validate", "-f", str(files)],
                         capture_output=True, text=True, check=True)
    assert out.stdout.split() == [str(int(ExitCode.INVALID_INPUT)), "False"]
