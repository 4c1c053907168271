"""Network namespaces made by the test run, and relays that join them to this host's loopback.

Why: ztunnel binds its readiness port 15021 on every address, so two ztunnels on one
network namespace collide.  Each real ztunnel of the tests gets a namespace of its own
with only loopback up: no interface, no route, so nothing it sends can leave the machine.

The namespace and the host meet in this (test) process, not on a wire: a socket belongs
to the namespace of the thread that created it, so a thread that entered the namespace
(``setns``) creates the sockets on that side, and :class:`Relay` copies bytes between a
socket of one namespace and a socket of the other.  Both ends are 127.0.0.1 of their own
namespace.

Needs root (CAP_SYS_ADMIN) and util-linux's ``unshare``/``nsenter`` and iproute2's ``ip``.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from typing import Callable

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


class NetnsUnavailable(RuntimeError):
    """This machine (or user) cannot make network namespaces."""


def _run_in_namespace(ns_fd: int, fn: Callable[[], socket.socket]) -> socket.socket:
    """Call ``fn`` on a thread that entered the namespace (setns only moves the calling thread)."""
    result: list = []

    def body() -> None:
        try:
            if _libc.setns(ns_fd, CLONE_NEWNET) != 0:
                err = ctypes.get_errno()
                raise OSError(err, f"setns: {os.strerror(err)}")
            result.append(fn())
        except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
            result.append(exc)

    thread = threading.Thread(target=body, name="netns-socket", daemon=True)
    thread.start()
    thread.join()
    if isinstance(result[0], BaseException):
        raise result[0]
    return result[0]


class NetNamespace:
    """A fresh network namespace (loopback only), alive while its holder process runs."""

    def __init__(self) -> None:
        missing = [tool for tool in ("unshare", "nsenter", "ip") if shutil.which(tool) is None]
        if missing:
            raise NetnsUnavailable(f"{', '.join(missing)} not found (util-linux, iproute2)")
        if os.geteuid() != 0:
            raise NetnsUnavailable("making a network namespace needs root (CAP_SYS_ADMIN)")
        self.holder = subprocess.Popen(["unshare", "--net", "--", "sleep", "infinity"],
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE, start_new_session=True)
        self.path = f"/proc/{self.holder.pid}/ns/net"
        own = os.readlink("/proc/self/ns/net")
        deadline = time.monotonic() + 10
        while True:
            if self.holder.poll() is not None:
                raise NetnsUnavailable(f"unshare --net failed: {self.holder.stderr.read().decode().strip()}")
            try:
                if os.readlink(self.path) != own:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.close()
                raise NetnsUnavailable("unshare --net did not make a namespace within 10s")
            time.sleep(0.02)
        self.fd = os.open(self.path, os.O_RDONLY)
        up = subprocess.run(self.enter() + ["ip", "link", "set", "lo", "up"], capture_output=True, text=True)
        if up.returncode != 0:
            self.close()
            raise NetnsUnavailable(f"cannot bring up loopback in the namespace: {up.stderr.strip()}")

    def enter(self) -> list[str]:
        """argv prefix that runs a command inside this namespace (nsenter execs it: same pid)."""
        return ["nsenter", f"--net={self.path}", "--"]

    def socket(self) -> socket.socket:
        """A TCP socket that lives in this namespace."""
        return _run_in_namespace(self.fd, lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))

    def close(self) -> None:
        if getattr(self, "fd", None) is not None:
            os.close(self.fd)
            self.fd = None
        if self.holder.poll() is None:
            os.killpg(self.holder.pid, signal.SIGKILL)
        self.holder.wait(timeout=10)


def _listener(sock: socket.socket, port: int) -> socket.socket:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(64)
    sock.settimeout(0.5)
    return sock


class Relay:
    """Accepts on ``listener``; joins each connection to a new one to 127.0.0.1:``port`` made by ``new_socket``."""

    def __init__(self, listener: socket.socket, new_socket: Callable[[], socket.socket], port: int, name: str):
        self.listener = listener
        self.new_socket = new_socket
        self.port = port
        self.name = name
        self._stop = threading.Event()
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self._accept_loop, name=f"relay-{name}", daemon=True)
        self.thread.start()

    @property
    def listen_port(self) -> int:
        return self.listener.getsockname()[1]

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._join, args=(client,), name=f"relay-{self.name}-conn",
                             daemon=True).start()

    def _join(self, client: socket.socket) -> None:
        client.settimeout(None)
        try:
            upstream = self.new_socket()
            upstream.settimeout(5)
            upstream.connect(("127.0.0.1", self.port))
            upstream.settimeout(None)
        except OSError:
            client.close()  # the peer sees a reset, as if nothing listened
            return
        with self._lock:
            self._open.update((client, upstream))
        back = threading.Thread(target=self._pump, args=(upstream, client), daemon=True)
        back.start()
        self._pump(client, upstream)
        back.join()
        for s in (client, upstream):
            s.close()
        with self._lock:
            self._open.difference_update((client, upstream))

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        self._stop.set()
        self.listener.close()
        with self._lock:
            for s in list(self._open):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self.thread.join(timeout=2)


def host_to_namespace(ns: NetNamespace, inside_port: int, name: str) -> Relay:
    """Host 127.0.0.1:<free port> -> the namespace's 127.0.0.1:``inside_port`` (e.g. an admin port)."""
    listener = _listener(socket.socket(socket.AF_INET, socket.SOCK_STREAM), 0)
    return Relay(listener, ns.socket, inside_port, name)


def namespace_to_host(ns: NetNamespace, inside_port: int, host_port: int, name: str) -> Relay:
    """The namespace's 127.0.0.1:``inside_port`` -> host 127.0.0.1:``host_port`` (e.g. istiod)."""
    listener = _listener(ns.socket(), inside_port)
    return Relay(listener, lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM), host_port, name)
