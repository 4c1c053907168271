"""analyze: each check fires on the misconfiguration it names and stays quiet on the fixed version."""

from __future__ import annotations

import copy
import json

import pytest

from ambientctl.analyze import checks as ck
from ambientctl.analyze.messages import Level
from ambientctl.mesh.files import add_files, parse_documents
from ambientctl.mesh.model import MeshState
from ambientctl.errors import InvalidInputError
from tests.support.cli import invoke
from tests.support.fakekube import FakeKube

GW = "gateway.networking.k8s.io/v1"


def ns(name, **labels):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def pod(name, sa, app, namespace="default", **extra_labels):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": app, **extra_labels}},
            "spec": {"serviceAccountName": sa, "containers": [{"name": app}]}, "status": {"phase": "Running"}}


def service(name, app, namespace="default", **labels):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {"selector": {"app": app}}}


def waypoint(name, namespace="default", programmed=True, **labels):
    return {"apiVersion": GW, "kind": "Gateway", "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {"gatewayClassName": "istio-waypoint",
                     "listeners": [{"name": "mesh", "port": 15008, "protocol": "HBONE"}]},
            "status": {"conditions": [{"type": "Programmed", "status": "True" if programmed else "False",
                                       "reason": "Programmed" if programmed else "Invalid"}]}}


