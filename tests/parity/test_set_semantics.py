"""`--set` semantics beside istioctl: the same paths accepted and rejected, the same values rendered.

Each row is a list of `--set` arguments added to `profile=ambient`, and a probe:
the value read from one rendered object.  istioctl's outcome is also checked
against the row's expectation, so the table documents what istioctl 1.31 does."""

from __future__ import annotations

from typing import Any, Callable

import pytest
import yaml

from tests.parity.compare import Difference, classify, index, load_known_differences, parse_manifest
from tests.parity.tools import ambientctl, istioctl

AREA = "set"
ISTIOD = "Deployment/istio-system/istiod"
ZTUNNEL = "DaemonSet/istio-system/ztunnel"
CNI = "DaemonSet/istio-system/istio-cni-node"
MESH = "ConfigMap/istio-system/istio"
INGRESS = "Deployment/istio-system/istio-ingressgateway"


def container(ref: str, name: str | None = None) -> Callable[[dict], Any]:
    def probe(objects: dict) -> Any:
        obj = objects.get(ref)
        if obj is None:
            return None
        containers = obj["spec"]["template"]["spec"]["containers"]
        return next((c for c in containers if name is None or c["name"] == name), containers[0])
    return probe


def image(ref: str) -> Callable[[dict], Any]:
    """The image without istioctl's `-distroless` variant suffix: the variant itself is a
    manifest-generate difference (test_manifest_generate.py); here we compare what --set did."""
    def probe(objects: dict) -> Any:
        value = (container(ref)(objects) or {}).get("image")
        return value.removesuffix("-distroless") if isinstance(value, str) else value
    return probe


def env_names(ref: str) -> Callable[[dict], Any]:
    return lambda objects: sorted(e["name"] for e in (container(ref)(objects) or {}).get("env") or [])


def exists(ref: str) -> Callable[[dict], Any]:
    return lambda objects: ref in objects


def mesh(key: str) -> Callable[[dict], Any]:
    def probe(objects: dict) -> Any:
        data = yaml.safe_load(objects[MESH]["data"]["mesh"]) or {}
        for part in key.split("."):
            data = (data or {}).get(part)
        return data
    return probe


def field(ref: str, *path: str) -> Callable[[dict], Any]:
    def probe(objects: dict) -> Any:
        value: Any = objects.get(ref)
        for part in path:
            value = (value or {}).get(part)
        return value
    return probe


def resources(ref: str) -> Callable[[dict], Any]:
    return lambda objects: (container(ref)(objects) or {}).get("resources")


# (id, --set values, istioctl accepts?, probe or None)
ROWS: list[tuple[str, list[str], bool, Callable[[dict], Any] | None]] = [
    ("hub", ["hub=registry.example/istio"], True, image(ISTIOD)),
    ("values-hub", ["values.global.hub=registry.example/istio"], True, image(ZTUNNEL)),
    ("tag", ["tag=1.31.9"], True, image(ISTIOD)),
    ("values-tag", ["values.global.tag=1.31.9"], True, image(CNI)),
    ("pilot-env", ["values.pilot.env.EXAMPLE_FLAG=on"], True, env_names(ISTIOD)),
    ("component-env", ["components.pilot.k8s.env[0].name=EXAMPLE_FLAG",
                       "components.pilot.k8s.env[0].value=on"], True, env_names(ISTIOD)),
    ("access-log", ["meshConfig.accessLogFile=/dev/stdout"], True, mesh("accessLogFile")),
    ("hold-app", ["meshConfig.defaultConfig.holdApplicationUntilProxyStarts=true"], True,
     mesh("defaultConfig.holdApplicationUntilProxyStarts")),
    ("cni-off", ["components.cni.enabled=false"], True, exists(CNI)),
    ("ztunnel-off", ["components.ztunnel.enabled=false"], True, exists(ZTUNNEL)),
    ("pilot-off", ["components.pilot.enabled=false"], True, exists(ISTIOD)),
    # Istio 1.31's ambient profile has no ingress gateway to select by name (docs/parity.md).
    ("ingress-by-name", ["components.ingressGateways[name:istio-ingressgateway].enabled=true"], False, None),
    ("ingress-by-index", ["components.ingressGateways[0].enabled=true"], True, exists(INGRESS)),
    ("replicas", ["values.pilot.autoscaleEnabled=false", "components.pilot.k8s.replicaCount=3"], True,
     field(ISTIOD, "spec", "replicas")),
    ("cpu-request", ["components.pilot.k8s.resources.requests.cpu=250m"], True, resources(ISTIOD)),
    ("revision", ["revision=canary"], True, exists("Deployment/istio-system/istiod-canary")),
    ("unknown-component", ["components.nosuch.enabled=true"], False, None),
    ("unknown-top-level", ["nosuchfield=1"], False, None),
    ("bad-bool", ["components.cni.enabled=maybe"], False, None),
    ("bad-int", ["components.pilot.k8s.replicaCount=many"], False, None),
    ("unknown-profile", ["profile=nosuchprofile"], False, None),
    ("no-equals", ["components.cni.enabled"], False, None),
    # istioctl 1.31 checks values.* against its Values schema; unvalidatedValues is the free-form escape.
    ("unknown-value", ["values.nosuch.key=1"], False, None),
    ("unknown-pilot-value", ["values.pilot.nosuch=1"], False, None),
    ("unvalidated-values", ["unvalidatedValues.example.key=1"], True, None),
]


def _render(tool_run, sets: list[str]):
    args = ["manifest", "generate", "--set", "profile=ambient"]
    for value in sets:
        args += ["--set", value]
    return tool_run(*args)


def compare_row(istioctl_bin, row_id, sets, probe) -> tuple[bool, list[Difference]]:
    """(istioctl accepted?, differences between the tools for this row)."""
    theirs = _render(lambda *a: istioctl(istioctl_bin, *a), sets)
    ours = _render(ambientctl, sets)
    ref = f"--set {' --set '.join(sets)}"
    if theirs.ok != ours.ok:
        detail = (ours.stderr.strip().splitlines() or [""])[-1] if not ours.ok else "accepted"
        return theirs.ok, [Difference(ref, "accepted", f"{ours.ok}: {detail}", str(theirs.ok))]
    if not theirs.ok or probe is None:
        return theirs.ok, []
    mine = probe(index(parse_manifest(ours.stdout)))
    other = probe(index(parse_manifest(theirs.stdout)))
    if mine != other:
        return True, [Difference(ref, "value", repr(mine), repr(other))]
    return True, []


@pytest.fixture(scope="module")
def outcomes(istioctl_bin) -> dict[str, tuple[bool, list[Difference]]]:
    return {row_id: compare_row(istioctl_bin, row_id, sets, probe) for row_id, sets, _, probe in ROWS}


@pytest.mark.parametrize("row_id,sets,accepted,probe", ROWS, ids=[r[0] for r in ROWS])
def test_istioctl_behaves_as_the_table_says(outcomes, row_id, sets, accepted, probe):
    assert outcomes[row_id][0] == accepted, f"istioctl {'rejected' if accepted else 'accepted'} --set {sets}"


def test_both_tools_accept_reject_and_render_the_same(outcomes):
    differences = [d for _, row_differences in outcomes.values() for d in row_differences]
    verdict = classify(differences, load_known_differences(AREA))
    assert verdict.ok, verdict.report()
