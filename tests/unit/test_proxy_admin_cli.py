"""`pc log`, `zc log`, `pc rootca-compare`, `proxy-status` and `pc secret` on Envoy dumps, driven
through the CLI and the real request code, against stand-ins of the Envoy, ztunnel and istiod
admin endpoints (tests/support/adminstandin.py) on a fake cluster."""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import pytest

from ambientctl.errors import ExitCode
from tests.support import envoysecrets as es
from tests.support import syncz
from tests.support.adminstandin import EnvoyAdmin, IstiodDebug, ZtunnelAdmin, patch_portforward
from tests.support.cli import invoke
from tests.support.fakekube import FakeKube, invoke_with

# -- a fake cluster ------------------------------------------------------------------------------------


def pod(name: str, namespace: str, labels: dict, *, proxy: bool = True, phase: str = "Running", node: str = "n1"):
    containers = [{"name": "istio-proxy"}] if proxy else [{"name": "app"}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {"containers": containers, "nodeName": node}, "status": {"phase": phase}}


def owner(kind: str, name: str, namespace: str, labels: dict) -> dict:
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "namespace": namespace},
            "spec": {"selector": {"matchLabels": labels}}}


ZTUNNEL = {"app": "ztunnel"}
WAYPOINT = {"gateway.networking.k8s.io/gateway-name": "waypoint"}


@pytest.fixture
def mesh_cluster() -> FakeKube:
    return FakeKube([
        owner("DaemonSet", "ztunnel", "istio-system", ZTUNNEL),
        pod("ztunnel-a", "istio-system", ZTUNNEL),
        pod("ztunnel-b", "istio-system", ZTUNNEL, node="n2"),
        owner("Deployment", "waypoint", "default", WAYPOINT),
        pod("waypoint-1", "default", WAYPOINT),
        pod("waypoint-2", "default", WAYPOINT, node="n2"),
        pod("sleep-1", "default", {"app": "sleep"}, proxy=False),
        pod("istiod-1", "istio-system", {"app": "istiod"}),
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "istio-sidecar-injector", "namespace": "istio-system"},
         "data": {"values": json.dumps({"global": {"proxy": {"logLevel": "info"}}})}},
    ])


def run(fake: FakeKube, *args: str) -> tuple[int, str, str]:
    result = invoke_with(fake, *args)
    return result.exit_code, result.stdout, result.stderr


# -- pc log / zc log --------------------------------------------------------------------------------------


def test_pc_log_shows_every_waypoint_pods_levels(monkeypatch, mesh_cluster):
    admins = {("waypoint-1", 15000): EnvoyAdmin(), ("waypoint-2", 15000): EnvoyAdmin()}
    calls = patch_portforward(monkeypatch, admins)
    code, out, err = run(mesh_cluster, "pc", "log", "deploy/waypoint")
    assert code == 0, err
    assert out.startswith("waypoint-1.default:\nactive loggers:\n  admin: warning\n")
    assert "waypoint-2.default:\nactive loggers:" in out
    assert [c[3:] for c in calls()] == [("POST", "/logging")] * 2


def test_pc_log_by_waypoint_name_reaches_every_waypoint_pod(monkeypatch, mesh_cluster):
    admins = {("waypoint-1", 15000): EnvoyAdmin(), ("waypoint-2", 15000): EnvoyAdmin()}
    patch_portforward(monkeypatch, admins)
    code, out, err = run(mesh_cluster, "pc", "log", "waypoint", "-n", "default")
    assert code == 0, err
    assert out.count("active loggers:") == 2
    code, _, err = run(mesh_cluster, "pc", "log", "nothing", "-n", "default")
    assert code == ExitCode.NOT_FOUND and "no pod, waypoint or gateway named nothing" in err


def test_pc_log_sets_named_loggers_after_checking_them(monkeypatch, mesh_cluster):
    admin = EnvoyAdmin()
    patch_portforward(monkeypatch, {("waypoint-1", 15000): admin})
    code, out, err = run(mesh_cluster, "pc", "log", "waypoint-1", "--level", "http:debug,router=trace,warn")
    assert code == 0, err
    assert admin.loggers == {"admin": "warning", "connection": "warning", "http": "debug", "router": "trace",
                             "upstream": "warning"}
    assert [p for _, p in admin.requests] == ["/logging", "/logging?level=warning", "/logging?http=debug",
                                              "/logging?router=trace"]
    assert "  http: debug\n" in out


