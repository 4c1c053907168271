"""`dashboard`: flags, pod lookup, and the local listener that pumps bytes through a port-forward stream.

The real port-forward path (API server → kwok → a local server) is tested in
tests/e2e/test_dashboard.py; here the stream is a socket pair to a local HTTP
server, so the listener, the pumping and the error paths are checked alone.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ambientctl import dashboard
from ambientctl.errors import InvalidInputError, NotFoundError, UsageError
from ambientctl.kube import forward
from ambientctl.workloads import monitoring_port
from tests.support.cli import invoke


class _Backend:
    """A local HTTP server standing in for the pod's UI; answers its path and counts requests."""

    def __init__(self) -> None:
        backend = self
        self.paths: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                backend.paths.append(self.path)
                body = f"ui at {self.path}".encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _FakeStream:
    """What `open_forward` returns: `.socket(port)` connected to the backend, `.error()`, `.close()`."""

    def __init__(self, backend_port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", backend_port))

    def socket(self, port: int) -> socket.socket:
        return self.sock

    def error(self, port: int) -> None:
        return None

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def backend():
    server = _Backend()
    yield server
    server.close()


def _serving(monkeypatch, backend_port: int, fail: Exception | None = None):
    opened: list[tuple[str, str, int]] = []

    def fake_open(kube, pod, namespace, port, timeout=None):
        opened.append((namespace, pod, port))
        if fail:
            raise fail
        return _FakeStream(backend_port)

    monkeypatch.setattr(forward, "open_forward", fake_open)
    errors: list[str] = []
    listeners = forward.bind_listeners("127.0.0.1", [0])
    forwarder = forward.PortForwarder(object(), "kiali-1", "istio-system", 20001, listeners, on_error=errors.append)
    thread = threading.Thread(target=forwarder.serve, daemon=True)
    thread.start()
    return forwarder, thread, opened, errors


def test_each_local_connection_gets_its_own_stream_and_sees_the_pods_answer(monkeypatch, backend):
    forwarder, thread, opened, _ = _serving(monkeypatch, backend.port)
    try:
        for path in ("/kiali", "/kiali/console"):
            with urllib.request.urlopen(f"http://127.0.0.1:{forwarder.port}{path}", timeout=5) as answer:
                assert answer.read() == f"ui at {path}".encode()
        assert backend.paths == ["/kiali", "/kiali/console"]
        assert opened == [("istio-system", "kiali-1", 20001)] * 2
    finally:
        forwarder.stop()
        thread.join(5)
    assert not thread.is_alive(), "stop() must end serve()"
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", forwarder.port), timeout=1).close()


def test_a_failing_stream_closes_that_connection_reports_once_and_keeps_listening(monkeypatch, backend):
    forwarder, thread, _, errors = _serving(monkeypatch, backend.port, fail=NotFoundError("pod gone"))
    try:
        for _ in range(2):
            with pytest.raises(Exception):
                urllib.request.urlopen(f"http://127.0.0.1:{forwarder.port}/", timeout=5).read()
        assert errors == ["pod gone"]
        assert thread.is_alive()
    finally:
        forwarder.stop()
        thread.join(5)


def test_localhost_means_both_loopbacks_and_other_names_are_refused():
    assert forward.listen_addresses("localhost") == ["127.0.0.1", "::1"]
    assert forward.listen_addresses("0.0.0.0") == ["0.0.0.0"]
    with pytest.raises(InvalidInputError, match="not an IP address or localhost"):
        forward.listen_addresses("example.com")


def test_the_remote_port_is_preferred_and_a_busy_one_falls_back_to_a_free_port():
    busy = forward.bind_listeners("127.0.0.1", [0])
    taken = busy[0].getsockname()[1]
    try:
        fallback = forward.bind_listeners("127.0.0.1", [taken, 0])
        assert fallback[0].getsockname()[1] not in (taken, 0)
        for sock in fallback:
            sock.close()
        with pytest.raises(InvalidInputError, match=f"cannot listen on 127.0.0.1 port {taken}"):
            forward.bind_listeners("127.0.0.1", [taken])  # an explicit --port never falls back
    finally:
        busy[0].close()


class _Kube:
    def __init__(self, pods_by_namespace: dict[str, list[dict]]) -> None:
        self.pods = pods_by_namespace
        self.calls: list[tuple[str, str | None]] = []

    def list(self, api_version, kind, namespace=None, label_selector=None):
        self.calls.append((namespace, label_selector))
        return self.pods.get(namespace, [])


def _pod(name: str, namespace: str, phase: str = "Running", annotations: dict | None = None) -> dict:
    return {"metadata": {"name": name, "namespace": namespace, "annotations": annotations or {}},
            "status": {"phase": phase}}


def test_addons_are_found_by_istioctls_selectors_istio_namespace_first():
    kube = _Kube({"observability": [_pod("grafana-b", "observability", "Pending"), _pod("grafana-a", "observability")]})
    target = dashboard.find_addon(kube, dashboard.ADDONS["grafana"], ["istio-system", "observability"])
    assert (target.pod, target.namespace, target.port, target.path) == ("grafana-a", "observability", 3000, "")
    assert kube.calls == [("istio-system", "app.kubernetes.io/name=grafana"),
                          ("observability", "app.kubernetes.io/name=grafana")]
    kiali = dashboard.find_addon(_Kube({"istio-system": [_pod("kiali-1", "istio-system")]}),
                                 dashboard.ADDONS["kiali"], ["istio-system"])
    assert (kiali.port, kiali.path) == (20001, "/kiali")


def test_a_missing_addon_says_how_to_install_it():
    with pytest.raises(NotFoundError) as err:
        dashboard.find_addon(_Kube({}), dashboard.ADDONS["zipkin"], ["istio-system", "default"])
    line = err.value.one_line()
    assert "Zipkin is not installed (no pod with app=zipkin in namespace istio-system or default)" in line
    assert "kubectl apply -f https://raw.githubusercontent.com/istio/istio/release-1.31/samples/addons/extras/zipkin.yaml" \
        in line


def test_istiod_debug_uses_the_pods_monitoring_port():
    assert monitoring_port(_pod("istiod", "istio-system")) == 15014
    assert monitoring_port(_pod("istiod", "istio-system", annotations={"prometheus.io/port": "15999"})) == 15999
    assert monitoring_port(_pod("istiod", "istio-system", annotations={"prometheus.io/port": "x"})) == 15014


def test_urls():
    assert dashboard.url_for("localhost", 20001, "/kiali") == "http://localhost:20001/kiali"
    assert dashboard.url_for("::1", 15000, "") == "http://[::1]:15000"


def test_a_pod_or_a_selector_not_both():
    with pytest.raises(UsageError, match="specify a pod or --selector"):
        dashboard.check_pod_args(None, None)
    with pytest.raises(UsageError, match="name cannot be provided"):
        dashboard.check_pod_args("ds/ztunnel", "app=ztunnel")


@pytest.mark.parametrize(("argv", "code", "message"), [
    (["dashboard", "kiali", "--browser=maybe"], 2, "invalid value 'maybe' for --browser: not a boolean"),
    (["d", "grafana", "--address", "example.com"], 11, "not an IP address or localhost"),
    (["dash", "proxy"], 2, "specify a pod or --selector"),
    (["dashboard", "controlz", "deploy/istiod", "-l", "app=istiod"], 2, "name cannot be provided"),
    (["dashboard", "nosuch"], 2, "No such command"),
])
def test_bad_flags_fail_before_any_cluster_call(argv, code, message):
    result = invoke("--kubeconfig", "/nonexistent/kubeconfig", *argv)
    assert result.exit_code == code, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_help_lists_every_target_and_does_not_import_kubernetes():
    probe = ("import sys, io, contextlib\nfrom ambientctl.cli import run\n"
             "buf = io.StringIO()\nwith contextlib.redirect_stdout(buf):\n    code = run(['dashboard', '--help'])\n"
             "print(code, 'kubernetes' in sys.modules)\nprint(buf.getvalue())")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[0] == "0 False"
    for target in ("proxy", "envoy", "controlz", "istiod-debug", "kiali", "prometheus", "grafana", "jaeger",
                   "zipkin", "skywalking"):
        assert f"  {target} " in out


@pytest.mark.parametrize("flag", ["--browser=false", "--browser=true", "--no-browser", "--browser"])
def test_istioctls_browser_spellings_are_accepted(flag):
    """They pass flag parsing and reach the cluster lookup (here: a kubeconfig that does not exist)."""
    result = invoke("--kubeconfig", "/nonexistent/kubeconfig", "dashboard", "kiali", flag)
    assert result.exit_code == 6, result.stderr
