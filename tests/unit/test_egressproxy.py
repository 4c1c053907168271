"""The test cluster's egress proxy and its local-services registry, without a cluster (issue 12)."""

from __future__ import annotations

import json
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support import clusterctl, egressproxy, localservices


class FakeLookup:
    """Services by namespace/name -> ClusterIP (what the proxy reads from the API server)."""

    def __init__(self, services: dict[str, str]):
        self.services = services

    def service_ips(self, namespace, name):
        ip = self.services.get(f"{namespace}/{name}")
        return ({ip}, {443}) if ip else (set(), set())

    def service_named(self, ip):
        return next((k for k, v in self.services.items() if v == ip), None)

    def pod_named(self, ip):
        return None


class Hello(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Length", "5")
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, *args):
        pass


@pytest.fixture
def backend():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


@pytest.fixture
def proxy(tmp_path):
    """The proxy on a Unix socket in a state dir whose istio-system/istiod is 10.96.0.10."""
    log = egressproxy.ConnectionLog(str(tmp_path / egressproxy.LOG_FILE))
    server = egressproxy.EgressServer(str(tmp_path / "c.sock"), "cluster", str(tmp_path), log,
                                      FakeLookup({"istio-system/istiod": "10.96.0.10"}))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield tmp_path
    server.shutdown()
    server.server_close()


def connect(state_dir, destination: str, request: bytes = b"") -> bytes:
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(state_dir / "c.sock"))
        s.sendall(f"CONNECT {destination} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        head = s.recv(4096)
        if not head.startswith(b"HTTP/1.1 200") or not request:
            return head
        s.sendall(request)
        data = b""
        while chunk := s.recv(4096):
            data += chunk
        return data


def records(state_dir) -> list[dict]:
    return [json.loads(line) for line in (state_dir / egressproxy.LOG_FILE).read_text().splitlines()]


def test_loopback_is_tunnelled_and_logged(proxy, backend):
    reply = connect(proxy, f"127.0.0.1:{backend}", b"GET / HTTP/1.0\r\n\r\n")
    assert reply.startswith(b"HTTP/1.0 200") and reply.endswith(b"hello")
    [record] = records(proxy)
    assert record["decision"] == "allowed" and record["destination"] == f"127.0.0.1:{backend}"
    assert record["mapped_to"] is None and record["error"] is None and record["egress"] == "cluster"


def test_cluster_ip_without_a_local_process_is_refused_at_once_with_a_reason(proxy):
    reply = connect(proxy, "10.96.0.10:443")
    assert reply.startswith(b"HTTP/1.1 403 egress refused by the test cluster's proxy: 10.96.0.10:443 is off")
    assert b"Service istio-system/istiod" in reply
    [record] = records(proxy)
    assert (record["decision"], record["service"], record["mapped_to"]) == ("refused", "istio-system/istiod", None)


def test_registered_service_is_mapped_to_its_local_address(proxy, backend):
    with localservices.registered(str(proxy), "istio-system", "istiod", 443, f"127.0.0.1:{backend}"):
        reply = connect(proxy, "10.96.0.10:443", b"GET / HTTP/1.0\r\n\r\n")
    assert reply.endswith(b"hello")
    assert connect(proxy, "10.96.0.10:443").startswith(b"HTTP/1.1 403")  # unregistered again
    mapped, refused = records(proxy)
    assert (mapped["decision"], mapped["mapped_to"]) == ("mapped", f"127.0.0.1:{backend}")
    assert refused["decision"] == "refused"


def test_host_names_and_other_addresses_are_refused_without_a_lookup(proxy):
    for destination in ("example.com:443", "10.244.0.7:15000", "192.0.2.1:80"):
        assert connect(proxy, destination).startswith(b"HTTP/1.1 403"), destination
    assert [r["decision"] for r in records(proxy)] == ["refused"] * 3


def test_registry_refuses_targets_off_loopback_and_ignores_dead_registrants(tmp_path):
    with pytest.raises(ValueError, match="not a loopback address"):
        localservices.register(str(tmp_path), "istio-system", "istiod", 443, "10.96.0.10:15017")
    localservices.register(str(tmp_path), "ns", "gone", 443, "127.0.0.1:1", pid=2**22 + 1)  # no such pid
    assert localservices.entries(str(tmp_path)) == {}
    assert list(localservices.entries(str(tmp_path), live_only=False)) == ["ns/gone:443"]


def test_instances_get_their_own_stand_in_ports(tmp_path, monkeypatch):
    monkeypatch.delenv("AMBIENTCTL_STANDIN_PORTS", raising=False)
    monkeypatch.setattr(clusterctl, "CACHE", str(tmp_path))
    monkeypatch.setattr(clusterctl, "STANDIN_ALLOCATIONS", str(tmp_path / "standin-ports.json"))
    test, demo = str(tmp_path / "state-test"), str(tmp_path / "state-demo")
    first = clusterctl.allocate_standin_ports(test)
    second = clusterctl.allocate_standin_ports(demo)
    assert set(first) == set(second) == {"15000", "15020"}
    assert not set(first.values()) & set(second.values())
    assert clusterctl.allocate_standin_ports(test) == first  # stable for the life of the instance
    assert max(first.values()) < clusterctl._ephemeral_low()


def test_default_state_dirs_of_test_and_demo_differ(monkeypatch):
    monkeypatch.delenv(clusterctl.STATE_ENV, raising=False)
    assert clusterctl.default_state_dir().endswith(os.sep + "state-test")
    assert clusterctl.default_state_dir("demo").endswith(os.sep + "state-demo")
    monkeypatch.setenv(clusterctl.STATE_ENV, "/tmp/elsewhere")
    assert clusterctl.default_state_dir() == "/tmp/elsewhere"
    assert clusterctl.default_state_dir("demo").endswith(os.sep + "state-demo")  # explicit instance wins
