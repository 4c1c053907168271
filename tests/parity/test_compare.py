"""The comparison machinery itself (no binaries, no cluster): it must catch what it claims to."""

from __future__ import annotations

import textwrap

import yaml

import pytest

from tests.parity.compare import (
    MISSING, Difference, KnownDifference, classify, diff_objects, facets, load_known_differences,
    parse_manifest,
)
from tests.parity.tools import parse_table
from tests.support.countingproxy import Request, _is_discovery_path


def _deployment(image="docker.io/istio/pilot:1.31.0", env=("PILOT_ENABLE_AMBIENT",), labels=None):
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "istiod", "namespace": "istio-system", "labels": labels or {"app": "istiod"}},
        "spec": {"template": {"spec": {"containers": [{
            "name": "discovery", "image": image, "env": [{"name": n, "value": "x"} for n in env],
            "ports": [{"containerPort": 15010, "protocol": "TCP"}]}]}}},
    }


def test_identical_objects_have_no_differences():
    assert diff_objects([_deployment()], [_deployment()]) == []


def test_image_env_and_label_changes_are_each_reported():
    ours = _deployment(image="example/pilot:1", env=("A",), labels={"app": "istiod", "extra": "1"})
    theirs = _deployment(env=("B",))
    keys = {d.key: d for d in diff_objects([ours], [theirs])}
    assert keys["image.containers.discovery"].ours == "example/pilot:1"
    assert keys["env.containers.discovery.A"].theirs == MISSING
    assert keys["env.containers.discovery.B"].ours == MISSING
    assert keys["label.extra"].ours == "1"
    assert len(keys) == 4


def test_missing_objects_on_either_side():
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "istio", "namespace": "istio-system"}}
    differences = diff_objects([cm], [_deployment()])
    assert Difference("ConfigMap/istio-system/istio", "object", "present", MISSING) in differences
    assert Difference("Deployment/istio-system/istiod", "object", MISSING, "present") in differences


def test_rbac_rules_compare_as_triples_not_rule_layout():
    split = {"kind": "ClusterRole", "metadata": {"name": "r"}, "rules": [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}]}
    joined = {"kind": "ClusterRole", "metadata": {"name": "r"}, "rules": [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "get"]}]}
    assert diff_objects([split], [joined]) == []
    wider = {"kind": "ClusterRole", "metadata": {"name": "r"}, "rules": [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "get", "delete"]}]}
    assert [d.key for d in diff_objects([wider], [joined])] == ["rule.core/pods.delete"]


def test_webhook_settings_are_compared():
    def hook(policy):
        return {"kind": "MutatingWebhookConfiguration", "metadata": {"name": "istio-sidecar-injector"},
                "webhooks": [{"name": "rev.namespace.sidecar-injector.istio.io", "failurePolicy": policy,
                              "clientConfig": {"service": {"name": "istiod", "namespace": "istio-system",
                                                           "path": "/inject"}}}]}
    [d] = diff_objects([hook("Ignore")], [hook("Fail")])
    assert d.key == "webhook.rev.namespace.sidecar-injector.istio.io.failurePolicy"
    assert facets(hook("Fail"))["webhook.rev.namespace.sidecar-injector.istio.io.service"] == \
        "istio-system/istiod:443/inject"