def policy(name, namespace="default", *, selector=None, target=None, principals=None, methods=None,
           action="ALLOW", when=None):
    spec = {"action": action, "rules": [{}]}
    if selector:
        spec["selector"] = {"matchLabels": selector}
    if target:
        kind, _, target_name = target.partition("/")
        spec["targetRefs"] = [{"kind": kind, "group": "" if kind == "Service" else "gateway.networking.k8s.io",
                               "name": target_name}]
    if principals:
        spec["rules"][0]["from"] = [{"source": {"principals": principals}}]
    if methods:
        spec["rules"][0]["to"] = [{"operation": {"methods": methods}}]
    if when:
        spec["rules"][0]["when"] = when
    return {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


SLEEP = "cluster.local/ns/default/sa/sleep"


def bookinfo_state(*extra, enrolled=True, gateway_api=True) -> MeshState:
    state = MeshState(gateway_api=gateway_api, scope={"default"}, pods_known_in={"default", "istio-system"})
    objects = [
        ns("default", **({"istio.io/dataplane-mode": "ambient"} if enrolled else {})),
        ns("istio-system"),
        pod("productpage-v1-abc", "bookinfo-productpage", "productpage"),
        pod("reviews-v1-abc", "bookinfo-reviews", "reviews"),
        pod("sleep-abc", "sleep", "sleep"),
        pod("notsleep-abc", "notsleep", "notsleep"),
        service("productpage", "productpage"),
        service("reviews", "reviews"),
        *extra,
    ]
    for obj in objects:
        state.add(copy.deepcopy(obj))
    return state


def codes(state: MeshState) -> list[str]:
    return [m.code for m in ck.run_checks(state)]


# ----------------------------------------------------------------------------- AMB0001 / AMB0002


def test_l7_selector_policy_without_waypoint_is_an_error_with_a_waypoint_fix() -> None:
    state = bookinfo_state(policy("pp", selector={"app": "productpage"}, principals=[SLEEP], methods=["GET"]))
    [message] = ck.run_checks(state)
    assert (message.level, message.code, message.resource) == (Level.Error, "AMB0001", "AuthorizationPolicy default/pp")
    assert "(methods)" in message.text
    assert "ambientctl waypoint apply --service-account bookinfo-productpage --name productpage-waypoint -n default" \
        in message.text


def test_l7_selector_policy_with_waypoint_points_at_the_service() -> None:
    state = bookinfo_state(
        policy("pp", selector={"app": "productpage"}, principals=[SLEEP], methods=["GET"]),
        waypoint("productpage-waypoint"),
    )
    state.add(service("productpage", "productpage", **{"istio.io/use-waypoint": "productpage-waypoint"}))
    messages = [m for m in ck.run_checks(state) if m.code == "AMB0001"]
    assert len(messages) == 1 and "--to service/productpage" in messages[0].text


def test_l7_policy_targeting_a_service_with_a_waypoint_is_fine() -> None:
    state = bookinfo_state(
        policy("pp", target="Service/productpage", principals=[SLEEP], methods=["GET"]),
        waypoint("productpage-waypoint"),
    )
    state.add(service("productpage", "productpage", **{"istio.io/use-waypoint": "productpage-waypoint"}))
    assert codes(state) == []


def test_l7_policy_targeting_a_service_without_waypoint_is_amb0002() -> None:
    state = bookinfo_state(policy("rv", target="Service/reviews", principals=[SLEEP], methods=["GET"]))
    [message] = ck.run_checks(state)
    assert message.code == "AMB0002" and "Service default/reviews, which uses no waypoint" in message.text
    missing = bookinfo_state(policy("gw", target="Gateway/nope"))
    assert codes(missing) == ["AMB0002"]


def test_l4_only_rules_and_l4_when_keys_are_fine_in_ztunnel() -> None:
    state = bookinfo_state(policy("pp", selector={"app": "productpage"}, principals=[SLEEP],
                                  when=[{"key": "source.namespace", "values": ["default"]}]))
    assert codes(state) == []
    header = bookinfo_state(policy("pp", selector={"app": "productpage"},
                                   when=[{"key": "request.headers[x-user]", "values": ["a"]}]))
    assert codes(header) == ["AMB0001"]


def test_l7_deny_policy_in_ztunnel_is_a_warning() -> None:
    state = bookinfo_state(policy("deny", selector={"app": "productpage"}, methods=["DELETE"], action="DENY"))
    [message] = ck.run_checks(state)
    assert message.level == Level.Warning and "deny more than written" in message.text


def test_l7_selector_policy_on_sidecar_pods_outside_ambient_is_fine() -> None:
    state = bookinfo_state(policy("pp", selector={"app": "productpage"}, methods=["GET"]), enrolled=False)
    assert codes(state) == []


# ----------------------------------------------------------------------------- AMB0003


def test_sidecars_in_an_enrolled_namespace() -> None:
    sidecar = pod("legacy", "legacy", "legacy")
    sidecar["metadata"]["annotations"] = {"sidecar.istio.io/status": "{}"}
    state = bookinfo_state(sidecar)
    [message] = ck.run_checks(state)
    assert message.code == "AMB0003" and "legacy" in message.text and message.resource == "Namespace default"
    both = bookinfo_state()
    both.add(ns("default", **{"istio.io/dataplane-mode": "ambient", "istio-injection": "enabled"}))
    assert codes(both) == ["AMB0003"]


# ----------------------------------------------------------------------------- AMB0004 / 0005 / 0008 / 0010


def test_use_waypoint_naming_a_missing_waypoint() -> None:
    state = bookinfo_state(service("reviews", "reviews", **{"istio.io/use-waypoint": "reviews"}))
    [message] = ck.run_checks(state)
    assert (message.code, message.resource) == ("AMB0004", "Service default/reviews")
    assert "ambientctl waypoint apply --name reviews -n default" in message.text


def test_namespace_use_waypoint_and_none_opt_out() -> None:
    state = bookinfo_state()
    state.add(ns("default", **{"istio.io/dataplane-mode": "ambient", "istio.io/use-waypoint": "waypoint"}))
    assert codes(state) == ["AMB0004"]
    state.add(waypoint("waypoint"))
    assert codes(state) == []
    opted_out = service("reviews", "reviews", **{"istio.io/use-waypoint": "none"})
    state.add(opted_out)
    assert state.waypoint_of_service(opted_out) is None


def test_cross_namespace_waypoint_is_found_there() -> None:
    state = bookinfo_state(waypoint("shared", namespace="infra"),
                           service("reviews", "reviews", **{"istio.io/use-waypoint": "shared",
                                                            "istio.io/use-waypoint-namespace": "infra"}))
    assert codes(state) == []


def test_unprogrammed_waypoint_is_reported_once() -> None:
    state = bookinfo_state(waypoint("pp-waypoint", programmed=False),
                           service("productpage", "productpage", **{"istio.io/use-waypoint": "pp-waypoint"}),
                           service("pp2", "productpage", **{"istio.io/use-waypoint": "pp-waypoint"}))
    assert codes(state) == ["AMB0005"]


def test_workload_only_waypoint_bound_by_a_service() -> None:
    state = bookinfo_state(waypoint("wl", **{"istio.io/waypoint-for": "workload"}),
                           service("reviews", "reviews", **{"istio.io/use-waypoint": "wl"}))
    assert codes(state) == ["AMB0008"]


def test_waypoint_on_a_service_outside_ambient() -> None:
    state = bookinfo_state(waypoint("reviews-waypoint"),
                           service("reviews", "reviews", **{"istio.io/use-waypoint": "reviews-waypoint"}),
                           enrolled=False)
    assert codes(state) == ["AMB0010"]


# ----------------------------------------------------------------------------- AMB0006 / 0007 / 0009


def test_principal_without_pods() -> None:
    state = bookinfo_state(policy("pp", selector={"app": "productpage"},
                                  principals=[SLEEP, "cluster.local/ns/default/sa/sleeep",
                                              "cluster.local/ns/elsewhere/sa/x", "cluster.local/ns/default/sa/*"]))
    [message] = ck.run_checks(state)
    assert message.code == "AMB0006" and "sa/sleeep" in message.text


def test_principal_in_a_namespace_that_does_not_exist() -> None:
    state = bookinfo_state(policy("pp", selector={"app": "productpage"}, principals=["cluster.local/ns/gone/sa/x"]))
    state.pods_known_in.add("gone")
    [message] = ck.run_checks(state)
    assert "namespace gone, which does not exist" in message.text


def test_gateway_api_missing() -> None:
    state = bookinfo_state(gateway_api=False)
    assert codes(state) == ["AMB0007"]


def test_l4_policy_that_forgets_the_waypoint_identity() -> None:
    state = bookinfo_state(policy("pp", selector={"app": "productpage"}, principals=[SLEEP]),
                           waypoint("productpage-waypoint"),
                           service("productpage", "productpage", **{"istio.io/use-waypoint": "productpage-waypoint"}))
    [message] = ck.run_checks(state)
    assert message.code == "AMB0009" and "--from sa/default/productpage-waypoint" in message.text
    state.add(policy("pp", selector={"app": "productpage"},
                     principals=[SLEEP, "cluster.local/ns/default/sa/productpage-waypoint"]))
    assert codes(state) == []


# ----------------------------------------------------------------------------- scope, files, CLI


def test_messages_only_for_namespaces_in_scope() -> None:
    state = bookinfo_state(policy("other", namespace="team-b", selector={"app": "x"}, methods=["GET"]))
    assert codes(state) == []
    state.scope = None
    state.add(ns("team-b", **{"istio.io/dataplane-mode": "ambient"}))
    assert codes(state) == ["AMB0001"]


def test_file_workloads_stand_in_for_pods() -> None:
    state = MeshState(pods_known_in=set())
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                  "spec": {"template": {"metadata": {"labels": {"app": "web"}},
                                        "spec": {"serviceAccountName": "web-sa", "containers": []}}}}
    add_files(state, [("app.yaml", [deployment])], "shop")
    [stand_in] = state.pods
    assert stand_in["metadata"] == {"name": "web-template", "namespace": "shop", "labels": {"app": "web"},
                                    "annotations": {}}


