"""`pc cluster|listener|route|endpoint|bootstrap|ecds|all` through the CLI: files, stdin, pods reached
through the real port-forward request code (an Envoy admin stand-in answers), errors and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.parse
from dataclasses import dataclass, field

import pytest
import yaml

from ambientctl.errors import ExitCode
from ambientctl.proxy.envoy import clusters, endpoints, summary
from ambientctl.proxy.envoy import dump as envoydump
from tests.support import envoydump as fixtures
from tests.support.adminstandin import Answer, patch_portforward
from tests.support.cli import invoke
from tests.unit.test_proxy_admin_cli import WAYPOINT, FakeKube, owner, pod, run


@dataclass
class EnvoyViews:
    """Envoy's admin as `pc` reads it: `/config_dump` (with `include_eds`) and `/clusters?format=json`."""

    doc: dict
    requests: list[str] = field(default_factory=list)

    def handle(self, method: str, path: str) -> Answer:
        self.requests.append(path)
        url = urllib.parse.urlsplit(path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if method == "GET" and url.path == "/config_dump":
            doc = self.doc if query.get("include_eds") == "true" else fixtures.without(self.doc, "EndpointsConfigDump")
            return Answer(200, json.dumps(doc).encode())
        if method == "GET" and url.path == "/clusters" and query.get("format") == "json":
            return Answer(200, json.dumps(fixtures.clusters_json(self.doc)).encode())
        return Answer(404, b"invalid path. admin commands are:\n")


@pytest.fixture(scope="module")
def waypoint_doc() -> dict:
    return fixtures.waypoint_dump()


@pytest.fixture
def cluster_with_waypoint() -> FakeKube:
    return FakeKube([owner("Deployment", "waypoint", "default", WAYPOINT), pod("waypoint-1", "default", WAYPOINT)])


@pytest.fixture
def saved(tmp_path, waypoint_doc) -> dict[str, str]:
    paths = {}
    for name, doc in (("dump", waypoint_doc), ("clusters", fixtures.clusters_json(waypoint_doc)),
                      ("gateway", fixtures.gateway_dump())):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(doc))
        paths[name] = str(path)
    return paths


def test_live_cluster_reads_the_pods_config_dump(monkeypatch, cluster_with_waypoint, waypoint_doc):
    admin = EnvoyViews(waypoint_doc)
    patch_portforward(monkeypatch, {("waypoint-1", 15000): admin})
    code, out, err = run(cluster_with_waypoint, "pc", "cluster", "deploy/waypoint", "--fqdn", "reviews")
    assert code == 0, err
    expected = clusters.format_clusters(envoydump.from_document(waypoint_doc), clusters.ClusterFilter(fqdn="reviews"))
    assert out == expected and admin.requests == ["/config_dump"]


def test_live_all_asks_for_eds_and_endpoint_reads_clusters(monkeypatch, cluster_with_waypoint, waypoint_doc):
    admin = EnvoyViews(waypoint_doc)
    patch_portforward(monkeypatch, {("waypoint-1", 15099): admin})
    code, out, err = run(cluster_with_waypoint, "pc", "all", "waypoint-1.default", "--proxy-admin-port", "15099")
    assert code == 0, err
    assert "endpoint/envoy://connect_originate/10.244.1.11:9080" in out
    code, out, err = run(cluster_with_waypoint, "pc", "ep", "waypoint-1", "--proxy-admin-port", "15099",
                         "--status", "HEALTHY")
    assert code == 0, err
    assert out == endpoints.format_hosts(fixtures.clusters_json(waypoint_doc), endpoints.EndpointFilter(status="HEALTHY"))
    assert admin.requests == ["/config_dump?include_eds=true", "/clusters?format=json"]


def test_every_subcommand_and_alias_reads_a_file(saved):
    for args in (["cluster"], ["c"], ["clusters"], ["listener"], ["l"], ["listener", "--waypoint"], ["route"],
                 ["r"], ["bootstrap", "-o", "short"], ["b"], ["all"], ["a", "--with-headers"]):
        result = invoke("pc", *args, "--file", saved["dump"])
        assert result.exit_code == 0, (args, result.stderr)
        assert result.stdout.strip(), args
    for args in (["endpoint"], ["ep"], ["endpoints", "--status", "healthy"]):
        result = invoke("pc", *args, "--file", saved["clusters"])
        assert result.exit_code == 0 and result.stdout.startswith("ENDPOINT "), (args, result.stderr)
    result = invoke("proxy-config", "ecds", "--file", saved["dump"])
    assert result.exit_code == 11 and "no ECDS filters section" in result.stderr  # a waypoint has no ECDS


def test_stdin_and_the_all_summary_text(saved, waypoint_doc):
    with open(saved["dump"]) as handle:
        result = invoke("pc", "all", "--file", "-", "--with-headers", stdin=handle.read())
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("------ BOOTSTRAP INFO ------\n\nIstio Version:")
    for title in ("CLUSTER INFO", "LISTENER INFO", "ROUTE INFO", "SECRET INFO", "ENDPOINTS INFO"):
        assert f"\n------ {title} ------\n\n" in result.stdout


@pytest.mark.parametrize("args", [["cluster"], ["listener", "--port", "15008"], ["route", "--name", "encap"],
                                  ["bootstrap"], ["all"]])
@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_documents_are_exactly_one(saved, args, fmt):
    result = invoke("pc", *args, "--file", saved["dump"], "-o", fmt)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout) if fmt == "json" else yaml.safe_load(result.stdout)
    assert isinstance(doc, (list, dict)) and doc
    if fmt == "yaml":
        assert len(list(yaml.safe_load_all(result.stdout))) == 1


