"""Cluster commands on a large mesh (benchmarks/cluster_seed.py): API requests, wall time, peak memory.

    KUBECONFIG=... .venv/bin/python benchmarks/cluster_scale.py [--runs 1] [--no-write]

Each command runs through tests/support/countingproxy.py (a plain-HTTP proxy in
front of the API server that records every request), so ambientctl and
istioctl are counted on the same wire. Requests are classified by path: LIST
(a collection), GET (one object), discovery, other (writes, subresources).
The goal (issue 17): listing commands make O(kinds) LISTs (paginated by
`limit`/`continue`), never one GET per object. Writes docs/performance.md between
`<!-- cluster:begin -->` and `<!-- cluster:end -->`.
"""

from __future__ import annotations

import argparse
import collections
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
from scale import built_istioctl  # noqa: E402

DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- cluster:begin -->", "<!-- cluster:end -->"
POD_NS = "scale-0000"

# (name, ambientctl args, istioctl args or None)
COMMANDS: list[tuple[str, list[str], list[str] | None]] = [
    ("waypoint list -A", ["waypoint", "list", "-A"], ["waypoint", "list", "-A"]),
    ("waypoint status -A", ["waypoint", "status", "-A"], None),
    ("dataplane status -A", ["dataplane", "status", "-A"], None),
    ("analyze -A", ["analyze", "-A"], ["analyze", "-A"]),
    ("x graph -A", ["x", "graph", "-A"], None),
    ("x authz check", ["x", "authz", "check", "{pod}", "-n", POD_NS], ["x", "authz", "check", "{pod}", "-n", POD_NS]),
    ("verify-install", ["verify-install"], ["verify-install"]),
    ("uninstall --dry-run", ["uninstall", "--purge", "--dry-run", "-y"], ["uninstall", "--purge", "--dry-run", "-y"]),
    ("precheck", ["precheck"], ["x", "precheck"]),
]


def classify(path: str, method: str) -> str:
    """LIST, GET, discovery or other, from the request path."""
    if method != "GET":
        return "other"
    parts = [p for p in path.split("/") if p]
    if not parts or parts[0] in ("openapi", "version") or parts == ["api"] or parts == ["apis"]:
        return "discovery"
    if parts[0] == "api":
        rest = parts[2:]
    elif parts[0] == "apis":
        if len(parts) <= 3:
            return "discovery"
        rest = parts[3:]
    else:
        return "other"
    if not rest:
        return "discovery"
    if rest[0] == "namespaces":
        if len(rest) == 1:
            return "LIST"
        if len(rest) == 2:
            return "GET"
        rest = rest[2:]
    if len(rest) == 1:
        return "LIST"
    return "GET" if len(rest) == 2 else "other"


def run_tool(argv: list[str], env: dict) -> tuple[float, float, float, int, str]:
    """(wall s, CPU s (user+sys), peak RSS MiB, exit code, stderr) of one run, measured by GNU time.

    Why GNU time: a child forked from this (big) process reports the parent's pages in its
    ru_maxrss until it execs; `time` forks from a small process. CPU time is reported beside
    wall time because on a busy machine the wall time of a Python start is mostly disk waits.
    """
    import tempfile

    with tempfile.NamedTemporaryFile("r", suffix=".time") as stats:
        started = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", stats.name, *[str(a) for a in argv]],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, **env},
                              check=False)
        wall = time.perf_counter() - started
        fields = stats.read().split()[-3:]
    user, system, rss_kib = (float(f) for f in fields) if len(fields) == 3 else (0.0, 0.0, 0.0)
    return wall, user + system, rss_kib / 1024, proc.returncode, proc.stderr.decode("utf-8", "replace")


def measure(proxy, argv: list[str], env: dict, runs: int) -> dict:
    """Median of `runs` timed runs after one untimed warm-up run.

    Why the warm-up: the private bytecode dir (warm_bytecode_env) starts empty but for
    ambientctl's own modules, so the first command to import the kubernetes client, rich,
    urllib3... compiled them all (2.3 s CPU; `waypoint list -A`, measured first, showed
    3.15 s CPU for one LIST). A user's second run never pays that; istioctl gets the same warm-up.
    """
    run_tool(argv, env)
    times, cpu, rss = [], [], []
    for _ in range(runs):
        proxy.reset()
        seconds, cpu_s, peak, code, stderr = run_tool(argv, env)
        times.append(seconds)
        cpu.append(cpu_s)
        rss.append(peak)
    requests = proxy.snapshot()
    kinds = collections.Counter(classify(r.path, r.method) for r in requests)
    lists = collections.Counter(r.path for r in requests if classify(r.path, r.method) == "LIST")
    gets = [r.path for r in requests if classify(r.path, r.method) == "GET"]
    return {"s": round(statistics.median(times), 2), "cpu_s": round(statistics.median(cpu), 2),
            "rss_mib": round(max(rss), 1), "exit": code,
            "requests": len(requests), "by_kind": dict(kinds), "list_paths": len(lists),
            "top_gets": collections.Counter("/".join(p.split("/")[:-1]) for p in gets).most_common(3),
            "error": stderr.strip().splitlines()[-1][:160] if code and stderr.strip() else ""}


