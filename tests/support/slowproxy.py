"""A TCP proxy that delays every chunk: a slow API server without touching the real one.

TLS passes through untouched (the proxy never decrypts), so the client still
verifies the API server's certificate; the server's certificate has a
127.0.0.1 SAN, so a kubeconfig whose server is `https://127.0.0.1:<proxy port>`
keeps the CA and verification on.

    with SlowProxy("127.0.0.1", 6443, delay=0.2) as proxy:
        kubeconfig = proxy.kubeconfig_copy(admin_kubeconfig, tmp_path / "slow")
"""

from __future__ import annotations

import os
import select
import socket
import threading
import time
from typing import Any


class SlowProxy:
    """Listens on 127.0.0.1:<free port>; each chunk read from either side waits `delay` seconds before it is sent."""

    def __init__(self, host: str, port: int, delay: float = 0.1, chunk: int = 16384) -> None:
        self.target = (host, port)
        self.delay = delay
        self.chunk = chunk
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.connections = 0

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def __enter__(self) -> "SlowProxy":
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self.listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            thread = threading.Thread(target=self._pipe, args=(client,), daemon=True)
            thread.start()

    def _pipe(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=10)
        except OSError:
            client.close()
            return
        peers = {client: upstream, upstream: client}
        try:
            while not self._stop.is_set():
                readable, _, _ = select.select(list(peers), [], [], 0.5)
                for sock in readable:
                    data = sock.recv(self.chunk)
                    if not data:
                        return
                    time.sleep(self.delay)
                    peers[sock].sendall(data)
        except OSError:
            return
        finally:
            client.close()
            upstream.close()

    def kubeconfig_copy(self, kubeconfig: str, path: str) -> str:
        """`kubeconfig` with every cluster's server pointed at this proxy (CA and credentials unchanged)."""
        import yaml

        with open(kubeconfig) as handle:
            config = yaml.safe_load(handle)
        for entry in config.get("clusters") or []:
            entry["cluster"]["server"] = self.url
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            yaml.safe_dump(config, handle)
        return path