def test_parse_documents_rejects_non_objects() -> None:
    assert [o["kind"] for o in parse_documents("kind: List\napiVersion: v1\nitems: [{kind: Pod, apiVersion: v1, "
                                               "metadata: {name: a}}]\n", "f")] == ["Pod"]
    with pytest.raises(InvalidInputError, match="not a Kubernetes object"):
        parse_documents("- a\n- b\n", "f.yaml")
    with pytest.raises(InvalidInputError, match="without metadata.name"):
        parse_documents("kind: Pod\napiVersion: v1\nmetadata: {}\n", "f.yaml")


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_cli_files_only_exit_codes_and_formats(tmp_path) -> None:
    bad = _write(tmp_path, "pol.yaml", json.dumps(policy("pp", selector={"app": "productpage"}, methods=["GET"])))
    result = invoke("analyze", "--use-kube=false", bad)
    assert result.exit_code == 79
    assert result.stdout.startswith("Error [AMB0001] (AuthorizationPolicy default/pp ")
    as_json = invoke("analyze", "--use-kube=false", "-f", bad, "-o", "json")
    assert as_json.exit_code == 79 and as_json.json[0]["code"] == "AMB0001" and as_json.json[0]["reference"] == bad + ":1"
    relaxed = invoke("analyze", "--use-kube=false", bad, "--failure-threshold", "Error", "--output-threshold", "Error")
    assert relaxed.exit_code == 79
    good = _write(tmp_path, "ok.yaml", json.dumps(policy("pp", selector={"app": "productpage"}, principals=[SLEEP])))
    ok = invoke("analyze", "--use-kube=false", good)
    assert ok.exit_code == 0 and ok.stdout == ""
    assert ok.stderr == f"✔ No validation issues found when analyzing {good}.\n"