def test_pc_log_unknown_logger_changes_nothing(monkeypatch, mesh_cluster):
    admin = EnvoyAdmin()
    patch_portforward(monkeypatch, {("waypoint-1", 15000): admin})
    code, out, err = run(mesh_cluster, "pc", "log", "waypoint-1", "--level", "htp:debug")
    assert code == ExitCode.INVALID_INPUT
    assert "unrecognized logger name: htp" in err and out == ""
    assert admin.requests == [("POST", "/logging")]


def test_pc_log_reset_uses_the_meshs_proxy_log_level(monkeypatch, mesh_cluster):
    admin = EnvoyAdmin(loggers={"admin": "debug", "http": "trace"})
    patch_portforward(monkeypatch, {("waypoint-1", 15000): admin})
    code, _, err = run(mesh_cluster, "pc", "log", "waypoint-1", "-r")
    assert code == 0, err
    assert admin.loggers == {"admin": "info", "http": "info"}


@pytest.mark.parametrize("args, code, message", [
    (["--level", "debug", "-r"], ExitCode.USAGE, "--level cannot be combined with --reset"),
    (["--level", "loud"], ExitCode.USAGE, "unrecognized logging level: loud"),
    (["--proxy-admin-port", "0"], ExitCode.USAGE, "Invalid value for '--proxy-admin-port'"),
])
def test_pc_log_flag_mistakes_fail_before_any_request(monkeypatch, mesh_cluster, args, code, message):
    calls = patch_portforward(monkeypatch, {})
    got, _, err = run(mesh_cluster, "pc", "log", "waypoint-1", *args)
    assert got == code and message in err
    assert calls() == []


def test_pc_log_needs_a_target(monkeypatch, mesh_cluster):
    patch_portforward(monkeypatch, {})
    code, _, err = run(mesh_cluster, "pc", "log")
    assert code == ExitCode.USAGE and "a pod or --selector is required" in err


def test_pc_log_by_selector_and_one_pod_failing(monkeypatch, mesh_cluster):
    patch_portforward(monkeypatch, {("waypoint-2", 15000): EnvoyAdmin()})
    code, out, err = run(mesh_cluster, "pc", "log", "-l", "gateway.networking.k8s.io/gateway-name=waypoint")
    assert "waypoint-2.default:\nactive loggers:" in out       # the other pod is still shown
    assert code != 0 and err.count("Error:") == 1 and "waypoint-1.default: port-forward" in err


def test_zc_log_defaults_to_every_ztunnel_and_translates_levels(monkeypatch, mesh_cluster):
    admins = {("ztunnel-a", 15000): ZtunnelAdmin(), ("ztunnel-b", 15000): ZtunnelAdmin()}
    patch_portforward(monkeypatch, admins)
    code, out, err = run(mesh_cluster, "zc", "log", "--level", "access:debug,warning")
    assert code == 0, err
    expected = "current log level is hickory_server::server=off,info,warn,access=debug\n"
    assert out == f"ztunnel-a.istio-system:\n{expected}\nztunnel-b.istio-system:\n{expected}\n"


def test_zc_log_reset_and_listing(monkeypatch, mesh_cluster):
    admin = ZtunnelAdmin(current="debug")
    patch_portforward(monkeypatch, {("ztunnel-a", 15000): admin})
    code, out, _ = run(mesh_cluster, "zc", "log", "ztunnel-a.istio-system")
    assert code == 0 and out == "ztunnel-a.istio-system:\ncurrent log level is debug\n\n"
    code, out, _ = run(mesh_cluster, "zc", "log", "ztunnel-a.istio-system", "-r")
    assert code == 0 and "current log level is hickory_server::server=off,info,info\n" in out


def test_zc_log_refuses_a_pod_that_is_not_a_ztunnel(monkeypatch, mesh_cluster):
    calls = patch_portforward(monkeypatch, {})
    code, _, err = run(mesh_cluster, "zc", "log", "waypoint-1.default")
    assert code == ExitCode.INVALID_INPUT and "is not a ztunnel" in err and calls() == []


def test_pc_log_on_a_ztunnel_uses_ztunnels_api(monkeypatch, mesh_cluster):
    admin = ZtunnelAdmin()
    patch_portforward(monkeypatch, {("ztunnel-a", 15000): admin})
    code, out, err = run(mesh_cluster, "pc", "log", "ztunnel-a.istio-system", "--level", "debug")
    assert code == 0, err
    assert admin.requests == [("POST", "/logging?level=debug")]


