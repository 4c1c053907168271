"""ztunnel dumps of 1k to 100k workloads: ambientctl beside istioctl, time and peak memory, and a plot.

    .venv/bin/python benchmarks/scale.py [--runs 3] [--sizes 1000,10000,50000,100000] [--no-ceiling 250000]
                                         [--no-write]

For each size, a dump made by tests/support/dumpgen.py:write_scale_dump (shaped
like a real ztunnel's: serde's sorted keys and pretty printing; services,
policies and one node's certificates in proportion; cached in
~/.cache/ambientctl/bench), each command of COMMANDS is run by both tools,
interleaved with the JSON-parse floor (`python -c 'import json; json.load(...)'`)
so a busy machine slows all three alike. Per run: wall time and the child's own
peak RSS (os.wait4). Reported: medians, ratios, and ambientctl's peak RSS over
the dump's size. The no-ceiling size is run once, ambientctl only (plus the floor).

Writes docs/performance.md between `<!-- scale:begin -->` and `<!-- scale:end -->`
and the plot docs/scale.png (matplotlib: the `bench` extra).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from common import PYTHON, ambientctl  # noqa: E402

DOC = ROOT / "docs" / "performance.md"
PLOT = ROOT / "docs" / "scale.png"
BEGIN, END = "<!-- scale:begin -->", "<!-- scale:end -->"
SIZES = [1000, 10000, 50000, 100000]
NO_CEILING = 250000
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ambientctl" / "bench"
FLOOR = "import json, sys; json.load(open(sys.argv[1]))"

# (name, ambientctl args, istioctl args); each gets `--file DUMP` appended.
COMMANDS = [
    ("zc workload", ["zc", "workload"], ["zc", "workload"]),
    ("zc workload -o json", ["zc", "workload", "-o", "json"], ["zc", "workload", "-o", "json"]),
    ("zc workload --workload-namespace", ["zc", "workload", "--workload-namespace", "ns-0001"],
     ["zc", "workload", "--workload-namespace", "ns-0001"]),
    ("zc service", ["zc", "service"], ["zc", "service"]),
    ("zc policy", ["zc", "policy"], ["zc", "policy"]),
    ("zc certificate", ["zc", "certificate"], ["zc", "certificate"]),
    ("zc all", ["zc", "all"], ["zc", "all"]),
    ("zc workload -o yaml", ["zc", "workload", "-o", "yaml"], ["zc", "workload", "-o", "yaml"]),
    # istioctl's pc secret does not read ztunnel dumps; zc certificate is its command for them
    ("pc secret", ["pc", "secret"], ["zc", "certificate"]),
]
GOAL_FLOOR_RATIO = 2.0   # zc workload --file at 100k: within 2x of the JSON-parse floor
GOAL_RSS_RATIO = 3.0     # peak RSS within 3x the dump's size


def dump_for(workloads: int) -> Path:
    """The cached dump of a mesh of `workloads` pods (generated once: ~25 s per 100k)."""
    path = CACHE / f"ztunnel-scale-{workloads}.json"
    if not path.exists():
        from tests.support.dumpgen import write_scale_dump

        CACHE.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        partial = path.with_suffix(".partial")
        write_scale_dump(str(partial), workloads)
        partial.rename(path)
        print(f"generated {path} in {time.monotonic() - started:.1f}s", file=sys.stderr, flush=True)
    return path


RUN_TIMEOUT = 180.0  # seconds: a run still going then is stopped and reported as "> 180 s"
TIMED_OUT = -1000


def run_once(argv: list[str], env: dict | None = None, timeout: float | None = None) -> tuple[float, float, int, float]:
    """(wall seconds, peak RSS MiB of this child alone, exit code or TIMED_OUT, CPU seconds), output discarded."""
    import threading

    timeout = timeout or RUN_TIMEOUT
    started = time.perf_counter()
    proc = subprocess.Popen([str(a) for a in argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, **(env or {})})
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    _, status, usage = os.wait4(proc.pid, 0)
    timer.cancel()
    elapsed = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    return (elapsed, usage.ru_maxrss / 1024, TIMED_OUT if elapsed >= timeout and code < 0 else code,
            usage.ru_utime + usage.ru_stime)


def measure(runs: int, tools: dict[str, tuple[list[str], dict | None]], warmup: int = 0) -> dict[str, dict]:
    """Interleaved runs of each tool; per tool the median time, the max peak RSS, and whether it failed."""
    samples: dict[str, list[tuple[float, float, int]]] = {name: [] for name in tools}
    for _ in range(warmup):  # bytecode caches, the page cache
        for argv, env in tools.values():
            run_once(argv, env)
    for _ in range(runs):
        for name, (argv, env) in tools.items():
            if any(r[2] == TIMED_OUT for r in samples[name]):
                continue  # once over the limit, the other runs would be too
            samples[name].append(run_once(argv, env))
    out = {}
    for name, runs_ in samples.items():
        ok = [r for r in runs_ if r[2] == 0]
        timed_out = any(r[2] == TIMED_OUT for r in runs_)
        out[name] = {"s": round(statistics.median(r[0] for r in ok), 3) if ok else None,
                     "cpu_s": round(statistics.median(r[3] for r in ok), 3) if ok else None,
                     "rss_mib": round(max(r[1] for r in runs_ if r[2] in (0, TIMED_OUT)), 1) if runs_ else None,
                     "failed": len([r for r in runs_ if r[2] not in (0, TIMED_OUT)]), "timed_out": timed_out}
    return out


def scale_rows(istioctl: Path | None, runs: int, sizes: list[int], py_env: dict,
               istioctl_env: dict | None) -> list[dict]:
    rows = []
    for size in sizes:
        dump = dump_for(size)
        mib = dump.stat().st_size / 1048576
        floor: dict = {}
        for name, ours_args, theirs_args in COMMANDS:
            tools = {"ambientctl": (ambientctl(*ours_args, "--file", str(dump)), py_env)}
            if istioctl:
                tools["istioctl"] = ([istioctl, *theirs_args, "--file", dump], istioctl_env)
            if not floor:  # interleaved with the first command (zc workload, the goal's): same load for all three
                tools["floor"] = ([PYTHON, "-c", FLOOR, dump], py_env)
            result = measure(runs, tools, warmup=1 if size == sizes[0] else 0)
            floor = floor or result["floor"]
            row = _row(name, size, mib, result, floor)
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def no_ceiling_row(size: int, py_env: dict) -> dict:
    """The size no fixed limit may refuse: one run of `zc workload` and `zc all`, ambientctl only."""
    dump = dump_for(size)
    mib = dump.stat().st_size / 1048576
    floor = measure(1, {"floor": ([PYTHON, "-c", FLOOR, dump], py_env)})["floor"]
    result = measure(1, {"ambientctl": (ambientctl("zc", "workload", "--file", str(dump)), py_env)})
    row = _row("zc workload", size, mib, result, floor) | {"no_ceiling": True}
    print(json.dumps(row), flush=True)
    return row


def _row(name: str, size: int, mib: float, result: dict, floor: dict) -> dict:
    ours, theirs = result["ambientctl"], result.get("istioctl", {})
    return {"benchmark": name, "workloads": size, "dump_mib": round(mib, 1),
            "ambientctl_s": ours["s"], "istioctl_s": theirs.get("s"), "floor_s": floor["s"],
            "ambientctl_rss_mib": ours["rss_mib"], "istioctl_rss_mib": theirs.get("rss_mib"),
            "ambientctl_cpu_s": ours.get("cpu_s"), "istioctl_cpu_s": theirs.get("cpu_s"),
            "floor_rss_mib": floor["rss_mib"], "ambientctl_failed": ours["failed"],
            "istioctl_failed": theirs.get("failed"), "ambientctl_timed_out": ours["timed_out"],
            "istioctl_timed_out": theirs.get("timed_out", False)}


# ------------------------------------------------------------------------------------------------ report


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b else "—"


def _s(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def _cpu(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _mib(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def render_markdown(facts: dict, rows: list[dict], runs: int) -> str:
    lines = [f"Measured {facts['date']} on {facts['cores']} cores, load average at start {facts['load_average']}; "
             f"median of {runs} interleaved runs per tool (the no-ceiling size: 1 run); peak RSS is each child's own "
             "(os.wait4). Floor: `python -c 'import json; json.load(open(DUMP))'` on the same dump.", "",
             "| workloads | dump | command | ambientctl | istioctl | ambientctl / istioctl | CPU s, ambientctl / istioctl "
             "| floor | ambientctl / floor | peak RSS MiB, ambientctl / istioctl | ambientctl RSS / dump |",
             "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        failed = " (**failed**)" if r.get("ambientctl_failed") else ""
        theirs_failed = " (failed)" if r.get("istioctl_failed") else ""
        ours = f"> {RUN_TIMEOUT:.0f} s" if r.get("ambientctl_timed_out") else _s(r["ambientctl_s"])
        theirs = f"> {RUN_TIMEOUT:.0f} s (stopped)" if r.get("istioctl_timed_out") else _s(r["istioctl_s"])
        vs = f"< {r['ambientctl_s'] / RUN_TIMEOUT:.2f}x" if r.get("istioctl_timed_out") and r["ambientctl_s"] \
            else _ratio(r["ambientctl_s"], r["istioctl_s"])
        lines.append(
            f"| {r['workloads']:,} | {r['dump_mib']:.0f} MiB | `{r['benchmark']}`{' (no ceiling)' if r.get('no_ceiling') else ''} "
            f"| {ours}{failed} | {theirs}{theirs_failed} "
            f"| {vs} | {_cpu(r.get('ambientctl_cpu_s'))} / {_cpu(r.get('istioctl_cpu_s'))} | {_s(r['floor_s'])} "
            f"| {_ratio(r['ambientctl_s'], r['floor_s'])} | {_mib(r['ambientctl_rss_mib'])} / "
            f"{_mib(r['istioctl_rss_mib'])} | {_ratio(r['ambientctl_rss_mib'], r['dump_mib'])} |")
    lines += ["", "Goals:", ""] + [f"* {g}" for g in goals(rows)] + ["", f"![time against size]({PLOT.name})", ""]
    return "\n".join(lines)


def goals(rows: list[dict]) -> list[str]:
    """Each goal of issue 17 that these numbers answer, met or not."""
    out = []
    timed = [r for r in rows if not r.get("no_ceiling") and (r["istioctl_s"] or r.get("istioctl_timed_out"))]
    slower = [f"`{r['benchmark']}` at {r['workloads']:,}" for r in timed if r["ambientctl_s"] is None
              or (r["istioctl_s"] and r["ambientctl_s"] >= r["istioctl_s"])]
    if timed:
        out.append("faster than istioctl at every size and command: "
                   + ("met" if not slower else "**missed** for " + ", ".join(slower)))
    biggest = max((r for r in rows if r["benchmark"] == "zc workload" and not r.get("no_ceiling")),
                  key=lambda r: r["workloads"], default=None)
    if biggest and biggest["ambientctl_s"] and biggest["floor_s"]:
        ratio = biggest["ambientctl_s"] / biggest["floor_s"]
        out.append(f"`zc workload --file` at {biggest['workloads']:,} within {GOAL_FLOOR_RATIO}x of the JSON-parse "
                   f"floor: {'met' if ratio <= GOAL_FLOOR_RATIO else '**missed**'} ({ratio:.2f}x)")
    large = [r for r in rows if r["workloads"] >= 50000 and r["ambientctl_rss_mib"]]
    over = [f"`{r['benchmark']}` at {r['workloads']:,} ({r['ambientctl_rss_mib'] / r['dump_mib']:.1f}x)"
            for r in large if r["ambientctl_rss_mib"] > GOAL_RSS_RATIO * r["dump_mib"]]
    if large:
        out.append(f"peak RSS within {GOAL_RSS_RATIO:.0f}x the dump (sizes ≥ 50k; below that the interpreter's own "
                   "~30 MiB dominates): " + ("met" if not over else "**missed** for " + ", ".join(over)))
    ceiling = [r for r in rows if r.get("no_ceiling")]
    for r in ceiling:
        ok = r["ambientctl_s"] is not None
        out.append(f"no size ceiling: {r['workloads']:,} workloads ({r['dump_mib']:.0f} MiB) "
                   + (f"read in {_s(r['ambientctl_s'])}, peak RSS {r['ambientctl_rss_mib']:.0f} MiB "
                      f"({r['ambientctl_rss_mib'] / r['dump_mib']:.1f}x)" if ok else "**failed**"))
    per_k = [(r["workloads"], r["ambientctl_s"] / r["workloads"] * 1000) for r in rows
             if r["benchmark"] == "zc workload" and r["ambientctl_s"] and r["workloads"] >= 10000]
    if len(per_k) >= 2:
        out.append("cost per 1,000 workloads (`zc workload`, linear if flat): "
                   + ", ".join(f"{n:,}: {ms * 1000:.0f} ms" for n, ms in per_k))
    return out


def plot(rows: list[dict], path: Path = PLOT) -> Path | None:
    """Time against size for both tools, one panel per command, log-log."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing (pip install -e '.[bench]'): no plot", file=sys.stderr)
        return None
    names = [c[0] for c in COMMANDS if any(r["benchmark"] == c[0] for r in rows)]
    columns = 3
    fig, axes = plt.subplots(-(-len(names) // columns), columns, figsize=(4.2 * columns, 3.2 * -(-len(names) // columns)),
                             squeeze=False)
    for ax, name in zip(axes.flat, names):
        mine = sorted((r for r in rows if r["benchmark"] == name), key=lambda r: r["workloads"])
        for key, label, style in (("ambientctl_s", "ambientctl", "o-"), ("istioctl_s", "istioctl", "s-"),
                                  ("floor_s", "json.load floor", ":")):
            points = [(r["workloads"], r[key]) for r in mine if r[key]]
            if points:
                ax.plot(*zip(*points), style, label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("workloads in the dump")
        ax.set_ylabel("seconds (median)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    spare = list(axes.flat)[len(names):]
    if spare:  # memory of the goal command, against 3x the dump
        ax = spare.pop(0)
        mine = sorted((r for r in rows if r["benchmark"] == "zc workload"), key=lambda r: r["workloads"])
        for key, label, style in (("ambientctl_rss_mib", "ambientctl", "o-"), ("istioctl_rss_mib", "istioctl", "s-"),
                                  ("floor_rss_mib", "json.load floor", ":")):
            points = [(r["workloads"], r[key]) for r in mine if r[key]]
            if points:
                ax.plot(*zip(*points), style, label=label)
        ax.plot([r["workloads"] for r in mine], [GOAL_RSS_RATIO * r["dump_mib"] for r in mine], "--", color="grey",
                label=f"{GOAL_RSS_RATIO:.0f}x the dump")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title("zc workload: peak RSS", fontsize=10)
        ax.set_xlabel("workloads in the dump")
        ax.set_ylabel("MiB")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    for ax in spare:
        ax.axis("off")
    fig.suptitle("ztunnel config dump: time against size (--file)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def write_doc(markdown: str) -> None:
    import re

    text = DOC.read_text() if DOC.exists() else "# Performance\n"
    if BEGIN not in text:
        text += f"\n{BEGIN}\n{END}\n"
    text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: f"{BEGIN}\n{markdown}\n{END}", text, flags=re.S)
    DOC.write_text(text)


def run(istioctl: Path | None, runs: int, sizes: list[int], no_ceiling: int | None, py_env: dict,
        istioctl_env: dict | None, facts: dict, write: bool = True) -> list[dict]:
    rows = scale_rows(istioctl, runs, sizes, py_env, istioctl_env)
    if no_ceiling:
        rows.append(no_ceiling_row(no_ceiling, py_env))
    if write:
        plot(rows)
        write_doc(render_markdown(facts, rows, runs))
    return rows


def built_istioctl() -> Path | None:
    """The reference istioctl if it is built (never starts the long build from here)."""
    from tests.support.reference import binary_path

    path = binary_path("istioctl")
    if not path.exists():
        print(f"{path} not built yet (tests/reference/build.sh): istioctl columns left empty", file=sys.stderr)
        return None
    return path


def main(argv: list[str] | None = None) -> int:
    import run as runner

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--no-ceiling", type=int, default=NO_CEILING, help="0 to skip")
    parser.add_argument("--no-istioctl", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--timeout", type=float, default=RUN_TIMEOUT, help="seconds before a run is stopped")
    args = parser.parse_args(argv)
    globals()["RUN_TIMEOUT"] = args.timeout
    py_env = runner.warm_bytecode_env()
    facts = runner.machine_facts()
    istioctl = None if args.no_istioctl else built_istioctl()
    run(istioctl, args.runs, [int(s) for s in args.sizes.split(",") if s], args.no_ceiling or None, py_env,
        runner.istioctl_env() if istioctl else None, facts, write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