def test_cli_warning_threshold(tmp_path) -> None:
    deny = _write(tmp_path, "deny.yaml", json.dumps(policy("d", selector={"app": "x"}, methods=["GET"], action="DENY")))
    assert invoke("analyze", "--use-kube=false", deny).exit_code == 0
    assert invoke("analyze", "--use-kube=false", deny, "--failure-threshold", "Warning").exit_code == 79
    hidden = invoke("analyze", "--use-kube=false", deny, "--output-threshold", "Error")
    assert "AMB0001" not in hidden.stdout


def test_cli_bad_input(tmp_path) -> None:
    broken = _write(tmp_path, "broken.yaml", "a: [\n")
    result = invoke("analyze", "--use-kube=false", broken)
    assert result.exit_code == 65 and "not valid YAML" in result.stderr and "Traceback" not in result.stderr
    assert invoke("analyze", "--use-kube=false", str(tmp_path / "nope.yaml")).exit_code == 65
    assert invoke("analyze", "--use-kube=maybe", broken).exit_code == 64
    assert invoke("analyze", "--use-kube=false").exit_code == 64
    assert invoke("analyze", "--use-kube=false", broken, "--failure-threshold", "Fatal").exit_code == 64


def test_cli_list_analyzers_needs_no_cluster() -> None:
    result = invoke("analyze", "-L")
    assert result.exit_code == 0
    from ambientctl.analyze import ALL_CHECKS

    assert [line.split()[0] for line in result.stdout.splitlines()[1:]] == [c.code for c in ALL_CHECKS]


def test_waypoint_named_like_an_app_service() -> None:
    state = bookinfo_state(waypoint("productpage"))
    [message] = ck.run_checks(state)
    assert (message.code, message.resource) == ("AMB0011", "Gateway default/productpage")
    own = service("productpage-wp", "x", **{"gateway.networking.k8s.io/gateway-name": "productpage-wp"})
    fine = bookinfo_state(waypoint("productpage-wp"), own)
    assert codes(fine) == []


def test_waypoint_named_like_an_app_service_account() -> None:
    state = bookinfo_state(waypoint("bookinfo-productpage"))
    [message] = ck.run_checks(state)
    assert message.code == "AMB0012" and "productpage-v1-abc" in message.text
    waypoint_pod = pod("pp-wp-1", "pp-wp", "x", **{"gateway.networking.k8s.io/gateway-name": "pp-wp"})
    assert codes(bookinfo_state(waypoint("pp-wp"), waypoint_pod)) == []


def test_waypoint_pods_are_not_sidecars() -> None:
    envoy = pod("wp-1", "wp", "wp", **{"gateway.networking.k8s.io/gateway-name": "wp"})
    envoy["spec"]["containers"] = [{"name": "istio-proxy"}]
    assert codes(bookinfo_state(envoy)) == []


def test_namespace_scoped_user_still_gets_an_analysis() -> None:
    from ambientctl.mesh.load import load_cluster

    kube = FakeKube([ns("team", **{"istio.io/dataplane-mode": "ambient"}), pod("a", "sa", "a", namespace="team")])
    kube.deny("Namespace", "list")
    kube.deny("AuthorizationPolicy", "list", "istio-system")
    state = load_cluster(kube, "team", "istio-system")
    assert state.is_enrolled("team") and [p["metadata"]["name"] for p in state.pods] == ["a"]
    assert len(state.unreadable) == 2 and "Namespaces" in state.unreadable[0]
    assert "AuthorizationPolicy objects (security.istio.io/v1) in namespace istio-system" in state.unreadable[1]