def one_pod(kubeconfig: str) -> str:
    from ambientctl.kube.client import KubeClient

    kube = KubeClient.connect(kubeconfig)
    pods = kube.list("v1", "Pod", POD_NS)
    return pods[0]["metadata"]["name"] if pods else "missing"


def cluster_size(kubeconfig: str) -> dict:
    from ambientctl.kube.client import KubeClient

    kube = KubeClient.connect(kubeconfig)
    count = {}
    for label, (api, kind) in {"namespaces": ("v1", "Namespace"), "pods": ("v1", "Pod"),
                               "services": ("v1", "Service"),
                               "waypoints": ("gateway.networking.k8s.io/v1", "Gateway"),
                               "authorization policies": ("security.istio.io/v1", "AuthorizationPolicy")}.items():
        try:
            count[label] = len(kube.list(api, kind, all_namespaces=True))
        except Exception as exc:  # noqa: BLE001 - a missing CRD is reported, not fatal
            count[label] = f"n/a ({type(exc).__name__})"
    return count


def run(kubeconfig: str, istioctl: Path | None, runs: int, py_env: dict, istioctl_env: dict) -> tuple[dict, list[dict]]:
    from tests.support.countingproxy import CountingProxy

    size = cluster_size(kubeconfig)
    print(json.dumps({"cluster": size}), flush=True)
    pod = one_pod(kubeconfig)
    rows = []
    with CountingProxy.from_kubeconfig(kubeconfig) as proxy:
        ours_env = {**py_env, "KUBECONFIG": proxy.kubeconfig}
        theirs_env = {**istioctl_env, "KUBECONFIG": proxy.kubeconfig}
        for name, ours_args, theirs_args in COMMANDS:
            args = [a.replace("{pod}", pod) for a in ours_args]
            row = {"command": name, "ambientctl": measure(proxy, ambientctl(*args), ours_env, runs)}
            if istioctl and theirs_args:
                theirs = [istioctl, *[a.replace("{pod}", pod) for a in theirs_args]]
                row["istioctl"] = measure(proxy, theirs, theirs_env, runs)
            print(json.dumps(row), flush=True)
            rows.append(row)
    return size, rows


def dump_over_portforward(kubeconfig: str, state_dir: str, workloads: list[int], istioctl: Path | None,
                          runs: int, py_env: dict, istioctl_env: dict) -> list[dict]:
    """`zc workload` of the ztunnel pod (default ds/ztunnel) through the API server's port-forward.

    kwok forwards pod port 15000 to this instance's stand-in port; a StandIn there serves the
    scale dump. Not through the counting proxy (it does not relay upgrades): straight to the API server.
    """
    import scale
    from tests.support.standin import StandIn

    with open(os.path.join(state_dir, "cluster.json")) as f:
        port = int(json.load(f)["standin_ports"]["15000"])
    rows = []
    with StandIn(port) as standin:
        for size in workloads:
            dump = scale.dump_for(size)
            standin.set_route("/config_dump", dump.read_bytes(), "application/json")
            tools = {"ambientctl": (ambientctl("zc", "workload"), {**py_env, "KUBECONFIG": kubeconfig})}
            if istioctl:
                tools["istioctl"] = ([istioctl, "zc", "workload"], {**istioctl_env, "KUBECONFIG": kubeconfig})
            row = {"benchmark": "zc workload (port-forward)", "workloads": size,
                   "dump_mib": round(dump.stat().st_size / 1048576, 1)}
            for tool, (argv, env) in tools.items():
                runs_ = [run_tool(argv, env) for _ in range(runs)]
                ok = [r for r in runs_ if r[3] == 0]
                row[f"{tool}_s"] = round(statistics.median(r[0] for r in ok), 2) if ok else None
                row[f"{tool}_cpu_s"] = round(statistics.median(r[1] for r in ok), 2) if ok else None
                row[f"{tool}_rss_mib"] = round(max(r[2] for r in ok), 1) if ok else None
                row[f"{tool}_error"] = "" if ok else runs_[-1][4].strip()[-160:]
            print(json.dumps(row), flush=True)
            rows.append(row)
        standin.remove_route("/config_dump")
    return rows


