"""kube-apiserver's egress proxy for the test cluster: every outbound connection stays on this machine.

Why: a webhook names a Service (``istiod.istio-system.svc:443``); kube-apiserver
resolves it to a ClusterIP in 10.96.0.0/16 and dials it.  Nothing on this
machine owns that address, so without this proxy the packet would leave the
machine.  ``tests/support/clusterctl.py`` starts kube-apiserver with
``--egress-selector-config-file``: its ``cluster`` egress (webhooks and
aggregated APIs named by a Service, connections to kubelets, i.e. kwok) and
its ``controlplane`` egress (webhooks named by a URL) are HTTP CONNECT requests
to this process, over one Unix socket each.

Per CONNECT, one decision:

* ``allowed``: the destination is in 127.0.0.0/8 (or ``localhost``/``::1``):
  dialled as asked (kwok's kubelet API for logs and port-forward).
* ``mapped``: the destination is the ClusterIP:port of a Service that a local
  process registered (tests/support/localservices.py): dialled at the
  registered loopback address instead.
* ``refused``: anything else.  Answered at once with ``403`` and a reason the
  API server puts in its error, so a webhook call fails fast and locally and
  its ``failurePolicy`` decides.  Host names other than ``localhost`` are
  refused without a DNS lookup (a lookup is traffic too).

Every attempt is one JSON line in the connection log (``<state>/egress.log``)::

    {"time": "...Z", "egress": "cluster", "destination": "10.96.4.7:443",
     "decision": "refused", "mapped_to": null, "service": "istio-system/istiod",
     "reason": "...", "error": null}

``service``/``pod`` name what a 10.96/16 or 10.244/16 destination is (looked up
in the API, for the reader); ``error`` is set when an allowed or mapped dial
failed (then the proxy answers 502).  Standard library only.

Run by the cluster script as
``python3 -m tests.support.egressproxy --state DIR --api-url URL --socket cluster=PATH ...``.
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import json
import os
import signal
import socket
import socketserver
import ssl
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from tests.support import localservices

LOG_FILE = "egress.log"
MAX_HEADER = 16384
DIAL_TIMEOUT = 5.0
API_TIMEOUT = 3.0
SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/16")
POD_CIDR = ipaddress.ip_network("10.244.0.0/16")


@dataclass
class Decision:
    decision: str  # allowed | mapped | refused
    target: tuple[str, int] | None
    reason: str
    service: str | None = None
    pod: str | None = None


class ClusterLookup:
    """Reads Services and Pods from the API server with the admin client certificate."""

    def __init__(self, api_url: str, pki: str):
        self.api_url = api_url
        self.ctx = ssl.create_default_context(cafile=os.path.join(pki, "ca.crt"))
        self.ctx.load_cert_chain(os.path.join(pki, "admin.crt"), os.path.join(pki, "admin.key"))

    def get(self, path: str) -> dict | None:
        req = urllib.request.Request(self.api_url + path, headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=API_TIMEOUT) as resp:
                return json.loads(resp.read())
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def service_ips(self, namespace: str, name: str) -> tuple[set[str], set[int]]:
        """ClusterIPs and Service ports of namespace/name (empty when it does not exist)."""
        svc = self.get(f"/api/v1/namespaces/{urllib.parse.quote(namespace)}/services/{urllib.parse.quote(name)}")
        if not svc:
            return set(), set()
        spec = svc.get("spec") or {}
        ips = set(spec.get("clusterIPs") or []) | ({spec["clusterIP"]} if spec.get("clusterIP") else set())
        return ips - {"None"}, {int(p.get("port", 0)) for p in spec.get("ports") or []}

    def service_named(self, ip: str) -> str | None:
        lst = self.get("/api/v1/services") or {}
        for svc in lst.get("items", []):
            spec = svc.get("spec") or {}
            if ip == spec.get("clusterIP") or ip in (spec.get("clusterIPs") or []):
                return f"{svc['metadata']['namespace']}/{svc['metadata']['name']}"
        return None

    def pod_named(self, ip: str) -> str | None:
        lst = self.get("/api/v1/pods?fieldSelector=" + urllib.parse.quote(f"status.podIP={ip}")) or {}
        names = [f"{p['metadata']['namespace']}/{p['metadata']['name']}" for p in lst.get("items", [])]
        return ",".join(sorted(names)) or None


def split_host_port(authority: str) -> tuple[str, int]:
    host, sep, port = authority.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"CONNECT target {authority!r} is not HOST:PORT")
    return host.strip("[]"), int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def decide(host: str, port: int, state_dir: str, lookup: ClusterLookup | None) -> Decision:
    """Where (if anywhere) a CONNECT to host:port goes."""
    if is_loopback(host):
        return Decision("allowed", (host, port), "loopback destination")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return Decision("refused", None, f"host name {host} is not resolved by the test cluster's egress proxy "
                                          "(only 127.0.0.0/8 and registered local Services)")
    for entry in localservices.entries(state_dir).values():
        if entry.port != port or lookup is None:
            continue
        ips, _ = lookup.service_ips(entry.namespace, entry.service)
        if host in ips:
            target_host, target_port = split_host_port(entry.target)
            return Decision("mapped", (target_host, target_port),
                            f"Service {entry.namespace}/{entry.service}:{port} is served locally by pid {entry.pid}",
                            service=f"{entry.namespace}/{entry.service}")
    service = lookup.service_named(host) if lookup and ip in SERVICE_CIDR else None
    pod = lookup.pod_named(host) if lookup and ip in POD_CIDR else None
    what = f"Service {service}" if service else f"pod {pod}" if pod else "it"
    return Decision("refused", None,
                    f"{host}:{port} is off this machine ({what} has no local process registered in "
                    f"{localservices.REGISTRY_FILE}); test cluster egress stays on 127.0.0.0/8",
                    service=service, pod=pod)


class ConnectionLog:
    """Appends one JSON line per CONNECT attempt (thread-safe, flushed per line)."""

    def __init__(self, path: str):
        self.path = path
        self.lock = threading.Lock()

    def write(self, record: dict) -> None:
        line = json.dumps(record, sort_keys=False) + "\n"
        with self.lock, open(self.path, "a") as f:
            f.write(line)


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def pipe(src: socket.socket, dst: socket.socket) -> None:
    """Copy src to dst until EOF, then half-close dst."""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class ConnectHandler(socketserver.BaseRequestHandler):
    server: "EgressServer"

    def read_head(self) -> bytes:
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = self.request.recv(4096)
            if not chunk:
                break
            buf += chunk
            if len(buf) > MAX_HEADER:
                break
        return buf

    def reply(self, status: int, reason: str) -> None:
        reason = reason.replace("\r", " ").replace("\n", " ")
        self.request.sendall(f"HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                             .encode("utf-8", "replace"))

    def handle(self) -> None:
        head = self.read_head()
        parts = head.split(b"\r\n", 1)[0].decode("latin-1").split()
        record = {"time": now(), "egress": self.server.egress, "destination": None, "decision": "refused",
                  "mapped_to": None, "service": None, "pod": None, "reason": "", "error": None}
        if len(parts) != 3 or parts[0] != "CONNECT":
            record["reason"] = f"not a CONNECT request: {parts[:2]}"
            self.server.log.write(record)
            self.reply(405, "egress proxy: only CONNECT is supported")
            return
        record["destination"] = parts[1]
        try:
            host, port = split_host_port(parts[1])
            decision = decide(host, port, self.server.state_dir, self.server.lookup)
        except ValueError as e:
            decision = Decision("refused", None, str(e))
        record.update(decision=decision.decision, service=decision.service, pod=decision.pod,
                      reason=decision.reason)
        if decision.target is None:
            self.server.log.write(record)
            self.reply(403, "egress refused by the test cluster's proxy: " + decision.reason)
            return
        target = f"{decision.target[0]}:{decision.target[1]}"
        if decision.decision == "mapped":
            record["mapped_to"] = target
        try:
            upstream = socket.create_connection(decision.target, timeout=DIAL_TIMEOUT)
        except OSError as e:
            record["error"] = f"dial {target}: {e}"
            self.server.log.write(record)
            self.reply(502, f"egress proxy could not reach {target}: {e}")
            return
        self.server.log.write(record)
        upstream.settimeout(None)
        with upstream:
            self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            back = threading.Thread(target=pipe, args=(upstream, self.request), daemon=True)
            back.start()
            pipe(self.request, upstream)
            back.join()


class EgressServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str, egress: str, state_dir: str, log: ConnectionLog, lookup: ClusterLookup | None):
        if os.path.exists(path):
            os.unlink(path)
        super().__init__(path, ConnectHandler)
        os.chmod(path, 0o600)
        self.egress, self.state_dir, self.log, self.lookup = egress, state_dir, log, lookup


def serve(state_dir: str, sockets: dict[str, str], api_url: str | None) -> None:
    """Serve every socket until SIGTERM/SIGINT."""
    log = ConnectionLog(os.path.join(state_dir, LOG_FILE))
    lookup = ClusterLookup(api_url, os.path.join(state_dir, "pki")) if api_url else None
    servers = [EgressServer(path, egress, state_dir, log, lookup) for egress, path in sockets.items()]
    threads = [threading.Thread(target=s.serve_forever, name=f"egress-{s.egress}", daemon=True) for s in servers]
    for t in threads:
        t.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"egress proxy serving {', '.join(f'{e}={p}' for e, p in sockets.items())}; log {log.path}", flush=True)
    stop.wait()
    for s in servers:
        s.shutdown()
        s.server_close()
        try:
            os.unlink(s.server_address)
        except OSError:
            pass


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--state", required=True, help="the cluster's state dir (registry, pki, connection log)")
    ap.add_argument("--api-url", help="kube-apiserver URL, to resolve registered Services' ClusterIPs")
    ap.add_argument("--socket", action="append", required=True, metavar="EGRESS=PATH",
                    help="a Unix socket to serve for one egress type (cluster, controlplane)")
    args = ap.parse_args(argv)
    sockets = dict(item.split("=", 1) for item in args.socket)
    serve(os.path.abspath(args.state), sockets, args.api_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
