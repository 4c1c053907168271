"""istioctl's flags on the commands ambientctl has: accepted with istioctl's meaning, or refused in one line.

One table: each row is an invocation a script written for istioctl types, the
exit code ambientctl gives, and what must be true afterwards (its effect on a
fake cluster, or the refusal line naming what to use instead). The reference
istioctl's flag lists come from `istioctl <cmd> --help` (docs/parity.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import pytest

from ambientctl.context import CliContext
from ambientctl.install.record import RECORD_NAME, from_configmap
from tests.support.cli import Result, invoke
from tests.support.fakeapi import FakeApiServer, status_body, write_kubeconfig
from tests.support.fakekube import FakeKube, invoke_with
from tests.unit.test_waypoint_commands import gateway, namespace

PROGRAMMED = [{"type": "Programmed", "status": "True", "reason": "Programmed", "observedGeneration": 1}]
OVERLAY = "apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec:\n  revision: canary\n"


class VersionedKube(FakeKube):
    """A fake that also answers /version, for precheck."""

    def server_version(self) -> dict[str, str]:
        return {"gitVersion": "v1.36.3", "major": "1", "minor": "36"}


def same_as_text(*argv: str) -> Callable[[Result, Any], None]:
    """`-o log` is istioctl's name for the text output: the same lines."""
    def check(result: Result, kube: Any) -> None:
        plain = invoke_with(VersionedKube(), *argv)
        assert result.stdout == plain.stdout and result.exit_code == plain.exit_code
        assert "Kubernetes" in result.stdout
    return check


def waypoints() -> FakeKube:
    kube = FakeKube([namespace("default")])
    kube.add(gateway("waypoint", conditions=PROGRAMMED))
    kube.add(gateway("other", conditions=PROGRAMMED))
    return kube


def installed(*install_args: str, kube: FakeKube | None = None) -> FakeKube:
    """A fake cluster after `ambientctl install ARGS -y --skip-wait`, with a ready pod per Deployment."""
    kube = kube or FakeKube()
    result = invoke_with(kube, "install", *install_args, "-y", "--skip-wait")
    assert result.exit_code == 0, result.stderr
    for (_, kind, ns, name), obj in list(kube.store.items()):
        if kind == "Deployment":
            kube.add({"apiVersion": "v1", "kind": "Pod", "metadata": {
                "name": f"{name}-pod", "namespace": ns, "labels": obj["spec"]["selector"]["matchLabels"]},
                "status": {"conditions": [{"type": "Ready", "status": "True"}]}})
    kube.writes.clear()
    return kube


@dataclass
class Row:
    argv: list[str]
    exit_code: int
    check: Callable[[Result, Any], None] = lambda result, kube: None
    cluster: Callable[[], Any] = field(default=lambda: FakeKube())

    def __str__(self) -> str:
        return " ".join(self.argv)


def refused(*words: str) -> Callable[[Result, Any], None]:
    """The one-line refusal: names the flag, says why and what to use, writes nothing."""
    def check(result: Result, kube: Any) -> None:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: ") and "is not supported:" in lines[0], result.stderr
        for word in words:
            assert word in lines[0]
        assert not getattr(kube, "writes", [])
    return check


def shows(*names: str, absent: tuple[str, ...] = ()) -> Callable[[Result, Any], None]:
    def check(result: Result, kube: Any) -> None:
        for name in names:
            assert name in result.stdout, result.stdout
        for name in absent:
            assert name not in result.stdout, result.stdout
    return check


def deleted(*names: str, kept: tuple[str, ...] = ()) -> Callable[[Result, Any], None]:
    def check(result: Result, kube: FakeKube) -> None:
        gone = {name for verb, kind, name in kube.writes if verb == "delete" and kind == "Gateway"}
        assert gone == set(names), kube.writes
        assert set(kept) <= set(kube.names("Gateway"))
    return check


def revisions_removed(revision: str) -> Callable[[Result, Any], None]:
    def check(result: Result, kube: FakeKube) -> None:
        assert kube.writes and all(verb == "delete" for verb, _, _ in kube.writes)
        assert f"revision {revision}" in result.stdout
    return check


