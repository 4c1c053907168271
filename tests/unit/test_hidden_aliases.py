"""istioctl's hidden aliases `x version`, `x proxy-status` and root `authz` run the very same commands."""

from __future__ import annotations

import pytest

from tests.support import syncz
from tests.support.adminstandin import IstiodDebug, patch_portforward
from tests.support.cli import invoke
from tests.support.fakekube import FakeKube, invoke_with
from tests.unit.test_proxy_admin_cli import mesh_cluster  # noqa: F401  (fixture)


@pytest.mark.parametrize("flags", [["--client"], ["--client", "--short"], ["--client", "-o", "json"]])
def test_x_version_is_version(flags: list[str]) -> None:
    original = invoke("version", *flags)
    alias = invoke("x", "version", *flags)
    assert original.exit_code == 0, original.stderr
    assert (alias.exit_code, alias.stdout, alias.stderr) == (original.exit_code, original.stdout, original.stderr)


def test_x_proxy_status_is_proxy_status(monkeypatch, mesh_cluster: FakeKube) -> None:  # noqa: F811
    outputs = []
    for argv in (["proxy-status", "-n", "istio-system"], ["x", "proxy-status", "-n", "istio-system"]):
        patch_portforward(monkeypatch, {("istiod-1", 15014): IstiodDebug(syncz=syncz.encoded(syncz.ambient_mesh()))})
        result = invoke_with(mesh_cluster, *argv)
        assert result.exit_code == 0, result.stderr
        outputs.append(result.stdout)
    assert "ztunnel-4kx9p.istio-system" in outputs[0]
    assert outputs[1] == outputs[0]


@pytest.mark.parametrize("args", [
    ["allow", "--to", "app=productpage", "--from", "sa/sleep", "-n", "default"],
    ["allow", "--to", "app=productpage", "--from", "not a source"],
])
def test_root_authz_is_x_authz(args: list[str]) -> None:
    original = invoke("x", "authz", *args)
    alias = invoke("authz", *args)
    assert (alias.exit_code, alias.stdout, alias.stderr) == (original.exit_code, original.stdout, original.stderr)


def test_aliases_are_hidden() -> None:
    root_help = invoke("--help").stdout
    x_help = invoke("x", "--help").stdout
    assert "authz" not in root_help.split("Commands")[1]
    commands = [line.split()[0] for line in x_help.split("Commands:")[1].splitlines() if line.strip()]
    assert "version" not in commands and "proxy-status" not in commands
    assert "authz" in commands


@pytest.mark.parametrize("argv", [["x", "version", "--client"], ["authz", "--help"], ["x", "proxy-status", "--help"]])
def test_aliases_without_cluster_import_no_kubernetes(argv: list[str]) -> None:
    import subprocess
    import sys

    from tests.unit.test_cli_basics import _PROBE

    out = subprocess.run([sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0"], (out.stdout, out.stderr)
