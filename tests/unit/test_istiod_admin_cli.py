"""`admin log`, `remote-clusters` and `x internal-debug` through the CLI and the real request code, against
stand-ins of istiod's ControlZ (9876) and HTTP debug endpoints (15014) (tests/support/adminstandin.py)."""

from __future__ import annotations

import json

import pytest
import yaml

from ambientctl.errors import ExitCode
from tests.support.adminstandin import ControlZ, IstiodDebug, patch_portforward
from tests.support.fakekube import FakeKube, invoke_with
from tests.support.golden import assert_golden


def istiod(name: str, revision: str | None = "default", *, phase: str = "Running", annotations: dict | None = None):
    labels = {"app": "istiod", **({"istio.io/rev": revision} if revision else {})}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "istio-system", "labels": labels,
                         "annotations": annotations or {}},
            "spec": {"containers": [{"name": "discovery"}]}, "status": {"phase": phase}}


@pytest.fixture
def cluster() -> FakeKube:
    return FakeKube([istiod("istiod-a"), istiod("istiod-b"), istiod("istiod-old", phase="Pending")])


def run(fake: FakeKube, *args: str) -> tuple[int, str, str]:
    result = invoke_with(fake, *args)
    return result.exit_code, result.stdout, result.stderr


# -- admin log ---------------------------------------------------------------------------------------------


def test_listing_prints_istioctls_table_of_the_first_istiod(monkeypatch, cluster):
    calls = patch_portforward(monkeypatch, {("istiod-a", 9876): ControlZ(), ("istiod-b", 9876): ControlZ()})
    code, out, err = run(cluster, "admin", "log")
    assert code == 0, err
    assert_golden("istiod/admin-log.txt", out)
    assert [c[:5] for c in calls()] == [("istiod-a", "istio-system", 9876, "GET", "/scopej/"),
                                        ("istiod-b", "istio-system", 9876, "GET", "/scopej/")]
    assert err == ""


def test_listing_says_when_another_istiod_has_other_levels(monkeypatch, cluster):
    other = ControlZ()
    other.scopes["ads"]["output_level"] = "debug"
    patch_portforward(monkeypatch, {("istiod-a", 9876): ControlZ(), ("istiod-b", 9876): other})
    code, _, err = run(cluster, "admin", "log")
    assert code == 0
    assert "istiod-b.istio-system has other levels than istiod-a.istio-system for: ads" in err


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_documents_have_istioctls_keys(monkeypatch, cluster, fmt):
    patch_portforward(monkeypatch, {("istiod-a", 9876): ControlZ(), ("istiod-b", 9876): ControlZ()})
    code, out, err = run(cluster, "istiod", "l", "-o", fmt)
    assert code == 0, err
    records = json.loads(out) if fmt == "json" else yaml.safe_load(out)
    assert records[0] == {"scope_name": "ads", "log_level": "info", "stack_trace_level": "none",
                          "description": "ads debugging"}
    assert len(records) == 5


def test_level_changes_every_istiod_and_keeps_the_other_fields(monkeypatch, cluster):
    servers = {("istiod-a", 9876): ControlZ(), ("istiod-b", 9876): ControlZ()}
    for server in servers.values():
        server.scopes["ads"]["log_callers"] = True
    patch_portforward(monkeypatch, servers)
    code, out, err = run(cluster, "admin", "log", "--level", "ads:debug,authorization:warn",
                         "--stack-trace-level", "ads:error")
    assert code == 0, err
    assert out == ""
    for server in servers.values():
        assert server.scopes["ads"] == {"name": "ads", "description": "ads debugging", "output_level": "debug",
                                        "stack_trace_level": "error", "log_callers": True}
        assert server.scopes["authorization"]["output_level"] == "warn"
        assert server.scopes["default"]["output_level"] == "info"
        puts = [(m, p) for m, p, _ in server.requests if m == "PUT"]
        assert puts == [("PUT", "/scopej/ads"), ("PUT", "/scopej/authorization")]
    assert "istiod-a.istio-system: 2 scope(s) changed" in err and "istiod-b.istio-system: 2 scope(s) changed" in err


@pytest.mark.parametrize("flag, output, stack", [("--reset", "info", "none"), ("--log-reset", "info", "error"),
                                                 ("--stack-trace-reset", "debug", "none")])
def test_resets(monkeypatch, cluster, flag, output, stack):
    server = ControlZ()
    for scope in server.scopes.values():
        scope.update(output_level="debug", stack_trace_level="error")
    patch_portforward(monkeypatch, {("istiod-a", 9876): server, ("istiod-b", 9876): ControlZ()})
    code, _, err = run(cluster, "admin", "log", flag)
    assert code == 0, err
    assert {(s["output_level"], s["stack_trace_level"]) for s in server.scopes.values()} == {(output, stack)}


