"""Run every benchmark, ambientctl beside the reference istioctl, and write docs/performance.md's table.

    .venv/bin/python benchmarks/run.py [--runs N] [--no-write] [--skip-others]

What it measures, on this machine, in one run:
  * side by side with istioctl (Istio 1.31 built from the Go module by
    tests/reference/build.sh; built here if missing): `--help`, `version
    --client`, `manifest generate --set profile=ambient`, `waypoint generate`,
    and `pc secret --file` on a 1,000-identity ztunnel dump (istioctl reads
    ztunnel dumps with `zc certificate --file`; its `pc secret --file` takes
    Envoy dumps only);
  * each ambientctl command against its floor: the import floor
    (benchmarks/common.py:import_floor) and, for pc secret, the parse floor
    (load the JSON and parse each certificate once with `cryptography`);
  * install: time and API requests of both tools from the last
    tests/parity/test_install.py run (it installs both through a counting proxy);
  * the other engineers' bench_*.py scripts, run as they are, aggregated.
Results go to stdout as JSON lines, and into docs/performance.md between the
`<!-- results:begin -->` / `<!-- results:end -->` markers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from common import FLOOR_IMPORTS, PYTHON, ambientctl, median_seconds  # noqa: E402

DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
IDENTITIES = 1000
PY_ENV: dict = {}  # set in main(): the bytecode-cache environment every Python run gets

# (name, ambientctl args, istioctl args, goal ratio vs floor (None: no stated goal), floor name)
SIDE_BY_SIDE = [
    ("--help", ["--help"], ["--help"], 1.3, "import"),
    ("version --client", ["version", "--client"], ["version", "--remote=false"], None, "import"),
    ("manifest generate", ["manifest", "generate", "--set", "profile=ambient"],
     ["manifest", "generate", "--set", "profile=ambient"], 2.5, "import"),
    ("waypoint generate", ["waypoint", "generate", "-n", "bookinfo", "--for", "service"],
     ["waypoint", "generate", "-n", "bookinfo", "--for", "service"], 1.3, "import"),
]

PARSE_FLOOR = """
import base64, json, sys
from cryptography import x509
dump = json.load(open(sys.argv[1]))
for entry in dump["certificates"]:
    for cert in entry["certChain"] + entry["rootCerts"]:
        x509.load_pem_x509_certificate(base64.b64decode(cert["pem"]))
"""


def machine_facts() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cores": os.cpu_count(), "cpu": cpu,
            "python": platform.python_version(), "os": platform.platform(terse=True),
            "load_average": round(os.getloadavg()[0], 2)}


def reference_istioctl() -> Path | None:
    from tests.support.reference import ensure_built

    outcome = ensure_built()
    if isinstance(outcome, str):
        print(f"istioctl unavailable, istioctl columns left empty: {outcome}", file=sys.stderr)
        return None
    return outcome.istioctl


def istioctl_env() -> dict:
    from tests.parity.tools import isolated_home

    home = isolated_home()
    return {"HOME": home, "KUBECONFIG": str(Path(home, ".kube", "config"))}


def warm_bytecode_env() -> dict:
    """Python's bytecode cache on, in a private dir: as after `pip install` (which compiles .pyc).

    This machine sets PYTHONDONTWRITEBYTECODE=1; with it, every run of the editable ambientctl
    recompiles all its modules while the floor's libraries keep their installed .pyc files."""
    return {"PYTHONPYCACHEPREFIX": tempfile.mkdtemp(prefix="bench-pycache-"), "PYTHONDONTWRITEBYTECODE": ""}


def works(argv: list[str], env: dict | None = None) -> bool:
    result = subprocess.run(argv, capture_output=True, env={**os.environ, **(env or {})}, check=False)
    return result.returncode == 0


def timed(argv: list[str], runs: int, env: dict | None = None) -> float | None:
    """Median seconds, or None when the command fails (a broken command has no speed)."""
    env = {**PY_ENV, **(env or {})}
    if not works(argv, env):
        print(f"fails, not timed: {' '.join(map(str, argv))}", file=sys.stderr)
        return None
    return median_seconds([str(a) for a in argv], runs=runs, env=env)


