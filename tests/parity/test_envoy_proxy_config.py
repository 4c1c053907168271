"""`pc cluster|listener|route|endpoint|bootstrap|ecds|all --file` beside istioctl on the same Envoy dumps.

The dumps (tests/support/envoydump.py) have the shape of real ones: a waypoint
(inbound-vip clusters, the `main_internal` matcher tree, `connect_originate`
endpoints), an ingress gateway for a Gateway API HTTPRoute, a sidecar-like proxy
and a SPIFFE-federated proxy.  For every subcommand and filter the tables must
have the same columns, rows, cells and row order; every difference must be listed
in known_differences.yaml (area `envoy-proxy-config`), and a listed difference
that no longer occurs fails too.  Where the tables agree cell by cell, the text
must also agree byte for byte (Go's tabwriter spacing).  `-o json` documents are
compared as JSON values, path by path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.parity.compare import Difference, MISSING, classify, diff_tables, load_known_differences
from tests.parity.tools import ambientctl, istioctl
from tests.support import envoydump

AREA = "envoy-proxy-config"


@pytest.fixture(scope="module")
def dumps(tmp_path_factory) -> dict[str, str]:
    return envoydump.write_all(str(tmp_path_factory.mktemp("envoy-dumps")))


# (case id, arguments after `pc`, dump file key)
CASES: list[tuple[str, tuple[str, ...], str]] = []
for _dump in ("waypoint", "gateway", "sidecar"):
    CASES += [
        (f"cluster/{_dump}", ("cluster",), _dump),
        (f"listener/{_dump}", ("listener",), _dump),
        (f"listener-short/{_dump}", ("listener", "--verbose=false"), _dump),
        (f"route/{_dump}", ("route",), _dump),
        (f"route-short/{_dump}", ("route", "--verbose=false"), _dump),
        (f"endpoint/{_dump}", ("endpoint",), f"{_dump}-clusters"),
        (f"bootstrap/{_dump}", ("bootstrap", "-o", "short"), _dump),
        (f"all/{_dump}", ("all",), _dump),
    ]
CASES += [
    ("cluster-fqdn", ("cluster", "--fqdn", "reviews"), "waypoint"),
    ("cluster-port", ("cluster", "--port", "9090"), "waypoint"),
    ("cluster-subset", ("cluster", "--subset", "v1"), "sidecar"),
    ("cluster-direction", ("cluster", "--direction", "inbound"), "waypoint"),
    ("cluster-all-filters", ("cluster", "--fqdn", "ratings", "--port", "9080", "--direction", "inbound-vip",
                             "--subset", "tcp"), "waypoint"),
    ("listener-port", ("listener", "--port", "15006"), "sidecar"),
    ("listener-address", ("listener", "--address", "fd00:10:96::14"), "sidecar"),
    ("listener-type", ("listener", "--type", "http", "--verbose=false"), "sidecar"),
    ("listener-waypoint", ("listener", "--waypoint"), "waypoint"),
    ("listener-waypoint-sidecar", ("listener", "--waypoint"), "sidecar"),
    ("route-name", ("route", "--name", "http.80"), "gateway"),
    ("route-name-numeric", ("route", "--name", "9080"), "sidecar"),
    ("endpoint-status", ("endpoint", "--status", "healthy"), "gateway-clusters"),
    ("endpoint-port", ("endpoint", "--port", "9080"), "gateway-clusters"),
    ("endpoint-address", ("endpoint", "--address", "10.244.2.12"), "gateway-clusters"),
    ("endpoint-cluster", ("endpoint", "--cluster", "outbound|9080||reviews.default.svc.cluster.local"),
     "gateway-clusters"),
    ("endpoint-internal", ("endpoint", "--address", "envoy://connect_originate/10.244.1.11:9080"),
     "waypoint-clusters"),
    ("ecds", ("ecds",), "sidecar"),
    ("all-headers", ("all", "--with-headers"), "gateway"),
    ("all-filters", ("all", "--port", "9080", "--fqdn", "reviews"), "sidecar"),
    ("all-spiffe", ("all",), "spiffe"),
    ("ties-listener", ("listener",), "ties"),
    ("ties-listener-short", ("listener", "--verbose=false"), "ties"),
    ("ties-listener-waypoint", ("listener", "--waypoint"), "ties"),
    ("ties-route", ("route",), "ties"),
    ("ties-route-short", ("route", "--verbose=false"), "ties"),
    ("ties-all", ("all",), "ties"),
]

# The columns that identify a row, per table header.  Rows with the same key get an occurrence number.
KEYS = {
    "SERVICE FQDN": ("SERVICE FQDN", "PORT", "SUBSET", "DIRECTION"),
    "ADDRESSES": ("ADDRESSES", "PORT", "MATCH", "DESTINATION", "TYPE"),
    "LISTENER": ("LISTENER", "CHAIN", "MATCH"),
    "NAME": ("NAME", "VHOST NAME", "MATCH", "STATUS", "CLUSTER", "VIRTUAL HOSTS"),
    "ENDPOINT": ("ENDPOINT", "CLUSTER"),
    "ECDS NAME": ("ECDS NAME",),
    "RESOURCE NAME": ("RESOURCE NAME", "TRUST DOMAIN"),
}
FIRST_COLUMNS = ("SERVICE FQDN", "ADDRESSES", "LISTENER", "ENDPOINT", "ECDS NAME", "RESOURCE NAME", "NAME")
# Every column name of istioctl's Envoy tables (several have a space inside), for cutting fixed-width lines.
COLUMNS = sorted({"SERVICE FQDN", "PORT", "SUBSET", "DIRECTION", "TYPE", "DESTINATION RULE", "ADDRESSES", "MATCH",
                  "DESTINATION", "LISTENER", "CHAIN", "ENDPOINT", "STATUS", "OUTLIER CHECK", "CLUSTER", "ECDS NAME",
                  "RESOURCE NAME", "VALID CERT", "SERIAL NUMBER", "NOT AFTER", "NOT BEFORE", "TRUST DOMAIN", "NAME",
                  "VHOST NAME", "DOMAINS", "VIRTUAL SERVICE", "VIRTUAL HOSTS", "LOCALITY"}, key=len, reverse=True)


def split_tables(text: str) -> list[list[str]]:
    """A command's output as blocks of lines: one table (or the bootstrap summary) per block."""
    blocks, current = [], []
    for line in text.splitlines():
        if not line.strip() or line.startswith("------ "):
            if current:
                blocks.append(current)
            current = []
        else:
            current.append(line)
    if current:
        blocks.append(current)
    return blocks


