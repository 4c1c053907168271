"""`install` beside `istioctl install` on the same (private) test cluster.

1. snapshot the clean cluster; 2. `istioctl install --set profile=ambient -y`
through a counting proxy; snapshot; 3. `istioctl uninstall --purge -y`, delete
istio-system, back to the clean state; 4. `ambientctl install --set
profile=ambient -y` through a counting proxy; snapshot.  The objects each install
added (beyond the clean snapshot; derived objects like Pods and ReplicaSets are
left out) must match, facet by facet, except for the differences listed under
area ``install`` in known_differences.yaml.  The API request counts of both are
written to ~/.cache/ambientctl/reference/<version>/install-requests.json for
benchmarks/run.py (docs/performance.md).
"""

from __future__ import annotations

import json
import time

import pytest

from tests.parity.compare import classify, diff_objects, ignored_labels, load_known_differences, object_ref
from tests.parity.controlplane import remove_istio
from tests.parity.tools import ambientctl_subprocess, istioctl
from tests.support.countingproxy import CountingProxy
from tests.support.reference import CACHE, INSTALL_REQUESTS

pytestmark = pytest.mark.e2e

AREA = "install"
RESULTS = INSTALL_REQUESTS
INSTALL_DIFFERENCES = CACHE / "install-differences.txt"  # every difference of the last run, for reading
# Objects the cluster derives from what was applied; their names are random or controller-made.
DERIVED_KINDS = {"Pod", "ReplicaSet", "ControllerRevision", "Endpoints", "EndpointSlice", "Event", "Lease",
                 "IPAddress", "ComponentStatus", "Binding", "TokenReview", "SelfSubjectReview"}


def snapshot(kubeconfig: str) -> dict[str, dict]:
    """Every listable object of the cluster (derived kinds left out), by reference."""
    from kubernetes import client, config, dynamic

    api = dynamic.DynamicClient(config.new_client_from_config(config_file=kubeconfig))
    objects: dict[str, dict] = {}
    seen: set[tuple[str, str]] = set()
    for resource in api.resources.search():
        if (resource.kind in DERIVED_KINDS or resource.kind.endswith("List") or "list" not in (resource.verbs or [])
                or "/" in resource.name):
            continue
        if (resource.group, resource.kind) in seen:
            continue  # the same kind served at several versions
        seen.add((resource.group, resource.kind))
        try:
            items = api.get(resource).to_dict().get("items") or []
        except client.exceptions.ApiException:
            continue
        for item in items:
            item.setdefault("kind", resource.kind)
            item.setdefault("apiVersion", resource.group_version)
            objects[object_ref(item)] = item
    return objects


def added(after: dict[str, dict], before: dict[str, dict]) -> list[dict]:
    return [obj for ref, obj in after.items() if ref not in before]


def clean(istioctl_bin, kubeconfig: str) -> None:
    remove_istio(istioctl_bin, kubeconfig)


@pytest.fixture(scope="module")
def installs(istioctl_bin, parity_cluster):
    """(ambientctl's added objects, istioctl's added objects, request counts)."""
    kubeconfig = parity_cluster.kubeconfig
    clean(istioctl_bin, kubeconfig)
    baseline = snapshot(kubeconfig)
    counts = {}

    with CountingProxy.from_kubeconfig(kubeconfig) as proxy:
        started = time.monotonic()
        theirs = istioctl(istioctl_bin, "install", "--set", "profile=ambient", "-y", kubeconfig=proxy.kubeconfig,
                          timeout=900)
        counts["istioctl"] = {**proxy.summary(), "seconds": round(time.monotonic() - started, 2),
                              "exit_code": theirs.exit_code, "requests": _request_lines(proxy)}
    assert theirs.ok, theirs
    istioctl_objects = added(snapshot(kubeconfig), baseline)

    clean(istioctl_bin, kubeconfig)
    with CountingProxy.from_kubeconfig(kubeconfig) as proxy:
        started = time.monotonic()
        ours = ambientctl_subprocess("install", "--set", "profile=ambient", "-y", kubeconfig=proxy.kubeconfig,
                                     timeout=900)
        counts["ambientctl"] = {**proxy.summary(), "seconds": round(time.monotonic() - started, 2),
                                "exit_code": ours.exit_code, "requests": _request_lines(proxy)}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **counts},
                                  indent=2) + "\n")
    assert ours.ok, ours
    ambientctl_objects = added(snapshot(kubeconfig), baseline)
    return ambientctl_objects, istioctl_objects, counts


def _request_lines(proxy: CountingProxy) -> list[str]:
    return [f"{r.method} {r.path}{'?' + r.query if r.query else ''} -> {r.status}" for r in proxy.snapshot()]


def test_the_same_objects_end_up_in_the_cluster(installs):
    ours, theirs, _ = installs
    differences = diff_objects(ours, theirs, ignore_labels=ignored_labels(AREA))
    INSTALL_DIFFERENCES.write_text("\n".join(map(str, differences)) + "\n")
    verdict = classify(differences, load_known_differences(AREA))
    assert verdict.ok, verdict.report()


def test_both_installs_created_the_control_plane(installs):
    ours, theirs, _ = installs
    for objects, tool in ((ours, "ambientctl"), (theirs, "istioctl")):
        refs = {object_ref(o) for o in objects}
        for ref in ("Deployment/istio-system/istiod", "DaemonSet/istio-system/ztunnel",
                    "DaemonSet/istio-system/istio-cni-node"):
            assert ref in refs, f"{tool} install did not create {ref}"


def test_request_counts_were_measured(installs):
    """Counts are a benchmark (docs/performance.md), not a pass/fail; but they must be real."""
    _, _, counts = installs
    assert counts["istioctl"]["total"] > 0 and counts["ambientctl"]["total"] > 0
    writes = {tool: sum(n for verb, n in c["by_verb"].items() if verb in ("create", "patch", "update"))
              for tool, c in counts.items()}
    assert writes["ambientctl"] > 0 and writes["istioctl"] > 0
