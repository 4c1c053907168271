"""analyze's istioctl analyzers (IST codes) and istioctl's flags: each fires where istioctl's would, and not on the fix."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time

import pytest

from ambientctl import analyze as an
from ambientctl.analyze import istio as ist
from ambientctl.analyze.messages import Level, Message
from ambientctl.analyze.suppress import Suppression, parse_suppressions
from ambientctl.mesh.files import add_files, parse_located
from ambientctl.mesh.model import MeshState
from tests.support.cli import invoke
from tests.support.fakekube import FakeKube, invoke_with
from tests.unit.test_analyze import ns, pod, policy, service

NET = "networking.istio.io/v1"


def state_of(*objects, cluster=True) -> MeshState:
    state = MeshState(gateway_api=True, scope=None, pods_known_in=None, cluster_read=cluster)
    for obj in objects:
        state.add(copy.deepcopy(obj))
    return state


def run(state: MeshState, check) -> list[tuple[str, str]]:
    return [(m.code, m.resource) for m in check(state)]


def ambient_ns(name="default"):
    return ns(name, **{"istio.io/dataplane-mode": "ambient"})


def vs(name, hosts, dest=None, gateways=None, namespace="default"):
    spec = {"hosts": hosts, "http": [{"route": [{"destination": {"host": dest or hosts[0]}}]}]}
    if gateways:
        spec["gateways"] = gateways
    return {"apiVersion": NET, "kind": "VirtualService", "metadata": {"name": name, "namespace": namespace},
            "spec": spec}


# ----------------------------------------------------------------------------- injection.Analyzer


def test_namespace_in_no_mesh_is_info_and_ambient_namespaces_are_not() -> None:
    state = state_of(ns("shop"), ambient_ns("default"), ns("kube-system"), ns("istio-system"),
                     ns("sidecars", **{"istio-injection": "enabled"}), ns("off", **{"istio-injection": "disabled"}))
    messages = list(ist.namespace_labels(state))
    assert [(m.code, m.level, m.resource) for m in messages] == [("IST0102", Level.Info, "Namespace shop")]
    assert "ambientctl dataplane enroll shop" in messages[0].text


def test_conflicting_mesh_labels() -> None:
    both = ns("mixed", **{"istio-injection": "enabled", "istio.io/dataplane-mode": "ambient"})
    rev_and_ambient = ns("rev", **{"istio.io/rev": "canary", "istio.io/dataplane-mode": "ambient"})
    disabled = ns("fine", **{"istio-injection": "disabled", "istio.io/dataplane-mode": "ambient"})
    codes = run(state_of(both, rev_and_ambient, disabled), ist.namespace_labels)
    assert codes == [("IST0123", "Namespace mixed"), ("IST0123", "Namespace rev")]  # injection=disabled wins


def test_pod_missing_proxy_only_in_injected_namespaces() -> None:
    injected = ns("legacy", **{"istio-injection": "enabled"})
    bare = pod("web-1", "web", "web", namespace="legacy")
    opted_out = pod("batch-1", "batch", "batch", namespace="legacy", **{"sidecar.istio.io/inject": "false"})
    with_proxy = pod("api-1", "api", "api", namespace="legacy")
    with_proxy["spec"]["containers"].append({"name": "istio-proxy", "image": "istio/proxyv2"})
    ambient_pod = pod("a-1", "a", "a")
    state = state_of(injected, ambient_ns(), bare, opted_out, with_proxy, ambient_pod)
    assert run(state, ist.pods_missing_proxy) == [("IST0103", "Pod legacy/web-1")]


def test_pods_from_workload_templates_are_not_missing_a_proxy() -> None:
    state = MeshState(scope=None, pods_known_in=set())
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "legacy"},
                  "spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": []}}}}
    add_files(state, [("d.yaml", [ns("legacy", **{"istio-injection": "enabled"}), deployment])], "default")
    assert state.pods and run(state, ist.pods_missing_proxy) == []


# ----------------------------------------------------------------------------- AuthorizationPolicies


def test_policy_that_selects_no_mesh_pod() -> None:
    state = state_of(ambient_ns(), pod("pp-1", "pp", "productpage"),
                     policy("typo", selector={"app": "prodpage"}), policy("good", selector={"app": "productpage"}),
                     policy("mesh-wide", namespace="istio-system", selector={"app": "productpage"}),
                     policy("mesh-typo", namespace="istio-system", selector={"app": "nope"}))
    found = list(ist.policy_without_workloads(state))
    assert [(m.code, m.resource) for m in found] == [("IST0127", "AuthorizationPolicy default/typo"),
                                                     ("IST0127", "AuthorizationPolicy istio-system/mesh-typo")]
    assert "app=prodpage" in found[0].text


def test_policy_on_pods_outside_any_mesh_selects_nothing() -> None:
    state = state_of(ns("plain"), pod("x-1", "x", "x", namespace="plain"),
                     policy("p", namespace="plain", selector={"app": "x"}))
    assert run(state, ist.policy_without_workloads) == [("IST0127", "AuthorizationPolicy plain/p")]
    state.add(ambient_ns("plain"))
    assert run(state, ist.policy_without_workloads) == []


def test_policy_source_namespace_not_found_needs_the_cluster() -> None:
    pol = policy("p")
    pol["spec"]["rules"] = [{"from": [{"source": {"namespaces": ["ghost", "def*", "*"],
                                                  "notNamespaces": ["gone"]}}]}]
    state = state_of(ambient_ns(), pol)
    found = list(ist.policy_namespace_not_found(state))
    assert [m.code for m in found] == ["IST0101", "IST0101"]
    assert '"ghost"' in found[0].text and '"gone"' in found[1].text
    assert list(ist.policy_namespace_not_found(state_of(ambient_ns(), pol, cluster=False))) == []


# ----------------------------------------------------------------------------- VirtualServices


def test_virtual_service_gateway_missing_and_hosts_not_served() -> None:
    gateway = {"apiVersion": NET, "kind": "Gateway", "metadata": {"name": "ingress", "namespace": "istio-system"},
               "spec": {"servers": [{"port": {"number": 80}, "hosts": ["*/bookinfo.example.com"]}]}}
    ok = vs("ok", ["bookinfo.example.com"], dest="productpage", gateways=["istio-system/ingress", "mesh"])
    missing = vs("missing", ["reviews"], gateways=["nope"])
    other_host = vs("other", ["shop.example.com"], dest="productpage", gateways=["istio-system/ingress"])
    state = state_of(ambient_ns(), gateway, ok, missing, other_host, cluster=False)
    assert sorted(run(state, ist.virtual_service_gateways)) == [
        ("IST0101", "VirtualService default/missing"), ("IST0132", "VirtualService default/missing"),
        ("IST0132", "VirtualService default/other")]


def test_virtual_service_destination_hosts() -> None:
    entry = {"apiVersion": NET, "kind": "ServiceEntry", "metadata": {"name": "ext", "namespace": "default"},
             "spec": {"hosts": ["*.example.com"]}}
    routes = vs("r", ["reviews"], dest="reviews")
    routes["spec"]["http"].append({"route": [{"destination": {"host": "ratings.other.svc.cluster.local"}}],
                                   "mirror": {"host": "api.example.com"}})
    routes["spec"]["tcp"] = [{"route": [{"destination": {"host": "db"}}]}]
    state = state_of(ambient_ns(), service("reviews", "reviews"), service("ratings", "ratings", namespace="other"),
                     entry, routes)
    found = list(ist.virtual_service_hosts(state))
    assert [(m.code, m.text.split(":")[0]) for m in found] == [("IST0101", 'Referenced host not found')]
    assert '"db"' in found[0].text
    assert list(ist.virtual_service_hosts(state_of(routes, cluster=False))) == []
    assert ist.hosts_to_fetch(state_of(vs("x", ["a"], dest="b.elsewhere"))) == {("elsewhere", "b")}


# ----------------------------------------------------------------------------- Gateway API, conditions


def test_selector_on_a_waypoint_pod_is_ineffective() -> None:
    waypoint_pod = pod("wp-1", "wp", "wp", **{"gateway.networking.k8s.io/gateway-name": "wp"})
    state = state_of(ambient_ns(), waypoint_pod, policy("on-wp", selector={"app": "wp"}),
                     policy("on-app", selector={"app": "productpage"}), policy("targeted", target="Gateway/wp"))
    found = list(ist.ineffective_selector(state))
    assert [(m.code, m.resource) for m in found] == [("IST0166", "AuthorizationPolicy default/on-wp")]
    assert "targetRefs" in found[0].text


def test_negative_conditions_on_waypoint_bindings_policies_and_routes() -> None:
    svc = service("reviews", "reviews")
    svc["status"] = {"conditions": [{"type": "istio.io/WaypointBound", "status": "False", "reason": "WaypointNotFound",
                                     "message": "waypoint not found"}]}
    pol = policy("p", target="Service/reviews")
    pol["status"] = {"conditions": [{"type": "WaypointAccepted", "status": "True", "reason": "PartiallyInvalid"}]}
    route = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
             "metadata": {"name": "r", "namespace": "default"},
             "status": {"parents": [{"conditions": [{"type": "Accepted", "status": "False", "reason": "NoMatch"},
                                                    {"type": "ResolvedRefs", "status": "True"}]}]}}
    fine = service("ratings", "ratings")
    fine["status"] = {"conditions": [{"type": "istio.io/WaypointBound", "status": "True"}]}
    state = state_of(svc, pol, route, fine)
    assert sorted(run(state, ist.negative_conditions)) == [
        ("IST0171", "AuthorizationPolicy default/p"), ("IST0171", "HTTPRoute default/r"),
        ("IST0171", "Service default/reviews")]


# ----------------------------------------------------------------------------- annotations, port names


def test_annotations_unknown_deprecated_misplaced() -> None:
    p = pod("web-1", "web", "web")
    p["metadata"]["annotations"] = {"sidecar.istio.io/bogus": "x", "sidecar.istio.io/inject": "true",
                                    "sidecar.istio.io/status": "{}", "example.com/other": "y",
                                    "ambient.istio.io/redirection": "enabled"}
    d = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default",
                                                                    "annotations": {"proxy.istio.io/config": "{}"}}}
    labelled = pod("api-1", "api", "api", **{"sidecar.istio.io/inject": "true"})
    labelled["metadata"]["annotations"] = {"sidecar.istio.io/inject": "true"}
    waypoint_pod = pod("wp-1", "wp", "wp", **{"gateway.networking.k8s.io/gateway-name": "wp"})
    waypoint_pod["metadata"]["annotations"] = {"istio.io/service-account": "wp"}  # copied from its Gateway
    state = state_of(ambient_ns(), p, d, labelled, waypoint_pod)
    assert sorted(run(state, ist.annotations)) == [("IST0107", "Deployment default/web"),
                                                   ("IST0108", "Pod default/web-1"), ("IST0135", "Pod default/web-1")]


def test_port_names() -> None:
    svc = service("web", "web")
    svc["spec"]["ports"] = [{"name": "http-web", "port": 80}, {"name": "web", "port": 8080},
                            {"name": "x", "port": 9090, "appProtocol": "grpc"}, {"port": 53},
                            {"name": "dns", "port": 5353, "protocol": "UDP"}]
    control_plane = service("istiod", "istiod", **{"istio": "pilot"})
    control_plane["spec"]["ports"] = [{"name": "weird", "port": 1}]
    waypoint_svc = service("wp", "wp", **{"gateway.istio.io/managed": "istio.io-mesh-controller"})
    waypoint_svc["spec"]["ports"] = [{"name": "mesh", "port": 15008}]
    external = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ext", "namespace": "default"},
                "spec": {"type": "ExternalName", "externalName": "example.com", "ports": [{"name": "tcp", "port": 1}]}}
    found = list(ist.port_names(state_of(svc, control_plane, waypoint_svc, external)))
    assert [(m.code, m.level, m.resource) for m in found] == [("IST0118", Level.Info, "Service default/web"),
                                                              ("IST0150", Level.Warning, "Service default/ext")]
    assert "Port web (port 8080" in found[0].text


# ----------------------------------------------------------------------------- files: lines, revisions


def test_references_point_at_the_field_line() -> None:
    text = ("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: v\n  namespace: x\n"
            "spec:\n  hosts: [a]\n  gateways: [nope]\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n")
    located = parse_located(text, "f.yaml")
    assert [lines[0] for _, lines in located] == [1, 10]
    state = MeshState(scope=None, pods_known_in=set())
    add_files(state, [("f.yaml", [o for o, _ in located])], "default", {id(o): lines for o, lines in located})
    gw_missing = [m for m in ist.virtual_service_gateways(state) if m.code == "IST0101"][0]
    assert gw_missing.reference == "f.yaml:8"
    assert Message(Level.Info, "IST0102", "Namespace x", "t", "f.json", 3).reference == "f.json"


def test_revision_keeps_other_revisions_config_out() -> None:
    canary = policy("canary-only", selector={"app": "nope"})
    canary["metadata"]["labels"] = {"istio.io/rev": "canary"}
    plain = policy("everyone", selector={"app": "nope"})
    docs = [("p.yaml", [ambient_ns(), canary, plain])]
    for revision, expected in (("default", ["everyone"]), ("canary", ["canary-only", "everyone"])):
        state, messages = an.analyze(kube=None, namespace=None, istio_namespace="istio-system",
                                     files=copy.deepcopy(docs), default_namespace="default", revision=revision)
        assert sorted(p["metadata"]["name"] for p in state.policies) == expected


# ----------------------------------------------------------------------------- suppressions


def _m(code, resource):
    return Message(Level.Warning, code, resource, "t")


def test_suppress_wildcards_and_both_resource_spellings() -> None:
    pod_msg = _m("IST0103", "Pod testing/mypod")
    assert Suppression("IST0103", "Pod testing/mypod").matches(pod_msg)
    assert Suppression("IST0103", "Pod mypod.testing").matches(pod_msg)  # the form istioctl's help shows
    assert Suppression("IST0103", "Pod *.testing").matches(pod_msg)
    assert Suppression("IST0103", "*").matches(pod_msg)
    assert not Suppression("IST0103", "Pod").matches(pod_msg)  # no wildcard: the whole name must match
    assert not Suppression("IST0102", "*").matches(pod_msg)
    assert not Suppression("IST0103", "Pod other/*").matches(pod_msg)
    with pytest.raises(Exception, match="not a valid --suppress value"):
        parse_suppressions(["IST0103"])
    with pytest.raises(Exception, match="not a valid --suppress value"):
        parse_suppressions(["a=b=c"])


def test_suppress_annotation_on_the_object() -> None:
    quiet = ns("quiet")
    quiet["metadata"]["annotations"] = {"galley.istio.io/analyze-suppress": "IST0102"}
    everything = ns("silent")
    everything["metadata"]["annotations"] = {"galley.istio.io/analyze-suppress": "*"}
    _, messages = an.analyze(kube=None, namespace=None, istio_namespace="istio-system",
                             files=[("n.yaml", [quiet, everything, ns("loud")])], default_namespace="default")
    assert [(m.code, m.resource) for m in messages] == [("IST0102", "Namespace loud")]


# ----------------------------------------------------------------------------- the command


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


VS_MISSING_GATEWAY = json.dumps(vs("v", ["reviews"], gateways=["nope"], namespace="testing"))


def test_cli_json_is_istioctls_document(tmp_path) -> None:
    path = _write(tmp_path, "vs.yaml", VS_MISSING_GATEWAY)
    result = invoke("analyze", "--use-kube=false", path, "-o", "json")
    assert result.exit_code == 79
    first = result.json[0]
    assert sorted(first) == ["code", "documentationUrl", "level", "message", "origin", "reference"]
    assert (first["code"], first["level"], first["origin"]) == ("IST0101", "Error", "VirtualService testing/v")
    assert first["documentationUrl"] == "https://istio.io/v1.31/docs/reference/config/analysis/ist0101/"
    assert first["reference"] == path + ":1"  # a JSON document in a .yaml file: all on line 1
    as_yaml = invoke("analyze", "--use-kube=false", path, "-o", "yaml", "-S", "IST0101=VirtualService testing/*",
                     "-S", "IST0132=*")
    assert as_yaml.exit_code == 0 and as_yaml.stdout == "[]\n"


def test_cli_directories_are_recursive_and_skip_other_files(tmp_path) -> None:
    _write(tmp_path, "cfg/deep/vs.yml", VS_MISSING_GATEWAY)
    _write(tmp_path, "cfg/readme.txt", "not yaml")
    result = invoke("analyze", "--use-kube=false", "-R", str(tmp_path / "cfg"))
    assert result.exit_code == 79 and "[IST0101] (VirtualService testing/v " in result.stdout
    assert "Skipping file" in result.stderr and "readme.txt" in result.stderr


def test_cli_parse_errors_do_not_hide_the_other_files(tmp_path) -> None:
    good = _write(tmp_path, "ok.yaml", json.dumps(ambient_ns("shop")))
    broken = _write(tmp_path, "broken.yaml", "a: [\n")
    result = invoke("analyze", "--use-kube=false", good, broken)
    assert result.exit_code == 65 and "broken.yaml" in result.stderr and "could not be parsed" in result.stderr
    assert invoke("analyze", "--use-kube=false", good, broken, "--ignore-unknown").exit_code == 0
    issues = _write(tmp_path, "vs.yaml", VS_MISSING_GATEWAY)
    assert invoke("analyze", "--use-kube=false", issues, broken).exit_code == 79  # issues win, as in istioctl


def test_cli_namespace_filter_with_files(tmp_path) -> None:
    path = _write(tmp_path, "vs.yaml", VS_MISSING_GATEWAY)
    assert invoke("analyze", "--use-kube=false", path, "-n", "default").exit_code == 0
    assert invoke("analyze", "--use-kube=false", path, "-n", "testing").exit_code == 79


def test_cli_usage_errors_exit_64(tmp_path) -> None:
    path = _write(tmp_path, "vs.yaml", VS_MISSING_GATEWAY)
    for extra in (["-o", "xml"], ["--timeout", "1x"], ["-S", "IST0101"], ["--output-threshold", "Loud"],
                  ["--bogus"], ["--analyzer", "x"]):
        result = invoke("analyze", "--use-kube=false", path, *extra)
        assert result.exit_code == 64, (extra, result.stderr)
        assert result.stderr.startswith("Error: ") and "Traceback" not in result.stderr
    unknown = invoke("analyze", "--use-kube=false", path, "-S", "IST9999=*")
    assert unknown.exit_code == 79 and "IST9999" in unknown.stderr


def test_cli_timeout_bounds_the_analysis(monkeypatch, tmp_path) -> None:
    path = _write(tmp_path, "vs.yaml", VS_MISSING_GATEWAY)
    real = an.analyze
    monkeypatch.setattr(an, "analyze", lambda **kw: (time.sleep(2), real(**kw))[1])
    started = time.monotonic()
    result = invoke("analyze", "--use-kube=false", path, "--timeout", "200ms")
    assert result.exit_code == 4 and "--timeout 200ms" in result.stderr
    assert time.monotonic() - started < 1.5


def test_cli_namespace_that_does_not_exist_is_an_error() -> None:
    kube = FakeKube([ambient_ns()])
    result = invoke_with(kube, "-n", "nope", "analyze")
    assert result.exit_code == 8 and 'namespace "nope" not found' in result.stderr
    ok = invoke_with(kube, "-n", "default", "analyze")
    assert ok.exit_code == 0 and "No validation issues found when analyzing namespace: default" in ok.stderr


def test_cli_cluster_reports_ist_codes_beside_amb_codes() -> None:
    injected = ns("legacy", **{"istio-injection": "enabled"})
    kube = FakeKube([ambient_ns(), injected, pod("web-1", "web", "web", namespace="legacy"),
                     policy("typo", selector={"app": "nope"})])
    result = invoke_with(kube, "analyze", "-A", "-o", "json")
    found = {(m["code"], m["origin"]) for m in result.json}
    assert ("IST0103", "Pod legacy/web-1") in found and ("IST0127", "AuthorizationPolicy default/typo") in found
    assert result.exit_code == 0  # both are Warnings: below the default failure threshold
    assert invoke_with(kube, "analyze", "-A", "--failure-threshold", "Warning").exit_code == 79


_PROBE = """
import sys, io, contextlib
from ambientctl.cli import run
with contextlib.redirect_stdout(io.StringIO()):
    code = run(sys.argv[1:])
