"""Stand-in for the admin/stats ports of simulated Istio pods (tests only, never shipped).

kwok forwards every simulated pod's port 15000 (ztunnel admin) and 15020 (merged
Prometheus stats) to fixed local ports (see ``tests/cluster`` / docs/testing.md); a
:class:`StandIn` listening there answers:

* ``GET /config_dump``       -> JSON set with :meth:`StandIn.set_config_dump`
* ``GET /stats/prometheus``  -> text set with :meth:`StandIn.set_stats`
* any path registered with :meth:`StandIn.set_route`
* anything else              -> 404

Content can be swapped at any time (thread-safe); requests are recorded in
``StandIn.requests`` as ``(method, path)``.

Manual use: ``python3 -m tests.support.standin --port 31500 --port 31520``.
"""

from __future__ import annotations

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Handler(BaseHTTPRequestHandler):
    server_version = "ambientctl-standin/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep pytest output clean
        pass

    def _serve(self, head_only=False):
        standin: StandIn = self.server.standin  # type: ignore[attr-defined]
        path = self.path.split("?", 1)[0]
        standin._record(self.command, self.path)
        route = standin._lookup(path)
        if route is None:
            status, ctype, body = 404, "text/plain; charset=utf-8", f"no stand-in route for {path}\n".encode()
        else:
            status, ctype, body = route
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head_only:
            self.wfile.write(body)

    def do_GET(self):  # noqa: N802
        self._serve()

    def do_HEAD(self):  # noqa: N802
        self._serve(head_only=True)

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self._serve()


class StandIn:
    """A threaded HTTP server on 127.0.0.1:<port> with swappable content."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1"):
        self._lock = threading.Lock()
        self._routes: dict[str, tuple[int, str, bytes]] = {}
        self.requests: list[tuple[str, str]] = []
        self._httpd = ThreadingHTTPServer((host, port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.standin = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None
        self.set_config_dump({"certificates": [], "workloads": [], "services": [], "policies": []})
        self.set_stats("")

    # -- lifecycle
    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "StandIn":
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever, name=f"standin-{self.port}",
                                            daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> "StandIn":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- content
    def set_route(self, path: str, body: str | bytes, content_type: str = "text/plain; charset=utf-8",
                  status: int = 200) -> None:
        if isinstance(body, str):
            body = body.encode()
        with self._lock:
            self._routes[path] = (status, content_type, body)

    def remove_route(self, path: str) -> None:
        with self._lock:
            self._routes.pop(path, None)

    def set_config_dump(self, dump: Any, status: int = 200) -> None:
        """``dump``: a dict (JSON-encoded here) or raw str/bytes (served verbatim)."""
        body = dump if isinstance(dump, (str, bytes)) else json.dumps(dump)
        self.set_route("/config_dump", body, "application/json", status)

    def set_stats(self, text: str, status: int = 200) -> None:
        self.set_route("/stats/prometheus", text, "text/plain; version=0.0.4; charset=utf-8", status)

    def reset(self) -> None:
        """Back to the initial content (empty dump, empty stats), clear request log and extra routes."""
        with self._lock:
            self._routes.clear()
            self.requests.clear()
        self.set_config_dump({"certificates": [], "workloads": [], "services": [], "policies": []})
        self.set_stats("")

    # -- internals
    def _lookup(self, path: str):
        with self._lock:
            return self._routes.get(path)

    def _record(self, method: str, path: str) -> None:
        with self._lock:
            self.requests.append((method, path))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, action="append", required=True)
    ap.add_argument("--config-dump", help="JSON file to serve at /config_dump")
    ap.add_argument("--stats", help="text file to serve at /stats/prometheus")
    args = ap.parse_args()
    servers = []
    for port in args.port:
        s = StandIn(port)
        if args.config_dump:
            with open(args.config_dump) as f:
                s.set_config_dump(f.read())
        if args.stats:
            with open(args.stats) as f:
                s.set_stats(f.read())
        servers.append(s.start())
        print(f"stand-in listening on {s.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        for s in servers:
            s.stop()


if __name__ == "__main__":
    main()
