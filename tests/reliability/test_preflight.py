"""The RBAC pre-flight (ambientctl/kube/permissions.py, ambientctl/install/permissions.py) without a cluster."""

from __future__ import annotations

import pytest

from ambientctl.install.permissions import install_permissions
from ambientctl.kube import permissions
from ambientctl.kube.permissions import Permission
from ambientctl.errors import ExitCode, ForbiddenError
from tests.support.fakekube import FakeKube

OBJECTS = [
    {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "a", "namespace": "istio-system"}},
    {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "b", "namespace": "istio-system"}},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "c"}},
]


def test_each_distinct_permission_is_asked_once_in_the_right_scope() -> None:
    kube = FakeKube(allowed=set())
    needed = permissions.for_objects(kube, OBJECTS, ("create", "patch"))
    assert needed == sorted({
        Permission("create", "", "serviceaccounts", "istio-system"),
        Permission("patch", "", "serviceaccounts", "istio-system"),
        Permission("create", "rbac.authorization.k8s.io", "clusterroles", ""),
        Permission("patch", "rbac.authorization.k8s.io", "clusterroles", ""),
    })
    assert len(permissions.missing(kube, needed + needed)) == 4
    # one "may I do everything?" review first (a cluster admin needs no other), then each one once
    assert kube.reviews[0] == ("*", "*", "*", "")
    assert len(kube.reviews) == 5 and len(set(kube.reviews[1:])) == 4


def test_require_names_what_is_missing_and_that_nothing_changed() -> None:
    kube = FakeKube(allowed={("create", "", "serviceaccounts"), ("patch", "", "serviceaccounts")})
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
        permissions.require(FakeKube(allowed=set()), needed, "x")
    assert "and 6 more" in caught.value.message


def test_all_allowed_passes() -> None:
    kube = FakeKube(allowed={("create", "", "serviceaccounts"), ("create", "rbac.authorization.k8s.io", "clusterroles")})
    permissions.require(kube, permissions.for_objects(kube, OBJECTS, ("create",)), "install")


def test_when_access_reviews_are_refused_the_check_steps_aside() -> None:
    kube = FakeKube(allowed=set(), reviews_forbidden=True)
    permissions.require(kube, [Permission("patch", "", "namespaces")], "enroll")  # no error: requests will tell


def test_install_permissions_cover_namespaces_lock_objects_and_prune() -> None:
    kube = FakeKube(allowed=set())
    needed = set(install_permissions(kube, OBJECTS, ["istio-system"], "istio-system"))
    assert Permission("create", "", "namespaces") in needed
    assert Permission("create", "", "configmaps", "istio-system") in needed  # the lock
    assert Permission("delete", "apps", "deployments") in needed  # prune, cluster-wide list+delete
    assert Permission("list", "admissionregistration.k8s.io", "validatingwebhookconfigurations") in needed
