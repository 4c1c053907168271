"""Two revisions side by side on the in-memory API server: a canary never takes over the default's objects."""

from __future__ import annotations

from ambientctl.errors import ExitCode
from ambientctl.ownership import OWNER_REVISION_LABEL
from tests.support.fakekube import FakeKube, invoke_with


def _install(kube: FakeKube, *args: str) -> str:
    """Install, then give every Deployment a ready pod (kwok would); returns stderr."""
    result = invoke_with(kube, "install", "--set", "profile=ambient", *args, "-y", "--skip-wait")
    assert result.exit_code == 0, result.stderr
    for (_, kind, ns, name), obj in list(kube.store.items()):
        if kind == "Deployment" and not kube.get_or_none("v1", "Pod", f"{name}-pod", ns):
            kube.add({"apiVersion": "v1", "kind": "Pod", "metadata": {
                "name": f"{name}-pod", "namespace": ns, "labels": obj["spec"]["selector"]["matchLabels"]},
                "status": {"conditions": [{"type": "Ready", "status": "True"}]}})
    return result.stderr


def _owner(kube: FakeKube, api_version: str, kind: str, name: str, namespace: str | None = "istio-system") -> str:
    return kube.live(api_version, kind, name, namespace)["metadata"]["labels"][OWNER_REVISION_LABEL]


def two_revisions() -> tuple[FakeKube, str]:
    kube = FakeKube()
    _install(kube)
    return kube, _install(kube, "-r", "canary")


def test_a_canary_leaves_ztunnel_and_cni_to_the_default_revision_and_says_so():
    kube, stderr = two_revisions()
    line = stderr.splitlines()[0]
    assert "stay with revision default" in line and "Ztunnel" in line and "CNI" in line and "Istiod" not in line
    assert _owner(kube, "apps/v1", "DaemonSet", "ztunnel") == "default"
    assert _owner(kube, "apps/v1", "DaemonSet", "istio-cni-node") == "default"
    assert _owner(kube, "apps/v1", "Deployment", "istiod-canary") == "canary"
    assert _owner(kube, "apps/v1", "Deployment", "istiod") == "default"


def test_verify_install_of_each_revision_passes():
    kube, _ = two_revisions()
    for args in ((), ("-r", "canary")):
        result = invoke_with(kube, "verify-install", *args)
        assert result.exit_code == 0, result.stdout + result.stderr


def test_uninstalling_the_canary_leaves_the_default_revision_whole():
    kube, _ = two_revisions()
    default_objects = {k for k, o in kube.store.items()
                       if (o["metadata"].get("labels") or {}).get(OWNER_REVISION_LABEL) == "default"}
    result = invoke_with(kube, "uninstall", "-r", "canary", "-y")
    assert result.exit_code == 0, result.stderr
    assert "istiod-canary" not in kube.names("Deployment")
    assert default_objects <= set(kube.store)
    assert invoke_with(kube, "verify-install").exit_code == 0


def test_uninstalling_the_revision_that_carries_ztunnel_is_refused_while_another_stays():
    kube, _ = two_revisions()
    result = invoke_with(kube, "uninstall", "-y")
    assert result.exit_code == ExitCode.CONFLICT
    assert "DaemonSet istio-system/ztunnel of revision default also carries revision canary" in result.stderr
    assert "ztunnel" in kube.names("DaemonSet")


def test_a_single_revision_install_is_unchanged():
    kube = FakeKube()
    _install(kube, "-r", "canary")
    assert _owner(kube, "apps/v1", "DaemonSet", "ztunnel") == "canary"


def test_uninstalling_a_revision_a_tag_points_at_is_refused_unless_forced():
    kube, _ = two_revisions()
    assert invoke_with(kube, "tag", "set", "prod", "-r", "canary").exit_code == 0
    refused = invoke_with(kube, "uninstall", "-r", "canary", "-y")
    assert refused.exit_code == ExitCode.CONFLICT and "revision tag prod points at revision canary" in refused.stderr
    assert "istiod-canary" in kube.names("Deployment")
    forced = invoke_with(kube, "uninstall", "-r", "canary", "-y", "--force")
    assert forced.exit_code == 0, forced.stderr
    assert "istiod-canary" not in kube.names("Deployment")


def test_a_waypoint_served_by_the_canary_through_its_namespaces_tag_blocks_the_canarys_uninstall():
    kube, _ = two_revisions()
    assert invoke_with(kube, "tag", "set", "prod", "-r", "canary").exit_code == 0
    kube.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"istio.io/rev": "prod"}}})
    kube.add({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
              "metadata": {"name": "waypoint", "namespace": "shop"}, "spec": {"gatewayClassName": "istio-waypoint"}})
    result = invoke_with(kube, "uninstall", "-r", "canary", "-y")
    assert result.exit_code == ExitCode.CONFLICT and "waypoint shop/waypoint" in result.stderr
    assert "waypoint shop/waypoint" not in invoke_with(kube, "uninstall", "-y", "--dry-run").stderr