def test_deep_comparison_sees_values_args_probes_and_security_contexts():
    def ds(level="info", probe_port=8000, privileged=False, env_value="1"):
        return {"apiVersion": "apps/v1", "kind": "DaemonSet",
                "metadata": {"name": "istio-cni-node", "namespace": "istio-system"},
                "spec": {"template": {"spec": {"containers": [{
                    "name": "install-cni", "image": "cni", "args": ["--log_output_level", level, "install"],
                    "env": [{"name": "A", "value": env_value},
                            {"name": "B", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
                    "readinessProbe": {"httpGet": {"path": "/readyz", "port": probe_port}},
                    "securityContext": {"privileged": privileged},
                    "volumeMounts": [{"name": "bin", "mountPath": "/host/opt/cni/bin"}]}],
                    "volumes": [{"name": "bin", "hostPath": {"path": "/opt/cni/bin"}}]}}}}

    assert diff_objects([ds()], [ds()], deep=True) == []
    assert diff_objects([ds(level="default:info")], [ds()]) == []  # the shallow facets cannot see it
    changed = diff_objects([ds("default:info", 8001, True, "2")], [ds()], deep=True)
    container = "spec.template.spec.containers[install-cni]"
    assert {d.key: (d.ours, d.theirs) for d in changed} == {
        f"{container}.args[--log_output_level]": ("default:info", "info"),
        f"{container}.readinessProbe.httpGet.port": ("8001", "8000"),
        f"{container}.securityContext.privileged": ("true", "false"),
        f"{container}.env[A].value": ("2", "1"),
    }
    keys = facets(ds(), deep=True)
    assert keys[f"{container}.env[B].valueFrom.fieldRef.fieldPath"] == "spec.nodeName"
    assert keys[f"{container}.args[#0]"] == "install"
    assert keys["spec.template.spec.volumes[bin].hostPath.path"] == "/opt/cni/bin"


def test_deep_comparison_ignores_the_order_of_named_lists_but_not_of_positionals():
    def dep(env, args):
        return {"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": [
            {"name": "c", "env": [{"name": n, "value": "v"} for n in env], "args": args}]}}}}
    assert diff_objects([dep("AB", ["run", "--x=1", "--y", "2"])], [dep("BA", ["run", "--y", "2", "--x=1"])],
                        deep=True) == []
    assert diff_objects([dep("A", ["a", "b"])], [dep("A", ["b", "a"])], deep=True) != []


def test_deep_webhook_comparison_covers_every_field():
    def hook(timeout, ca=""):
        return {"kind": "ValidatingWebhookConfiguration", "metadata": {"name": "v"}, "webhooks": [{
            "name": "rev.validation.istio.io", "timeoutSeconds": timeout,
            "namespaceSelector": {"matchExpressions": [{"key": "k", "operator": "Exists"}]},
            "clientConfig": {"caBundle": ca, "service": {"name": "istiod", "namespace": "istio-system"}}}]}
    assert diff_objects([hook(10)], [hook(10)], deep=True) == []
    keys = {d.key for d in diff_objects([hook(10, "x")], [hook(30)], deep=True)}
    assert keys == {"webhook.rev.validation.istio.io.timeoutSeconds",
                    "webhook.rev.validation.istio.io.clientConfig.caBundle"}
    # a selector is one value (its terms mean something together), as in the shallow facets
    assert facets(hook(10), deep=True)["webhook.rev.validation.istio.io.namespaceSelector"] == \
        '{"matchExpressions":[{"key":"k","operator":"Exists"}]}'


def test_ignored_labels_are_not_compared():
    ours = _deployment(labels={"app": "istiod", "app.kubernetes.io/managed-by": "ambientctl"})
    assert diff_objects([ours], [_deployment()], ignore_labels=["app.kubernetes.io/*"]) == []


def test_classify_separates_unlisted_explained_and_stale():
    explained = Difference("Deployment/istio-system/istiod", "label.ambientctl.io/owner", "x", MISSING)
    unlisted = Difference("Service/istio-system/istiod", "servicePort.grpc", "1->1/TCP", MISSING)
    known = [KnownDifference("owner", "a", "*", "label.ambientctl.io/*", "our owner label"),
             KnownDifference("gone", "a", "Job/*", "object", "no longer happens")]
    verdict = classify([explained, unlisted], known)
    assert verdict.unlisted == [unlisted]
    assert [k.id for k in verdict.stale] == ["gone"]
    assert not verdict.ok
    assert "servicePort.grpc" in verdict.report() and "gone" in verdict.report()


def test_known_differences_file_is_complete_and_well_formed():
    """Every entry has a reason; ids are unique (load raises on a missing field)."""
    import yaml

    from tests.parity.compare import KNOWN_DIFFERENCES

    entries = yaml.safe_load(KNOWN_DIFFERENCES.read_text())["differences"]
    ids = [e["id"] for e in entries]
    assert len(ids) == len(set(ids))
    for area in {a for e in entries for a in (e["area"] if isinstance(e["area"], list) else [e["area"]])}:
        assert all(len(k.reason) > 20 for k in load_known_differences(area))


