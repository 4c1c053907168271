"""The RBAC pre-flight (ambientctl/checks/permissions.py) without a cluster."""

from __future__ import annotations

import pytest

from ambientctl.checks import permissions
from ambientctl.checks.permissions import Permission
from ambientctl.errors import ExitCode, ForbiddenError
from ambientctl.install import MANAGED_KINDS
from ambientctl.kube.resources import KNOWN_RESOURCES, ResourceType

CLUSTER_SCOPED = {"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"}


class FakeKube:
    """Answers access reviews from an allow-list; counts them."""

    def __init__(self, allowed: set[tuple[str, str, str]], reviews_forbidden: bool = False) -> None:
        self.allowed = allowed
        self.reviews_forbidden = reviews_forbidden
        self.asked: list[tuple[str, str, str, str | None]] = []

    def can_i(self, verb: str, resource: str, group: str = "", namespace: str | None = None) -> bool:
        if self.reviews_forbidden:
            raise ForbiddenError("forbidden: not allowed to create selfsubjectaccessreviews")
        self.asked.append((verb, resource, group, namespace))
        return (verb, group, resource) in self.allowed

    def resource_type(self, api_version: str, kind: str):
        if (api_version, kind) in KNOWN_RESOURCES:
            return KNOWN_RESOURCES[(api_version, kind)]
        managed = next(k for k in MANAGED_KINDS if (k.api_version, k.kind) == (api_version, kind))
        return ResourceType(api_version, kind, managed.plural, namespaced=kind not in CLUSTER_SCOPED)


OBJECTS = [
    {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "a", "namespace": "istio-system"}},
    {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "b", "namespace": "istio-system"}},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "c"}},
]


def test_each_distinct_permission_is_asked_once_in_the_right_scope() -> None:
    kube = FakeKube(set())
    needed = permissions.for_objects(kube, OBJECTS, ("create", "patch"))
    assert needed == sorted({
        Permission("create", "", "serviceaccounts", "istio-system"),
        Permission("patch", "", "serviceaccounts", "istio-system"),
        Permission("create", "rbac.authorization.k8s.io", "clusterroles", ""),
        Permission("patch", "rbac.authorization.k8s.io", "clusterroles", ""),
    })
    assert len(permissions.missing(kube, needed + needed)) == 4
    # one "may I do everything?" review first (a cluster admin needs no other), then each one once
    assert kube.asked[0] == ("*", "*", "*", None)
    assert len(kube.asked) == 5 and len(set(kube.asked[1:])) == 4


def test_require_names_what_is_missing_and_that_nothing_changed() -> None:
    kube = FakeKube({("create", "", "serviceaccounts"), ("patch", "", "serviceaccounts")})
    with pytest.raises(ForbiddenError) as caught:
        permissions.require(kube, permissions.for_objects(kube, OBJECTS, ("create", "patch")), "install")
    text = caught.value.one_line()
    assert caught.value.exit_code == ExitCode.FORBIDDEN
    assert "install needs 2 permission(s)" in text
    assert "create clusterroles.rbac.authorization.k8s.io cluster-wide" in text
    assert "nothing was changed" in text and "\n" not in text


def test_long_lists_are_cut_in_the_message() -> None:
    needed = [Permission("get", "", f"r{i}") for i in range(10)]
    with pytest.raises(ForbiddenError) as caught:
        permissions.require(FakeKube(set()), needed, "x")
    assert "and 6 more" in caught.value.message


def test_all_allowed_passes() -> None:
    kube = FakeKube({("create", "", "serviceaccounts"), ("create", "rbac.authorization.k8s.io", "clusterroles")})
    permissions.require(kube, permissions.for_objects(kube, OBJECTS, ("create",)), "install")


def test_when_access_reviews_are_refused_the_check_steps_aside() -> None:
    kube = FakeKube(set(), reviews_forbidden=True)
    permissions.require(kube, [Permission("patch", "", "namespaces")], "enroll")  # no error: requests will tell


def test_install_permissions_cover_namespaces_lock_objects_and_prune() -> None:
    kube = FakeKube(set())
    needed = set(permissions.install_permissions(kube, OBJECTS, ["istio-system"], "istio-system"))
    assert Permission("create", "", "namespaces") in needed
    assert Permission("create", "", "configmaps", "istio-system") in needed  # the lock
    assert Permission("delete", "apps", "deployments") in needed  # prune, cluster-wide list+delete
    assert Permission("list", "admissionregistration.k8s.io", "validatingwebhookconfigurations") in needed
