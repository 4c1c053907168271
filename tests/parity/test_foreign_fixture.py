"""The istioctl-shaped fixture of the foreign-mesh unit tests is the reference istioctl's own render.

tests/support/foreignmesh.py reads tests/golden/foreign/istioctl-ambient.yaml:
`istioctl manifest generate --set profile=ambient`, trimmed to what lookups
read. This test renders it again with the reference istioctl and compares;
`UPDATE_GOLDEN=1` rewrites the golden file from that render.
"""

from __future__ import annotations

from tests.parity.tools import istioctl
from tests.support import foreignmesh
from tests.support.golden import assert_golden


def test_the_fixture_is_istioctls_render(istioctl_bin):
    result = istioctl(istioctl_bin, "manifest", "generate", "--set", "profile=ambient")
    assert result.ok, result
    assert_golden(foreignmesh.GOLDEN, foreignmesh.trimmed_render(result.stdout))


def test_the_fixture_has_the_objects_lookups_need():
    refs = {(o["kind"], o["metadata"]["name"]) for o in foreignmesh.rendered()}
    assert {("Deployment", "istiod"), ("DaemonSet", "ztunnel"), ("DaemonSet", "istio-cni-node")} <= refs
    ztunnel = next(o for o in foreignmesh.rendered() if o["kind"] == "DaemonSet" and o["metadata"]["name"] == "ztunnel")
    assert "app" not in ztunnel["metadata"]["labels"]  # the point of the fixture: istioctl's DaemonSet lacks it
    assert ztunnel["spec"]["template"]["metadata"]["labels"]["app"] == "ztunnel"
