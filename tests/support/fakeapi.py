"""A tiny recording HTTP server that answers like an API server with canned statuses.

Used by unit tests of the error paths (401/403/404/409/5xx) and of global-flag
plumbing, where what matters is which request the client sent and how the
answer is reported. Real API behaviour is tested against tests/cluster.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

import yaml

Responder = Callable[[str, str], "tuple[int, dict | str]"]


@dataclass
class FakeApiServer:
    responder: Responder
    requests: list[tuple[str, str]] = field(default_factory=list)
    headers: list[list[tuple[str, str]]] = field(default_factory=list)  # each request's headers, repeats kept

    def __post_init__(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                server.requests.append((self.command, self.path))
                server.headers.append(list(self.headers.items()))
                status, body = server.responder(self.command, self.path)
                data = (json.dumps(body) if isinstance(body, dict) else body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def status_body(code: int, reason: str, message: str, **details: object) -> dict:
    """A metav1.Status as the API server sends it."""
    return {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code, "reason": reason,
            "message": message, "details": details}


def write_kubeconfig(path: Path, clusters: dict[str, str], current: str | None = None,
                     namespaces: dict[str, str] | None = None) -> Path:
    """A kubeconfig with one context per (name -> server URL), token auth."""
    namespaces = namespaces or {}
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": n, "cluster": {"server": url}} for n, url in clusters.items()],
        "users": [{"name": "tester", "user": {"token": "sekrit-test-token-0123456789"}}],
        "contexts": [
            {"name": n, "context": {"cluster": n, "user": "tester", **({"namespace": namespaces[n]} if n in namespaces else {})}}
            for n in clusters
        ],
    }
    if current:
        config["current-context"] = current
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path
