"""Stand-ins for the `/logging`, `/config_dump`, `/stats` and `/clusters` admin endpoints of Envoy and
ztunnel, the agent's and ztunnel's metrics (15020), istiod's `/debug/...` endpoints and its ControlZ
`/scopej/` API, answering as the real servers do (methods, status codes, body texts), so the CLI can
be driven through its real request code.

`patch_portforward(monkeypatch, servers)` routes `kube.portforward.http_get/http_request` to
the stand-in registered for each (pod, port).
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass, field
from typing import Callable

ENVOY_LEVELS = ("trace", "debug", "info", "warning", "warn", "error", "critical", "off")
ZTUNNEL_LEVELS = ("trace", "debug", "info", "warn", "error", "off")


@dataclass
class Answer:
    status: int
    body: bytes


ENVOY_STATS = {"cluster_manager.active_clusters": 12, "server.live": 1, "server.uptime": 3600,
               "listener_manager.total_listeners_active": 4}
ENVOY_CLUSTERS = [("outbound|9080||reviews.default.svc.cluster.local", "10.244.0.7:9080")]


@dataclass
class EnvoyAdmin:
    """Envoy's admin: `/logging` (POST only), `/config_dump`, `/stats[?format=json]`, `/stats/prometheus`,
    `/clusters[?format=json]` (GET)."""

    dump: bytes = b'{"configs": []}'
    stats: dict[str, int] = field(default_factory=lambda: dict(ENVOY_STATS))
    clusters: list[tuple[str, str]] = field(default_factory=lambda: list(ENVOY_CLUSTERS))
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
        if url.path in ("/stats", "/stats/prometheus", "/clusters") and method == "GET":
            return self._stats(url)
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

    def _stats(self, url: urllib.parse.SplitResult) -> Answer:
        """Envoy's shapes: `name: value` lines; {"stats": [...]}; Prometheus text; `/clusters` lines or JSON."""
        query = dict(urllib.parse.parse_qsl(url.query))
        as_json = query.get("format") == "json"
        if url.path == "/clusters":
            if as_json:
                statuses = [{"name": name, "host_statuses": [{"address": {"socket_address": {
                    "address": host.split(":")[0], "port_value": int(host.split(":")[1])}},
                    "stats": [{"name": "cx_active", "type": "GAUGE"}]}]} for name, host in self.clusters]
                return Answer(200, json.dumps({"cluster_statuses": statuses}).encode())
            return Answer(200, "".join(f"{name}::{host}::cx_active::0\n" for name, host in self.clusters).encode())
        if url.path == "/stats/prometheus":
            lines = []
            for name, value in sorted(self.stats.items()):
                metric = "envoy_" + name.replace(".", "_")
                lines += [f"# TYPE {metric} gauge\n", f"{metric}{{}} {value}\n"]
            return Answer(200, "".join(lines).encode())
        if as_json:
            return Answer(200, json.dumps({"stats": [{"name": k, "value": v} for k, v in sorted(self.stats.items())]})
                          .encode())
        return Answer(200, "".join(f"{k}: {v}\n" for k, v in sorted(self.stats.items())).encode())


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
    """istiod's HTTP debug endpoints on 15014: `/debug/syncz`, `/debug/config_dump?proxyID=`, `/debug/clusterz`,
    `/debug/list` and any other `/debug/NAME` in `endpoints`."""

    syncz: bytes = b"[]"
    dumps: dict[str, bytes] = field(default_factory=dict)   # proxy ID -> istiod's config for it
    clusterz: bytes = b'[{"id":"Kubernetes","secretName":"","syncStatus":"synced"}]\n'
    endpoints: dict[str, bytes] = field(default_factory=lambda: {   # other /debug/NAME answers
        "configz": b'[{"kind":"AuthorizationPolicy","name":"deny","namespace":"default"}]\n',
        "registryz": b"[]\n"})
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
        if url.path == "/debug/clusterz":
            return Answer(200, self.clusterz)
        if url.path == "/debug/list":
            names = sorted(["syncz", "config_dump", "clusterz", *self.endpoints])
            return Answer(200, (json.dumps(names) + "\n").encode())
        name = url.path.removeprefix("/debug/")
        if url.path.startswith("/debug/") and name in self.endpoints:
            return Answer(200, self.endpoints[name])
        return Answer(404, b"404 page not found\n")


