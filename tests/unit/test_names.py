"""The Kubernetes name rules (ambientctl.names), and the label/annotation accessors (ambientctl.labels)."""

from __future__ import annotations

import pytest

from ambientctl.errors import InvalidInputError
from ambientctl.labels import annotations_of, labels_of
from ambientctl.names import is_dns1035_label, is_dns_label, is_dns_subdomain, is_label_value, validate_namespace


@pytest.mark.parametrize("value", ["a", "default", "istio-system", "1-31-0", "9", "a" * 63])
def test_dns_labels(value: str) -> None:
    assert is_dns_label(value)


@pytest.mark.parametrize("value", ["", "A", "-a", "a-", "a.b", "a_b", "a" * 64, "a\n", "../x", "a b"])
def test_not_dns_labels(value: str) -> None:
    assert not is_dns_label(value)


def test_dns1035_label_starts_with_a_letter() -> None:
    assert is_dns1035_label("waypoint") and is_dns1035_label("a" * 63)
    assert not is_dns1035_label("1-waypoint") and not is_dns1035_label("a" * 64) and not is_dns1035_label("a.b")


def test_dns_subdomain() -> None:
    assert is_dns_subdomain("istio-waypoint") and is_dns_subdomain("a.b-c.d") and is_dns_subdomain("a" * 253)
    for bad in ("", "a..b", ".a", "a.", "A.b", "a" * 254, "a/b"):
        assert not is_dns_subdomain(bad), bad


def test_label_value() -> None:
    for good in ("", "canary", "1.31.0", "Canary_1-x", "a" * 63):
        assert is_label_value(good), good
    for bad in ("-a", "a-", "a b", "a/b", "a" * 64):
        assert not is_label_value(bad), bad


def test_validate_namespace_one_message() -> None:
    assert validate_namespace("default", "-n/--namespace") == "default"
    with pytest.raises(InvalidInputError) as info:
        validate_namespace("../kube-system", "-n/--namespace")
    assert info.value.message == ("invalid namespace '../kube-system' (-n/--namespace): "
                                  "use at most 63 lowercase letters, digits and '-'")


def test_label_accessors_tolerate_missing_or_null_metadata() -> None:
    for obj in ({}, {"metadata": None}, {"metadata": {"labels": None, "annotations": None}}):
        assert labels_of(obj) == {} and annotations_of(obj) == {}
    obj = {"metadata": {"labels": {"a": "1"}, "annotations": {"b": "2"}}}
    assert labels_of(obj) == {"a": "1"} and annotations_of(obj) == {"b": "2"}


def test_require_dns_subdomain_one_message() -> None:
    from ambientctl.names import require_dns_subdomain

    assert require_dns_subdomain("istio-waypoint", "gateway class", "hint") == "istio-waypoint"
    with pytest.raises(InvalidInputError) as info:
        require_dns_subdomain("A" * 300, "waypoint name", "list them")
    assert info.value.message == f"invalid waypoint name '{'A' * 80}...': use lowercase letters, digits, '-' and '.'"
    assert info.value.hint == "list them"