ROWS = [
    # waypoint: istioctl's bool-with-value form, and --name from the waypoint group
    Row(["waypoint", "status", "--wait=false", "-n", "default"], 0, shows("waypoint", "other"), waypoints),
    Row(["waypoint", "status", "-w=false", "-n", "default"], 0, shows("waypoint", "other"), waypoints),
    Row(["waypoint", "status", "--wait=true", "--name", "other", "-n", "default"], 0,
        shows("other", absent=("waypoint ",)), waypoints),
    Row(["waypoint", "status", "--wait=maybe", "-n", "default"], 2,
        lambda r, k: r.stderr.startswith("Error: invalid value 'maybe' for --wait: not a boolean"), waypoints),
    Row(["waypoint", "list", "--name", "other", "-n", "default"], 0, shows("other", absent=("waypoint ",)),
        waypoints),
    Row(["waypoint", "delete", "--name", "other", "-n", "default"], 0, deleted("other", kept=("waypoint",)),
        waypoints),
    Row(["waypoint", "apply", "-n", "default", "--wait=false"], 0,
        lambda r, k: ("create", "Gateway", "waypoint") in k.writes, lambda: FakeKube([namespace("default")])),
    # install
    Row(["install", "--set", "profile=ambient", "-y", "--skip-wait", "--verify"], 0,
        shows("✔ Istio is installed and verified"), lambda: installed("--set", "profile=ambient")),
    Row(["install", "--set", "profile=ambient", "-y", "--skip-wait", "--force"], 0,
        lambda r, k: ("create", "DaemonSet", "ztunnel") in k.writes),
    Row(["install", "-d", "/tmp/istio-1.31.0/manifests", "-y"], 2, refused("--manifests/-d", "--set tag=")),
    # uninstall: the revision named by -f/--set, -v, -d refused
    Row(["uninstall", "--set", "revision=canary", "-y", "-v"], 0,
        lambda r, k: "removed Deployment/istio-system/istiod-canary" in r.stderr
        and "istiod" in k.names("Deployment") and "istiod-canary" not in k.names("Deployment"),
        lambda: _two_revisions()),
    Row(["uninstall", "-f", "{overlay}", "-y"], 0, revisions_removed("canary"), lambda: _two_revisions()),
    Row(["uninstall", "-f", "{overlay}", "-r", "blue", "-y"], 2,
        lambda r, k: "-r blue and the revision of -f/--set (canary) differ" in r.stderr, lambda: _two_revisions()),
    Row(["uninstall", "-d", "/tmp/manifests", "-y"], 2, refused("--manifests/-d")),
    # manifest generate
    Row(["manifest", "generate", "-d", "/tmp/manifests"], 2, refused("--manifests/-d"), lambda: None),
    Row(["manifest", "generate", "--cluster-specific"], 2, refused("install --diff"), lambda: None),
    Row(["manifest", "generate", "--set", "profile=ambient", "--dry-run", "--force"], 0,
        shows("kind: DaemonSet"), lambda: None),
    Row(["manifest", "translate", "-d", "/tmp/manifests"], 2, refused("--manifests/-d"), lambda: None),
    # precheck
    Row(["precheck", "-o", "log"], 0, same_as_text("precheck"), VersionedKube),
    Row(["x", "precheck", "-o", "log"], 0, same_as_text("x", "precheck"), VersionedKube),
    Row(["precheck", "--from-version", "1.30.0"], 0, lambda r, k: "Upgrade to " in r.stdout, VersionedKube),
    Row(["precheck", "-f", "1.27.0"], 3, lambda r, k: "more than Istio supports" in r.stdout, VersionedKube),
    Row(["precheck", "-r", "canary"], 3, lambda r, k: "revision canary has no control plane" in r.stdout,
        VersionedKube),
    Row(["precheck", "--skip-controlplane"], 2, refused("--skip-controlplane")),
    Row(["precheck", "--output-threshold", "Error"], 2, refused("--output-threshold")),
    # version
    Row(["version", "--remote=false"], 0,
        lambda r, k: r.stdout.startswith("client version:") and not k.calls, lambda: FakeKube()),
    Row(["version", "-r", "canary"], 8, lambda r, k: "revision 'canary' has no control plane" in r.stderr,
        VersionedKube),
]


