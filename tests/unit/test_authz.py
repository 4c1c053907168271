"""x authz: the generated policies are the guide's, and `check` names the right enforcer for each policy."""

from __future__ import annotations

import jsonschema
import pytest
import yaml

from ambientctl.mesh import authz as az
from ambientctl.errors import InvalidInputError
from ambientctl.render.crds import istio_crds
from tests.support.cli import invoke
from tests.unit.test_analyze import SLEEP, bookinfo_state, ns, pod, policy, service, waypoint

INGRESS = "cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account"


def _schema(version: str = "v1") -> dict:
    crd = next(c for c in istio_crds() if c["metadata"]["name"] == "authorizationpolicies.security.istio.io")
    return next(v for v in crd["spec"]["versions"] if v["name"] == version)["schema"]["openAPIV3Schema"]


def test_step_7_policy_from_the_command_line() -> None:
    result = invoke("x", "authz", "allow", "--to", "app=productpage", "--from", "sa/sleep",
                    "--from", "sa/istio-system/istio-ingressgateway-service-account", "-n", "default")
    assert result.exit_code == 0, result.stderr
    assert result.yaml == {
        "apiVersion": "security.istio.io/v1",
        "kind": "AuthorizationPolicy",
        "metadata": {"name": "productpage-viewer", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "productpage"}}, "action": "ALLOW",
                 "rules": [{"from": [{"source": {"principals": [SLEEP, INGRESS]}}]}]},
    }
    assert result.stderr == ""
    jsonschema.Draft4Validator(_schema()).validate(result.yaml)


def test_step_9_policy_as_the_guide_wrote_it_warns_that_ztunnel_cannot_enforce_it() -> None:
    result = invoke("x", "authz", "allow", "--to", "app=productpage", "--from", "sa/sleep", "--methods", "get",
                    "-n", "default", "-o", "json")
    assert result.exit_code == 0
    assert result.json["spec"]["rules"][0]["to"] == [{"operation": {"methods": ["GET"]}}]
    assert "ztunnel cannot match methods" in result.stderr and "--to service/NAME" in result.stderr


def test_step_9_policy_for_the_waypoint_targets_the_service() -> None:
    policy_ = az.allow_policy(target=az.parse_target("service/productpage"), sources=["sa/sleep"],
                              namespace="default", methods=["GET"], paths=["/productpage"])
    assert policy_["spec"]["targetRefs"] == [{"kind": "Service", "group": "", "name": "productpage"}]
    assert policy_["spec"]["rules"][0]["to"] == [{"operation": {"methods": ["GET"], "paths": ["/productpage"]}}]
    assert az.enforcer(policy_) == az.WAYPOINT
    jsonschema.Draft4Validator(_schema()).validate(policy_)
    gateway = az.allow_policy(target=az.parse_target("waypoint/wp"), sources=["ns/team"], namespace="x")
    assert gateway["spec"]["targetRefs"][0]["group"] == "gateway.networking.k8s.io"
    assert gateway["spec"]["rules"][0]["from"] == [{"source": {"namespaces": ["team"]}}]


@pytest.mark.parametrize("text", ["productpage", "app=", "deploy/x", "service/", "service/a/b"])
def test_bad_targets(text: str) -> None:
    with pytest.raises(InvalidInputError):
        az.parse_target(text)


@pytest.mark.parametrize("text", ["sleep", "sa/", "sa/a/b/c", "ns/", "cluster.local/ns/x"])
def test_bad_sources(text: str) -> None:
    with pytest.raises(InvalidInputError):
        az.parse_source(text, "default")


def test_bad_method_and_missing_from_are_one_line_errors() -> None:
    result = invoke("x", "authz", "allow", "--to", "app=a", "--from", "sa/b", "--methods", "FETCH")
    assert result.exit_code == 11 and "'FETCH' is not an HTTP method" in result.stderr
    missing = invoke("x", "authz", "allow", "--to", "app=a")
    assert missing.exit_code == 2 and "--from" in missing.stderr


def test_generation_warns_when_no_waypoint_serves_the_target_service() -> None:
    policy_ = az.allow_policy(target=az.parse_target("service/reviews"), sources=["sa/sleep"], namespace="default",
                              methods=["GET"])
    warnings = az.generation_warnings(policy_, bookinfo_state())
    assert len(warnings) == 1 and "no waypoint serves the target" in warnings[0]
    served = bookinfo_state(waypoint("reviews"), service("reviews", "reviews", **{"istio.io/use-waypoint": "reviews"}))
    assert az.generation_warnings(policy_, served) == []


def test_l7_attributes_mirror_istiod() -> None:
    p = policy("p", selector={"app": "a"}, methods=["GET"],
               when=[{"key": "request.auth.claims[iss]", "values": ["x"]}, {"key": "source.ip", "values": ["1.2.3.4"]}])
    p["spec"]["rules"][0]["from"] = [{"source": {"requestPrincipals": ["*"], "principals": ["a"]}}]
    assert az.l7_attributes(p) == ["methods", "request.auth.claims[iss]", "requestPrincipals"]
    assert az.l7_attributes(policy("p", selector={"app": "a"}, principals=[SLEEP])) == []


def test_allows_principal_patterns() -> None:
    p = policy("p", principals=["cluster.local/ns/default/*"])
    assert az.allows_principal(p, "cluster.local/ns/default/sa/wp")
    assert not az.allows_principal(p, "cluster.local/ns/other/sa/wp")
    assert az.allows_principal(policy("open"), "anything")


def test_policies_for_pod_names_scope_and_enforcer() -> None:
    state = bookinfo_state(
        policy("l4", selector={"app": "productpage"}, principals=[SLEEP]),
        policy("ns-wide", principals=[SLEEP]),
        policy("mesh", namespace="istio-system"),
        policy("other-app", selector={"app": "reviews"}),
        policy("l7", target="Service/productpage", methods=["GET"]),
        policy("gw", target="Gateway/productpage"),
        waypoint("productpage"),
        service("productpage", "productpage", **{"istio.io/use-waypoint": "productpage"}),
    )
    productpage = next(p for p in state.pods if p["metadata"]["name"].startswith("productpage"))
    applied = [(a.ref, a.scope, a.enforced_by) for a in az.policies_for_pod(state, productpage)]
    assert applied == [
        ("default/l4", "selector", "ztunnel"),
        ("default/ns-wide", "namespace", "ztunnel"),
        ("istio-system/mesh", "mesh (root namespace)", "ztunnel"),
        ("default/gw", "waypoint productpage", "waypoint default/productpage"),
        ("default/l7", "Service productpage", "waypoint default/productpage"),
    ]


def test_ztunnel_l7_policy_gets_a_note() -> None:
    state = bookinfo_state(policy("pp", selector={"app": "productpage"}, methods=["GET"]))
    productpage = next(p for p in state.pods if p["metadata"]["name"].startswith("productpage"))
    [applied] = az.policies_for_pod(state, productpage)
    assert applied.l7 == ["methods"] and "dropped" in applied.note


def test_policy_targeting_a_service_without_waypoint_applies_nowhere() -> None:
    state = bookinfo_state(policy("l7", target="Service/productpage", methods=["GET"]))
    productpage = next(p for p in state.pods if p["metadata"]["name"].startswith("productpage"))
    assert az.policies_for_pod(state, productpage) == []


def test_helpers_used_by_the_tests_are_consistent() -> None:
    assert yaml.safe_load(yaml.safe_dump(ns("a"))) == ns("a")
    assert pod("a", "sa", "app")["spec"]["serviceAccountName"] == "sa"
