"""`manifest generate --set profile=ambient` beside `istioctl manifest generate` of the same release.

Object by object: kinds, names, namespaces, labels, RBAC rules, services, config
maps, and EVERY field of every workload (Deployment, DaemonSet: containers, env
values, args, probes, volumes, mounts, security contexts, resources, pod spec)
and of every webhook configuration (``deep=True`` in compare.py).  Every
difference must be listed, with its reason, in known_differences.yaml (area
``manifest-generate``); docs/parity.md explains them."""

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
    differences = diff_objects(ours, theirs, ignore_labels=ignored_labels(AREA), deep=True)
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


def test_every_field_of_the_workloads_is_compared(rendered):
    """The deep comparison reaches env values, args, probes, volumes and security contexts;
    without it a changed value would pass unseen."""
    from tests.parity.compare import facets

    ours, _ = rendered
    cni = index(ours)["DaemonSet/istio-system/istio-cni-node"]
    keys = facets(cni, deep=True)
    container = "spec.template.spec.containers[install-cni]"
    assert any(k.startswith(f"{container}.args[") for k in keys), sorted(keys)[:20]
    assert any(k.startswith(f"{container}.readinessProbe.") for k in keys)
    assert any(k.startswith(f"{container}.securityContext.") for k in keys)
    assert any(k.startswith("spec.template.spec.volumes[") for k in keys)
    assert any(k.startswith(f"{container}.env[") and k.endswith(".value") for k in keys)
