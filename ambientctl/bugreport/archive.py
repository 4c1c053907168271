"""The bug-report archive: files collected concurrently, redacted on entry, written as one tar.gz within a size bound.

Files carry a priority (lower first). When the total would pass `--max-size`,
the most expendable files (logs before dumps before cluster state) are cut
short or left out, and the summary says which; the summary itself is always in.
"""

from __future__ import annotations

import io
import tarfile
import threading
import time
from dataclasses import dataclass, field

from ambientctl.bugreport.redact import redact_text

ROOT = "bug-report"
TRUNCATED_MARK = "\n[truncated by ambientctl bug-report: --max-size reached]\n"

# Priorities: what a maintainer needs most goes in first when space runs out.
CLUSTER, CONTROL_PLANE, ANALYSIS, DATA_PLANE, EVENTS, LOGS = range(1, 7)


@dataclass
class Entry:
    path: str
    data: bytes
    priority: int


@dataclass
class Archive:
    """Thread-safe in-memory collection of redacted files; `seal()` stops late writers (after --timeout)."""

    max_bytes: int
    entries: dict[str, Entry] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _sealed: bool = False

    def add(self, path: str, content: str | bytes, priority: int) -> bool:
        """Store one file (redacted); False when the archive is already sealed."""
        text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
        data = redact_text(text).encode()
        with self._lock:
            if self._sealed:
                return False
            self.entries[path] = Entry(path, data, priority)
        return True

    def seal(self) -> None:
        with self._lock:
            self._sealed = True

    @property
    def sealed(self) -> bool:
        return self._sealed

    def put_final(self, path: str, content: str) -> None:
        """The summary: written after sealing, never cut (its size was reserved by `fit`)."""
        with self._lock:
            self.entries[path] = Entry(path, redact_text(content).encode(), 0)

    def fit(self, reserved: int) -> list[str]:
        """Cut or drop files until the rest fits in max_bytes - reserved; returns what was cut."""
        budget = max(0, self.max_bytes - reserved)
        cut: list[str] = []
        with self._lock:
            for entry in sorted(self.entries.values(), key=lambda e: (e.priority, e.path)):
                if len(entry.data) <= budget:
                    budget -= len(entry.data)
                    continue
                keep = budget - len(TRUNCATED_MARK)
                if keep > 0:
                    entry.data = entry.data[:keep] + TRUNCATED_MARK.encode()
                    cut.append(f"{entry.path} (cut to {keep} bytes)")
                    budget = 0
                else:
                    del self.entries[entry.path]
                    cut.append(f"{entry.path} (left out)")
        return cut

    def total(self) -> int:
        with self._lock:
            return sum(len(e.data) for e in self.entries.values())

    def write(self, path: str) -> int:
        """The tar.gz at `path` (files sorted, dated now, mode 0600 for the archive); returns its size."""
        import os

        now = time.time()
        with self._lock:
            entries = sorted(self.entries.values(), key=lambda e: e.path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            for entry in entries:
                info = tarfile.TarInfo(f"{ROOT}/{entry.path}")
                info.size, info.mtime, info.mode = len(entry.data), int(now), 0o644
                tar.addfile(info, io.BytesIO(entry.data))
        return os.path.getsize(path)