def test_endpoint_file_with_a_config_dump_shows_its_eds(saved):
    result = invoke("pc", "endpoint", "--file", saved["gateway"], "--port", "9080")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("NAME ") and "us-east1/us-east1-b/rack1" in result.stdout


def test_verbose_takes_istioctls_spellings(saved):
    short = invoke("pc", "listener", "--file", saved["dump"], "--verbose=false")
    assert short.stdout.startswith("ADDRESSES PORT  TYPE")
    assert invoke("pc", "listener", "--file", saved["dump"], "--verbose").stdout.startswith("ADDRESSES PORT  MATCH")
    bad = invoke("pc", "route", "--file", saved["dump"], "--verbose=maybe")
    assert bad.exit_code == ExitCode.USAGE and "--verbose=true or --verbose=false" in bad.stderr


@pytest.mark.parametrize("args,code,message", [
    (["pc", "cluster"], ExitCode.USAGE, "cluster needs a pod or --file"),
    (["pc", "route", "deploy/waypoint", "--file", "x.json"], ExitCode.USAGE, "either a pod"),
    (["pc", "listener", "--file", "/nonexistent.json"], ExitCode.INVALID_INPUT, "does not exist"),
    (["pc", "bootstrap", "--file", "-", "--proxy-admin-port", "0"], ExitCode.USAGE, "'--proxy-admin-port'"),
])
def test_mistakes_are_one_line_errors(args, code, message):
    result = invoke(*args)
    assert result.exit_code == code and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_dumps_that_are_not_what_a_view_needs(tmp_path, saved):
    ztunnel = tmp_path / "z.json"
    ztunnel.write_text(json.dumps({"certificates": [], "workloads": []}))
    result = invoke("pc", "cluster", "--file", str(ztunnel))
    assert result.exit_code == ExitCode.INVALID_INPUT and "ambientctl zc" in result.stderr
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"configs": [{"@type": envoydump.LISTENERS}]}))
    result = invoke("pc", "listener", "--file", str(empty))
    assert result.exit_code == ExitCode.NOT_FOUND and "no listeners found" in result.stderr
    result = invoke("pc", "listener", "--file", saved["clusters"])
    assert result.exit_code == ExitCode.INVALID_INPUT and "not an Envoy config dump" in result.stderr


def test_private_keys_never_printed(tmp_path, waypoint_doc):
    doc = json.loads(json.dumps(waypoint_doc))
    key = "-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----\n"
    clusters_section = next(c for c in doc["configs"] if c["@type"] == envoydump.CLUSTERS)
    clusters_section["dynamic_active_clusters"][0]["cluster"]["transport_socket"] = {
        "name": "tls", "typed_config": {"@type": "x.UpstreamTlsContext", "common_tls_context": {
            "tls_certificates": [{"private_key": {"inline_string": key}}]}}}
    path = tmp_path / "keyed.json"
    path.write_text(json.dumps(doc))
    for args in (["cluster", "-o", "json"], ["cluster", "-o", "yaml"], ["all", "-o", "json"]):
        result = invoke("pc", *args, "--file", str(path))
        assert result.exit_code == 0 and "BEGIN PRIVATE KEY" not in result.stdout and "MIIEvQ" not in result.stdout


def test_help_and_files_import_no_kubernetes(saved):
    code = ("import sys, io, contextlib; from ambientctl.cli import run\n"
            "for args in (['pc', 'cluster', '--help'], ['pc', 'all', '--help'], ['pc', 'listener', '--file', "
            f"{saved['dump']!r}], ['pc', 'endpoint', '--file', {saved['clusters']!r}]):\n"
            "    with contextlib.redirect_stdout(io.StringIO()):\n"
            "        try: run(args)\n"
            "        except SystemExit: pass\n"
            "assert 'kubernetes' not in sys.modules, 'kubernetes imported'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_all_filters_reach_every_section(saved):
    result = invoke("pc", "all", "--file", saved["gateway"], "--port", "443")
    assert result.exit_code == 0, result.stderr
    assert "cluster/outbound|443||kubernetes" in result.stdout and "cluster/outbound|9080" not in result.stdout
    assert "listener/0.0.0.0_443" in result.stdout and "listener/0.0.0.0_80 " not in result.stdout
    assert result.stdout.endswith("NAME     STATUS     LOCALITY     CLUSTER\n")  # endpoint port is 6443, not 443
    result = invoke("pc", "all", "--file", saved["gateway"], "--address", "172.18.0.2:6443")
    assert "endpoint/172.18.0.2:6443" in result.stdout and "endpoint/10.244" not in result.stdout
    assert summary.AllFilters().verbose


def test_targets_by_service_and_by_waypoint_or_gateway_name(monkeypatch, waypoint_doc):
    fake = FakeKube([
        owner("Deployment", "waypoint", "default", WAYPOINT), pod("waypoint-1", "default", WAYPOINT),
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "waypoint", "namespace": "default"},
         "spec": {"selector": {"gateway.networking.k8s.io/gateway-name": "waypoint"}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "headless", "namespace": "default"}, "spec": {}},
    ])
    admin = EnvoyViews(waypoint_doc)
    patch_portforward(monkeypatch, {("waypoint-1", 15000): admin})
    for ref in ("svc/waypoint", "service/waypoint.default", "waypoint", "waypoint.default", "deploy/waypoint"):
        code, out, err = run(fake, "pc", "bootstrap", ref, "-o", "short")
        assert code == 0 and out.startswith("Istio Version:"), (ref, err)
    code, _, err = run(fake, "pc", "cluster", "svc/headless")
    assert code == ExitCode.INVALID_INPUT and "has no selector" in err
    code, _, err = run(fake, "pc", "cluster", "nothing-here")
    assert code == ExitCode.NOT_FOUND and "no pod, waypoint or gateway named nothing-here" in err
