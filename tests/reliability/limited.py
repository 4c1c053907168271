"""Run ambientctl under an address-space limit: `python -m tests.reliability.limited MIB ARGS...`.

Hostile inputs (alias bombs, 50 MB files, 10k-level nesting) must fail with a
clear error, not by eating the machine: with RLIMIT_AS set, an unbounded
allocation becomes a MemoryError (which ambientctl would report as an internal
error, exit 1), so the exit code and the message prove the input was refused
on purpose.
"""

from __future__ import annotations

import atexit
import os
import resource
import sys


def main() -> None:
    limit = int(sys.argv[1]) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    report = os.environ.get("AMBIENTCTL_RSS_FILE")
    if report:  # the peak resident memory, for the test to bound and tests/RELIABILITY.md to quote
        atexit.register(lambda: open(report, "w").write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)))
    from ambientctl.cli import main as ambientctl_main

    sys.argv = ["ambientctl", *sys.argv[2:]]
    ambientctl_main()


if __name__ == "__main__":
    main()
