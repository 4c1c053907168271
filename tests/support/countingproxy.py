"""A counting reverse proxy in front of the test cluster's API server.

Why: "install makes no more API requests than istioctl" must be measured on the
same wire for both tools.  The proxy listens on plain HTTP on 127.0.0.1, forwards
every request to the real API server over TLS with the kubeconfig's client
certificate, and records (method, path, user agent).  A kubeconfig pointing at
the proxy is written for the tool under test (no credentials in it: the proxy
authenticates upstream), so both ambientctl (Python client) and istioctl
(client-go) go through it unchanged.

Streaming responses (watches, chunked lists) are relayed chunk by chunk, so
`--wait` style watches work through it.  Protocol upgrades (exec/port-forward)
are not supported: they are not needed for install and are refused with 501.

Usage::

    with CountingProxy.from_kubeconfig(cluster.kubeconfig) as proxy:
        run(["istioctl", "--kubeconfig", proxy.kubeconfig, ...])
        print(proxy.count(), proxy.by_verb())
"""

from __future__ import annotations

import base64
import collections
import http.client
import http.server
import json
import os
import ssl
import tempfile
import threading
import urllib.parse
from dataclasses import dataclass

import yaml

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
               "transfer-encoding", "upgrade", "content-length"}


@dataclass(frozen=True)
class Request:
    method: str
    path: str           # without the query string
    query: str
    user_agent: str
    status: int

    @property
    def verb(self) -> str:
        """Kubernetes-style verb: list/watch/get for GET, else the HTTP method (lower case)."""
        if self.method != "GET":
            return {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(
                self.method, self.method.lower())
        params = urllib.parse.parse_qs(self.query)
        if params.get("watch", ["false"])[0] in ("true", "1"):
            return "watch"
        return "get"


def _write_temp(data: bytes, suffix: str, directory: str) -> str:
    fd, path = tempfile.mkstemp(suffix=suffix, dir=directory)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)
    return path


def _upstream_context(kubeconfig: str, workdir: str) -> tuple[str, ssl.SSLContext]:
    """(server URL, TLS context with the client certificate) of the kubeconfig's current context."""
    with open(kubeconfig) as f:
        config = yaml.safe_load(f)
    context_name = config["current-context"]
    context = next(c["context"] for c in config["contexts"] if c["name"] == context_name)
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
    user = next(u["user"] for u in config["users"] if u["name"] == context["user"])
    tls = ssl.create_default_context()
    if "certificate-authority-data" in cluster:
        tls.load_verify_locations(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
    elif "certificate-authority" in cluster:
        tls.load_verify_locations(cafile=cluster["certificate-authority"])
    if "client-certificate-data" in user:
        cert = _write_temp(base64.b64decode(user["client-certificate-data"]), ".crt", workdir)
        key = _write_temp(base64.b64decode(user["client-key-data"]), ".key", workdir)
        tls.load_cert_chain(cert, key)
    elif "client-certificate" in user:
        tls.load_cert_chain(user["client-certificate"], user["client-key"])
    return cluster["server"], tls


class CountingProxy:
    """Plain-HTTP reverse proxy to one API server that records every request it relays."""

    def __init__(self, upstream: str, tls: ssl.SSLContext, workdir: str):
        parsed = urllib.parse.urlsplit(upstream)
        self._host, self._port = parsed.hostname, parsed.port or 443
        self._tls = tls
        self._workdir = workdir
        self._lock = threading.Lock()
        self.requests: list[Request] = []
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="countingproxy", daemon=True)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.kubeconfig = self._write_kubeconfig()

    @classmethod
    def from_kubeconfig(cls, kubeconfig: str) -> "CountingProxy":
        workdir = tempfile.mkdtemp(prefix="countingproxy-")
        upstream, tls = _upstream_context(kubeconfig, workdir)
        return cls(upstream, tls, workdir)

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> "CountingProxy":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        for name in os.listdir(self._workdir):
            os.unlink(os.path.join(self._workdir, name))
        os.rmdir(self._workdir)

    def __enter__(self) -> "CountingProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- results -------------------------------------------------------------------
    def reset(self) -> None:
        with self._lock:
            self.requests.clear()

    def snapshot(self) -> list[Request]:
        with self._lock:
            return list(self.requests)

    def count(self) -> int:
        return len(self.snapshot())

    def by_verb(self) -> dict[str, int]:
        return dict(sorted(collections.Counter(r.verb for r in self.snapshot()).items()))

    def summary(self) -> dict:
        """JSON-friendly totals for reports."""
        requests = self.snapshot()
        return {"total": len(requests), "by_verb": self.by_verb(),
                "discovery": sum(1 for r in requests if r.verb == "get" and _is_discovery_path(r.path))}

    # -- internals -----------------------------------------------------------------
    def _write_kubeconfig(self) -> str:
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": "counting-proxy",
            "clusters": [{"name": "counting-proxy", "cluster": {"server": self.url}}],
            "users": [{"name": "counting-proxy", "user": {}}],
            "contexts": [{"name": "counting-proxy", "context": {"cluster": "counting-proxy",
                                                               "user": "counting-proxy"}}],
        }
        path = os.path.join(self._workdir, "kubeconfig")
        with open(path, "w") as f:
            json.dump(config, f)
        return path

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def _handler_class(self):
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            _upstream: http.client.HTTPSConnection | None = None

            def log_message(self, *args) -> None:  # quiet
                pass

            def _connection(self) -> http.client.HTTPSConnection:
                if self._upstream is None:
                    self._upstream = http.client.HTTPSConnection(proxy._host, proxy._port, context=proxy._tls,
                                                                 timeout=600)
                return self._upstream

            def _relay(self) -> None:
                if self.headers.get("Upgrade"):
                    self.send_error(501, "upgrades are not proxied")
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP | {"host"}}
                try:
                    upstream = self._connection()
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                except (OSError, http.client.HTTPException):
                    # A kept-alive upstream connection may have been closed; only reads are
                    # safe to resend (a resent create would turn into AlreadyExists).
                    self._upstream = None
                    if self.command not in ("GET", "HEAD"):
                        self.send_error(502, "upstream connection failed")
                        return
                    upstream = self._connection()
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                parsed = urllib.parse.urlsplit(self.path)
                proxy._record(Request(self.command, parsed.path, parsed.query,
                                      self.headers.get("User-Agent", ""), response.status))
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in _HOP_BY_HOP:
                        self.send_header(key, value)
                if self.command == "HEAD" or response.status in (204, 304):
                    response.read()
                    self.end_headers()
                    return
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    while True:
                        chunk = response.read1(65536)
                        if not chunk:
                            break
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        self.wfile.flush()
                    response.read()  # marks the response complete, so the connection can be reused
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True
                    upstream.close()
                    self._upstream = None

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _relay

        return Handler


def _is_discovery_path(path: str) -> bool:
    """/api, /apis, /api/v1, /apis/<group>/<version>: API discovery rather than object access."""
    parts = [p for p in path.split("/") if p]
    if not parts:
        return False
    if parts[0] == "api":
        return len(parts) <= 2
    if parts[0] == "apis":
        return len(parts) <= 3
    return False
