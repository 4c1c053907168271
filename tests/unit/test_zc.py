"""`ambientctl ztunnel-config` (zc): istioctl's tables, filters and documents from a ztunnel dump."""

from __future__ import annotations

import io
import json

import pytest

from ambientctl.errors import ExitCode
from ambientctl.proxy import decode
from ambientctl.proxy import ztunneldump as zd
from tests.support import dumpshapes as ds
from tests.support import golden
from tests.support.cli import invoke



def assert_golden(name: str, text: str) -> None:
    golden.assert_golden(f"zc/{name}", text)


def workload(ns, name, ip, node, protocol="HBONE", waypoint=None, status="Healthy", sa=None):
    return {"uid": f"Kubernetes//Pod/{ns}/{name}", "workloadIps": [ip] if ip else [], "protocol": protocol,
            "name": name, "namespace": ns, "serviceAccount": sa or name.split("-")[0], "node": node,
            "status": status, "workloadName": name.rsplit("-", 2)[0], "workloadType": "deployment",
            "canonicalName": name.split("-")[0], "canonicalRevision": "latest", "trustDomain": "cluster.local",
            "clusterId": "Kubernetes", "waypoint": waypoint}


def mesh_dump() -> dict:
    """A small mesh: a namespace waypoint, a service behind it, one unhealthy endpoint, live connections."""
    wp = {"destination": "/10.96.0.50", "hboneMtlsPort": 15008}
    workloads = [
        workload("shop", "cart-5d9c-abcde", "10.244.1.10", "ambient-worker", waypoint=wp),
        workload("shop", "cart-5d9c-fghij", "10.244.2.11", "ambient-worker2", waypoint=wp, status="Unhealthy"),
        workload("shop", "waypoint-7f8d-zzzzz", "10.244.1.12", "ambient-worker", protocol="TCP"),
        workload("default", "sleep-6b7f-qqqqq", "10.244.2.13", "ambient-worker2"),
        workload("istio-system", "ztunnel-x1", "10.244.1.2", "ambient-worker", protocol="TCP"),
        workload("shop", "legacy-vm", "", "", protocol="TCP") | {"hostname": "vm.shop.example"},
    ]
    services = [
        {"name": "waypoint", "namespace": "shop", "hostname": "waypoint.shop.svc.cluster.local",
         "vips": ["/10.96.0.50"], "ports": {"15008": 15008}, "endpoints": {
             "Kubernetes//Pod/shop/waypoint-7f8d-zzzzz": {"workloadUid": "Kubernetes//Pod/shop/waypoint-7f8d-zzzzz",
                                                          "service": "", "port": {"15008": 15008}}},
         "ipFamilies": "IPv4"},
        {"name": "cart", "namespace": "shop", "hostname": "cart.shop.svc.cluster.local", "vips": ["/10.96.0.60"],
         "ports": {"80": 8080}, "waypoint": {"destination": "shop/waypoint.shop.svc.cluster.local"},
         "endpoints": {f"Kubernetes//Pod/shop/{n}": {"workloadUid": f"Kubernetes//Pod/shop/{n}", "service": "",
                                                    "port": {"80": 8080}}
                       for n in ("cart-5d9c-abcde", "cart-5d9c-fghij")}, "ipFamilies": "IPv4"},
        {"name": "headless", "namespace": "default", "hostname": "headless.default.svc.cluster.local", "vips": [],
         "ports": {}, "endpoints": {}, "ipFamilies": "IPv4"},
    ]
    policies = [
        {"name": "deny-all", "namespace": "shop", "scope": "Namespace", "action": "Deny", "rules": []},
        {"name": "allow-sleep", "namespace": "default", "scope": "WorkloadSelector", "action": "Allow", "rules": []},
        {"name": "istio_converted_static_strict", "namespace": "istio-system", "scope": "Global", "action": "Deny",
         "rules": []},
    ]
    state = {
        "uid-sleep": {"state": "Up", "info": {"name": "sleep-6b7f-qqqqq", "namespace": "default",
                                               "serviceAccount": "sleep"},
                      "connections": {"inbound": [], "outbound": [
                          {"src": "10.244.2.13:40000", "originalDst": "10.96.0.60:80",
                           "actualDst": "10.244.1.12:15008", "protocol": "HBONE"}]}},
        "uid-cart": {"state": "Up", "info": {"name": "cart-5d9c-abcde", "namespace": "shop", "serviceAccount": "cart"},
                     "connections": {"inbound": [
                         {"src": "10.244.1.12:51000", "originalDst": None, "actualDst": "10.244.1.10:8080",
                          "protocol": "HBONE"},
                         {"src": "[fd00::7]:5555", "originalDst": "cart.shop.svc.cluster.local",
                          "actualDst": "10.244.1.10:8080", "protocol": "TCP"}], "outbound": []}},
    }
    golden = ds.golden_dump()
    return {"workloads": {f"/{w['workloadIps'][0]}" if w["workloadIps"] else w["name"]: w for w in workloads},
            "services": {s["vips"][0] if s["vips"] else s["hostname"]: s for s in services},
            "policies": policies, "certificates": golden["certificates"], "workloadState": state}


