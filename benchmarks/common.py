"""Shared timing helpers for the benchmarks: medians of repeated runs, and the import floor.

Each `bench_*.py` compares one ambientctl command with a floor (the least any
Python CLI built on the same libraries could cost) and prints one JSON line.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
FLOOR_IMPORTS = "import typer, rich, yaml, jinja2"


def median_seconds(argv: Sequence[str], runs: int = 15, warmup: int = 2, env: dict | None = None) -> float:
    """Median wall time of running `argv` (output discarded)."""
    run_env = {**os.environ, **(env or {})}
    samples = []
    for i in range(warmup + runs):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=run_env, check=False)
        if i >= warmup:
            samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def import_floor(runs: int = 15) -> float:
    """Median time for Python to start and import typer, rich, yaml and jinja2 alone."""
    return median_seconds([PYTHON, "-c", FLOOR_IMPORTS], runs=runs)


def ambientctl(*args: str) -> list[str]:
    """argv that runs this checkout's ambientctl as users do: the console script pip put beside
    the interpreter (`python -m ambientctl`, ~8 ms slower to start, when there is none)."""
    script = Path(PYTHON).with_name("ambientctl")
    return [str(script), *args] if script.exists() else [PYTHON, "-m", "ambientctl", *args]


def report(name: str, seconds: float, floor: float, goal_ratio: float, **extra: object) -> dict:
    """Print and return one result line: time, floor, ratio, goal, met?"""
    ratio = seconds / floor if floor else float("inf")
    result = {
        "benchmark": name,
        "median_s": round(seconds, 4),
        "floor_s": round(floor, 4),
        "ratio": round(ratio, 2),
        "goal_ratio": goal_ratio,
        "met": ratio <= goal_ratio,
        **extra,
    }
    print(json.dumps(result))
    return result
