"""`proxy-status` with REAL proxies connected: the real istiod and a real ztunnel per node
(tests/support/realmesh.py), beside the reference istioctl asking the same istiod over XDS.

Every ztunnel must be listed by both tools with the same CLUSTER, VERSION and SUBSCRIBED TYPES
(WADS and WDS); `-v 1` must show them SYNCED; `ps ZTUNNEL` says there is no diff for ztunnels.
If istiod or ztunnel cannot be built or started, the test FAILS with the log tail (no skip)."""

from __future__ import annotations

import pytest

from tests.parity.compare import classify, diff_tables, load_known_differences
from tests.parity.controlplane import reinstall_istio
from tests.parity.tools import ambientctl, istioctl, parse_table
from tests.support.realmesh import RealMesh, RealMeshUnavailable, build_pilot_discovery, build_ztunnel

pytestmark = pytest.mark.e2e
AREA = "envoy-proxy-config"
COMMAND = "proxy-status real"


@pytest.fixture(scope="module")
def real_mesh(istioctl_bin, parity_cluster):
    kubeconfig = parity_cluster.kubeconfig
    reinstall_istio("ambientctl", istioctl_bin, kubeconfig)
    try:
        real = RealMesh(parity_cluster).start(build_pilot_discovery(), build_ztunnel())
    except RealMeshUnavailable as exc:
        pytest.fail(f"the real istiod + ztunnels could not run: {exc}", pytrace=False)
    yield real
    real.stop()


def _ps(real, *args: str):
    return ambientctl("proxy-status", "--istiod-address", f"127.0.0.1:{real.istiod.monitoring_port}", *args,
                      kubeconfig=real.cluster.kubeconfig)


def test_every_real_ztunnel_is_listed_as_istioctl_lists_it(real_mesh, istioctl_bin):
    ours = _ps(real_mesh)
    theirs = istioctl(istioctl_bin, "proxy-status", "--xds-address",
                      f"127.0.0.1:{real_mesh.istiod.secure_grpc_port}", "--insecure",
                      kubeconfig=real_mesh.cluster.kubeconfig)
    assert ours.ok, f"{ours}\n{real_mesh.log_tails()}"
    assert theirs.ok, f"{theirs}\n{real_mesh.log_tails()}"
    our_rows, their_rows = parse_table(ours.stdout), parse_table(theirs.stdout)
    ztunnels = [r for r in their_rows if r["NAME"].startswith("ztunnel")]
    assert len(ztunnels) == 3, f"istioctl lists {their_rows}"
    assert all(r["SUBSCRIBED TYPES"] == "2 (WADS,WDS)" for r in ztunnels), their_rows
    # ISTIOD: istioctl shows istiod's POD_NAME from its XDS answer; ambientctl, reading istiod's HTTP
    # port directly, names the address it read. One istiod: one value on each side.
    assert {r["ISTIOD"] for r in our_rows} == {f"127.0.0.1:{real_mesh.istiod.monitoring_port}"}
    [their_istiod] = {r["ISTIOD"] for r in their_rows}
    for row in our_rows:
        row["ISTIOD"] = their_istiod
    differences = diff_tables(COMMAND, our_rows, their_rows, ("NAME",))
    known = [k for k in load_known_differences(AREA) if k.object.startswith(COMMAND)]
    verdict = classify(differences, known)
    assert verdict.ok, verdict.report()
    assert ours.stdout.splitlines()[0].split() == theirs.stdout.splitlines()[0].split()  # widths follow ISTIOD


def test_verbose_shows_every_ztunnel_synced(real_mesh):
    ours = _ps(real_mesh, "-v", "1", "-n", "istio-system")
    assert ours.ok, ours
    rows = [r for r in parse_table(ours.stdout) if r["NAME"].startswith("ztunnel")]
    assert len(rows) == 3
    assert all(r["WDS"].startswith("SYNCED (") and r["WADS"].startswith("SYNCED (") for r in rows), ours.stdout
    assert all(r["CDS"] == "IGNORED" for r in rows)


def test_a_ztunnel_has_no_sync_diff(real_mesh):
    name = parse_table(_ps(real_mesh).stdout)[0]["NAME"]
    ours = _ps(real_mesh, name)
    assert ours.ok, ours
    assert ours.stdout == f"Sync diff is not available for ztunnel pod {name}\n"


def test_zc_log_changes_real_ztunnels_levels_where_istioctls_form_is_refused(real_mesh, istioctl_bin):
    """Through kube-apiserver's port-forward to each real ztunnel's admin port: `access:debug` becomes
    ztunnel's `access=debug` (istioctl sends `access:debug`, which ztunnel answers with HTTP 400)."""
    kubeconfig = real_mesh.cluster.kubeconfig
    ours = ambientctl("zc", "log", "--level", "access:debug", kubeconfig=kubeconfig)
    assert ours.ok, f"{ours}\n{real_mesh.log_tails()}"
    blocks = [b for b in ours.stdout.split("\n\n") if b.strip()]
    assert len(blocks) == 3
    assert all("current log level is " in b and "access=debug" in b.split("current log level is ")[1].split(",")
               for b in blocks), blocks
    theirs = istioctl(istioctl_bin, "zc", "log", "--level", "access:debug", kubeconfig=kubeconfig)
    assert not theirs.ok and "unexpected status code: 400" in theirs.stderr
    reset = ambientctl("zc", "log", "-r", kubeconfig=kubeconfig)
    assert reset.ok, reset
    assert reset.stdout.count("current log level is hickory_server::server=off,info\n") == 3