def _two_revisions() -> FakeKube:
    return installed("--set", "profile=ambient", "--set", "revision=canary",
                     kube=installed("--set", "profile=ambient"))


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_istioctl_invocation(row: Row, tmp_path):
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(OVERLAY)
    kube = row.cluster()
    argv = [arg.replace("{overlay}", str(overlay)) for arg in row.argv]
    result = invoke_with(kube, *argv)
    assert result.exit_code == row.exit_code, f"{row}: {result.stderr}"
    assert "No such option" not in result.stderr
    row.check(result, kube)


# ------------------------------------------------------------------ global flags


def parsed_options(*flags: str) -> Any:
    """The GlobalOptions the root callback builds from FLAGS (before or after the command)."""
    obj = CliContext(_kube=FakeKube())
    from ambientctl.cli.app import app

    code = app(args=[*flags, "version", "--client"], prog_name="ambientctl", standalone_mode=False, obj=obj)
    assert not code
    return obj.options


def test_istio_namespace_istioctl_spelling():
    assert parsed_options("--istioNamespace", "mesh-a").istio_namespace == "mesh-a"
    assert parsed_options("--istioNamespace=mesh-b").istio_namespace == "mesh-b"


def test_kubeclient_timeout_is_the_request_timeout_as_a_duration():
    assert parsed_options("--kubeclient-timeout", "1m30s").request_timeout == 90
    result = invoke("--kubeclient-timeout", "5s", "--request-timeout", "3", "version", "--client")
    assert result.exit_code == 2 and "set the same timeout" in result.stderr


def test_vklog_is_accepted_and_changes_nothing():
    assert parsed_options("--vklog=9") == parsed_options()


def test_bool_global_flags_take_a_value():
    assert parsed_options("--no-color=true").no_color
    assert not parsed_options("--no-color", "--no-color=false").no_color


def test_impersonation_headers_reach_the_api_server(tmp_path):
    """--as/--as-group/--as-uid become Kubernetes' impersonation headers on every request, groups repeated."""
    server = FakeApiServer(lambda m, p: (403, status_body(403, "Forbidden", "recorded")))
    try:
        kubeconfig = write_kubeconfig(tmp_path / "kc", {"only": server.url}, current="only")
        result = invoke("-c", str(kubeconfig), "dataplane", "status", "--as", "jane",
                        "--as-group", "devs", "--as-group", "ops", "--as-uid", "42")
        assert result.exit_code != 0 and server.headers
        for headers in server.headers:
            assert [v for k, v in headers if k.lower() == "impersonate-user"] == ["jane"]
            assert [v for k, v in headers if k.lower() == "impersonate-group"] == ["devs", "ops"]
            assert [v for k, v in headers if k.lower() == "impersonate-uid"] == ["42"]
    finally:
        server.close()


def test_no_impersonation_headers_without_as(tmp_path):
    server = FakeApiServer(lambda m, p: (403, status_body(403, "Forbidden", "recorded")))
    try:
        kubeconfig = write_kubeconfig(tmp_path / "kc", {"only": server.url}, current="only")
        invoke("-c", str(kubeconfig), "dataplane", "status")
        assert server.headers
        assert not [k for headers in server.headers for k, _ in headers if k.lower().startswith("impersonate-")]
    finally:
        server.close()


def test_group_without_user_is_refused_before_any_request(tmp_path):
    server = FakeApiServer(lambda m, p: (403, status_body(403, "Forbidden", "recorded")))
    try:
        kubeconfig = write_kubeconfig(tmp_path / "kc", {"only": server.url}, current="only")
        result = invoke("-c", str(kubeconfig), "--as-group", "devs", "dataplane", "status")
        assert result.exit_code == 2
        assert result.stderr.startswith("Error: --as-group and --as-uid need --as")
        assert not server.requests
    finally:
        server.close()


# ------------------------------------------------------------------ the install record


def test_verify_install_checks_the_recorded_install():
    """The bug of issue 16: after `install --set profile=ambient`, a bare verify-install checked `default`."""
    kube = installed("--set", "profile=ambient", "--set", "values.pilot.env.PILOT_TRACE_SAMPLING=10")
    result = invoke_with(kube, "verify-install")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "Using the install recorded at " in result.stderr
    assert "profile=ambient, 2 --set" in result.stderr
    assert "(profile ambient, revision default)" in result.stdout