@dataclass
class MetricsServer:
    """A Prometheus endpoint: the agent's merged metrics (15020 `/stats/prometheus`), ztunnel's (15020 `/metrics`)."""

    path: str = "/stats/prometheus"
    text: str = "# TYPE istio_agent_uptime gauge\nistio_agent_uptime 42\n"
    requests: list[tuple[str, str]] = field(default_factory=list)

    def handle(self, method: str, path: str) -> Answer:
        self.requests.append((method, path))
        if method == "GET" and urllib.parse.urlsplit(path).path == self.path:
            return Answer(200, self.text.encode())
        return Answer(404, b"404 page not found\n")


ZTUNNEL_METRICS = ("# HELP istio_xds_connection_terminations The total number of completed connections to xds server.\n"
                   "# TYPE istio_xds_connection_terminations counter\n"
                   'istio_xds_connection_terminations_total{reason="Reconnect"} 2\n'
                   "# HELP workload_manager_active_proxy_count The total number current workloads with active proxies.\n"
                   "# TYPE workload_manager_active_proxy_count gauge\n"
                   "workload_manager_active_proxy_count 3\n"
                   "# EOF\n")


CONTROLZ_LEVELS = ("debug", "info", "warn", "error", "none")
ISTIOD_SCOPES = {"ads": "ads debugging", "authorization": "Istio Authorization Policy",
                 "default": "Unscoped logging messages.", "klog": "", "xdsproxy": "XDS Proxy in Istio Agent"}


@dataclass
class ControlZ:
    """istiod's ControlZ on 9876: `GET /scopej/` (every scope, sorted), `GET|PUT /scopej/NAME` (PUT answers 202;
    an unknown scope is 400 `unknown scope name: NAME`; a PUT sets only the levels it names, and log_callers
    to what it says, false when absent)."""

    scopes: dict[str, dict] = field(default_factory=lambda: {
        name: {"name": name, "description": text, "output_level": "info", "stack_trace_level": "none",
               "log_callers": False} for name, text in ISTIOD_SCOPES.items()})
    requests: list[tuple[str, str, bytes]] = field(default_factory=list)

    def handle(self, method: str, path: str, body: bytes = b"") -> Answer:
        self.requests.append((method, path, body))
        url = urllib.parse.urlsplit(path)
        if url.path in ("/scopej", "/scopej/"):
            if method != "GET":
                return Answer(405, b"")
            return Answer(200, (json.dumps([self.scopes[k] for k in sorted(self.scopes)]) + "\n").encode())
        if not url.path.startswith("/scopej/"):
            return Answer(404, b"404 page not found\n")
        name = url.path.removeprefix("/scopej/")
        if method == "GET":
            if name not in self.scopes:
                return Answer(400, f"unknown scope name: {name}".encode())
            return Answer(200, (json.dumps(self.scopes[name]) + "\n").encode())
        if method != "PUT":
            return Answer(405, b"")
        try:
            info = json.loads(body)
        except ValueError as exc:
            return Answer(400, f"unable to decode request: {exc}".encode())
        if name not in self.scopes:
            return Answer(400, f"unknown scope name: {name}".encode())
        scope = self.scopes[name]
        for key in ("output_level", "stack_trace_level"):
            if info.get(key) in CONTROLZ_LEVELS:
                scope[key] = info[key]
        scope["log_callers"] = bool(info.get("log_callers", False))
        return Answer(202, b"")


Server = EnvoyAdmin | ZtunnelAdmin | IstiodDebug | MetricsServer | ControlZ


def patch_portforward(monkeypatch, servers: dict[tuple[str, int], Server]) -> Callable[[], list]:
    """Route the port-forward HTTP calls to `servers[(pod, port)]`; returns a getter of every call made."""
    from ambientctl.kube import portforward

    calls: list[tuple[str, str, int, str, str]] = []

    def request(kube, pod, namespace, port, path, *, method="GET", timeout=None, body=b"", ok=(200,)):
        calls.append((pod, namespace, port, method, path))
        server = servers.get((pod, port))
        if server is None:
            from ambientctl.errors import ApiServerError

            raise ApiServerError(f"port-forward to {namespace}/{pod}:{port} failed: connection refused",
                                 f"check that the pod listens on port {port}")
        answer = server.handle(method, path, body) if isinstance(server, ControlZ) else server.handle(method, path)
        if answer.status not in ok:
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