def test_unknown_scope_changes_nothing_anywhere(monkeypatch, cluster):
    servers = {("istiod-a", 9876): ControlZ(), ("istiod-b", 9876): ControlZ()}
    patch_portforward(monkeypatch, servers)
    code, out, err = run(cluster, "admin", "log", "--level", "ads:debug,adz:debug")
    assert code == ExitCode.INVALID_INPUT and out == ""
    assert "unknown scope(s) adz; nothing was changed" in err and err.count("\n") == 1
    assert all(m == "GET" for s in servers.values() for m, _, _ in s.requests)


@pytest.mark.parametrize("args, message", [
    (["--level", "ads"], "invalid --level clause 'ads'"),
    (["--level", "ads:loud"], "invalid level 'loud' in --level 'ads:loud'"),
    (["--stack-trace-level", ":debug"], "invalid --stack-trace-level clause ':debug'"),
    (["--level", "ads:debug", "--reset"], "--level cannot be combined with --reset or --log-reset"),
    (["--stack-trace-level", "ads:debug", "--stack-trace-reset"], "--stack-trace-level cannot be combined"),
    (["istiod-a", "-r", "canary"], "give either an istiod pod or --selector/--revision, not both"),
    (["--ctrlz_port", "0"], "Invalid value for '--ctrlz_port'"),
])
def test_flag_mistakes_fail_before_any_request(monkeypatch, cluster, args, message):
    calls = patch_portforward(monkeypatch, {})
    code, out, err = run(cluster, "admin", "log", *args)
    assert code == ExitCode.USAGE and message in err and out == ""
    assert calls() == []


def test_named_pod_selector_and_port(monkeypatch, cluster):
    calls = patch_portforward(monkeypatch, {("istiod-b", 9877): ControlZ()})
    code, _, err = run(cluster, "admin", "log", "istiod-b", "--ctrlz_port", "9877")
    assert code == 0, err
    assert [c[0] for c in calls()] == ["istiod-b"]
    code, _, err = run(cluster, "admin", "-l", "app=nothing", "log")
    assert code == ExitCode.NOT_FOUND and "no running istiod pod (app=nothing) in namespace istio-system" in err


def test_without_revision_one_revision_is_chosen_and_named(monkeypatch):
    fake = FakeKube([istiod("istiod-a"), istiod("istiod-canary", "canary")])
    calls = patch_portforward(monkeypatch, {("istiod-a", 9876): ControlZ(), ("istiod-canary", 9876): ControlZ()})
    code, _, err = run(fake, "admin", "log", "--level", "ads:debug")
    assert code == 0, err
    assert {c[0] for c in calls()} == {"istiod-a"}
    assert "istiod revision default (also running: canary; pick one with --revision)" in err
    code, _, err = run(fake, "admin", "log", "-r", "canary", "--level", "ads:debug")
    assert code == 0 and "istiod-canary.istio-system: 1 scope(s) changed" in err


def test_a_port_that_is_not_controlz(monkeypatch, cluster):
    patch_portforward(monkeypatch, {("istiod-a", 9876): IstiodDebug()})
    code, _, err = run(cluster, "admin", "log", "istiod-a")
    assert code == ExitCode.ERROR and err.count("Error:") == 1 and "answered HTTP 404" in err


# -- remote-clusters ----------------------------------------------------------------------------------------

CLUSTERS_B = (b'[{"id":"Kubernetes","secretName":"","syncStatus":"synced"},'
              b'{"id":"east","secretName":"istio-system/istio-remote-secret-east","syncStatus":"timeout"}]')


def test_remote_clusters_table(monkeypatch, cluster):
    calls = patch_portforward(monkeypatch, {("istiod-b", 15014): IstiodDebug(clusterz=CLUSTERS_B),
                                            ("istiod-a", 15014): IstiodDebug()})
    code, out, err = run(cluster, "remote-clusters")
    assert code == 0, err
    assert_golden("istiod/remote-clusters.txt", out)
    assert [c[2:] for c in calls()] == [(15014, "GET", "/debug/clusterz")] * 2


def test_remote_clusters_json_and_monitoring_port_annotation(monkeypatch):
    fake = FakeKube([istiod("istiod-a", None, annotations={"prometheus.io/port": "15099"})])
    patch_portforward(monkeypatch, {("istiod-a", 15099): IstiodDebug(clusterz=CLUSTERS_B)})
    code, out, err = run(fake, "remote-clusters", "-o", "json")
    assert code == 0, err
    assert json.loads(out)[1] == {"name": "east", "secret": "istio-system/istio-remote-secret-east",
                                  "status": "timeout", "istiod": "istiod-a", "revision": ""}


