"""`waypoint generate` beside `istioctl waypoint generate`: every flag combination, same object.

Both must accept and reject the same combinations, and on success print the same
Gateway (compared as parsed YAML, so key order and quoting do not matter)."""

from __future__ import annotations

import itertools

import pytest
import yaml

from tests.parity.compare import Difference, classify, load_known_differences
from tests.parity.tools import ambientctl, istioctl

AREA = "waypoint-generate"
NAMES = [None, "", "waypoint", "my-waypoint", "none"]
TRAFFIC = [None, "service", "workload", "all", "none", "bogus"]
REVISIONS = [None, "canary"]
NAMESPACES = [None, "bookinfo"]


def _args(name, traffic, revision, namespace) -> list[str]:
    args = ["waypoint", "generate"]
    if name is not None:
        args += ["--name", name]
    if traffic is not None:
        args += ["--for", traffic]
    if revision is not None:
        args += ["-r", revision]
    if namespace is not None:
        args += ["-n", namespace]
    return args


def _combinations():
    return list(itertools.product(NAMES, TRAFFIC, REVISIONS, NAMESPACES))


def compare_one(istioctl_bin, combo) -> list[Difference]:
    args = _args(*combo)
    theirs, ours = istioctl(istioctl_bin, *args), ambientctl(*args)
    ref = " ".join(args)
    if theirs.ok != ours.ok:
        return [Difference(ref, "accepted", str(ours.ok), str(theirs.ok))]
    if not ours.ok:
        return []
    mine, other = yaml.safe_load(ours.stdout), yaml.safe_load(theirs.stdout)
    if mine == other:
        return []
    return [Difference(ref, "object", yaml.safe_dump(mine, sort_keys=True), yaml.safe_dump(other, sort_keys=True))]


def test_every_flag_combination_gives_the_same_gateway(istioctl_bin):
    differences = [d for combo in _combinations() for d in compare_one(istioctl_bin, combo)]
    verdict = classify(differences, load_known_differences(AREA))
    assert verdict.ok, verdict.report()


@pytest.mark.parametrize("combo", [(None, None, None, "bookinfo"), ("my-waypoint", "all", "canary", "bookinfo")])
def test_the_comparison_is_not_vacuous(istioctl_bin, combo):
    """Both tools really produce a Gateway for the guide's common cases."""
    theirs, ours = istioctl(istioctl_bin, *_args(*combo)), ambientctl(*_args(*combo))
    assert theirs.ok, theirs
    assert ours.ok, ours
    gateway = yaml.safe_load(theirs.stdout)
    assert gateway["kind"] == "Gateway" and gateway["spec"]["gatewayClassName"] == "istio-waypoint"
    assert yaml.safe_load(ours.stdout) == gateway
