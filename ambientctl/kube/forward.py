"""A long-lived local TCP listener whose connections reach a pod's port through the API server.

`kubectl port-forward` for ambientctl: each accepted local connection opens its
own port-forward stream (the websocket protocol of the official client carries
one connection per port and stream), and two sockets are pumped until either
side closes. Used by `dashboard`; `portforward.http_get` covers one-shot GETs.
"""

from __future__ import annotations

import ipaddress
import select
import socket
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from ambientctl.errors import InvalidInputError
from ambientctl.kube.portforward import open_forward

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient

_CHUNK = 65536
_POLL_SECONDS = 0.25


def listen_addresses(address: str) -> list[str]:
    """The IPs to bind: `localhost` means 127.0.0.1 and ::1 (as istioctl); anything else must be one IP."""
    if address == "localhost":
        return ["127.0.0.1", "::1"]
    try:
        return [str(ipaddress.ip_address(address))]
    except ValueError:
        raise InvalidInputError(f"--address {address!r} is not an IP address or localhost",
                                "use e.g. --address 127.0.0.1, --address 0.0.0.0 or --address localhost") from None


def _bind(ip: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((ip, port))
        sock.listen(16)
    except OSError:
        sock.close()
        raise
    return sock


def bind_listeners(address: str, ports: list[int]) -> list[socket.socket]:
    """Listening sockets on the first port of `ports` that binds (0 = any free port).

    With `localhost` one family may be missing (no IPv6): that is fine as long as
    one binds; the second family takes the port the first one got.
    """
    ips = listen_addresses(address)
    last_error: OSError | None = None
    for port in ports:
        listeners: list[socket.socket] = []
        for ip in ips:
            try:
                listeners.append(_bind(ip, listeners[0].getsockname()[1] if listeners else port))
            except OSError as exc:
                last_error = exc
        if listeners:
            return listeners
    tried = " or ".join(str(p) if p else "a free port" for p in ports)
    raise InvalidInputError(f"cannot listen on {address} port {tried}: {last_error.strerror if last_error else ''}",
                            "choose another --port, or stop what holds it")


@dataclass
class PortForwarder:
    """Local listener(s) → pod `remote_port`, one port-forward stream per accepted connection."""

    kube: KubeClient
    pod: str
    namespace: str
    remote_port: int
    listeners: list[socket.socket]
    on_error: Callable[[str], None] = lambda message: None
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _errors_seen: set[str] = field(default_factory=set)

    @property
    def port(self) -> int:
        return int(self.listeners[0].getsockname()[1])

    def check(self) -> None:
        """Open and close one stream, so a missing pod or a denied port-forward fails before we print a URL."""
        open_forward(self.kube, self.pod, self.namespace, self.remote_port).close()

    def serve(self) -> None:
        """Accept and forward until `stop()` (or Ctrl-C in the calling thread)."""
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select(self.listeners, [], [], _POLL_SECONDS)
                for listener in ready:
                    try:
                        conn, _ = listener.accept()
                    except OSError:
                        continue
                    thread = threading.Thread(target=self._handle, args=(conn,), daemon=True,
                                              name=f"forward {self.namespace}/{self.pod}:{self.remote_port}")
                    self._threads = [t for t in self._threads if t.is_alive()] + [thread]
                    thread.start()
        finally:
            self.close()

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
        for listener in self.listeners:
            listener.close()

    def _handle(self, conn: socket.socket) -> None:
        try:
            forward = open_forward(self.kube, self.pod, self.namespace, self.remote_port)
        except Exception as exc:  # noqa: BLE001 - reported once per distinct error; the listener stays up
            self._report(getattr(exc, "message", None) or str(exc))
            conn.close()
            return
        try:
            _pump(conn, forward.socket(self.remote_port), self._stop)
            error = forward.error(self.remote_port)
            if error:
                self._report(f"port-forward to {self.namespace}/{self.pod}:{self.remote_port}: {error.strip()}")
        finally:
            forward.close()
            conn.close()

    def _report(self, message: str) -> None:
        if message not in self._errors_seen:
            self._errors_seen.add(message)
            self.on_error(message)


def _pump(local: socket.socket, remote: Any, stop: threading.Event) -> None:
    """Copy bytes both ways until one side closes (or the forwarder stops)."""
    peers = {local.fileno(): remote, remote.fileno(): local}
    sockets = [local, remote]
    while not stop.is_set():
        try:
            ready, _, _ = select.select(sockets, [], [], _POLL_SECONDS)
        except (OSError, ValueError):
            return
        for sock in ready:
            try:
                data = sock.recv(_CHUNK)
            except OSError:
                return
            if not data:
                return
            try:
                peers[sock.fileno()].sendall(data)
            except OSError:
                return
