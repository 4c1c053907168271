"""The install lock: a ConfigMap that keeps two installs from interleaving, renewed while held, taken over when stale."""

from __future__ import annotations

import contextlib
import datetime as _dt
import getpass
import os
import re
import socket
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from ambientctl.errors import AmbientctlError, ConflictError, NotFoundError

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient

DEFAULT_LOCK_TIMEOUT = 30.0
LOCK_NAME = "ambientctl-install-lock"
LOCK_LABEL = "ambientctl.dev/lock"
# A lock not renewed for the readiness timeout plus this margin belongs to a
# run that died (the holder renews it before every component's wait).
LOCK_STALE_MARGIN = 120.0
# ...but only when it last did so this long ago: a component's apply (CRDs
# included) takes far less than the rest of the margin, so the lock never
# looks stale, and a quick install sends no renewals at all (issue 7: API requests).
LOCK_RENEW_AFTER = LOCK_STALE_MARGIN / 4


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def format_time(moment: _dt.datetime) -> str:
    return moment.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str | None) -> _dt.datetime | None:
    if not text:
        return None
    try:
        return _dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=_dt.timezone.utc)
    except ValueError:
        return None


@dataclass
class LockState:
    """Who holds the install lock and when they last showed signs of life."""

    holder: str
    acquired_at: _dt.datetime | None
    renewed_at: _dt.datetime | None
    uid: str = ""

    @classmethod
    def from_configmap(cls, configmap: dict[str, Any]) -> LockState:
        data = configmap.get("data") or {}
        meta = configmap.get("metadata") or {}
        created = parse_time(meta.get("creationTimestamp"))
        acquired = parse_time(data.get("acquiredAt")) or created
        return cls(
            holder=data.get("holder") or "unknown",
            acquired_at=acquired,
            renewed_at=parse_time(data.get("renewedAt")) or acquired,
            uid=meta.get("uid", ""),
        )

    def idle_seconds(self, now: _dt.datetime) -> float:
        last = self.renewed_at or self.acquired_at
        return float("inf") if last is None else max(0.0, (now - last).total_seconds())

    def age_seconds(self, now: _dt.datetime) -> float:
        return float("inf") if self.acquired_at is None else max(0.0, (now - self.acquired_at).total_seconds())


def lock_is_stale(state: LockState, now: _dt.datetime, stale_after: float) -> bool:
    """A lock whose holder has not renewed it for `stale_after` seconds is abandoned."""
    return state.idle_seconds(now) > stale_after


def lock_holder_identity() -> str:
    """`user@host pid N`: enough for a person to find the other install."""
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry in some containers
        user = "unknown"
    return f"{user}@{socket.gethostname()} pid {os.getpid()}"


def holder_is_dead_local_process(holder: str) -> bool:
    """True when the lock was taken on this host by a process that no longer exists (killed, API server hung)."""
    match = re.fullmatch(r"[^@]*@(?P<host>\S+) pid (?P<pid>\d+)", holder or "")
    if not match or match["host"] != socket.gethostname() or int(match["pid"]) == os.getpid():
        return False
    try:
        os.kill(int(match["pid"]), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # exists, owned by another user
    return False


class InstallLock:
    """A ConfigMap created with `create` (never apply): AlreadyExists means another install holds it."""

    def __init__(
        self,
        kube: KubeClient,
        namespace: str,
        *,
        stale_after: float,
        wait: float,
        on_wait: Callable[[str], None] | None = None,
        holder: str | None = None,
        poll: float = 2.0,
    ) -> None:
        self.kube = kube
        self.namespace = namespace
        self.stale_after = stale_after
        self.wait = wait
        self.on_wait = on_wait
        self.holder = holder or lock_holder_identity()
        self.poll = poll
        self.uid: str | None = None
        self.renewed = 0.0  # time.monotonic() of our last write to the lock

    def _body(self) -> dict[str, Any]:
        stamp = format_time(_now())
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": LOCK_NAME, "namespace": self.namespace, "labels": {LOCK_LABEL: "install"}},
            "data": {"holder": self.holder, "acquiredAt": stamp, "renewedAt": stamp},
        }

    def acquire(self) -> None:
        deadline = time.monotonic() + self.wait
        announced = False
        while True:
            try:
                created = self.kube.create(self._body())
                self.uid = created.get("metadata", {}).get("uid")
                self.renewed = time.monotonic()
                return
            except ConflictError:
                pass
            live = self.kube.get_or_none("v1", "ConfigMap", LOCK_NAME, self.namespace)
            if live is None:
                continue  # released between our create and get
            state = LockState.from_configmap(live)
            now = _now()
            if lock_is_stale(state, now, self.stale_after) or holder_is_dead_local_process(state.holder):
                if self.on_wait:
                    self.on_wait(f"taking over a stale install lock held by {state.holder} "
                                 f"(idle for {state.idle_seconds(now):.0f}s, or that process has exited)")
                self.kube.delete("v1", "ConfigMap", LOCK_NAME, self.namespace, uid=state.uid)
                continue
            if time.monotonic() >= deadline:
                raise ConflictError(
                    f"another install is running: {state.holder} holds the lock configmap "
                    f"{self.namespace}/{LOCK_NAME} since {state.age_seconds(now):.0f}s ago",
                    "wait for it to finish and re-run; if that run died, delete the ConfigMap or wait until "
                    f"it is {self.stale_after:.0f}s idle (it is then taken over), or raise --lock-timeout",
                )
            if not announced and self.on_wait:
                self.on_wait(f"waiting for the install lock held by {state.holder} "
                             f"(started {state.age_seconds(now):.0f}s ago)")
                announced = True
            time.sleep(min(self.poll, max(0.05, deadline - time.monotonic())))

    def renew(self) -> None:
        """Show we are alive, so no other install takes the lock over."""
        if self.uid is None:
            return
        with contextlib.suppress(NotFoundError):
            self.kube.merge_patch("v1", "ConfigMap", LOCK_NAME, self.namespace,
                                  {"data": {"renewedAt": format_time(_now())}})
        self.renewed = time.monotonic()

    def keep_alive(self) -> None:
        """Renew only when the last renewal is LOCK_RENEW_AFTER old: alive to others, without a write per step."""
        if time.monotonic() - self.renewed >= LOCK_RENEW_AFTER:
            self.renew()

    def release(self) -> None:
        if self.uid is None:
            return
        with contextlib.suppress(AmbientctlError):
            self.kube.delete("v1", "ConfigMap", LOCK_NAME, self.namespace, uid=self.uid)
        self.uid = None
