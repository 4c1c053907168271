"""Which remote addresses the test cluster's processes hold sockets to (sampled from /proc).

Why: the egress proxy's log (tests/support/egressproxy.py) covers the connections
kube-apiserver makes to webhooks, aggregated APIs and kubelets.  Every other
connection (etcd, controller-manager, scheduler, kwok, the proxy's own dials,
kube-apiserver's other clients) is direct.  This watcher samples, every
``interval`` seconds, the TCP and connected UDP sockets each given process owns
(``/proc/<pid>/fd`` -> socket inode -> ``/proc/<pid>/net/{tcp,tcp6,udp,udp6}``)
and records the remote end of each; :meth:`SocketWatch.off_machine` lists those
outside 127.0.0.0/8.  A sample catches established connections and connects in
progress (SYN-SENT), not one that fails between two samples: the proxy log and
the API server's own log (no "failed calling webhook ... x509" line) cover those.

    with SocketWatch({"kwok": pid, ...}) as watch:
        ...
    assert watch.off_machine() == []
"""

from __future__ import annotations

import ipaddress
import os
import threading
from dataclasses import dataclass

TCP_STATES = {"01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1", "05": "FIN_WAIT2",
              "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0A": "LISTEN",
              "0B": "CLOSING"}


@dataclass(frozen=True)
class Peer:
    process: str
    proto: str
    remote: str  # "ip:port"
    state: str

    @property
    def ip(self) -> ipaddress._BaseAddress:
        return ipaddress.ip_address(self.remote.rsplit(":", 1)[0].strip("[]"))


def _hex_ip(text: str) -> ipaddress._BaseAddress:
    """/proc/net/tcp's address: 4-byte groups in host (little-endian) order."""
    raw = bytes.fromhex(text)
    raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    ip = ipaddress.ip_address(raw)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        return ip.ipv4_mapped
    return ip


def _socket_inodes(pid: int) -> set[str]:
    out = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                out.add(target[8:-1])
    except OSError:
        pass
    return out


def peers(process: str, pid: int) -> set[Peer]:
    """Remote ends of the process's TCP sockets (not listening) and connected UDP sockets."""
    inodes = _socket_inodes(pid)
    found = set()
    for proto in ("tcp", "tcp6", "udp", "udp6"):
        try:
            with open(f"/proc/{pid}/net/{proto}") as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10 or fields[9] not in inodes:
                continue
            remote_hex, port_hex = fields[2].split(":")
            state = TCP_STATES.get(fields[3], fields[3]) if proto.startswith("tcp") else "UDP"
            remote_port = int(port_hex, 16)
            if state == "LISTEN" or remote_port == 0:
                continue
            ip = _hex_ip(remote_hex)
            remote = f"[{ip}]:{remote_port}" if ip.version == 6 else f"{ip}:{remote_port}"
            found.add(Peer(process, proto, remote, state))
    return found


class SocketWatch:
    """Samples the peers of named processes on a background thread until stopped."""

    def __init__(self, pids: dict[str, int], interval: float = 0.1):
        self.pids = dict(pids)
        self.interval = interval
        self.seen: set[Peer] = set()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="socket-watch", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        for name, pid in self.pids.items():
            self.seen |= peers(name, pid)
        self.samples += 1

    def __enter__(self) -> "SocketWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sample()

    def off_machine(self) -> list[Peer]:
        """Every sampled peer outside loopback, sorted."""
        return sorted((p for p in self.seen if not p.ip.is_loopback), key=lambda p: (p.process, p.remote))
