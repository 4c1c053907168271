"""`ambientctl waypoint generate` against the import floor: it needs no cluster, so it must start fast.

Goal: within 1.3x of the time Python takes to import typer, rich, yaml and
jinja2 alone (benchmarks/common.py's floor).

Both sides run with a warm bytecode cache in a temporary PYTHONPYCACHEPREFIX,
as after `pip install` (this machine sets PYTHONDONTWRITEBYTECODE=1, which
would make every ambientctl module compile from source on every run while the
floor's libraries keep their installed .pyc files). The floor and the command
alternate run by run so background load hits both alike. The cold-cache ratio
is printed too, for information.

Run: .venv/bin/python benchmarks/bench_waypoint_generate.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import FLOOR_IMPORTS, PYTHON, ambientctl, report  # noqa: E402

GOAL_RATIO = 1.3
ARGS = ("waypoint", "generate", "-n", "bookinfo", "--service-account", "bookinfo-productpage", "--for", "service")


def check_output(env: dict[str, str]) -> None:
    """The benchmarked command must really work, and must not reach for `kubernetes`."""
    code = ("import sys, runpy; sys.argv = ['ambientctl', *sys.argv[1:]]\n"
            "try:\n    runpy.run_module('ambientctl', run_name='__main__')\n"
            "except SystemExit as e:\n    assert not e.code, e.code\n"
            "assert 'kubernetes' not in sys.modules, 'generate imported kubernetes'\n")
    result = subprocess.run([PYTHON, "-c", code, *ARGS], capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0 or "kind: Gateway" not in result.stdout:
        raise SystemExit(f"waypoint generate failed: {result.stderr.strip()}")


def _once(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
    return time.perf_counter() - start


def interleaved_medians(runs: int, env: dict[str, str], warmup: int = 2) -> tuple[float, float]:
    """Median seconds of (floor, command), alternating the two."""
    floor_argv, command_argv = [PYTHON, "-c", FLOOR_IMPORTS], ambientctl(*ARGS)
    floors, commands = [], []
    for i in range(warmup + runs):
        f, c = _once(floor_argv, env), _once(command_argv, env)
        if i >= warmup:
            floors.append(f)
            commands.append(c)
    return statistics.median(floors), statistics.median(commands)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory(prefix="ambientctl-pyc-") as cache:
        warm = {**os.environ, "PYTHONPYCACHEPREFIX": cache}
        warm.pop("PYTHONDONTWRITEBYTECODE", None)
        check_output(warm)
        floor, seconds = interleaved_medians(runs, warm)
    cold = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    cold_floor, cold_seconds = interleaved_medians(max(5, runs // 3), cold, warmup=1)
    result = report("waypoint_generate", seconds, floor, GOAL_RATIO,
                    cold_cache_ratio=round(cold_seconds / cold_floor, 2))
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
