"""`ambientctl pc secret --file` on a 1,000-identity ztunnel dump, against its floor.

Floor: a Python process that loads the same JSON and parses each certificate
once with `cryptography` (the least any Python tool must do to show the
table). Goal: within 2x of it. Runs of the floor and of ambientctl are
interleaved, so a busy machine slows both alike; wall and CPU time are both
reported.

Both sides run with a warm bytecode cache in a temporary PYTHONPYCACHEPREFIX,
as after `pip install` (this machine sets PYTHONDONTWRITEBYTECODE=1, which
would recompile every ambientctl module on every run while the floor's
libraries keep their installed .pyc files). The cold-cache ratio is printed
for information.

    .venv/bin/python benchmarks/bench_pc_secret.py [--runs 15] [--identities 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import PYTHON, ROOT, ambientctl, report  # noqa: E402

GOAL_RATIO = 2.0

FLOOR = """
import base64, json, sys
from cryptography import x509
doc = json.load(open(sys.argv[1], "rb"))
for ident in doc["certificates"]:
    for cert in ident["certChain"] + ident["rootCerts"]:
        x509.load_pem_x509_certificate(base64.b64decode(cert["pem"]))
"""


def make_dump(path: Path, identities: int) -> None:
    from tests.support.dumpgen import generate_dump

    doc = generate_dump([(f"ns{i % 25}", f"sa{i}") for i in range(identities)])
    path.write_text(json.dumps(doc))


def interleaved_medians(commands: dict[str, list[str]], runs: int, env: dict[str, str],
                        warmup: int = 2) -> tuple[dict[str, float], dict[str, float]]:
    """Median wall time and median CPU time (user+sys) per command, runs interleaved."""
    wall: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for i in range(warmup + runs):
        for name, argv in commands.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT, env=env)
            elapsed = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if proc.returncode != 0:
                raise SystemExit(f"{name} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
            if i >= warmup:
                wall[name].append(elapsed)
                cpu[name].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return ({name: statistics.median(v) for name, v in wall.items()},
            {name: statistics.median(v) for name, v in cpu.items()})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--identities", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        dump = Path(tmp) / "config_dump.json"
        make_dump(dump, args.identities)
        floor_script = Path(tmp) / "floor.py"
        floor_script.write_text(FLOOR)
        commands = {
            "floor": [PYTHON, str(floor_script), str(dump)],
            "short": ambientctl("pc", "secret", "--file", str(dump)),
            "json": ambientctl("pc", "secret", "--file", str(dump), "-o", "json"),
        }
        warm = {**os.environ, "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pyc")}
        warm.pop("PYTHONDONTWRITEBYTECODE", None)
        medians, cpu = interleaved_medians(commands, runs=args.runs, env=warm)
        cold = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        cold_medians, _ = interleaved_medians({k: commands[k] for k in ("floor", "short")},
                                              runs=max(5, args.runs // 3), env=cold, warmup=1)
        size = dump.stat().st_size
    result = report("pc_secret_file_1000", medians["short"], medians["floor"], GOAL_RATIO,
                    identities=args.identities, dump_bytes=size, json_median_s=round(medians["json"], 4),
                    json_ratio=round(medians["json"] / medians["floor"], 2),
                    cpu_s=round(cpu["short"], 4), cpu_floor_s=round(cpu["floor"], 4),
                    cpu_ratio=round(cpu["short"] / cpu["floor"], 2),
                    cold_cache_ratio=round(cold_medians["short"] / cold_medians["floor"], 2))
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
