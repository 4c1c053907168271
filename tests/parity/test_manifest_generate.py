"""`manifest generate --set profile=ambient` beside `istioctl manifest generate` of the same release.

Object by object: kinds, names, namespaces, labels, images, ports, env var
names, RBAC rules, webhooks.  Every difference must be listed, with its reason,
in known_differences.yaml (area ``manifest-generate``); docs/parity.md explains them."""

from __future__ import annotations

import pytest

from tests.parity.compare import (
    classify, diff_objects, ignored_labels, index, load_known_differences, parse_manifest,
)
from tests.parity.tools import ambientctl, istioctl

AREA = "manifest-generate"
ARGS = ("manifest", "generate", "--set", "profile=ambient")


@pytest.fixture(scope="module")
def rendered(istioctl_bin) -> tuple[list[dict], list[dict]]:
    """(ambientctl's objects, istioctl's objects) for the ambient profile."""
    theirs = istioctl(istioctl_bin, *ARGS)
    assert theirs.ok, theirs
    ours = ambientctl(*ARGS)
    assert ours.ok, ours
    return parse_manifest(ours.stdout), parse_manifest(theirs.stdout)


def test_every_difference_is_listed_with_its_reason(rendered):
    ours, theirs = rendered
    differences = diff_objects(ours, theirs, ignore_labels=ignored_labels(AREA))
    verdict = classify(differences, load_known_differences(AREA))
    assert verdict.ok, verdict.report()


def test_the_core_ambient_objects_exist_on_both_sides(rendered):
    """Guards against a vacuous comparison (e.g. both sides empty)."""
    ours, theirs = (index(objects) for objects in rendered)
    for ref in ("Deployment/istio-system/istiod", "DaemonSet/istio-system/ztunnel",
                "DaemonSet/istio-system/istio-cni-node", "ConfigMap/istio-system/istio",
                "MutatingWebhookConfiguration//istio-sidecar-injector"):
        assert ref in theirs, f"istioctl did not render {ref}"
        assert ref in ours, f"ambientctl did not render {ref}"