def header_columns(header: str) -> list[tuple[int, str]]:
    """(start, name) of each column: known names matched at word starts, longest first."""
    found, at = [], 0
    while at < len(header):
        if header[at] == " ":
            at += 1
            continue
        name = next((c for c in COLUMNS if header.startswith(c, at)
                     and (at + len(c) == len(header) or header[at + len(c)] == " ")), None)
        if name is None:  # an unknown column: one word
            name = header[at:].split(" ", 1)[0]
        found.append((at, name))
        at += len(name)
    return found


def read_table(lines: list[str]) -> tuple[str, list[dict[str, str]]]:
    """(first column name, rows as column -> cell) of a Go-tabwriter table; `key: value` lines otherwise."""
    header = lines[0]
    first = next((h for h in FIRST_COLUMNS if header.startswith(h + " ") or header == h), None)
    if first is None:  # the bootstrap summary: `Istio Version:   1.31.0`
        return "SUMMARY", [{"KEY": line.split(":", 1)[0], "VALUE": line.split(":", 1)[1].strip()} for line in lines]
    starts = header_columns(header)
    bounds = [s for s, _ in starts] + [None]
    rows = []
    for line in lines[1:]:
        rows.append({name: line[bounds[i]:bounds[i + 1]].strip() for i, (_, name) in enumerate(starts)})
    return first, rows


def numbered(rows: list[dict[str, str]], key_columns: tuple[str, ...]) -> list[dict[str, str]]:
    """Rows with `#`: the occurrence of their key (repeated rows stay distinct rows)."""
    seen: dict[tuple[str, ...], int] = {}
    out = []
    for row in rows:
        key = tuple(row.get(c, "") for c in key_columns)
        seen[key] = seen.get(key, 0) + 1
        out.append({**row, "#": str(seen[key])})
    return out


