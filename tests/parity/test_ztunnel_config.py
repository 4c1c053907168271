"""`pc secret` / `zc certificate|workload|service --file` beside istioctl on the same ztunnel dump.

istioctl 1.31 reads ztunnel dumps only through `zc ... --file` (its `pc secret
--file` parses Envoy dumps), so ambientctl's `pc secret --file` is compared with
`istioctl zc certificate --file` (the guide's `istioctl pc secret ds/ztunnel`
became `zc certificate` in current istioctl).  The same rows must come out."""

from __future__ import annotations

import json

import pytest

from tests.parity.compare import classify, diff_tables, load_known_differences
from tests.parity.tools import ambientctl, istioctl, parse_table
from tests.support import dumpgen

AREA = "ztunnel-config"
KEYS = {
    "certificate": ("CERTIFICATE NAME", "TYPE"),
    "workload": ("NAMESPACE", "POD NAME"),
    "service": ("NAMESPACE", "SERVICE NAME"),
}


def _service(ns: str, name: str, vip: str, endpoints: list[dict], waypoint: str | None = None) -> dict:
    return {
        "name": name, "namespace": ns, "hostname": f"{name}.{ns}.svc.cluster.local", "vips": [f"/{vip}"],
        "ports": {"9080": 9080},
        "endpoints": {f"{w['uid']}": {"workloadUid": w["uid"], "service": "", "port": {"9080": 9080}}
                      for w in endpoints},
        "ipFamilies": "IPv4", **({"waypoint": {"destination": waypoint}} if waypoint else {}),
    }


@pytest.fixture(scope="module")
def dump_file(tmp_path_factory) -> str:
    """A dump with every certificate state, workloads behind a waypoint, and services with endpoints."""
    identities = [("bookinfo", sa) for sa in ("productpage", "reviews", "ratings", "details")]
    identities += [("default", "sleep"), ("default", "notsleep"), ("istio-system", "ztunnel")]
    dump = dumpgen.generate_dump(identities, states={("default", "notsleep"): "Initializing",
                                                     ("istio-system", "ztunnel"): "Unavailable: no SA token"})
    waypoint_svc = _service("bookinfo", "waypoint", "10.96.0.50", [])
    for workload in dump["workloads"]:
        if workload["serviceAccount"] == "reviews":
            workload["waypoint"] = {"destination": "bookinfo/waypoint.bookinfo.svc.cluster.local"}
        if workload["serviceAccount"] == "ratings":
            workload["status"] = "Unhealthy"
    by_sa = {w["serviceAccount"]: w for w in dump["workloads"]}
    dump["services"] = [
        _service("bookinfo", "productpage", "10.96.0.10", [by_sa["productpage"]]),
        _service("bookinfo", "reviews", "10.96.0.11", [by_sa["reviews"], by_sa["ratings"]],
                 waypoint="bookinfo/waypoint.bookinfo.svc.cluster.local"),
        _service("default", "sleep", "10.96.0.12", [by_sa["sleep"]]),
        waypoint_svc,
    ]
    path = tmp_path_factory.mktemp("zdump") / "config_dump.json"
    path.write_text(json.dumps(dump))
    return str(path)


@pytest.mark.parametrize("ours_args,theirs_args,table", [
    (("pc", "secret"), ("zc", "certificate"), "certificate"),
    (("zc", "certificate"), ("zc", "certificate"), "certificate"),
    (("zc", "workload"), ("zc", "workload"), "workload"),
    (("zc", "service"), ("zc", "service"), "service"),
])
def test_same_rows_from_the_same_dump(istioctl_bin, dump_file, ours_args, theirs_args, table):
    theirs = istioctl(istioctl_bin, *theirs_args, "--file", dump_file)
    ours = ambientctl(*ours_args, "--file", dump_file)
    assert theirs.ok, theirs
    assert ours.ok, ours
    their_rows, our_rows = parse_table(theirs.stdout), parse_table(ours.stdout)
    assert their_rows, f"istioctl printed no rows:\n{theirs.stdout}"
    command = " ".join(ours_args)
    # Entries are per command (their object starts with it): unlisted AND stale entries fail.
    verdict = classify(diff_tables(command, our_rows, their_rows, KEYS[table]),
                       [k for k in load_known_differences(AREA) if k.object.startswith(command + "/")
                        or k.object == command])
    assert verdict.ok, verdict.report()
