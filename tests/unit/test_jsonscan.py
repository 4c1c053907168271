"""proxy.jsonscan and proxy.ztunneldump on large dumps: item by item, across window edges, same answers as json.loads."""

from __future__ import annotations

import io
import json

import pytest

from ambientctl.errors import InvalidInputError
from ambientctl.proxy import jsonscan
from ambientctl.proxy import ztunneldump as zd
from tests.support import dumpgen
from tests.support.cli import invoke


def walk(data: bytes) -> dict:
    """The document rebuilt from `members`/`items`: must equal json.loads."""
    doc = jsonscan.Document(data, "dump.json")
    assert doc.top_level() == "{"
    out: dict = {}
    for key in doc.members():
        kind = doc.kind()
        if kind == "[":
            out[key] = [item for _, item, _, _ in doc.items()]
        elif kind == "{":
            out[key] = {k: item for k, item, _, _ in doc.items()}
        else:
            out[key] = doc.value()
    doc.end()
    return out


@pytest.fixture(params=[64, 256, 4096, 1 << 20], ids=lambda w: f"window{w}")
def window(request, monkeypatch) -> int:
    """Tiny windows put every item across an edge at least once."""
    monkeypatch.setattr(jsonscan, "WINDOW", request.param)
    monkeypatch.setattr(jsonscan, "MARGIN", min(jsonscan.MARGIN, request.param // 4))
    return request.param


SAMPLE = {
    "certificates": [{"identity": "spiffe://x/ns/a/sa/b", "state": "Available", "certChain": [], "rootCerts": []}],
    "config": {"n": 12345678901234567890, "f": 1.5e-7, "t": True, "z": None, "s": "x" * 300},
    "workloads": [{"name": f"w{i}", "namespace": "ns", "workloadIps": [f"10.0.0.{i}"], "n": i * 1000003}
                  for i in range(40)],
    "services": {f"/10.96.0.{i}": {"name": f"s{i}", "vips": [f"/10.96.0.{i}"]} for i in range(10)},
    "empty": [], "emptymap": {}, "num": 7, "text": "é ü ✓",
}


@pytest.mark.parametrize("indent", [None, 0, 2, 7])
def test_walk_equals_json_loads_at_every_window(window, indent):
    for doc in (SAMPLE, {k: v for k, v in SAMPLE.items() if k != "text"}):
        data = json.dumps(doc, indent=indent, ensure_ascii=False).encode()
        assert walk(data) == json.loads(data)


def test_spans_are_the_items_own_bytes(window):
    data = json.dumps({k: v for k, v in SAMPLE.items() if k != "text"}, indent=2).encode()
    doc = jsonscan.Document(data, "d")
    doc.top_level()
    for key in doc.members():
        if doc.kind() in "[{":
            for _, item, start, end in doc.items():
                assert json.loads(doc.slice(start, end)) == item


@pytest.mark.parametrize("data, message", [
    (b'{"workloads": [{"a": 1}, {"a": 2}', "truncated"),
    (b'{"workloads": [{"a": 1} {"a": 2}]}', "line 1 column 25: Expecting ',' delimiter"),
    (b'{"workloads": [1, 2,]}', "Expecting value"),
    (b'{"a": 1}\n{"b": 2}', "line 2 column 1: Extra data"),
    (b'{"a" 1}', "Expecting ':' delimiter"),
    (b'{"workloads": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nested too deeply"),
])
def test_errors_are_json_loads_errors(window, data, message):
    with pytest.raises(InvalidInputError) as exc:
        walk(data)
    assert message in exc.value.one_line()


def test_a_non_ascii_document_is_read_whole():
    data = json.dumps(SAMPLE, ensure_ascii=False).encode()
    doc = jsonscan.Document(data, "d")
    assert doc.view is None
    assert walk(data) == SAMPLE


# -- a generated mesh: every view the same as decoding it whole ---------------------------------------


@pytest.fixture(scope="module")
def mesh(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("mesh") / "dump.json"
    dumpgen.write_scale_dump(str(path), 600)
    return str(path)


def test_generated_dump_is_shaped_like_ztunnels(mesh):
    doc = json.load(open(mesh))
    assert list(doc) == sorted(doc)  # serde_json prints keys sorted
    assert len(doc["workloads"]) == 600
    assert {"uid", "workloadIps", "node", "namespace", "serviceAccount", "status"} <= set(doc["workloads"][0])
    assert doc["certificates"] and all(c["state"] == "Available" for c in doc["certificates"])
    nodes = {w["node"] for w in doc["workloads"]}
    assert len(nodes) == dumpgen.MeshShape(600).nodes


@pytest.mark.parametrize("args", [
    ["zc", "workload"], ["zc", "service"], ["zc", "policy"], ["zc", "all"],
    ["zc", "workload", "--workload-namespace", "ns-0001", "--workload-node", "node-0001"],
])
def test_json_output_is_the_dumps_own_items_reindented(mesh, args):
    """-o json writes the items' own bytes; on a dump printed like ztunnel's it is json.dumps' text exactly."""
    result = invoke(*args, "--file", mesh, "-o", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.load(open(mesh))
    assert result.stdout == json.dumps(result.json, indent=2, ensure_ascii=False) + "\n"
    if args[1] == "all":
        assert result.json == doc


def test_workload_json_selects_and_orders_like_the_table(mesh):
    table = invoke("zc", "workload", "--file", mesh, "--workload-node", "node-0002")
    as_json = invoke("zc", "workload", "--file", mesh, "--workload-node", "node-0002", "-o", "json")
    names = [line.split()[1] for line in table.stdout.splitlines()[1:]]
    assert names and names == [w["name"] for w in as_json.json]
    assert all(w["node"] == "node-0002" for w in as_json.json)


def test_waypoints_resolve_through_the_index(mesh):
    rows = [line.split() for line in invoke("zc", "workload", "--file", mesh).stdout.splitlines()[1:]]
    with_waypoint = [r for r in rows if int(r[0].split("-")[1]) % 2 == 0]
    assert with_waypoint and all(r[4] == "waypoint" for r in with_waypoint)
    assert all(r[4] == "None" for r in rows if r not in with_waypoint)


def test_writer_batches_bytes_and_text_into_one_stream():
    buffer = io.StringIO()
    out = zd.Writer(buffer)
    out.write("a")
    out.write(b"b")
    out.write_buffer(b"cd")
    out.close()
    assert buffer.getvalue() == "abcd"