# -- rootca-compare ------------------------------------------------------------------------------------------


def _ztunnel_dump_with_root(root_pem: bytes) -> bytes:
    return json.dumps({"certificates": [{"identity": "spiffe://cluster.local/ns/default/sa/sleep",
                                         "state": "Available", "certChain": [],
                                         "rootCerts": [{"pem": base64.b64encode(root_pem).decode()}]}]}).encode()


def test_rootca_compare_same_mesh_root(monkeypatch, mesh_cluster):
    root = es.pem(es.mesh_ca()[0].cert)
    patch_portforward(monkeypatch, {
        ("waypoint-1", 15000): EnvoyAdmin(dump=json.dumps(es.waypoint_dump()).encode()),
        ("ztunnel-a", 15000): ZtunnelAdmin(dump=_ztunnel_dump_with_root(root)),
    })
    code, out, err = run(mesh_cluster, "pc", "rootca-compare", "waypoint-1", "ztunnel-a.istio-system")
    assert code == 0, err
    assert out == ("Both [waypoint-1.default] and [ztunnel-a.istio-system] have the identical ROOTCA, "
                   "theoretically the connectivity between them is available\n")


def test_rootca_compare_different_roots_fails_with_istioctls_sentence(monkeypatch, mesh_cluster):
    patch_portforward(monkeypatch, {
        ("waypoint-1", 15000): EnvoyAdmin(dump=json.dumps(es.waypoint_dump()).encode()),
        ("waypoint-2", 15000): EnvoyAdmin(dump=json.dumps(es.spiffe_bundle_dump()).encode()),
    })
    code, out, err = run(mesh_cluster, "pc", "rc", "waypoint-1", "waypoint-2")
    assert code == ExitCode.CHECK_FAILED and out == ""
    assert "have the non identical ROOTCA, theoretically the connectivity between them is unavailable" in err


def test_rootca_compare_without_rootca(monkeypatch, mesh_cluster):
    patch_portforward(monkeypatch, {("waypoint-1", 15000): EnvoyAdmin(dump=json.dumps(es.envoy_dump([])).encode()),
                                    ("waypoint-2", 15000): EnvoyAdmin()})
    code, _, err = run(mesh_cluster, "pc", "rootca-compare", "waypoint-1", "waypoint-2")
    assert code == ExitCode.INVALID_INPUT and "no active ROOTCA" in err


# -- proxy-status -------------------------------------------------------------------------------------------


def test_proxy_status_reads_every_istiods_syncz(monkeypatch, mesh_cluster):
    istiod = IstiodDebug(syncz=syncz.encoded(syncz.ambient_mesh()))
    patch_portforward(monkeypatch, {("istiod-1", 15014): istiod})
    code, out, err = run(mesh_cluster, "proxy-status")
    assert code == 0, err
    assert out.splitlines()[0].split() == ["NAME", "CLUSTER", "ISTIOD", "VERSION", "SUBSCRIBED", "TYPES"]
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[1:]}
    assert rows["ztunnel-4kx9p.istio-system"] == ["Kubernetes", "istiod-1", "1.31.0", "2", "(WADS,WDS)"]
    assert istiod.requests == [("GET", "/debug/syncz")]


def test_ps_namespace_json_and_verbose(monkeypatch, mesh_cluster):
    istiod = IstiodDebug(syncz=syncz.encoded(syncz.ambient_mesh()))
    patch_portforward(monkeypatch, {("istiod-1", 15014): istiod})
    code, out, err = run(mesh_cluster, "ps", "-n", "istio-system", "-o", "json")
    assert code == 0, err
    assert [p["proxy"] for p in json.loads(out)] == ["ztunnel-4kx9p.istio-system", "ztunnel-zq7rm.istio-system"]
    assert istiod.requests[-1] == ("GET", "/debug/syncz?namespace=istio-system")
    code, out, _ = run(mesh_cluster, "ps", "-v", "1")
    assert code == 0 and out.splitlines()[0].split()[:4] == ["NAME", "CLUSTER", "CDS", "ECDS"]


def test_ps_without_istiod(monkeypatch):
    patch_portforward(monkeypatch, {})
    code, _, err = run(FakeKube([]), "ps")
    assert code == ExitCode.NOT_FOUND and "no running istiod pod (app=istiod) in namespace istio-system" in err


