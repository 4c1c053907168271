"""Users without the permissions a command needs: told which, and the cluster is left exactly as it was.

Two users: the cluster's read-only user (`cluster.readonly_kubeconfig`), and a
partially privileged service account that may create namespaces, ConfigMaps,
ServiceAccounts and Services but nothing RBAC or apps: without the pre-flight
check (ambientctl/checks/permissions.py) install would create the namespace,
the lock and the ServiceAccounts and then stop at the first ClusterRole.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ambientctl.errors import ExitCode
from tests.reliability import clusterops as ops
from tests.reliability.clusterops import INSTALL, REL_NS, UNINSTALL

pytestmark = pytest.mark.e2e

PARTIAL_NS = "e2e-rel-partial"
PARTIAL_SA = "partial-installer"
TARGET_NS = "e2e-rel-perm-target"
WATCHED = {REL_NS, PARTIAL_NS, TARGET_NS}


@pytest.fixture(scope="module")
def kube(cluster):
    return ops.admin(cluster)


@pytest.fixture(scope="module")
def target(kube, cluster):
    """A namespace with a waypoint and a sample Service, made by the admin."""
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": TARGET_NS}})
    result = ops.run(cluster.kubeconfig, "waypoint", "apply", "-n", TARGET_NS, "--name", "wp")
    assert result.exit_code == 0, result.stderr
    yield TARGET_NS
    kube.delete("v1", "Namespace", TARGET_NS)


@pytest.fixture(scope="module")
def partial_kubeconfig(kube, cluster, tmp_path_factory):
    """A token user allowed the harmless half of an install."""
    from kubernetes import client

    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": PARTIAL_NS}})
    kube.apply({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": PARTIAL_SA, "namespace": PARTIAL_NS}})
    rules = [
        {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list", "create", "patch"]},
        {"apiGroups": [""], "resources": ["configmaps", "serviceaccounts", "services", "secrets"], "verbs": ["*"]},
        {"apiGroups": ["apiextensions.k8s.io"], "resources": ["customresourcedefinitions"], "verbs": ["get", "list"]},
        {"apiGroups": ["gateway.networking.k8s.io"], "resources": ["gateways"], "verbs": ["get", "list"]},
    ]
    kube.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": {"name": "e2e-rel-partial"}, "rules": rules})
    kube.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": "e2e-rel-partial"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "e2e-rel-partial"},
                "subjects": [{"kind": "ServiceAccount", "name": PARTIAL_SA, "namespace": PARTIAL_NS}]})
    core = client.CoreV1Api(cluster.api_client())
    request = client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=[],
                                                                                 expiration_seconds=3600))
    token = core.create_namespaced_service_account_token(PARTIAL_SA, PARTIAL_NS, request).status.token
    path = ops.token_kubeconfig(cluster, token, str(tmp_path_factory.mktemp("partial") / "kubeconfig"))
    yield path
    kube.delete("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "e2e-rel-partial")
    kube.delete("rbac.authorization.k8s.io/v1", "ClusterRole", "e2e-rel-partial")
    kube.delete("v1", "Namespace", PARTIAL_NS)


@pytest.fixture(autouse=True)
def no_rel_install(cluster):
    ops.cleanup_rel_install(cluster)
    yield
    ops.cleanup_rel_install(cluster)


@dataclass(frozen=True)
class Before:
    """The watched objects before a command, and the namespaces that were already terminating then."""

    snapshot: ops.Snapshot
    terminating: frozenset[str]

    def settled(self, snapshot: ops.Snapshot) -> ops.Snapshot:
        """`snapshot` without the namespaces already being deleted when this one was taken.

        Why: namespace deletion finishes asynchronously.  An earlier test's namespace
        (e2e-rel-lookalike of test_nothing_lost.py) can vanish while this test runs; that is not
        a change made by the command under test.  A namespace the command deletes or creates
        is still seen: it was not terminating before."""
        return ops.Snapshot({key: value for key, value in snapshot.objects.items()
                             if not (key[0] == "Namespace" and key[2] in self.terminating)})


def take(kube) -> Before:
    terminating = frozenset(ns["metadata"]["name"] for ns in kube.list("v1", "Namespace", all_namespaces=True)
                            if ns["metadata"].get("deletionTimestamp"))
    return Before(ops.snapshot(kube, WATCHED), terminating)


def assert_refused_unchanged(kube, before: Before, result, *needles: str) -> None:
    assert result.exit_code == ExitCode.FORBIDDEN, result.stderr
    assert result.stderr.count("Error: ") == 1 and "Traceback" not in result.stderr, result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr
    assert "nothing was changed" in result.stderr or "forbidden" in result.stderr, result.stderr
    # CRDs are shared with every other install test running on the cluster at the same time.
    changes = before.settled(before.snapshot).diff(before.settled(ops.snapshot(kube, WATCHED)),
                                                   ignore_kinds=frozenset({"CustomResourceDefinition"}))
    assert changes == [], changes


def test_precheck_names_the_missing_permissions(cluster):
    result = ops.run(cluster.readonly_kubeconfig, "precheck")
    assert result.exit_code == ExitCode.CHECK_FAILED, result.stderr
    assert "✘ Install permissions" in result.stdout
    assert "create, patch, delete clusterroles.rbac.authorization.k8s.io" in result.stdout
    assert "create, patch, delete deployments.apps" in result.stdout


@pytest.mark.parametrize("args", [
    INSTALL,
    ["dataplane", "enroll", TARGET_NS],
    ["dataplane", "unenroll", TARGET_NS],
    ["waypoint", "apply", "-n", TARGET_NS, "--name", "other", "--enroll-namespace"],
    ["waypoint", "delete", "wp", "-n", TARGET_NS],
    ["waypoint", "delete", "--all", "-n", TARGET_NS],
], ids=["install", "enroll", "unenroll", "waypoint-apply", "waypoint-delete", "waypoint-delete-all"])
def test_readonly_user_changes_nothing(cluster, kube, target, args):
    before = take(kube)
    result = ops.run(cluster.readonly_kubeconfig, *args)
    assert_refused_unchanged(kube, before, result, "permission")


def test_readonly_uninstall_changes_nothing(cluster, kube):
    assert ops.run(cluster.kubeconfig, *INSTALL, "--skip-wait").exit_code == 0
    before = take(kube)
    result = ops.run(cluster.readonly_kubeconfig, *UNINSTALL)
    assert_refused_unchanged(kube, before, result)


def test_partial_user_install_stops_before_the_first_change(cluster, kube, partial_kubeconfig):
    before = take(kube)
    result = ops.run(partial_kubeconfig, *INSTALL)
    assert_refused_unchanged(kube, before, result, "webhookconfigurations.admissionregistration.k8s.io",
                             "nothing was changed")
    assert kube.get_or_none("v1", "Namespace", REL_NS) is None


def test_partial_user_uninstall_stops_before_the_first_delete(cluster, kube, partial_kubeconfig):
    assert ops.run(cluster.kubeconfig, *INSTALL, "--skip-wait").exit_code == 0
    before = take(kube)
    result = ops.run(partial_kubeconfig, *UNINSTALL)
    assert_refused_unchanged(kube, before, result)


def test_debug_traceback_of_a_token_user_shows_no_token(cluster, partial_kubeconfig):
    import yaml

    with open(partial_kubeconfig) as handle:
        token = yaml.safe_load(handle)["users"][0]["user"]["token"]
    result = ops.run(partial_kubeconfig, "--debug", *INSTALL)
    assert result.exit_code == ExitCode.FORBIDDEN
    assert "Traceback" in result.stderr  # --debug does show the traceback...
    assert token not in result.stderr + result.stdout  # ...but never the credential
    assert token[:40] not in result.stderr + result.stdout
