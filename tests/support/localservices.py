"""Which local process answers for a cluster Service: the registry the egress proxy reads.

Why: the test cluster's pods are simulated, so nothing serves a Service's ClusterIP.
kube-apiserver's webhook, aggregated-API and kubelet connections go through the
egress proxy (tests/support/egressproxy.py), which allows 127.0.0.0/8 only.  A
test-support process that plays a Service's backend (the real istiod of
tests/support/istiod.py answering ``istio-system/istiod:443``) registers its
loopback address here; the proxy then sends a CONNECT to that Service's
ClusterIP:port to the registered address instead of refusing it.

API (``state_dir`` is the cluster's state dir, ``Cluster.state_dir``)::

    register(state_dir, "istio-system", "istiod", 443, "127.0.0.1:15017")
    unregister(state_dir, "istio-system", "istiod", 443)
    with registered(state_dir, "istio-system", "istiod", 443, "127.0.0.1:15017"): ...
    entries(state_dir) -> {"istio-system/istiod:443": Entry(...)}

``port`` is the Service port the webhook (or APIService) names, not the
targetPort.  The proxy resolves the Service's ClusterIP from the API server at
each CONNECT, so a Service that is deleted and created again (new ClusterIP)
stays mapped.  An entry whose registering process (``pid``, default: the
caller) has exited is ignored, so a crashed test cannot leave a mapping to a
port some other program reuses.  The target must be a 127.0.0.0/8 address.

File: ``<state_dir>/local-services.json``, changed under an exclusive lock
(``local-services.json.lock``) and replaced atomically.  Standard library only:
the proxy runs with the system Python.
"""

from __future__ import annotations

import fcntl
import ipaddress
import json
import os
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

REGISTRY_FILE = "local-services.json"


@dataclass(frozen=True)
class Entry:
    """One Service port played by a local process."""

    namespace: str
    service: str
    port: int
    target: str  # "127.0.0.1:NNNN"
    pid: int

    @property
    def key(self) -> str:
        return service_key(self.namespace, self.service, self.port)

    def alive(self) -> bool:
        """True while the registering process runs (a dead one's port may be reused by anyone)."""
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def service_key(namespace: str, service: str, port: int) -> str:
    return f"{namespace}/{service}:{int(port)}"


def registry_path(state_dir: str) -> str:
    return os.path.join(state_dir, REGISTRY_FILE)


def check_target(target: str) -> str:
    """`host:port` on loopback, or ValueError: the proxy never maps off the machine."""
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"target {target!r} is not HOST:PORT")
    try:
        loopback = ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"target {target!r} is not a loopback address (127.0.0.0/8 or ::1)")
    return target


@contextmanager
def _locked(state_dir: str) -> Iterator[None]:
    with open(registry_path(state_dir) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _read(state_dir: str) -> dict[str, dict]:
    try:
        with open(registry_path(state_dir)) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(state_dir: str, data: dict[str, dict]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".local-services.", dir=state_dir)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, registry_path(state_dir))


def register(state_dir: str, namespace: str, service: str, port: int, target: str,
             pid: int | None = None) -> Entry:
    """Map `namespace/service:port` to `target`; replaces an earlier entry for the same key."""
    entry = Entry(namespace, service, int(port), check_target(target), pid or os.getpid())
    with _locked(state_dir):
        data = _read(state_dir)
        data[entry.key] = {"namespace": namespace, "service": service, "port": int(port), "target": target,
                           "pid": entry.pid, "registered": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        _write(state_dir, data)
    return entry


def unregister(state_dir: str, namespace: str, service: str, port: int) -> None:
    """Drop the mapping (no error if there is none, or the state dir is gone)."""
    if not os.path.isdir(state_dir):
        return
    with _locked(state_dir):
        data = _read(state_dir)
        if data.pop(service_key(namespace, service, port), None) is not None:
            _write(state_dir, data)


@contextmanager
def registered(state_dir: str, namespace: str, service: str, port: int, target: str) -> Iterator[Entry]:
    """register() for the duration of a block."""
    entry = register(state_dir, namespace, service, port, target)
    try:
        yield entry
    finally:
        unregister(state_dir, namespace, service, port)


def entries(state_dir: str, live_only: bool = True) -> dict[str, Entry]:
    """The registered mappings (by default only those whose process still runs)."""
    out = {}
    for key, raw in _read(state_dir).items():
        try:
            entry = Entry(raw["namespace"], raw["service"], int(raw["port"]), check_target(raw["target"]),
                          int(raw["pid"]))
        except (KeyError, TypeError, ValueError):
            continue
        if not live_only or entry.alive():
            out[key] = entry
    return out
