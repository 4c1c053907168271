"""Long builds, run with a heartbeat: which component, how long so far, the log's last line.

Why: a cold `make demo` or `make test` builds Kubernetes, istiod and ztunnel from source
(tens of minutes on 2 cores).  Nobody should stare at a silent terminal for that long.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

HEARTBEAT_SECONDS = 30.0


def _last_line(path: Path) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            f.seek(max(0, f.tell() - 4096))
            lines = [x for x in f.read().decode(errors="replace").splitlines() if x.strip()]
        return lines[-1].strip()[:120] if lines else ""
    except OSError:
        return ""


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


def say_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run_with_heartbeat(component: str, argv: list[str], log_path: Path, *, timeout: float,
                       say: Callable[[str], None] = say_stderr, cwd: str | None = None,
                       every: float = HEARTBEAT_SECONDS, writes_own_log: bool = False,
                       announce: bool = True) -> subprocess.CompletedProcess:
    """Run ``argv`` with stderr appended to ``log_path``; say progress every ``every`` seconds.

    ``writes_own_log``: the command appends to ``log_path`` itself (its stderr is dropped here).
    ``announce=False``: say nothing unless it takes longer than ``every`` (a warm `tests/cluster up`).
    stdout is captured (build scripts print the built binary's path there)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    done = threading.Event()
    beats = []

    def heartbeat() -> None:
        while not done.wait(every):
            beats.append(1)
            minutes, seconds = divmod(int(time.monotonic() - started), 60)
            say(f"[build] {component}: {minutes}m{seconds:02d}s so far (log {log_path}): {_last_line(log_path)}")

    if announce:
        say(f"[build] {component}: starting (log {log_path})")
    thread = threading.Thread(target=heartbeat, daemon=True, name=f"heartbeat-{component}")
    thread.start()
    try:
        with open(os.devnull if writes_own_log else log_path, "ab") as log:
            result = subprocess.run(argv, stdout=subprocess.PIPE, stderr=log, timeout=timeout, cwd=cwd)
    finally:
        done.set()
        thread.join(timeout=1)
    took = time.monotonic() - started
    if announce or beats or result.returncode != 0:
        say(f"[build] {component}: {'done' if result.returncode == 0 else 'FAILED'} after {took:.0f}s")
    return subprocess.CompletedProcess(argv, result.returncode, result.stdout.decode(errors="replace"), "")
