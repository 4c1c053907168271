"""`ambientctl manifest generate --set profile=ambient` against the import floor (goal: within 2.5x).

Rendering needs no cluster, so this measures start-up, template compilation and
YAML output only. Besides wall time (the goal), it reports the median CPU time
of both commands, which stays meaningful when the machine is busy.
Run: .venv/bin/python benchmarks/bench_manifest_generate.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import FLOOR_IMPORTS, PYTHON, ambientctl, import_floor, median_seconds, report  # noqa: E402

GOAL_RATIO = 2.5
COMMAND = ("manifest", "generate", "--set", "profile=ambient")


def median_cpu_seconds(argv: list[str], runs: int = 15) -> float:
    """Median user+system CPU time of a child process."""
    samples = []
    for _ in range(runs):
        before = os.times()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        after = os.times()
        samples.append((after.children_user - before.children_user) + (after.children_system - before.children_system))
    return statistics.median(samples)


def main() -> int:
    floor = import_floor()
    seconds = median_seconds(ambientctl(*COMMAND))
    cpu_floor = median_cpu_seconds([PYTHON, "-c", FLOOR_IMPORTS])
    cpu = median_cpu_seconds(ambientctl(*COMMAND))
    result = report("manifest_generate_ambient", seconds, floor, GOAL_RATIO, cpu_s=round(cpu, 4),
                    cpu_floor_s=round(cpu_floor, 4), cpu_ratio=round(cpu / cpu_floor, 2) if cpu_floor else None)
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
