"""`manifest translate`: the merged configuration as Helm values per release, install scripts and README."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ambientctl.errors import ExitCode
from ambientctl.render import load_profile, render
from ambientctl.render.translate import changed, translate
from tests.support.cli import invoke
from tests.support.golden import assert_golden
from tests.unit.test_cli_basics import _PROBE

AMBIENT = ("manifest", "translate", "--set", "profile=ambient")


def _values(*sets: str) -> dict:
    result = invoke(*AMBIENT, *[arg for s in sets for arg in ("--set", s)])
    assert result.exit_code == 0, result.stderr
    return result.yaml


def test_stdout_is_one_document_keyed_by_release_golden() -> None:
    result = invoke(*AMBIENT)
    assert result.exit_code == 0, result.stderr
    assert len(list(yaml.safe_load_all(result.stdout))) == 1
    assert list(result.yaml) == ["base", "pilot", "cni", "ztunnel"]
    assert_golden("render/translate_ambient.yaml", result.stdout)


def test_identity_keys_and_profile_changes_are_in_every_chart_values() -> None:
    values = _values()
    for release in ("base", "pilot", "cni", "ztunnel"):
        glob = values[release]["global"]
        assert glob["hub"] == "docker.io/istio" and glob["istioNamespace"] == "istio-system", release
        assert glob["tag"] and values[release]["profile"] == "ambient"
    assert values["pilot"]["pilot"]["env"]["PILOT_ENABLE_AMBIENT"] == "true"
    assert values["cni"]["cni"]["ambient"]["enabled"] is True
    # defaults are left to the charts: the default profile's log level is not repeated
    assert "logging" not in values["pilot"]["global"]


def test_ztunnel_values_are_flattened_and_keep_only_shared_keys() -> None:
    values = _values("values.ztunnel.logLevel=debug", "values.cni.logLevel=debug")
    ztunnel = values["ztunnel"]
    assert ztunnel["logLevel"] == "debug" and "ztunnel" not in ztunnel
    assert "cni" not in ztunnel and "pilot" not in ztunnel
    assert values["pilot"]["cni"]["logLevel"] == "debug"


def test_mesh_config_revision_and_k8s_settings_become_values() -> None:
    result = invoke(*AMBIENT, "--set", "meshConfig.enableTracing=true", "--set",
                    "components.pilot.k8s.replicaCount=3", "--set", "revision=canary")
    assert result.exit_code == 0, result.stderr
    pilot = result.yaml["pilot"]
    assert pilot["meshConfig"]["enableTracing"] is True
    assert pilot["pilot"]["replicaCount"] == 3
    assert pilot["revision"] == "canary" and result.yaml["ztunnel"]["revision"] == "canary"


def test_gateways_and_unmapped_k8s_settings_are_reported_on_stderr() -> None:
    result = invoke(*AMBIENT, "--set", "components.pilot.k8s.hpaSpec.minReplicas=2")
    assert result.exit_code == 0, result.stderr
    assert "gateway istio-ingressgateway is not translated" in result.stderr
    assert "components.pilot.k8s.hpaSpec has no Helm value here" in result.stderr
    assert "istio-ingressgateway" not in result.stdout


def test_output_dir_holds_values_scripts_and_readme(tmp_path: Path) -> None:
    out = tmp_path / "helm"
    result = invoke(*AMBIENT, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(["README.md", *(f"{r}-values.yaml" for r in ("base", "pilot", "cni", "ztunnel")),
                            *(f"install-{r}.sh" for r in ("base", "pilot", "cni", "ztunnel"))])
    assert os.access(out / "install-ztunnel.sh", os.X_OK) and not os.access(out / "README.md", os.X_OK)
    stdout_values = invoke(*AMBIENT).yaml
    assert yaml.safe_load((out / "pilot-values.yaml").read_text()) == stdout_values["pilot"]
    assert_golden("render/translate_README.md", (out / "README.md").read_text())
    assert_golden("render/translate_install-ztunnel.sh", (out / "install-ztunnel.sh").read_text())


def test_scripts_adopt_every_rendered_object_then_install_the_release(tmp_path: Path) -> None:
    rendered = render(set_values=["profile=ambient", "revision=canary"])
    releases = {r.name: r for r in translate(rendered, load_profile("default")).releases}
    pilot = releases["pilot"]
    assert len(pilot.objects) == len(rendered.component("Pilot").objects)
    assert ("Deployment.apps", "istio-system", "istiod-canary") in pilot.objects
    crd = next(ref for ref in releases["base"].objects if ref[0] == "CustomResourceDefinition.apiextensions.k8s.io")
    assert crd[1] == ""  # cluster-scoped: no --namespace
    from ambientctl.render.translate import install_script

    script = install_script(pilot)
    assert "kubectl annotate --overwrite Deployment.apps --namespace=istio-system istiod-canary " \
           "meta.helm.sh/release-name=pilot meta.helm.sh/release-namespace=istio-system" in script
    helm = [line for line in script.splitlines() if line.startswith("helm ")]
    assert helm == [f"helm upgrade --install pilot oci://ghcr.io/istio/release/charts/istiod "
                    f"--version {rendered.config['spec']['tag']} --namespace istio-system -f pilot-values.yaml"]
    assert script.index("helm upgrade") < script.index("ambientctl.dev/managed-by-")


def test_custom_tag_is_not_a_chart_version() -> None:
    rendered = render(set_values=["profile=ambient", "tag=latest"])
    assert {r.chart_version for r in translate(rendered, load_profile("default")).releases} == {None}


def test_changed_keeps_only_differences() -> None:
    assert changed({"a": {"b": 1, "c": 2}, "l": [1], "n": 5}, {"a": {"b": 1, "c": 3}, "l": [1]}) == {
        "a": {"c": 2}, "n": 5}
    assert changed({"a": {}}, {}) == {"a": {}}


def test_output_path_that_is_a_file_is_a_one_line_error(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    result = invoke(*AMBIENT, "-o", str(target))
    assert result.exit_code == ExitCode.INVALID_INPUT, result.stderr
    assert result.stderr.strip().count("\n") == 0 and "is not a directory" in result.stderr


def test_unknown_profile_is_an_error() -> None:
    result = invoke("manifest", "translate", "--set", "profile=nope")
    assert result.exit_code == ExitCode.INVALID_INPUT and "unknown profile" in result.stderr


@pytest.mark.parametrize("argv", [["manifest", "translate", "--set", "profile=ambient"],
                                  ["manifest", "translate", "--help"]])
def test_translate_imports_no_kubernetes(argv: list[str]) -> None:
    out = subprocess.run([sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0"], (out.stdout, out.stderr)


def test_files_and_revision_reach_the_values_and_readme(tmp_path: Path) -> None:
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text("apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\n"
                       "spec:\n  values:\n    global:\n      logging:\n        level: default:debug\n")
    out = tmp_path / "helm"
    result = invoke(*AMBIENT, "-f", str(overlay), "-r", "canary", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    pilot = yaml.safe_load((out / "pilot-values.yaml").read_text())
    assert pilot["global"]["logging"] == {"level": "default:debug"} and pilot["revision"] == "canary"
    assert "delete configmap ambientctl-install-canary" in (out / "README.md").read_text()


def test_empty_profile_translates_to_nothing(tmp_path: Path) -> None:
    result = invoke("manifest", "translate", "--set", "profile=empty", "-o", str(tmp_path / "helm"))
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "helm").iterdir()) == ["README.md"]
    assert "Nothing to install" in (tmp_path / "helm" / "README.md").read_text()
    assert invoke("manifest", "translate", "--set", "profile=empty").yaml == {}


def test_scripts_are_valid_bash(tmp_path: Path) -> None:
    out = tmp_path / "helm"
    assert invoke(*AMBIENT, "--set", "revision=canary", "-o", str(out)).exit_code == 0
    for script in sorted(out.glob("install-*.sh")):
        checked = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
        assert checked.returncode == 0, (script.name, checked.stderr)
