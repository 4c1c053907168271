"""precheck: the version support table, each check's verdict, and how results are printed."""

from __future__ import annotations

import pytest

from ambientctl.install.checks import (
    Check,
    CheckResult,
    Outcome,
    Status,
    format_outcome,
    outcomes_document,
    raise_if_failed,
    run_checks,
)
from ambientctl.install.precheck import (
    GATEWAY_INSTALL_COMMAND,
    PRECHECKS,
    existing_install_result,
    gateway_api_result,
    kubernetes_version_result,
    parse_minor,
    permissions_result,
    sidecar_namespaces_result,
)
from ambientctl.errors import ChecksFailedError, ClusterUnreachableError, ExitCode, ForbiddenError
from ambientctl.ownership import owner_labels
from ambientctl.versions import MAX_KUBERNETES_MINOR, MIN_KUBERNETES_MINOR


@pytest.mark.parametrize(
    ("minor", "status"),
    [
        (str(MIN_KUBERNETES_MINOR - 1), Status.FAIL),
        (str(MIN_KUBERNETES_MINOR), Status.OK),
        ("34", Status.OK),
        (f"{MAX_KUBERNETES_MINOR}+", Status.OK),  # managed clusters report "36+"
        (str(MAX_KUBERNETES_MINOR), Status.OK),
        (str(MAX_KUBERNETES_MINOR + 1), Status.FAIL),
        ("", Status.WARN),
    ],
)
def test_version_support_table(minor, status):
    result = kubernetes_version_result(f"v1.{minor}.0", "1", minor)
    assert result.status is status
    if status is Status.FAIL:
        assert f"1.{MIN_KUBERNETES_MINOR}-1.{MAX_KUBERNETES_MINOR}" in result.message + result.hint


def test_version_messages_say_which_way_and_what_to_do():
    old = kubernetes_version_result("v1.29.4", "1", "29")
    assert "older than Istio" in old.message and "upgrade the cluster" in old.hint
    new = kubernetes_version_result("v1.40.0", "1", "40")
    assert "newer than Istio" in new.message


def test_parse_minor():
    assert parse_minor("36") == 36
    assert parse_minor("36+") == 36
    assert parse_minor("x") is None


def test_permissions_result_groups_verbs_by_resource():
    result = permissions_result([("create", "clusterroles.rbac.authorization.k8s.io"),
                                 ("delete", "clusterroles.rbac.authorization.k8s.io"), ("patch", "deployments.apps")])
    assert result.status is Status.FAIL
    assert result.message == "missing 3 permission(s) on 2 resource(s) (cluster-wide)"
    assert result.details == ["create, delete clusterroles.rbac.authorization.k8s.io", "patch deployments.apps"]
    assert permissions_result([]).status is Status.OK


def _crd(name, bundle=None, labels=None, group="networking.istio.io"):
    meta = {"name": name, "labels": labels or {}}
    if bundle:
        meta["annotations"] = {"gateway.networking.k8s.io/bundle-version": bundle}
    return {"metadata": meta, "spec": {"group": group}}


def test_gateway_api_missing_tells_how_to_install():
    result = gateway_api_result(None)
    assert result.status is Status.WARN
    assert result.hint == f"install them: {GATEWAY_INSTALL_COMMAND}"
    assert "standard-install.yaml" in GATEWAY_INSTALL_COMMAND and "v1.6.0" in GATEWAY_INSTALL_COMMAND


def test_gateway_api_versions():
    assert gateway_api_result(_crd("gateways.gateway.networking.k8s.io", "v1.6.0")).status is Status.OK
    assert gateway_api_result(_crd("gateways.gateway.networking.k8s.io", "v1.7.1")).status is Status.OK
    old = gateway_api_result(_crd("gateways.gateway.networking.k8s.io", "v1.2.1"))
    assert old.status is Status.WARN and "older than v1.6.0" in old.message


def _istiod(namespace="istio-system", labels=None):
    return {"metadata": {"name": "istiod", "namespace": namespace, "labels": labels or {}}}


def test_existing_install_by_someone_else_warns_with_the_objects():
    result = existing_install_result([_istiod(labels={"istio.io/rev": "1-30"})], [_crd("gateways.networking.istio.io")])
    assert result.status is Status.WARN
    assert result.details[0] == "Deployment istio-system/istiod (revision 1-30, not installed by ambientctl)"
    assert "1 Istio CRD(s) not installed by ambientctl" in result.details[1]
    assert "--force-conflicts" in result.hint