def by_chain_unordered(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """istioctl walks the matcher's maps in Go's random map order: sort each chain's MATCH rows."""
    out: list[dict[str, str]] = []
    for row in rows:
        if out and (out[-1]["LISTENER"], out[-1]["CHAIN"]) == (row["LISTENER"], row["CHAIN"]):
            group = [r for r in out if (r["LISTENER"], r["CHAIN"]) == (row["LISTENER"], row["CHAIN"])]
            for r in group:
                out.remove(r)
            out.extend(sorted(group + [row], key=lambda r: r["MATCH"]))
        else:
            out.append(row)
    return out


def table_differences(case: str, ours: str, theirs: str) -> list[Difference]:
    our_blocks, their_blocks = split_tables(ours), split_tables(theirs)
    differences = []
    if len(our_blocks) != len(their_blocks):
        differences.append(Difference(case, "sections", str(len(our_blocks)), str(len(their_blocks))))
    for index, (mine, other) in enumerate(zip(our_blocks, their_blocks)):
        kind, our_rows = read_table(mine)
        their_kind, their_rows = read_table(other)
        where = f"{case}#{index}"
        if kind != their_kind:
            differences.append(Difference(where, "table", kind, their_kind))
            continue
        if kind == "LISTENER":
            our_rows, their_rows = by_chain_unordered(our_rows), by_chain_unordered(their_rows)
        keys = KEYS.get(kind, ("KEY",))
        differences += diff_tables(where, numbered(our_rows, keys), numbered(their_rows, keys), keys + ("#",))
    return differences


def outcome_differences(case: str, ours, theirs) -> list[Difference]:
    """A tool that fails where the other prints is a difference too (its first error line is the value)."""
    if ours.ok == theirs.ok:
        return []
    def said(outcome) -> str:
        return "ok" if outcome.ok else f"exit {outcome.exit_code}: " + (outcome.stderr.strip().splitlines() or [""])[-1]
    return [Difference(case, "outcome", said(ours), said(theirs))]


def entries_for(case: str):
    return [k for k in load_known_differences(AREA) if _applies(k.object, case)]


@pytest.mark.parametrize("case,args,dump", CASES, ids=[c[0] for c in CASES])
def test_same_tables_from_the_same_dump(istioctl_bin, dumps, case, args, dump):
    theirs = istioctl(istioctl_bin, "pc", *args, "--file", dumps[dump])
    ours = ambientctl("pc", *args, "--file", dumps[dump])
    differences = outcome_differences(case, ours, theirs)
    if not differences:
        assert ours.ok, ours
        assert theirs.stdout.strip(), f"istioctl printed nothing:\n{theirs.stderr}"
        differences = table_differences(case, ours.stdout, theirs.stdout)
    verdict = classify(differences, entries_for(case))
    assert verdict.ok, verdict.report()
    if not differences:
        if "--waypoint" in args:  # istioctl's rows of one chain come in Go's random map order
            assert chain_sorted(ours.stdout) == chain_sorted(theirs.stdout), "same cells but different text"
        else:
            assert ours.stdout == theirs.stdout, "same cells but different text (spacing?)"


def chain_sorted(text: str) -> list[str]:
    """The lines of a `--waypoint` table with each chain's lines sorted (header and chain order kept)."""
    lines = text.splitlines()
    out, group, key = lines[:1], [], None
    for line in lines[1:]:
        this = tuple(line.split()[:2])
        if this != key and group:
            out.extend(sorted(group))
            group = []
        key = this
        group.append(line)
    return out + sorted(group)


def _applies(pattern: str, case: str) -> bool:
    """An entry's object is `<case>#<table>/<row key>`; `*` globs; only entries of this case are checked."""
    from tests.parity.compare import _glob

    head = pattern.split("#", 1)[0]
    return _glob(head, case)


# -- -o json -------------------------------------------------------------------------------------------------


def json_differences(case: str, ours: Any, theirs: Any, path: str = "$") -> list[Difference]:
    if isinstance(ours, dict) and isinstance(theirs, dict):
        out = []
        for key in sorted(set(ours) | set(theirs)):
            if key not in theirs:
                out.append(Difference(case, f"{path}.{key}", "present", MISSING))
            elif key not in ours:
                out.append(Difference(case, f"{path}.{key}", MISSING, "present"))
            else:
                out += json_differences(case, ours[key], theirs[key], f"{path}.{key}")
        return out
    if isinstance(ours, list) and isinstance(theirs, list):
        out = [] if len(ours) == len(theirs) else [Difference(case, f"{path}[]", str(len(ours)), str(len(theirs)))]
        for index, (a, b) in enumerate(zip(ours, theirs)):
            out += json_differences(case, a, b, f"{path}[{index}]")
        return out
    if ours != theirs:
        return [Difference(case, path, json.dumps(ours)[:200], json.dumps(theirs)[:200])]
    return []


JSON_CASES = [
    ("json-cluster", ("cluster",), "waypoint"),
    ("json-cluster-gateway", ("cluster", "--fqdn", "reviews"), "gateway"),
    ("json-listener", ("listener",), "waypoint"),
    ("json-listener-sidecar", ("listener", "--port", "9080"), "sidecar"),
    ("json-route", ("route",), "gateway"),
    ("json-endpoint", ("endpoint",), "waypoint-clusters"),
    ("json-bootstrap", ("bootstrap",), "gateway"),
    ("json-ecds", ("ecds",), "sidecar"),
    ("json-all", ("all",), "gateway"),
]


@pytest.mark.parametrize("case,args,dump", JSON_CASES, ids=[c[0] for c in JSON_CASES])
@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_same_documents_from_the_same_dump(istioctl_bin, dumps, case, args, dump, fmt):
    import yaml

    theirs = istioctl(istioctl_bin, "pc", *args, "--file", dumps[dump], "-o", fmt)
    ours = ambientctl("pc", *args, "--file", dumps[dump], "-o", fmt)
    differences = outcome_differences(f"{case}-{fmt}", ours, theirs)
    if not differences:
        assert ours.ok, ours
        # YAML: every scalar as text on both sides (the two emitters quote timestamps differently;
        # -o json checks the types)
        load = json.loads if fmt == "json" else (lambda text: yaml.load(text, Loader=yaml.BaseLoader))
        differences = json_differences(f"{case}-{fmt}", load(ours.stdout), load(theirs.stdout))
    verdict = classify(differences, entries_for(f"{case}-{fmt}"))
    assert verdict.ok, verdict.report()


def test_every_case_reads_a_dump_that_exists(dumps):
    assert {d for _, _, d in CASES + JSON_CASES} <= set(dumps)
    assert all(Path(p).stat().st_size > 1000 for p in dumps.values())
