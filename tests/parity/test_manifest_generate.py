"""`manifest generate` beside `istioctl manifest generate` of the same release, for every
ambient-relevant profile and platform.

Object by object: kinds, names, namespaces, labels, RBAC rules, services, config
maps, and EVERY field of every workload (Deployment, DaemonSet: containers, env
values, args, probes, volumes, mounts, security contexts, resources, pod spec)
and of every webhook configuration (``deep=True`` in compare.py).  Every
difference must be listed, with its reason, in known_differences.yaml (area
``manifest-generate``); docs/parity.md explains them.  An entry is stale only if
it explains nothing in any of the cases, since most entries are about one profile.
"""

from __future__ import annotations

import pytest

from tests.parity.compare import (
    classify, diff_objects, ignored_labels, index, load_known_differences, parse_manifest,
)
from tests.parity.tools import ambientctl, istioctl

AREA = "manifest-generate"
# (case id, --set flags). The profiles istioctl 1.31 ships for ambient (ambient, openshift-ambient,
# remote, the last with both ways of naming the remote istiod) and ambient on every platform.
CASES: dict[str, tuple[str, ...]] = {
    "ambient": ("profile=ambient",),
    "openshift-ambient": ("profile=openshift-ambient",),
    "remote": ("profile=remote",),
    "remote-address": ("profile=remote", "values.global.remotePilotAddress=192.0.2.10"),
    "remote-hostname": ("profile=remote", "values.global.remotePilotAddress=istiod.example.com"),
    "remote-url": ("profile=remote", "values.istiodRemote.injectionURL=https://istiod.example.com:15017/inject"),
    **{f"ambient-{platform}": ("profile=ambient", f"values.global.platform={platform}")
       for platform in ("gke", "k3d", "k3s", "microk8s", "minikube", "openshift")},
}


def _args(case: str) -> list[str]:
    args = ["manifest", "generate"]
    for flag in CASES[case]:
        args += ["--set", flag]
    return args


@pytest.fixture(scope="module")
def rendered(istioctl_bin) -> dict[str, tuple[list[dict], list[dict]]]:
    """case -> (ambientctl's objects, istioctl's objects)."""
    out = {}
    for case in CASES:
        theirs = istioctl(istioctl_bin, *_args(case))
        assert theirs.ok, (case, theirs)
        ours = ambientctl(*_args(case))
        assert ours.ok, (case, ours)
        out[case] = (parse_manifest(ours.stdout), parse_manifest(theirs.stdout))
    return out


@pytest.mark.parametrize("case", list(CASES))
def test_every_difference_is_listed_with_its_reason(rendered, case):
    ours, theirs = rendered[case]
    differences = diff_objects(ours, theirs, ignore_labels=ignored_labels(AREA), deep=True)
    verdict = classify(differences, load_known_differences(AREA))
    assert not verdict.unlisted and not verdict.open_bugs, verdict.report()


def test_no_listed_difference_is_stale(rendered):
    """Each entry of the area explains a difference in at least one case."""
    known = load_known_differences(AREA)
    used: set[str] = set()
    for ours, theirs in rendered.values():
        verdict = classify(diff_objects(ours, theirs, ignore_labels=ignored_labels(AREA), deep=True), known)
        used |= {entry.id for _, entry in verdict.explained}
    assert [k.id for k in known if k.id not in used] == []


def test_the_core_ambient_objects_exist_on_both_sides(rendered):
    """Guards against a vacuous comparison (e.g. both sides empty)."""
    ours, theirs = (index(objects) for objects in rendered["ambient"])
    for ref in ("Deployment/istio-system/istiod", "DaemonSet/istio-system/ztunnel",
                "DaemonSet/istio-system/istio-cni-node", "ConfigMap/istio-system/istio",
                "MutatingWebhookConfiguration//istio-sidecar-injector"):
        assert ref in theirs, f"istioctl did not render {ref}"
        assert ref in ours, f"ambientctl did not render {ref}"


def test_each_profile_renders_what_sets_it_apart(rendered):
    """The cases are not the same render over and over: OpenShift moves the node agents to
    kube-system behind Multus, a remote cluster gets no istiod, a remote address a Service."""
    for side in (0, 1):
        openshift = index(rendered["openshift-ambient"][side])
        assert "DaemonSet/kube-system/ztunnel" in openshift
        assert "NetworkAttachmentDefinition/default/istio-cni" in openshift
        remote = index(rendered["remote"][side])
        assert "MutatingWebhookConfiguration//istio-sidecar-injector" in remote
        assert not any(ref.startswith(("Deployment/", "DaemonSet/")) for ref in remote)
        assert "EndpointSlice/istio-system/istiod" in index(rendered["remote-address"][side])
        assert "ResourceQuota/istio-system/ztunnel" in index(rendered["ambient-gke"][side])


def test_every_field_of_the_workloads_is_compared(rendered):
    """The deep comparison reaches env values, args, probes, volumes and security contexts;
    without it a changed value would pass unseen."""
    from tests.parity.compare import facets

    ours, _ = rendered["ambient"]
    cni = index(ours)["DaemonSet/istio-system/istio-cni-node"]
    keys = facets(cni, deep=True)
    container = "spec.template.spec.containers[install-cni]"
    assert any(k.startswith(f"{container}.args[") for k in keys), sorted(keys)[:20]
    assert any(k.startswith(f"{container}.readinessProbe.") for k in keys)
    assert any(k.startswith(f"{container}.securityContext.") for k in keys)
    assert any(k.startswith("spec.template.spec.volumes[") for k in keys)
    assert any(k.startswith(f"{container}.env[") and k.endswith(".value") for k in keys)
