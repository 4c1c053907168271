"""`dashboard` through the REAL port-forward path: local listener → API server → kwok → a local server
standing in for the pod's UI. The command runs as its own process (as a user runs it), prints the URL,
serves until SIGINT, and exits 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from kubernetes import client

from tests.support import leakcheck
from tests.support.cli import invoke
from tests.support.standin import StandIn
from tests.support.waiting import IMAGE, wait_until

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]


def _running_pod(cluster, namespace: str, name: str, labels: dict, annotations: dict | None = None) -> str:
    core = client.CoreV1Api(cluster.api_client())
    core.create_namespaced_pod(namespace, client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels=labels, annotations=annotations),
        spec=client.V1PodSpec(containers=[client.V1Container(name="main", image=IMAGE)])))
    wait_until(f"pod {name} Running", lambda: core.read_namespaced_pod(name, namespace).status.phase == "Running")
    return name


class Dashboard:
    """`ambientctl dashboard ...` as a child process; the URL is its first stdout line."""

    def __init__(self, cluster, *args: str) -> None:
        env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.proc = subprocess.Popen([sys.executable, "-m", "ambientctl", "-c", cluster.kubeconfig, "dashboard", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
        self.url = (self.proc.stdout.readline() or "").strip()

    def stop(self) -> tuple[int, str, str]:
        self.proc.send_signal(signal.SIGINT)
        out, err = self.proc.communicate(timeout=20)
        leakcheck.record(self.proc.args, out, err)
        return self.proc.returncode, out, err


def _fetch(url: str, expect: bytes, timeout: float = 20) -> bytes:
    """kwok applies a new PortForward asynchronously: retry until the stand-in answers."""
    def attempt():
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                body = answer.read()
                return body if expect in body else None
        except (urllib.error.URLError, ConnectionError, OSError):
            return None
    return wait_until(f"{url} through the port-forward", attempt, timeout=timeout)


@pytest.fixture
def ui():
    server = StandIn(0).start()
    yield server
    server.stop()


def test_kiali_is_found_by_its_label_forwarded_and_stopped_with_ctrl_c(cluster, namespace, ui):
    pod = _running_pod(cluster, namespace, "kiali-7d9f", {"app": "kiali"})
    ui.set_route("/kiali", "<title>Kiali</title>", "text/html", 200)
    cluster.forward_pod(namespace, pod, {20001: ui.port})
    dash = Dashboard(cluster, "kiali", "-i", namespace, "--browser=false", "--port", "0")
    try:
        assert dash.url.startswith("http://localhost:") and dash.url.endswith("/kiali"), dash.proc.stderr.read()
        assert b"Kiali" in _fetch(dash.url, b"Kiali")
        assert b"Kiali" in _fetch(dash.url, b"Kiali")  # a second connection gets its own stream
    finally:
        code, out, err = dash.stop()
    assert code == 0, err
    assert f"-> Kiali {namespace}/{pod}:20001" in err and "Stopped forwarding." in err
    assert "Traceback" not in err
    with pytest.raises(OSError):  # the listener is gone
        urllib.request.urlopen(dash.url, timeout=2)


def test_proxy_reaches_a_ztunnels_admin_port(cluster, namespace, standin):
    standin.reset()
    pod = _running_pod(cluster, namespace, "ztunnel-abcde", {"app": "ztunnel"})
    dash = Dashboard(cluster, "proxy", f"pod/{pod}", "-n", namespace, "--browser=false", "--address", "127.0.0.1")
    try:
        assert dash.url.startswith("http://127.0.0.1:"), dash.proc.stderr.read()
        body = _fetch(dash.url + "/config_dump", b"certificates")
        assert b"workloads" in body
    finally:
        code, _, err = dash.stop()
    assert code == 0, err
    assert ("GET", "/config_dump") in standin.admin.requests


def test_istiod_debug_uses_the_monitoring_port_from_the_pod(cluster, namespace, ui):
    pod = _running_pod(cluster, namespace, "istiod-5c8f", {"app": "istiod"}, {"prometheus.io/port": "15014"})
    ui.set_route("/debug", "istiod debug index: syncz adsz", "text/html", 200)
    cluster.forward_pod(namespace, pod, {15014: ui.port})
    dash = Dashboard(cluster, "istiod-debug", "-l", "app=istiod", "-n", namespace, "--browser=false")
    try:
        assert dash.url.endswith("/debug"), dash.proc.stderr.read()
        assert b"syncz" in _fetch(dash.url, b"syncz")
    finally:
        code, _, err = dash.stop()
    assert code == 0, err


def test_an_addon_that_is_not_installed_says_how_to_install_it(cluster, namespace):
    result = invoke("-c", cluster.kubeconfig, "-i", namespace, "dashboard", "grafana", "--browser=false")
    assert result.exit_code == 8, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert f"Grafana is not installed (no pod with app.kubernetes.io/name=grafana in namespace {namespace}" in line
    assert "samples/addons/grafana.yaml" in line


def test_a_pod_that_does_not_exist_fails_before_a_url_is_printed(cluster, namespace):
    result = invoke("-c", cluster.kubeconfig, "dashboard", "proxy", "pod/nosuch", "-n", namespace, "--browser=false")
    assert result.exit_code == 8, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_a_port_in_use_is_refused_with_the_port(cluster, namespace, ui):
    pod = _running_pod(cluster, namespace, "kiali-1", {"app": "kiali"})
    cluster.forward_pod(namespace, pod, {20001: ui.port})
    result = invoke("-c", cluster.kubeconfig, "-i", namespace, "dashboard", "kiali", "--browser=false",
                    "--port", str(ui.port), "--address", "127.0.0.1")
    assert result.exit_code == 11, result.stderr
    assert f"cannot listen on 127.0.0.1 port {ui.port}" in result.stderr