def read(request: zd.Request, doc: dict | None = None) -> zd.ZtunnelDump:
    return zd.read(json.dumps(doc or mesh_dump(), indent=2).encode(), "dump.json", request)


@pytest.fixture(scope="module")
def dump() -> zd.ZtunnelDump:
    parsed = read(zd.Request.everything())
    decode.decode_all(parsed.dump)
    return parsed


def table(headers, rows) -> str:
    return zd.table_text(headers, rows)


def format_workloads(flt: zd.WorkloadFilter = zd.WorkloadFilter()) -> str:
    return table(zd.WORKLOAD_HEADERS, zd.workload_rows(read(zd.Request(workloads=flt))))


def format_connections(dump: zd.ZtunnelDump, flt: zd.ConnectionFilter) -> str:
    return table(zd.CONNECTION_HEADERS, zd.connection_rows(dump, flt))


@pytest.fixture
def dump_file(tmp_path) -> str:
    path = tmp_path / "ztunnel.json"
    path.write_text(json.dumps(mesh_dump()))
    return str(path)


# -- golden tables ------------------------------------------------------------------------------


def test_workload_table(dump):
    assert_golden("workload.txt", table(zd.WORKLOAD_HEADERS, zd.workload_rows(dump)))


def test_service_table(dump):
    assert_golden("service.txt", table(zd.SERVICE_HEADERS, zd.service_rows(dump)))


def test_policy_table(dump):
    assert_golden("policy.txt", table(zd.POLICY_HEADERS, zd.policy_rows(dump)))


def test_connections_table(dump):
    assert_golden("connections.txt", format_connections(dump, zd.ConnectionFilter()))


def test_all_with_headers(dump):
    buffer = io.StringIO()
    out = zd.Writer(buffer)
    zd.write_all(out, dump, ds.GOLDEN_NOW, with_headers=True)
    out.close()
    assert_golden("all_with_headers.txt", buffer.getvalue())


# -- istioctl's rules, spelled out -----------------------------------------------------------------


def test_workload_rows(dump):
    rows = [line.split() for line in format_workloads().splitlines()[1:]]
    assert [(r[0], r[1]) for r in rows] == sorted((r[0], r[1]) for r in rows)  # namespace.name order
    cart = next(r for r in rows if r[1] == "cart-5d9c-abcde")
    assert cart == ["shop", "cart-5d9c-abcde", "10.244.1.10", "ambient-worker", "waypoint", "HBONE"]
    sleep = next(r for r in rows if r[1] == "sleep-6b7f-qqqqq")
    assert sleep[4] == "None"
    vm = next(r for r in rows if r[1] == "legacy-vm")
    assert vm[2] == "vm.shop.example"  # no IP: the hostname


@pytest.mark.parametrize("flt, names", [
    (zd.WorkloadFilter(namespace="SHOP"), ["cart-5d9c-abcde", "cart-5d9c-fghij", "legacy-vm", "waypoint-7f8d-zzzzz"]),
    (zd.WorkloadFilter(node="ambient-worker2"), ["sleep-6b7f-qqqqq", "cart-5d9c-fghij"]),
    (zd.WorkloadFilter(address="10.244.1.12"), ["waypoint-7f8d-zzzzz"]),
    (zd.WorkloadFilter(namespace="shop", node="ambient-worker"), ["cart-5d9c-abcde", "waypoint-7f8d-zzzzz"]),
    (zd.WorkloadFilter(address="10.0.0.1"), []),
])
def test_workload_filters(flt, names):
    assert [row[1] for row in zd.workload_rows(read(zd.Request(workloads=flt)))] == names