def test_remote_clusters_one_istiod_down(monkeypatch, cluster):
    patch_portforward(monkeypatch, {("istiod-b", 15014): IstiodDebug(clusterz=CLUSTERS_B)})
    code, out, err = run(cluster, "remote-clusters")
    assert "east" in out and code == ExitCode.ERROR
    assert err.count("Error:") == 1 and "istiod istiod-a.istio-system: port-forward" in err


def test_remote_clusters_of_a_revision(monkeypatch):
    fake = FakeKube([istiod("istiod-a"), istiod("istiod-canary", "canary")])
    calls = patch_portforward(monkeypatch, {("istiod-canary", 15014): IstiodDebug()})
    code, out, _ = run(fake, "remote-clusters", "-r", "canary")
    assert code == 0 and [c[0] for c in calls()] == ["istiod-canary"]
    assert out.splitlines()[1].split() == ["Kubernetes", "synced", "istiod-canary", "canary"]


# -- x internal-debug ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["configz", "debug/configz", "/debug/configz"])
def test_internal_debug_reads_the_first_istiod(monkeypatch, cluster, endpoint):
    debug = IstiodDebug()
    calls = patch_portforward(monkeypatch, {("istiod-a", 15014): debug})
    code, out, err = run(cluster, "x", "internal-debug", endpoint)
    assert code == 0, err
    assert out == debug.endpoints["configz"].decode()
    assert [c[:5] for c in calls()] == [("istiod-a", "istio-system", 15014, "GET", "/debug/configz")]


def test_internal_debug_proxy_and_query(monkeypatch, cluster):
    calls = patch_portforward(monkeypatch, {("istiod-a", 15014): IstiodDebug(syncz=b"[]")})
    code, _, err = run(cluster, "x", "internal-debug", "syncz?namespace=default", "waypoint-1.default")
    assert code == 0, err
    assert calls()[0][4] == "/debug/syncz?namespace=default&proxyID=waypoint-1.default"


def test_internal_debug_all_is_one_document(monkeypatch, cluster):
    patch_portforward(monkeypatch, {("istiod-a", 15014): IstiodDebug(), ("istiod-b", 15014): IstiodDebug()})
    code, out, err = run(cluster, "x", "internal-debug", "registryz", "--all")
    assert code == 0, err
    assert json.loads(out) == {"istiod-a.istio-system": [], "istiod-b.istio-system": []}


def test_internal_debug_list(monkeypatch, cluster):
    patch_portforward(monkeypatch, {("istiod-a", 15014): IstiodDebug()})
    code, out, err = run(cluster, "x", "internal-debug", "-L")
    assert code == 0, err
    assert out == "clusterz\nconfig_dump\nconfigz\nregistryz\nsyncz\n"


@pytest.mark.parametrize("args, message", [
    ([], "give one debug endpoint or --list"),
    (["syncz", "--list"], "give one debug endpoint or --list"),
    (["sync z"], "invalid debug endpoint 'sync z'"),
    (["pprof/heap"], "invalid debug endpoint"),
    (["syncz", "--xds-address", "istiod:15012"], "--xds-address is not supported: ambientctl reads istiod's HTTP"),
    (["syncz", "--plaintext"], "--plaintext is not supported"),
    (["syncz", "--timeout", "0s"], "--timeout 0s is not positive"),
])
def test_internal_debug_mistakes(monkeypatch, cluster, args, message):
    calls = patch_portforward(monkeypatch, {})
    code, out, err = run(cluster, "x", "internal-debug", *args)
    assert code == ExitCode.USAGE and message in err and out == "", err
    assert calls() == []
    code, _, err = run(cluster, "x", "internal-debug", "syncz", "--timeout", "soon")
    assert code == ExitCode.INVALID_INPUT and "invalid duration 'soon' for --timeout" in err


def test_internal_debug_unknown_endpoint_is_istiods_404(monkeypatch, cluster):
    patch_portforward(monkeypatch, {("istiod-a", 15014): IstiodDebug()})
    code, out, err = run(cluster, "x", "internal-debug", "nothingz")
    assert code == ExitCode.ERROR and out == "" and "answered HTTP 404" in err


@pytest.mark.parametrize("argv", [["admin", "log", "--help"], ["remote-clusters", "--help"],
                                  ["x", "internal-debug", "--help"], ["x", "es", "--help"]])
def test_help_imports_no_kubernetes(argv):
    import subprocess
    import sys

    probe = ("import sys, io, contextlib\nfrom ambientctl.cli import run\n"
             "with contextlib.redirect_stdout(io.StringIO()):\n    code = run(sys.argv[1:])\n"
             "print(code, 'kubernetes' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "False"], out.stderr