def test_explicit_flags_override_the_record():
    kube = installed("--set", "profile=ambient")
    result = invoke_with(kube, "verify-install", "--set", "profile=default")
    assert result.exit_code == 3
    assert "Using the install recorded" not in result.stderr


def test_record_keeps_overlay_contents_not_paths(tmp_path):
    overlay = tmp_path / "mine.yaml"
    overlay.write_text("apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec:\n  profile: ambient\n"
                       "  values:\n    pilot:\n      env:\n        PILOT_TRACE_SAMPLING: '5'\n")
    kube = installed("-f", str(overlay))
    overlay.unlink()  # gone later: the record still reproduces the render
    record = from_configmap(kube.get("v1", "ConfigMap", RECORD_NAME, "istio-system"))
    assert record is not None and record.filenames == ("mine.yaml",) and record.profile == "ambient"
    result = invoke_with(kube, "verify-install")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "profile=ambient, -f mine.yaml" in result.stderr


def test_each_revision_has_its_record():
    kube = _two_revisions()
    assert {RECORD_NAME, f"{RECORD_NAME}-canary"} <= set(kube.names("ConfigMap"))
    result = invoke_with(kube, "verify-install", "-r", "canary")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "revision=canary" in result.stderr


def test_no_record_says_so_and_checks_the_default_profile():
    kube = installed("--set", "profile=ambient")
    kube.delete("v1", "ConfigMap", RECORD_NAME, "istio-system")
    result = invoke_with(kube, "verify-install")
    assert "no install record of revision default" in result.stderr
    assert result.exit_code == 3  # the default profile is not what was installed


def test_uninstall_names_and_removes_the_record_of_its_revision():
    kube = _two_revisions()
    result = invoke_with(kube, "uninstall", "-r", "canary", "-y")
    assert result.exit_code == 0, result.stderr
    assert "Removing the install recorded at " in result.stderr and "revision=canary" in result.stderr
    assert f"ConfigMap/istio-system/{RECORD_NAME}-canary" in result.stdout
    assert RECORD_NAME in kube.names("ConfigMap") and f"{RECORD_NAME}-canary" not in kube.names("ConfigMap")


def test_dry_run_and_diff_record_nothing():
    kube = FakeKube()
    assert invoke_with(kube, "install", "--set", "profile=ambient", "--dry-run", "-y").exit_code == 0
    assert RECORD_NAME not in kube.names("ConfigMap")


def test_port_forward_impersonates_too(tmp_path):
    """The websocket of a port-forward (pc, zc, metrics) carries the same impersonation headers."""
    from ambientctl.errors import AmbientctlError
    from ambientctl.kube.client import KubeClient
    from ambientctl.kube.portforward import http_get

    server = FakeApiServer(lambda m, p: (403, status_body(403, "Forbidden", "recorded")))
    try:
        kubeconfig = write_kubeconfig(tmp_path / "kc", {"only": server.url}, current="only")
        kube = KubeClient.connect(str(kubeconfig), impersonate_user="jane", impersonate_groups=["devs", "ops"])
        with pytest.raises(AmbientctlError):
            http_get(kube, "ztunnel-abc", "istio-system", 15000, "/config_dump", timeout=5)
        forward = [h for (_, path), h in zip(server.requests, server.headers) if "/portforward" in path]
        assert forward, server.requests
        assert [v for k, v in forward[0] if k.lower() == "impersonate-user"] == ["jane"]
        assert [v for k, v in forward[0] if k.lower() == "impersonate-group"] == ["devs", "ops"]
    finally:
        server.close()


def test_manifest_install_is_install():
    """istioctl's `manifest install` is its `install`: the same objects land, with the same flags."""
    by_install, by_manifest = installed("--set", "profile=ambient"), FakeKube()
    result = invoke_with(by_manifest, "manifest", "install", "--set", "profile=ambient", "-y", "--skip-wait")
    assert result.exit_code == 0, result.stderr
    assert by_manifest.store.keys() == {k for k in by_install.store if k[1] != "Pod"}