def test_service_rows(dump):
    rows = [line.split() for line in table(zd.SERVICE_HEADERS, zd.service_rows(dump)).splitlines()[1:]]
    assert rows == [
        ["default", "headless", "None", "0/0"],
        ["shop", "cart", "10.96.0.60", "waypoint", "1/2"],   # one endpoint Unhealthy
        ["shop", "waypoint", "10.96.0.50", "None", "1/1"],
    ]


def test_connection_rows_resolve_names_unless_raw(dump):
    rows = format_connections(dump, zd.ConnectionFilter()).splitlines()[1:]
    assert rows[0].split() == ["sleep-6b7f-qqqqq.default", "Outbound", "sleep-6b7f-qqqqq.default:40000",
                               "waypoint-7f8d-zzzzz.shop:15008", "cart.shop.svc.cluster.local:80", "HBONE"]
    raw = format_connections(dump, zd.ConnectionFilter(raw=True)).splitlines()[1:]
    assert "10.244.2.13:40000" in raw[0] and "10.96.0.60:80" in raw[0]
    inbound = format_connections(dump, zd.ConnectionFilter(direction="inbound")).splitlines()[1:]
    assert all(" Inbound " in r for r in inbound) and len(inbound) == 2
    assert "[fd00::7]:5555" in inbound[1]


def test_connection_filter_by_workload_dot_namespace(dump):
    rows = format_connections(dump, zd.ConnectionFilter(workload="cart-5d9c-abcde.shop")).splitlines()[1:]
    assert len(rows) == 2 and all(r.startswith("cart-5d9c-abcde.shop") for r in rows)


# -- the CLI ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [["workload"], ["w"], ["workloads"]])
def test_workload_command_and_aliases(dump_file, args):
    result = invoke("zc", *args, "--file", dump_file)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0].split() == ["NAMESPACE", "POD", "NAME", "ADDRESS", "NODE", "WAYPOINT",
                                                     "PROTOCOL"]
    assert len(result.stdout.splitlines()) == 7


def test_workload_json_keeps_every_field(dump_file):
    result = invoke("ztunnel-config", "workload", "--file", dump_file, "--workload-namespace", "default", "-o", "json")
    assert result.exit_code == 0
    assert result.json == [mesh_dump()["workloads"]["/10.244.2.13"]]


def test_yaml_matches_json(dump_file):
    for sub in ("service", "policy", "connections", "certificate", "all"):
        as_json = invoke("zc", sub, "--file", dump_file, "-o", "json")
        as_yaml = invoke("zc", sub, "--file", dump_file, "-o", "yaml")
        assert as_json.json == as_yaml.yaml, sub


def test_policy_namespace_filter(dump_file):
    result = invoke("zc", "policy", "--file", dump_file, "--policy-namespace", "shop", "-o", "json")
    assert [p["name"] for p in result.json] == ["deny-all"]


def test_certificate_json_is_ztunnels_list(dump_file):
    result = invoke("zc", "certificate", "--file", dump_file, "-o", "json", "--identity", "default/sleep")
    assert result.exit_code == 0
    assert result.json == [ds.golden_dump()["certificates"][0]]


def test_certificate_table_is_pc_secrets(dump_file):
    zc = invoke("zc", "certificate", "--file", dump_file)
    pc = invoke("pc", "secret", "--file", dump_file)
    assert zc.stdout == pc.stdout and zc.exit_code == pc.exit_code


def test_all_json_is_the_whole_dump(dump_file):
    result = invoke("zc", "all", "--file", dump_file, "-o", "json")
    assert result.json == mesh_dump()


def test_envoy_dump_is_refused(tmp_path):
    path = tmp_path / "envoy.json"
    path.write_text(json.dumps(ds.to_envoy(ds.golden_dump())))
    result = invoke("zc", "workload", "--file", str(path))
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "is an Envoy config dump, not ztunnel's" in result.stderr
    assert "pc secret" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["connections", "--direction", "sideways"], "invalid --direction"),
    (["workload", "--node", "ambient-worker"], "--node picks a live ztunnel pod"),
])
def test_zc_flag_mistakes(dump_file, args, message):
    result = invoke("zc", *args, "--file", dump_file)
    assert result.exit_code == ExitCode.USAGE
    assert message in result.stderr and "Traceback" not in result.stderr