print(code, "kubernetes" in sys.modules)
"""


def test_files_alone_never_import_kubernetes(tmp_path) -> None:
    path = _write(tmp_path, "vs.yaml", VS_MISSING_GATEWAY)
    out = subprocess.run([sys.executable, "-c", _PROBE, "--kubeconfig", "/nonexistent", "analyze",
                          "--use-kube=false", path], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["79", "False"], out.stderr


# ----------------------------------------------------------------------------- DestinationRules, Telemetry


def _dr(name, host, subsets=None):
    spec = {"host": host}
    if subsets:
        spec["subsets"] = [{"name": n, "labels": labels} for n, labels in subsets.items()]
    return {"apiVersion": NET, "kind": "DestinationRule", "metadata": {"name": name, "namespace": "default"},
            "spec": spec}


def test_destination_rule_hosts_and_subsets() -> None:
    v1 = pod("reviews-v1", "reviews", "reviews", version="v1")
    state = state_of(ambient_ns(), service("reviews", "reviews"), v1,
                     _dr("good", "reviews", {"v1": {"version": "v1"}}),
                     _dr("no-v3", "reviews.default.svc.cluster.local", {"v1": {"version": "v1"}, "v3": {"version": "v3"}}),
                     _dr("typo", "reveiws"))
    found = list(ist.destination_rules(state))
    assert [(m.code, m.level, m.resource) for m in found] == [
        ("IST0173", Level.Error, "DestinationRule default/no-v3"), ("IST0174", Level.Warning, "DestinationRule default/typo")]
    assert "subset v3" in found[0].text
    assert list(ist.destination_rules(state_of(_dr("typo", "reveiws"), cluster=False))) == []


def _telemetry(name, selector=None):
    spec = {"selector": {"matchLabels": selector}} if selector else {}
    return {"apiVersion": "telemetry.istio.io/v1", "kind": "Telemetry", "metadata": {"name": name, "namespace": "default"},
            "spec": spec}


def test_telemetry_selectors() -> None:
    state = state_of(ambient_ns(), pod("web-1", "web", "web"), _telemetry("a", {"app": "web"}),
                     _telemetry("b", {"app": "web"}), _telemetry("ghost", {"app": "nope"}),
                     _telemetry("ns-1"), _telemetry("ns-2"))
    found = sorted(run(state, ist.telemetry_selectors))
    assert found == [("IST0101", "Telemetry default/ghost"), ("IST0159", "Telemetry default/a"),
                     ("IST0159", "Telemetry default/b"), ("IST0160", "Telemetry default/ns-1"),
                     ("IST0160", "Telemetry default/ns-2")]


def test_cli_mesh_config_file_names_the_root_namespace(tmp_path) -> None:
    """A policy in the root namespace applies mesh-wide: with `istio-config` as root, its selector may match anywhere."""
    files = _write(tmp_path, "objs.yaml", "\n---\n".join(json.dumps(o) for o in (
        ambient_ns("shop"), pod("web-1", "web", "web", namespace="shop"),
        policy("mesh-wide", namespace="istio-config", selector={"app": "web"}))))
    as_default = invoke("analyze", "--use-kube=false", files, "-o", "json")
    assert ("IST0127", "AuthorizationPolicy istio-config/mesh-wide") in {(m["code"], m["origin"]) for m in as_default.json}
    mesh = _write(tmp_path, "mesh.yaml", "rootNamespace: istio-config\n")
    rooted = invoke("analyze", "--use-kube=false", files, "--meshConfigFile", mesh, "-o", "json")
    assert "IST0127" not in {m["code"] for m in rooted.json}, rooted.stdout
    assert invoke("analyze", "--use-kube=false", files, "--meshConfigFile", str(tmp_path / "nope")).exit_code == 65


def test_policy_source_namespaces_are_looked_up_not_scanned(monkeypatch) -> None:
    """Issue 17: 2,000 policies x 1,000 namespaces were 880,000 pattern matches (3 s); exact names are a set lookup."""
    calls = []
    real = ist._namespace_matches
    monkeypatch.setattr(ist, "_namespace_matches", lambda n, p: calls.append(p) or real(n, p))
    pol = policy("p")
    pol["spec"]["rules"] = [{"from": [{"source": {"namespaces": ["Default", "ghost", "def*"]}}]}]
    state = state_of(ambient_ns(), pol)
    for i in range(50):
        state.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"other-{i}"}})
    found = list(ist.policy_namespace_not_found(state))
    assert ['"ghost"' in m.text for m in found] == [True]  # "Default" matches default, as istioctl's EqualFold
    assert set(calls) == {"def*"}  # only the wildcard is matched name by name
