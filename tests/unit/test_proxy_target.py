"""Which dump pc/zc read: the shared options (--proxy-admin-port, --node, --file) and the pod a reference means."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ambientctl.errors import ExitCode
from tests.support import dumpshapes as ds
from tests.support.fakekube import FakeKube, invoke_with

ZTUNNEL_LABELS = {"app": "ztunnel"}


def ztunnel_world() -> FakeKube:
    """The ztunnel DaemonSet with one pod on each of two nodes, and a sleep pod on the second node."""
    fake = FakeKube()
    fake.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "istio-system"}})
    fake.add({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "ztunnel", "namespace": "istio-system"},
              "spec": {"selector": {"matchLabels": ZTUNNEL_LABELS}}})
    for node in ("ambient-worker", "ambient-worker2"):
        fake.add({"apiVersion": "v1", "kind": "Pod",
                  "metadata": {"name": f"ztunnel-{node}", "namespace": "istio-system", "labels": ZTUNNEL_LABELS},
                  "spec": {"nodeName": node, "containers": [{"name": "istio-proxy"}]},
                  "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}})
    fake.add({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "sleep-1", "namespace": "default",
                                                             "labels": {"app": "sleep"}},
              "spec": {"nodeName": "ambient-worker2", "serviceAccountName": "sleep", "containers": [{"name": "sleep"}]},
              "status": {"phase": "Running"}})
    return fake


@pytest.fixture
def admin(monkeypatch):
    """The admin endpoint of every pod answers with the golden ztunnel dump; records (pod, port, path)."""
    from ambientctl.kube import portforward

    calls: list[tuple[str, int, str]] = []
    body = json.dumps(ds.golden_dump()).encode()

    def fake_http_get(kube, pod, namespace, port, path, timeout=None):
        calls.append((pod, port, path))
        return body

    monkeypatch.setattr(portforward, "http_get", fake_http_get)
    return calls


@pytest.mark.parametrize("command", [["pc", "secret"], ["zc", "certificate"], ["zc", "workload"]])
def test_admin_port_defaults_to_15000_and_is_settable(admin, command) -> None:
    fake = ztunnel_world()
    first = invoke_with(fake, *command, "-n", "istio-system", "--node", "ambient-worker")
    assert first.exit_code == 0, first.stderr
    second = invoke_with(fake, *command, "-n", "istio-system", "--node", "ambient-worker",
                         "--proxy-admin-port", "15099")
    assert second.exit_code == 0, second.stderr
    assert admin == [("ztunnel-ambient-worker", 15000, "/config_dump"), ("ztunnel-ambient-worker", 15099, "/config_dump")]


@pytest.mark.parametrize("port", ["0", "65536", "http"])
def test_bad_admin_port_is_a_usage_error(port) -> None:
    result = invoke_with(ztunnel_world(), "pc", "secret", "--proxy-admin-port", port)
    assert result.exit_code == ExitCode.USAGE, result.stderr


def test_workload_pod_means_the_ztunnel_on_its_node(admin) -> None:
    result = invoke_with(ztunnel_world(), "zc", "certificate", "sleep-1", "-n", "default")
    assert [pod for pod, _, _ in admin] == ["ztunnel-ambient-worker2"]
    assert "pod default/sleep-1 is not a proxy: showing identity default/sleep" in result.stderr


def test_file_and_node_or_pod_together_are_refused(tmp_path) -> None:
    dump = tmp_path / "dump.json"
    dump.write_text(json.dumps(ds.golden_dump()))
    for args in (["--node", "n1"], ["pod/ztunnel-x"]):
        result = invoke_with(ztunnel_world(), "zc", "workload", "--file", str(dump), *args)
        assert result.exit_code == ExitCode.USAGE, result.stderr


def test_shared_options_are_declared_once() -> None:
    """pc and zc get the same flags from cli/options.py; zc does not load the pc command module."""
    code = ("import sys, ambientctl.cli.ztunnelconfig; "
            "assert 'ambientctl.cli.proxyconfig' not in sys.modules, 'zc imported pc'")
    subprocess.run([sys.executable, "-c", code], check=True)
    import typer
    import typer.main

    from ambientctl.cli import proxyconfig, ztunnelconfig

    root = typer.Typer()
    proxyconfig.register(root)
    ztunnelconfig.register(root)
    groups = typer.main.get_command(root).commands
    pc = groups["proxy-config"].commands["secret"]
    zc = groups["ztunnel-config"].commands["certificate"]
    flags = {"--node", "--file", "--proxy-admin-port", "--output", "--identity"}
    pc_opts = {p.opts[0]: p for p in pc.params if p.opts[0] in flags}
    zc_opts = {p.opts[0]: p for p in zc.params if p.opts[0] in flags}
    assert set(pc_opts) == set(zc_opts) == flags
    for flag in flags - {"--output"}:
        assert pc_opts[flag].help == zc_opts[flag].help, flag