def test_parse_manifest_skips_empty_documents_and_expands_lists():
    text = "---\n# only a comment\n---\napiVersion: v1\nkind: List\nitems:\n- {kind: A, metadata: {name: a}}\n"
    assert parse_manifest(text) == [{"kind": "A", "metadata": {"name": "a"}}]


def test_parse_table_keeps_multiword_headers_and_empty_cells():
    text = textwrap.dedent("""\
        CERTIFICATE NAME                          TYPE     STATUS       VALID CERT
        spiffe://cluster.local/ns/a/sa/b          Leaf     Available    true
        spiffe://cluster.local/ns/a/sa/c          NA       Initializing false
        """)
    rows = parse_table(text)
    assert rows[0] == {"CERTIFICATE NAME": "spiffe://cluster.local/ns/a/sa/b", "TYPE": "Leaf",
                       "STATUS": "Available", "VALID CERT": "true"}
    assert rows[1]["STATUS"] == "Initializing" and rows[1]["VALID CERT"] == "false"


@pytest.mark.parametrize("method,query,verb", [
    ("GET", "", "get"), ("GET", "watch=true&resourceVersion=1", "watch"), ("PATCH", "fieldManager=x", "patch"),
    ("POST", "", "create"), ("DELETE", "", "delete"),
])
def test_counting_proxy_verbs(method, query, verb):
    assert Request(method, "/api/v1/namespaces", query, "ua", 200).verb == verb


def test_discovery_paths():
    assert _is_discovery_path("/apis/apps/v1") and _is_discovery_path("/api")
    assert not _is_discovery_path("/apis/apps/v1/namespaces/x/deployments")


def test_diff_tables_reports_cells_missing_rows_columns_and_order():
    from tests.parity.compare import diff_tables

    theirs = [{"NAME": "a", "STATUS": "ok"}, {"NAME": "b", "STATUS": "ok"}, {"NAME": "c", "STATUS": "ok"}]
    ours = [{"NAME": "b", "STATUS": "bad"}, {"NAME": "a", "STATUS": "ok"}, {"NAME": "d", "STATUS": "ok"}]
    found = {(d.object, d.key): d for d in diff_tables("zc x", ours, theirs, ("NAME",))}
    assert found[("zc x/b", "STATUS")].ours == "bad"
    assert found[("zc x/c", "row")].ours == MISSING
    assert found[("zc x/d", "row")].theirs == MISSING
    assert ("zc x", "order") in found
    assert len(found) == 4
    assert diff_tables("zc x", theirs, theirs, ("NAME",)) == []


def test_listed_bugs_still_fail_until_fixed():
    bug = Difference("PodDisruptionBudget/istio-system/istiod", "object", "present", MISSING)
    known = [KnownDifference("pdb", "a", "PodDisruptionBudget/*", "object", "rendered with one replica",
                             status="bug")]
    verdict = classify([bug], known)
    assert verdict.unlisted == [] and [k.id for k in verdict.open_bugs] == ["pdb"]
    assert not verdict.ok and "pdb" in verdict.report()


def test_docs_parity_table_matches_known_differences():
    """docs/parity.md shows exactly what known_differences.yaml says (regenerate with tests.parity.report)."""
    from tests.parity.report import DOC, render, updated

    text = DOC.read_text()
    assert updated(text, render()) == text, "run: .venv/bin/python -m tests.parity.report"


def test_configmap_documents_are_compared_by_settings_and_template_names():
    def injector(templates):
        config = yaml.safe_dump({"policy": "enabled", "templates": {t: "..." for t in templates}})
        return {"kind": "ConfigMap", "metadata": {"name": "istio-sidecar-injector", "namespace": "istio-system"},
                "data": {"config": config}}
    [d] = diff_objects([injector(["sidecar"])], [injector(["sidecar", "waypoint"])])
    assert (d.key, d.ours, d.theirs) == ("data.config.templates.waypoint", MISSING, "set")
