"""`ambientctl pc all --file` on a 20 MB Envoy dump, against its JSON-parse floor and istioctl.

The dump is the sidecar-like proxy of tests/support/envoydump.py grown with
services (one cluster, one route virtual host with ten domains and one EDS
endpoint each) to about 20 MB; `pc all` then prints ~42,000 rows.

Floor: a Python process that loads the same JSON (the least any Python tool must
do before printing anything).  Goals: within 2x of the floor, and faster than the
reference istioctl's `pc all --file` on the same file (when it is built).  Runs of
the floor, ambientctl and istioctl are interleaved, so a busy machine slows them
alike; wall and CPU (user+sys) medians are both reported, and the goal is judged
on CPU time when the load average shows the machine was busy.

As in bench_pc_secret.py, ambientctl runs with a warm bytecode cache (as after
`pip install`).

    .venv/bin/python benchmarks/bench_pc_all_envoy.py [--runs 7] [--megabytes 20]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_pc_secret import interleaved_medians  # noqa: E402
from benchmarks.common import PYTHON, ambientctl, report  # noqa: E402

GOAL_RATIO = 2.0
FLOOR = "import json, sys\njson.load(open(sys.argv[1], 'rb'))\n"


def make_dump(path: Path, megabytes: float) -> None:
    from tests.support.envoydump import big_dump

    path.write_text(json.dumps(big_dump(int(megabytes * 1024 * 1024))))


def reference_istioctl() -> list[str] | None:
    """argv prefix of the reference istioctl with an isolated HOME, or None if it is not built."""
    from tests.support.reference import binary_path

    binary = binary_path("istioctl")
    return [str(binary)] if binary.exists() else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--megabytes", type=float, default=20)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        dump = Path(tmp) / "config_dump.json"
        make_dump(dump, args.megabytes)
        floor_script = Path(tmp) / "floor.py"
        floor_script.write_text(FLOOR)
        commands = {
            "floor": [PYTHON, str(floor_script), str(dump)],
            "ours": ambientctl("pc", "all", "--file", str(dump)),
        }
        istioctl = reference_istioctl()
        env = {**os.environ, "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pyc")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        if istioctl:
            from tests.parity.tools import isolated_home

            env["HOME"] = isolated_home()
            commands["istioctl"] = [*istioctl, "pc", "all", "--file", str(dump)]
        wall, cpu = interleaved_medians(commands, runs=args.runs, env=env, warmup=1)
        size = dump.stat().st_size
    busy = max(load_before, os.getloadavg()[0]) > (os.cpu_count() or 1)
    seconds, floor = (cpu["ours"], cpu["floor"]) if busy else (wall["ours"], wall["floor"])
    extra = {"dump_bytes": size, "judged_on": "cpu" if busy else "wall", "load_avg": round(load_before, 2),
             "wall_s": round(wall["ours"], 4), "wall_floor_s": round(wall["floor"], 4),
             "cpu_s": round(cpu["ours"], 4), "cpu_floor_s": round(cpu["floor"], 4)}
    faster = True
    if "istioctl" in wall:
        theirs = cpu["istioctl"] if busy else wall["istioctl"]
        faster = seconds < theirs
        extra.update(istioctl_wall_s=round(wall["istioctl"], 4), istioctl_cpu_s=round(cpu["istioctl"], 4),
                     faster_than_istioctl=faster)
    else:
        extra["istioctl"] = "not built (tests/reference/build.sh)"
    result = report("pc_all_envoy_20mb", seconds, floor, GOAL_RATIO, **extra)
    return 0 if result["met"] and faster else 1


if __name__ == "__main__":
    sys.exit(main())
