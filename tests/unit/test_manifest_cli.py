"""`manifest generate` and `profile list|dump|diff` through the real CLI: output, errors, exit codes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from tests.support.cli import invoke

INVALID_INPUT = 11


def _one_line_error(result) -> str:
    assert result.exit_code == INVALID_INPUT, (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def test_generate_prints_one_stream_in_apply_order() -> None:
    result = invoke("manifest", "generate", "--set", "profile=ambient")
    assert result.exit_code == 0, result.stderr
    docs = list(yaml.safe_load_all(result.stdout))
    kinds = [d["kind"] for d in docs]
    assert kinds[0] == "CustomResourceDefinition"
    assert kinds[-1].endswith("WebhookConfiguration")
    assert kinds.index("ServiceAccount") < kinds.index("Deployment")
    assert {("DaemonSet", "ztunnel"), ("DaemonSet", "istio-cni-node"), ("Deployment", "istio-ingressgateway")} <= {
        (d["kind"], d["metadata"]["name"]) for d in docs
    }
    assert result.stdout.startswith("---\n")


def test_generate_takes_files_sets_revision_and_istio_namespace(tmp_path: Path) -> None:
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(textwrap.dedent("""\
        apiVersion: install.istio.io/v1alpha1
        kind: IstioOperator
        spec:
          profile: ambient
          meshConfig:
            accessLogFile: /dev/stdout
        """))
    result = invoke("manifest", "generate", "-f", str(overlay), "--set", "values.pilot.env.PILOT_TRACE_SAMPLING=10",
                    "--revision", "canary", "-i", "mesh")
    assert result.exit_code == 0, result.stderr
    docs = {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(result.stdout)}
    istiod = docs[("Deployment", "istiod-canary")]
    assert istiod["metadata"]["namespace"] == "mesh"
    env = {e["name"]: e.get("value") for e in istiod["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["PILOT_TRACE_SAMPLING"] == "10"
    assert "accessLogFile: /dev/stdout" in docs[("ConfigMap", "istio-canary")]["data"]["mesh"]


def test_generate_output_dir_writes_one_file_per_component(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke("manifest", "generate", "--set", "profile=ambient", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert sorted(p.name for p in out.iterdir()) == [
        "Base.yaml", "Cni.yaml", "IngressGateways.yaml", "Pilot.yaml", "Ztunnel.yaml",
    ]
    ztunnel = list(yaml.safe_load_all((out / "Ztunnel.yaml").read_text()))
    assert {d["kind"] for d in ztunnel} == {"ServiceAccount", "DaemonSet"}


def test_unknown_profile_lists_the_profiles() -> None:
    line = _one_line_error(invoke("manifest", "generate", "--set", "profile=ambiant"))
    assert "unknown profile 'ambiant'" in line
    assert "ambient, default, demo, empty, minimal" in line


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--set", "components.cnii.enabled=true"], ["components.cnii.enabled", "did you mean 'components.cni'"]),
        (["--set", "components.cni.enabled"], ["no '='"]),
        (["--set", "components.ingressGateways[zero].enabled=false"], ["bad list selector"]),
        (["--set", "components.cni.enabled=maybe"], ["true or false"]),
        (["-f", "/nonexistent/overlay.yaml"], ["/nonexistent/overlay.yaml", "no such file"]),
        (["--revision", "Bad!"], ["invalid revision"]),
    ],
)
def test_bad_flags_are_one_line_and_exit_11(args: list[str], words: list[str]) -> None:
    line = _one_line_error(invoke("manifest", "generate", *args))
    for word in words:
        assert word in line


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("key: [unclosed\n", ["not valid YAML", "line"]),
        ("apiVersion: v1\nkind: ConfigMap\n", ["not an IstioOperator"]),
        ("- a\n- b\n", ["not an IstioOperator"]),
        ("", ["is empty"]),
        ("apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec:\n  componentz: {}\n",
         ["unknown field spec.componentz", "did you mean 'components'"]),
        ("apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec:\n  components:\n    cni:\n"
         "      enabled: sure\n", ["spec.components.cni.enabled must be true or false"]),
        ("apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\n---\napiVersion: install.istio.io/v1alpha1\n"
         "kind: IstioOperator\n", ["2 YAML documents"]),
    ],
)
def test_bad_overlay_files_name_the_file(tmp_path: Path, content: str, words: list[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    line = _one_line_error(invoke("manifest", "generate", "-f", str(path)))
    assert str(path) in line
    for word in words:
        assert word in line


def test_billion_laughs_is_rejected_quickly(tmp_path: Path) -> None:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    line = _one_line_error(invoke("manifest", "generate", "-f", str(path)))
    assert "aliases expand" in line and str(path) in line


def test_huge_overlay_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("w") as handle:
        handle.truncate(10 * 1024 * 1024 + 1)
    line = _one_line_error(invoke("manifest", "generate", "-f", str(path)))
    assert "over the 10 MB limit" in line


def test_profile_list() -> None:
    result = invoke("profile", "list")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "Istio configuration profiles:"
    assert "    ambient" in result.stdout.splitlines()
    assert invoke("profile", "list", "-o", "json").json == [
        "ambient", "default", "demo", "empty", "minimal", "openshift-ambient", "remote"]


def test_profile_dump_and_config_path() -> None:
    full = invoke("profile", "dump", "ambient")
    assert full.exit_code == 0
    assert full.yaml["kind"] == "IstioOperator" and full.yaml["spec"]["profile"] == "ambient"
    components = invoke("profile", "dump", "ambient", "--config-path", "spec.components", "-o", "json")
    assert components.json["ztunnel"] == {"enabled": True}
    assert invoke("profile", "dump", "ambient", "--config-path", "components.cni").yaml == {"enabled": True}
    line = _one_line_error(invoke("profile", "dump", "ambient", "--config-path", "spec.nothing"))
    assert "spec.nothing" in line
    _one_line_error(invoke("profile", "dump", "nope"))


def test_profile_diff_is_unified_and_exits_zero() -> None:
    result = invoke("profile", "diff", "default", "ambient")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "--- default" and lines[1] == "+++ ambient"
    assert "-      enabled: false" in lines and "+      enabled: true" in lines
    # A profile that names a platform is shown with the platform's settings.
    openshift = invoke("profile", "diff", "ambient", "openshift-ambient").stdout.splitlines()
    assert "+      cniBinDir: /var/lib/cni/bin" in openshift and "+      platform: openshift" in openshift
    same = invoke("profile", "diff", "demo", "demo")
    assert same.exit_code == 0 and "identical" in same.stdout
    _one_line_error(invoke("profile", "diff", "default", "nope"))


def test_generate_imports_neither_kubernetes_nor_cryptography() -> None:
    code = (
        "import sys\nfrom ambientctl.cli import run\n"
        "sys.stdout = open('/dev/null', 'w')\n"
        "rc = run(['manifest', 'generate', '--set', 'profile=ambient'])\n"
        "sys.stdout = sys.__stdout__\n"
        "print(rc, 'kubernetes' in sys.modules, 'cryptography' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["0", "False", "False"]
