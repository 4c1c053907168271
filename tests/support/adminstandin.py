"""Stand-ins for the `/logging` and `/config_dump` admin endpoints of Envoy and ztunnel, and for
istiod's `/debug/syncz` and `/debug/config_dump`, answering as the real servers do (methods,
status codes, body texts), so the CLI can be driven through its real request code.

`patch_portforward(monkeypatch, servers)` routes `kube.portforward.http_get/http_request` to
the stand-in registered for each (pod, port).
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field
from typing import Callable

ENVOY_LEVELS = ("trace", "debug", "info", "warning", "warn", "error", "critical", "off")
ZTUNNEL_LEVELS = ("trace", "debug", "info", "warn", "error", "off")


@dataclass
class Answer:
    status: int
    body: bytes


@dataclass
class EnvoyAdmin:
    """Envoy's admin: `/logging` (POST only), `/config_dump` (GET)."""

    dump: bytes = b'{"configs": []}'
    loggers: dict[str, str] = field(default_factory=lambda: {
        "admin": "warning", "connection": "warning", "http": "warning", "router": "warning", "upstream": "warning"})
    requests: list[tuple[str, str]] = field(default_factory=list)

    def listing(self) -> bytes:
        return ("active loggers:\n" + "".join(f"  {k}: {v}\n" for k, v in sorted(self.loggers.items()))).encode()

    def handle(self, method: str, path: str) -> Answer:
        self.requests.append((method, path))
        url = urllib.parse.urlsplit(path)
        if url.path == "/config_dump" and method == "GET":
            return Answer(200, self.dump)
        if url.path != "/logging":
            return Answer(404, b"invalid path. admin commands are:\n")
        if method != "POST":
            return Answer(405, b"This command requires POST\n")
        for name, value in urllib.parse.parse_qsl(url.query, keep_blank_values=True):
            level = "warning" if value == "warn" else value
            if level not in ENVOY_LEVELS:
                return Answer(404, b"error: unknown logger level\n")
            if name == "level":
                self.loggers = {k: level for k in self.loggers}
            elif name in self.loggers:
                self.loggers[name] = level
            else:
                return Answer(404, b"error: unknown logger name\n")
        return Answer(200, self.listing())


@dataclass
class ZtunnelAdmin:
    """ztunnel's admin: `/logging` (POST only; `level=` filter, `reset`), `/config_dump` (GET)."""

    dump: bytes = b'{"certificates": []}'
    default: str = "hickory_server::server=off,info"
    current: str = ""
    requests: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.current = self.current or self.default

    def handle(self, method: str, path: str) -> Answer:
        self.requests.append((method, path))
        url = urllib.parse.urlsplit(path)
        if url.path == "/config_dump" and method == "GET":
            return Answer(200, self.dump)
        if url.path != "/logging":
            return Answer(404, b"")
        if method != "POST":
            return Answer(405, b"Invalid HTTP method\n")
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        level, reset = query.get("level", ""), "reset" in query
        if level:
            for clause in level.split(","):
                target, eq, value = clause.rpartition("=")
                if (eq and (not target or value not in ZTUNNEL_LEVELS)) or (not eq and value not in ZTUNNEL_LEVELS):
                    return Answer(400, f"Invalid level provided: {level}\n".encode())
        if reset:
            self.current = f"{self.default},{level}" if level else self.default
        elif level:
            self.current = f"{self.current},{level}"
        return Answer(200, f"current log level is {self.current}\n".encode())


@dataclass
class IstiodDebug:
    """istiod's HTTP debug endpoints on 15014: `/debug/syncz`, `/debug/config_dump?proxyID=`."""

    syncz: bytes = b"[]"
    dumps: dict[str, bytes] = field(default_factory=dict)   # proxy ID -> istiod's config for it
    requests: list[tuple[str, str]] = field(default_factory=list)

    def handle(self, method: str, path: str) -> Answer:
        self.requests.append((method, path))
        url = urllib.parse.urlsplit(path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/debug/syncz":
            return Answer(200, self.syncz)
        if url.path == "/debug/config_dump":
            proxy = query.get("proxyID", "")
            if not proxy:
                return Answer(400, b"You must provide a proxyID in the query string\n")
            found = next((dump for pid, dump in self.dumps.items() if proxy in pid), None)
            if found is None:
                return Answer(404, b"Proxy not connected to this Pilot instance. It may be connected to another "
                                   b"instance.\n")
            return Answer(200, found)
        return Answer(404, b"")


Server = EnvoyAdmin | ZtunnelAdmin | IstiodDebug


def patch_portforward(monkeypatch, servers: dict[tuple[str, int], Server]) -> Callable[[], list]:
    """Route the port-forward HTTP calls to `servers[(pod, port)]`; returns a getter of every call made."""
    from ambientctl.kube import portforward

    calls: list[tuple[str, str, int, str, str]] = []

    def request(kube, pod, namespace, port, path, *, method="GET", timeout=None):
        calls.append((pod, namespace, port, method, path))
        server = servers.get((pod, port))
        if server is None:
            from ambientctl.errors import ApiServerError

            raise ApiServerError(f"port-forward to {namespace}/{pod}:{port} failed: connection refused",
                                 f"check that the pod listens on port {port}")
        answer = server.handle(method, path)
        if answer.status != 200:
            first = answer.body.decode().strip().splitlines()[:1]
            raise portforward.HttpAnswerError(
                f"{namespace}/{pod}:{port}{path} answered HTTP {answer.status}" + (f": {first[0]}" if first else ""),
                "check the pod's admin server", answer.status, answer.body)
        return answer.body

    def get(kube, pod, namespace, port, path, timeout=None):
        return request(kube, pod, namespace, port, path, method="GET", timeout=timeout)

    monkeypatch.setattr(portforward, "http_request", request)
    monkeypatch.setattr(portforward, "http_get", get)
    return lambda: calls