def test_ps_pod_diff_and_ztunnel(monkeypatch, mesh_cluster):
    proxy_dump = json.dumps(es.waypoint_dump()).encode()
    istiod = IstiodDebug(dumps={"waypoint-1.default": proxy_dump})
    patch_portforward(monkeypatch, {("istiod-1", 15014): istiod, ("waypoint-1", 15000): EnvoyAdmin(dump=proxy_dump)})
    code, out, err = run(mesh_cluster, "ps", "waypoint-1")
    assert code == 0, err
    assert out == "Clusters Match\nListeners Match\nRoutes Match\n"
    assert istiod.requests == [("GET", "/debug/config_dump?proxyID=waypoint-1.default")]
    code, out, _ = run(mesh_cluster, "ps", "ztunnel-a.istio-system")
    assert code == 0 and out == "Sync diff is not available for ztunnel pod ztunnel-a.istio-system\n"


def test_ps_pod_not_connected(monkeypatch, mesh_cluster):
    patch_portforward(monkeypatch, {("istiod-1", 15014): IstiodDebug(),
                                    ("waypoint-1", 15000): EnvoyAdmin()})
    code, _, err = run(mesh_cluster, "ps", "waypoint-1")
    assert code == ExitCode.NOT_FOUND and "proxy waypoint-1.default is not connected to istiod istiod-1" in err


def test_ps_istiod_address_reads_directly(monkeypatch):
    """--istiod-address: plain HTTP to a local istiod (here a stand-in HTTP server on 127.0.0.1)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    import threading

    body = syncz.encoded(syncz.ambient_mesh()[:1])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200 if self.path.startswith("/debug/syncz") else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        address = f"127.0.0.1:{server.server_address[1]}"
        code, out, err = run(FakeKube([]), "ps", "--istiod-address", address)
    finally:
        server.shutdown()
    assert code == 0, err
    assert out.splitlines()[1].split()[:3] == ["ztunnel-4kx9p.istio-system", "Kubernetes", address]


# -- pc secret on Envoy dumps ---------------------------------------------------------------------------------


def test_pc_secret_file_envoy_table_and_guide_pipeline(tmp_path):
    path = tmp_path / "waypoint.json"
    path.write_text(json.dumps(es.waypoint_dump()))
    table = invoke("pc", "secret", "--file", str(path))
    assert table.exit_code == 0, table.stderr
    assert table.stdout.splitlines()[0].split()[:3] == ["RESOURCE", "NAME", "TYPE"]
    assert "0193a543fe2b0d9cd4847675394dfc54" in table.stdout
    document = invoke("pc", "secret", "--file", str(path), "-o", "json")
    inline = document.json["dynamicActiveSecrets"][0]["secret"]["tlsCertificate"]["certificateChain"]["inlineBytes"]
    openssl = subprocess.run(["openssl", "x509", "-noout", "-serial"], input=base64.b64decode(inline),
                             capture_output=True, check=True)
    assert openssl.stdout.decode().strip().lower() == "serial=" + table.stdout.splitlines()[1].split()[5]


def test_pc_secret_spiffe_bundle_no_longer_fails(tmp_path):
    path = tmp_path / "spiffe.json"
    path.write_text(json.dumps(es.spiffe_bundle_dump()))
    result = invoke("pc", "secret", "--file", str(path))
    assert result.exit_code == 0, result.stderr
    assert [line.split()[-1] for line in result.stdout.splitlines()] == ["DOMAIN", "east.local", "east.local",
                                                                         "west.local"]


def test_pc_secret_damaged_envoy_secrets_are_shown_then_reported(tmp_path):
    path = tmp_path / "damaged.json"
    path.write_text(json.dumps(es.damaged_dump()))
    result = invoke("pc", "secret", "--file", str(path))
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert len(result.stdout.splitlines()) == 5
    assert "secret not-pem" in result.stderr and "(and 2 more)" in result.stderr


def test_new_commands_help_imports_no_kubernetes():
    code = ("import sys; from ambientctl.cli import run\n"
            "for args in (['ps', '--help'], ['pc', 'log', '--help'], ['zc', 'log', '--help'],"
            " ['pc', 'rootca-compare', '--help']):\n"
            "    try: run(args)\n"
            "    except SystemExit: pass\n"
            "assert 'kubernetes' not in sys.modules and 'cryptography' not in sys.modules, sorted(sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout
