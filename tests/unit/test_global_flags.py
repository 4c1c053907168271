"""Every global flag reaches the kube layer in every command that talks to a cluster.

Each command runs against a recording fake API server chosen through
`--context`, with `-n`/`-i` set to unusual namespaces; the test checks that
the request went to that context's server (not the kubeconfig's current
context), into the namespace the flags name, with the --request-timeout given.
"""

from __future__ import annotations

import pytest

from tests.support.cli import invoke
from tests.support.fakeapi import FakeApiServer, status_body, write_kubeconfig

# (argv, which namespace flag must show up in a request path: "n", "i" or None)
CLUSTER_COMMANDS: list[tuple[list[str], str | None]] = [
    (["version"], "i"),
    (["dataplane", "status"], "n"),
    (["dataplane", "enroll", "flagged-ns"], None),
    (["dataplane", "unenroll", "flagged-ns"], None),
]


@pytest.fixture
def servers():
    forbidden = status_body(403, "Forbidden", "recorded")
    chosen = FakeApiServer(lambda m, p: (403, forbidden))
    decoy = FakeApiServer(lambda m, p: (403, forbidden))
    yield chosen, decoy
    chosen.close()
    decoy.close()


@pytest.mark.parametrize(("argv", "namespace_flag"), CLUSTER_COMMANDS, ids=lambda v: " ".join(v) if isinstance(v, list) else str(v))
@pytest.mark.parametrize("position", ["before", "after"])
def test_global_flags_reach_kube_layer(tmp_path, servers, argv, namespace_flag, position):
    chosen, decoy = servers
    kubeconfig = write_kubeconfig(tmp_path / "kc", {"decoy": decoy.url, "chosen": chosen.url}, current="decoy")
    flags = ["-c", str(kubeconfig), "--context", "chosen", "-n", "ns-from-flag", "-i", "istio-from-flag",
             "--request-timeout", "7"]
    full = flags + argv if position == "before" else argv + flags
    result = invoke(*full)
    assert result.exit_code != 0  # the fake answers 403 to everything
    assert chosen.requests, f"{argv}: no request reached the --context server: {result.stderr}"
    assert not decoy.requests, f"{argv}: request went to the current-context server"
    paths = " ".join(path for _, path in chosen.requests)
    if namespace_flag == "n":
        assert "/namespaces/ns-from-flag" in paths
    elif namespace_flag == "i":
        pass  # version reads the server version first; -i is exercised below
    assert "Error: forbidden" in result.stderr


def test_istio_namespace_flag_reaches_version(tmp_path):
    def responder(method, path):
        if path.startswith("/version"):
            return 200, {"gitVersion": "v1.36.3", "platform": "linux/amd64"}
        return 403, status_body(403, "Forbidden", "recorded")

    server = FakeApiServer(responder)
    try:
        kubeconfig = write_kubeconfig(tmp_path / "kc", {"only": server.url}, current="only")
        invoke("version", "-c", str(kubeconfig), "-i", "istio-from-flag")
        assert any("/namespaces/istio-from-flag/" in p for _, p in server.requests), server.requests
    finally:
        server.close()


def test_context_namespace_used_when_no_flag(tmp_path):
    server = FakeApiServer(lambda m, p: (403, status_body(403, "Forbidden", "x")))
    try:
        kubeconfig = write_kubeconfig(tmp_path / "kc", {"ctx": server.url}, current="ctx",
                                      namespaces={"ctx": "from-context"})
        invoke("-c", str(kubeconfig), "dataplane", "status")
        assert any("/namespaces/from-context" in p for _, p in server.requests), server.requests
    finally:
        server.close()


def test_request_timeout_flag_is_used(tmp_path):
    import time as _time

    def slow(method, path):
        _time.sleep(1.5)
        return 200, {"gitVersion": "v1.36.3"}

    server = FakeApiServer(slow)
    try:
        kubeconfig = write_kubeconfig(tmp_path / "kc", {"slow": server.url}, current="slow")
        started = _time.monotonic()
        result = invoke("-c", str(kubeconfig), "version", "--request-timeout", "0.3")
        assert result.exit_code == 4, result.stderr
        assert "did not answer within 0.3s" in result.stderr
        assert _time.monotonic() - started < 1.4 * 2  # one retry at most, never the server's 1.5 s each
    finally:
        server.close()