def test_existing_install_of_ours_is_fine_and_names_revisions():
    ours = owner_labels("Pilot", "default")
    result = existing_install_result([_istiod(labels=ours)], [_crd("x.istio.io", labels=owner_labels("Base", "default"))])
    assert result.status is Status.OK
    assert result.message.startswith("ambientctl-installed revision(s) found: default")
    assert existing_install_result([], []).message == "no existing Istio installation"


def _ns(name, **labels):
    return {"metadata": {"name": name, "labels": labels}}


def test_sidecar_namespaces_are_listed_but_ambient_revision_namespaces_are_not():
    result = sidecar_namespaces_result([
        _ns("legacy", **{"istio-injection": "enabled"}),
        _ns("canary", **{"istio.io/rev": "canary"}),
        _ns("ambient-rev", **{"istio.io/rev": "canary", "istio.io/dataplane-mode": "ambient"}),
    ])
    assert result.status is Status.WARN
    assert result.details == ["canary (istio.io/rev=canary)", "legacy (istio-injection=enabled)"]
    assert sidecar_namespaces_result([]).status is Status.OK


def test_format_outcome_shows_details_and_hint_only_when_not_ok():
    ok = Outcome("v", "Kubernetes version", CheckResult.ok("v1.36.3 is supported"))
    assert format_outcome(ok) == "✔ Kubernetes version: v1.36.3 is supported\n"
    warn = Outcome("g", "Gateway API", CheckResult.warn("missing", "install them", ["a"]))
    assert format_outcome(warn) == "! Gateway API: missing\n    a\n    hint: install them\n"
    fail = Outcome("p", "Install permissions", CheckResult.fail("missing 1", "ask an admin"))
    assert format_outcome(fail).startswith("✘ Install permissions: missing 1\n")


def test_document_and_exit_code():
    outcomes = [Outcome("a", "A", CheckResult.ok("fine")), Outcome("b", "B", CheckResult.warn("hmm")),
                Outcome("c", "C", CheckResult.fail("bad", "fix it"))]
    doc = outcomes_document(outcomes)
    assert doc["summary"] == {"ok": 1, "warnings": 1, "failed": 1}
    assert doc["checks"][2] == {"check": "c", "description": "C", "status": "fail", "message": "bad",
                                "hint": "fix it", "details": []}
    with pytest.raises(ChecksFailedError) as exc:
        raise_if_failed(outcomes, "precheck", "fix")
    assert exc.value.exit_code == ExitCode.CHECK_FAILED == 3
    raise_if_failed(outcomes[:2], "precheck", "fix")  # warnings alone do not fail


def test_run_checks_turns_forbidden_into_a_warning_but_lets_unreachable_through():
    def forbidden(_kube):
        raise ForbiddenError("forbidden: not allowed to list namespaces cluster-wide", "ask for RBAC")

    def unreachable(_kube):
        raise ClusterUnreachableError("cluster unreachable")

    [outcome] = run_checks(None, [Check("x", "X", forbidden)])
    assert outcome.result.status is Status.WARN
    assert outcome.result.message.startswith("could not check: forbidden")
    with pytest.raises(ClusterUnreachableError):
        run_checks(None, [Check("y", "Y", unreachable)])


def test_precheck_names_are_unique_and_described():
    names = [c.name for c in PRECHECKS]
    assert len(names) == len(set(names)) == 5
    assert all(c.description for c in PRECHECKS)


def test_install_permissions_cost_one_review_for_a_cluster_admin():
    """Issue 17: 60 access reviews (20 kinds x 3 verbs) for a cluster admin became one."""
    from ambientctl.install.precheck import check_permissions
    from tests.support.fakekube import FakeKube

    kube = FakeKube()
    result = check_permissions(kube)
    assert result.status is Status.OK
    assert kube.requests["review"] == 1


def test_install_permissions_name_each_missing_one_when_not_an_admin():
    """Without `*`, every (verb, resource) is still asked, so the report names each one missing."""
    from ambientctl.install.kinds import MANAGED_KINDS
    from ambientctl.install.precheck import INSTALL_VERBS, check_permissions
    from tests.support.fakekube import FakeKube

    kube = FakeKube(allowed=[("*", "", "namespaces")])
    result = check_permissions(kube)
    assert kube.requests["review"] == 1 + len(INSTALL_VERBS) * (1 + len(MANAGED_KINDS))
    assert result.status is Status.FAIL
    assert "namespaces" not in " ".join(result.details)
    assert len(result.details) == len({(k.group, k.plural) for k in MANAGED_KINDS})
