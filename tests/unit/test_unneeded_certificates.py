"""`pc secret` / `zc certificate` name certificates that no workload of the ztunnel's node needs any more.

ztunnel forgets a certificate only when the last workload with its identity leaves
the node; a pod taken out of the mesh stays, as a TCP workload, and so does its
certificate. The dump says which node it serves (`config.localNode`).
"""

from __future__ import annotations

import json

import pytest

from tests.support import dumpgen
from tests.support.cli import invoke

NODE = "ambient-worker"
IDENTITIES = [("default", "sleep"), ("bookinfo", "productpage")]


def write_dump(tmp_path, *, protocols: dict[str, str], local_node: str | None = NODE,
               other_node_hbone: bool = False) -> str:
    dump = dumpgen.generate_dump(IDENTITIES, node=NODE)
    for wl in dump["workloads"]:
        wl["protocol"] = protocols.get(wl["serviceAccount"], "HBONE")
    if other_node_hbone:  # the same identity enrolled elsewhere does not keep this node's certificate in use
        dump["workloads"].append(dumpgen.workload_entry("bookinfo", "productpage", node="ambient-worker2",
                                                        name="productpage-elsewhere"))
    if local_node is not None:
        dump["config"] = {"localNode": local_node, "proxyMode": "Shared"}
    path = tmp_path / "dump.json"
    path.write_text(json.dumps(dump))
    return str(path)


@pytest.mark.parametrize("command", [("pc", "secret"), ("zc", "certificate")])
def test_unenrolled_pods_certificate_is_named_on_stderr(tmp_path, command):
    path = write_dump(tmp_path, protocols={"productpage": "TCP"}, other_node_hbone=True)
    result = invoke(*command, "--file", path)
    assert result.exit_code == 0, result.stderr
    assert "spiffe://cluster.local/ns/bookinfo/sa/productpage" in result.stdout  # still listed: ztunnel holds it
    assert "1 certificate(s) held for identities no workload in the mesh on node ambient-worker needs" in result.stderr
    assert "spiffe://cluster.local/ns/bookinfo/sa/productpage" in result.stderr
    assert "sa/sleep" not in result.stderr


def test_json_stays_one_document_and_the_note_goes_to_stderr(tmp_path):
    path = write_dump(tmp_path, protocols={"productpage": "TCP", "sleep": "TCP"})
    result = invoke("pc", "secret", "--file", path, "-o", "json")
    assert result.exit_code == 0, result.stderr
    json.loads(result.stdout)
    assert "2 certificate(s) held" in result.stderr


def test_no_note_while_every_certificate_is_needed(tmp_path):
    result = invoke("pc", "secret", "--file", write_dump(tmp_path, protocols={}))
    assert result.exit_code == 0 and "held for identities" not in result.stderr


def test_no_note_when_the_dump_does_not_name_its_node(tmp_path):
    result = invoke("pc", "secret", "--file", write_dump(tmp_path, protocols={"sleep": "TCP"}, local_node=None))
    assert result.exit_code == 0 and "held for identities" not in result.stderr


def test_identity_filter_limits_the_note(tmp_path):
    path = write_dump(tmp_path, protocols={"productpage": "TCP"})
    result = invoke("pc", "secret", "--file", path, "--identity", "default/sleep")
    assert result.exit_code == 0 and "held for identities" not in result.stderr