def render_markdown(facts: dict, size: dict, rows: list[dict], runs: int, forwarded: list[dict] | None = None) -> str:
    shown = ", ".join(f"{v:,} {k}" if isinstance(v, int) else f"{k} {v}" for k, v in size.items())
    lines = [f"Measured {facts['date']} on the kwok test cluster ({shown}) seeded by benchmarks/cluster_seed.py; "
             f"through the counting proxy; median of {runs} run(s) after one warm-up run; "
             f"1-minute load average {facts['load_average']} before and {facts.get('load_after', '?')} after "
             "(2 cores, shared with the API server, etcd and kwok). LIST = a collection request (pages of 500), "
             "GET = one object.", "",
             "| command | tool | exit | wall | CPU | peak RSS | requests | LIST | GET | discovery | other |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        for tool in ("ambientctl", "istioctl"):
            m = row.get(tool)
            if not m:
                continue
            k = m["by_kind"]
            exit_text = str(m["exit"]) + (f" ({m['error']})" if m["error"] else "")
            lines.append(f"| `{row['command']}` | {tool} | {exit_text} | {m['s']:.2f} s | {m['cpu_s']:.2f} s "
                         f"| {m['rss_mib']:.0f} MiB "
                         f"| {m['requests']} | {k.get('LIST', 0)} | {k.get('GET', 0)} | {k.get('discovery', 0)} "
                         f"| {k.get('other', 0)} |")
    if forwarded:
        lines += ["", "`zc workload` of the ztunnel pod over the API server's port-forward (kwok forwards port 15000 "
                  "to a local stand-in serving the scale dump; no counting proxy):", "",
                  "| workloads | dump | ambientctl wall / CPU | istioctl wall / CPU | peak RSS MiB, ambientctl / istioctl | "
                  "ambientctl RSS / dump |", "|---:|---:|---:|---:|---:|---:|"]
        for r in forwarded:
            ours, theirs = r.get("ambientctl_s"), r.get("istioctl_s")
            ours_rss, theirs_rss = r.get("ambientctl_rss_mib"), r.get("istioctl_rss_mib")
            lines.append(f"| {r['workloads']:,} | {r['dump_mib']:.0f} MiB | {ours or '—'} s / {r.get('ambientctl_cpu_s') or '—'} s | "
                         f"{theirs or '—'} s / {r.get('istioctl_cpu_s') or '—'} s | {ours_rss or '—'} / {theirs_rss or '—'} | "
                         f"{(ours_rss / r['dump_mib']) if ours_rss else 0:.2f}x |")
    return "\n".join(lines) + "\n"


def write_doc(markdown: str) -> None:
    import re

    text = DOC.read_text()
    if BEGIN not in text:
        text += f"\n{BEGIN}\n{END}\n"
    text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: f"{BEGIN}\n{markdown}\n{END}", text, flags=re.S)
    DOC.write_text(text)


def main(argv: list[str] | None = None) -> int:
    import run as runner

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--kubeconfig", default=os.environ.get("KUBECONFIG"))
    parser.add_argument("--no-istioctl", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated command names")
    parser.add_argument("--state", default=os.environ.get("AMBIENTCTL_CLUSTER_STATE"),
                        help="the instance's state dir (for its stand-in port)")
    parser.add_argument("--forward-sizes", default="10000,100000",
                        help="dump sizes read over port-forward (empty: none; needs --state)")
    args = parser.parse_args(argv)
    if not args.kubeconfig:
        parser.error("set KUBECONFIG or --kubeconfig to the seeded cluster")
    if args.only:
        wanted = set(args.only.split(","))
        COMMANDS[:] = [c for c in COMMANDS if c[0] in wanted]
    istioctl = None if args.no_istioctl else built_istioctl()
    facts = runner.machine_facts()
    py_env, their_env = runner.warm_bytecode_env(), runner.istioctl_env() if istioctl else {}
    # ambientctl's bytecode compiled once, as after `pip install`: no run pays for compiling its modules
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(ROOT / "ambientctl")], env={**os.environ, **py_env},
                   check=False, stdout=subprocess.DEVNULL)
    size, rows = run(args.kubeconfig, istioctl, args.runs, py_env, their_env) if COMMANDS else ({}, [])
    facts["load_after"] = round(os.getloadavg()[0], 2)
    forwarded = []
    if args.state and args.forward_sizes:
        forwarded = dump_over_portforward(args.kubeconfig, args.state, [int(s) for s in args.forward_sizes.split(",")],
                                          istioctl, max(1, args.runs), py_env, their_env)
    if not args.no_write:
        write_doc(render_markdown(facts, size, rows, args.runs, forwarded))
    return 0


if __name__ == "__main__":
    sys.exit(main())