def thousand_identity_dump() -> Path:
    """A ztunnel /config_dump with 1,000 identities (cached: generating certificates takes a while)."""
    from tests.support.reference import CACHE

    path = CACHE / f"ztunnel-dump-{IDENTITIES}.json"
    if not path.exists():
        from tests.support import dumpgen

        identities = [(f"ns-{i // 50}", f"sa-{i}") for i in range(IDENTITIES)]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(dumpgen.generate_dump(identities)))
    return path


def row(name: str, ours: float | None, theirs: float | None, floor: float | None, goal: float | None,
        floor_name: str, **extra) -> dict:
    ratio = round(ours / floor, 2) if ours and floor else None
    result = {"benchmark": name, "ambientctl_s": _round(ours), "istioctl_s": _round(theirs),
              "floor": floor_name, "floor_s": _round(floor), "ratio": ratio, "goal_ratio": goal,
              "met": (ratio is not None and goal is not None and ratio <= goal), **extra}
    print(json.dumps(result), flush=True)
    return result


def _round(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None


def side_by_side(istioctl: Path | None, runs: int) -> list[dict]:
    floor = timed([PYTHON, "-c", FLOOR_IMPORTS], runs)
    env = istioctl_env()
    results = []
    for name, ours_args, theirs_args, goal, floor_name in SIDE_BY_SIDE:
        ours = timed(ambientctl(*ours_args), runs)
        theirs = timed([istioctl, *theirs_args], runs, env) if istioctl else None
        results.append(row(name, ours, theirs, floor, goal, floor_name))
    return results


def pc_secret(istioctl: Path | None, runs: int) -> dict:
    dump = thousand_identity_dump()
    runs = max(5, runs // 2)
    ours = timed(ambientctl("pc", "secret", "--file", str(dump)), runs)
    theirs = timed([istioctl, "zc", "certificate", "--file", dump], runs, istioctl_env()) if istioctl else None
    floor = timed([PYTHON, "-c", PARSE_FLOOR, str(dump)], runs)
    result = row(f"pc secret --file ({IDENTITIES} identities)", ours, theirs, floor, 2.0, "parse",
                 faster_than_istioctl=bool(ours and theirs and ours < theirs))
    return result


def install_requests() -> dict | None:
    from tests.support.reference import INSTALL_REQUESTS

    if not INSTALL_REQUESTS.exists():
        print("no install measurement: run `.venv/bin/pytest tests/parity/test_install.py` first", file=sys.stderr)
        return None
    data = json.loads(INSTALL_REQUESTS.read_text())
    summary = {tool: {k: v for k, v in c.items() if k != "requests"} if isinstance(c, dict) else c
               for tool, c in data.items()}
    print(json.dumps({"benchmark": "install", **summary}), flush=True)
    return data


def other_benchmarks() -> list[dict]:
    """Run each benchmarks/bench_*.py as its author wrote it and keep its JSON result line."""
    results = []
    for script in sorted(HERE.glob("bench_*.py")):
        started = time.monotonic()
        proc = subprocess.run([PYTHON, str(script)], capture_output=True, text=True, cwd=ROOT, check=False)
        lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
        if not lines:
            lines = [{"benchmark": script.stem, "error": (proc.stderr.strip().splitlines() or ["no output"])[-1]}]
        for line in lines:
            line["script"] = script.name
            line["wall_s"] = round(time.monotonic() - started, 1)
            print(json.dumps(line), flush=True)
        results.extend(lines)
    return results


# ------------------------------------------------------------------------------------------ markdown


def _cell(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, float):
        return f"{value * 1000:.0f} ms" if value < 10 else f"{value:.1f} s"
    return str(value)


def render_markdown(facts: dict, rows: list[dict], install: dict | None, others: list[dict]) -> str:
    lines = [f"Measured {facts['date']} on {facts['cores']} cores ({facts['cpu']}), Python {facts['python']}, "
             f"{facts['os']}; 1-minute load average at start {facts['load_average']}. "
             "Medians of repeated runs (benchmarks/common.py), Python's bytecode cache warm as after "
             "`pip install` (this machine sets PYTHONDONTWRITEBYTECODE=1).", "",
             "| command | ambientctl | istioctl | floor | ambientctl / floor | goal | met |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        floor = f"{_cell(r['floor_s'])} ({r['floor']})"
        ratio = f"{r['ratio']}x" if r["ratio"] is not None else "—"
        goal = f"≤ {r['goal_ratio']}x" if r["goal_ratio"] is not None else "—"
        if "faster_than_istioctl" in r:
            goal += ", faster than istioctl"
        met = r["met"] and r.get("faster_than_istioctl", True)
        shown = _cell(bool(met)) if r["ratio"] is not None and r["goal_ratio"] is not None else "—"
        lines.append(f"| `{r['benchmark']}` | {_cell(r['ambientctl_s'])} | {_cell(r['istioctl_s'])} | {floor} | "
                     f"{ratio} | {goal} | {shown} |")
    lines.append("")
    if install:
        lines += ["Install on the test cluster (`install --set profile=ambient -y`, through the counting proxy, "
                  f"measured {install.get('measured', '?')}):", "",
                  "| tool | wall time | API requests | objects applied | requests per object | by verb | "
                  "discovery requests |", "|---|---|---|---|---|---|---|"]
        for tool in ("ambientctl", "istioctl"):
            c = install.get(tool) or {}
            verbs = ", ".join(f"{k} {v}" for k, v in (c.get("by_verb") or {}).items())
            applied = applied_objects(c.get("requests") or [])
            per = f"{c['total'] / applied:.1f}" if applied and c.get("total") else "—"
            lines.append(f"| {tool} | {c.get('seconds', '—')} s | {c.get('total', '—')} | {applied or '—'} | {per} | "
                         f"{verbs} | {c.get('discovery', '—')} |")
        ours, theirs = (install.get("ambientctl") or {}).get("total"), (install.get("istioctl") or {}).get("total")
        if ours is not None and theirs is not None:
            lines += ["", f"Goal (no more API requests than istioctl): {'met' if ours <= theirs else '**missed**'} "
                          f"({ours} vs {theirs})."]
        lines.append("")
    else:
        lines += ["Install: not measured in this run (run tests/parity/test_install.py first).", ""]
    if others:
        lines += ["Other engineers' benchmarks (benchmarks/bench_*.py, run unchanged):", "",
                  "| script | benchmark | median | floor | ratio | goal | met |", "|---|---|---|---|---|---|---|"]
        for o in others:
            if "error" in o:
                lines.append(f"| {o['script']} | {o['benchmark']} | failed: {o['error']} | | | | |")
                continue
            lines.append(f"| {o['script']} | {o.get('benchmark')} | {_cell(o.get('median_s'))} | "
                         f"{_cell(o.get('floor_s'))} | {o.get('ratio')}x | ≤ {o.get('goal_ratio')}x | "
                         f"{_cell(bool(o.get('met')))} |")
        lines.append("")
    return "\n".join(lines)


def applied_objects(requests: list[str]) -> int:
    """Server-side applies of install objects (ambientctl's own install-lock ConfigMap left out)."""
    return sum(1 for r in requests if r.startswith("PATCH ") and "fieldManager=" in r
               and "ambientctl-install-lock" not in r)


def write_doc(markdown: str) -> None:
    text = DOC.read_text() if DOC.exists() else f"# Performance\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text:
        text += f"\n{BEGIN}\n{END}\n"
    text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: f"{BEGIN}\n{markdown}\n{END}", text,
                  flags=re.S)
    DOC.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per command (median)")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/performance.md")
    parser.add_argument("--skip-others", action="store_true", help="skip benchmarks/bench_*.py")
    parser.add_argument("--skip-scale", action="store_true", help="skip benchmarks/scale.py (dumps of 1k-250k)")
    args = parser.parse_args(argv)
    PY_ENV.update(warm_bytecode_env())
    facts = machine_facts()
    print(json.dumps({"machine": facts}), flush=True)
    istioctl = reference_istioctl()
    rows = side_by_side(istioctl, args.runs)
    rows.append(pc_secret(istioctl, args.runs))
    install = install_requests()
    others = [] if args.skip_others else other_benchmarks()
    if not args.no_write:
        write_doc(render_markdown(facts, rows, install, others))
    if not args.skip_scale:
        import scale

        scale.run(istioctl, max(3, args.runs // 5), scale.SIZES, scale.NO_CEILING, PY_ENV,
                  istioctl_env() if istioctl else None, facts, write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
