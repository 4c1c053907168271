"""Samples: they render to valid objects for any namespace, and apply/delete touch only our objects."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest

from ambientctl import samples as smp
from ambientctl.errors import ExitCode
from ambientctl.render.crds import istio_crds
from tests.support.fakekube import READ_ONLY, FakeKube, invoke_with


def run(fake: FakeKube | None, *args: str) -> tuple[int, str, str]:
    return tuple(invoke_with(fake, *args))


def shop() -> FakeKube:
    """A cluster with the namespace the samples go to."""
    return FakeKube([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}])


def applied(fake: FakeKube) -> list[str]:
    return [f"{kind}/{name}" for verb, kind, name in fake.calls if verb in ("apply", "apply-dry")]


def sample_objects(fake: FakeKube) -> list[tuple[str, str, str]]:
    return [(kind, name, ns) for (_, kind, ns, name) in fake.store if kind != "Namespace"]


def _newest_validator_version() -> str:
    schema_dir = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    versions = [d.name[1:].split("-")[0] for d in schema_dir.iterdir() if d.name.endswith("-local-strict")]
    return max(versions, key=lambda v: tuple(int(p) for p in v.split(".")))[: -len(".0")]


def _crd_schema(obj: dict) -> dict:
    group, version = obj["apiVersion"].split("/")
    for crd in istio_crds():
        if crd["spec"]["group"] == group and crd["spec"]["names"]["kind"] == obj["kind"]:
            return next(v for v in crd["spec"]["versions"] if v["name"] == version)["schema"]["openAPIV3Schema"]
    raise AssertionError(f"no CRD serves {obj['apiVersion']} {obj['kind']}")


ALL = [s.name for s in smp.catalogue()]


def test_catalogue_covers_the_guide_steps() -> None:
    assert ALL == ["bookinfo", "bookinfo-gateway", "sleep", "notsleep", "productpage-l4-policy",
                   "productpage-l7-policy", "reviews-90-10"]
    assert {s.step for s in smp.catalogue()} == {4, 7, 9, 11}


@pytest.mark.parametrize("name", ALL)
def test_sample_objects_are_valid(name: str) -> None:
    version = _newest_validator_version()
    for obj in smp.render(smp.find([name])[0], "shop"):
        assert obj["metadata"]["namespace"] == "shop"
        assert obj["metadata"]["labels"]["ambientctl.dev/sample"] == name
        if obj["apiVersion"].endswith("istio.io/v1"):
            jsonschema.Draft4Validator(_crd_schema(obj)).validate(obj)
        else:
            kubernetes_validate.validate(obj, version, strict=True)


def test_bookinfo_has_the_names_the_guide_uses() -> None:
    objects = smp.render(smp.find(["bookinfo"])[0], "default")
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}
    for sa in ("bookinfo-productpage", "bookinfo-reviews", "bookinfo-details", "bookinfo-ratings"):
        assert ("ServiceAccount", sa) in names
    assert {("Deployment", "reviews-v1"), ("Deployment", "reviews-v2"), ("Service", "reviews")} <= names
    productpage = next(o for o in objects if o["kind"] == "Service" and o["metadata"]["name"] == "productpage")
    assert productpage["spec"]["ports"][0]["port"] == 9080
    reviews = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Deployment"}
    assert reviews["reviews-v2"]["spec"]["template"]["metadata"]["labels"] == {"app": "reviews", "version": "v2"}
    assert reviews["reviews-v2"]["spec"]["template"]["spec"]["serviceAccountName"] == "bookinfo-reviews"
    images = [c["image"] for d in reviews.values() for c in d["spec"]["template"]["spec"]["containers"]]
    assert all(i.startswith("docker.io/istio/examples-bookinfo-") for i in images)


def test_policies_name_the_namespace_they_are_applied_to() -> None:
    policy = smp.render(smp.find(["productpage-l4-policy"])[0], "shop", "mesh-system")[0]
    principals = policy["spec"]["rules"][0]["from"][0]["source"]["principals"]
    assert principals == ["cluster.local/ns/shop/sa/sleep",
                          "cluster.local/ns/mesh-system/sa/istio-ingressgateway-service-account",
                          "cluster.local/ns/shop/sa/productpage-waypoint"]


def test_unknown_sample_is_an_invalid_input_error() -> None:
    code, out, err = run(None, "samples", "show", "bookinf")
    assert code == ExitCode.INVALID_INPUT
    assert "unknown sample 'bookinf'" in err and "bookinfo" in err and out == ""


def test_show_needs_no_cluster_and_prints_one_stream() -> None:
    code, out, _ = run(None, "samples", "show", "sleep", "-n", "shop")
    assert code == 0
    assert out.startswith("---\n") and out.count("---\n") == 3 and "namespace: shop" in out


def test_apply_then_delete_touches_only_sample_objects() -> None:
    fake = shop()
    foreign = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "mine", "namespace": "shop"}}
    fake.add(foreign)
    code, out, err = run(fake, "samples", "apply", "sleep", "notsleep", "-n", "shop")
    assert code == 0, err
    assert "✔ ServiceAccount/shop/sleep applied" in out
    assert applied(fake)[:2] == ["ServiceAccount/sleep", "ServiceAccount/notsleep"]  # apply order: accounts first
    assert len(sample_objects(fake)) == 7
    code, out, err = run(fake, "samples", "delete", "sleep", "-n", "shop")
    assert code == 0, err
    assert sorted(out.splitlines()) == ["Deployment/shop/sleep deleted", "Service/shop/sleep deleted",
                                        "ServiceAccount/shop/sleep deleted"]
    assert ("Service", "mine", "shop") in sample_objects(fake)
    assert ("Deployment", "notsleep", "shop") in sample_objects(fake)


def test_apply_refuses_to_take_over_a_foreign_object() -> None:
    fake = shop()
    fake.add({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sleep", "namespace": "shop"}})
    code, _, err = run(fake, "samples", "apply", "sleep", "-n", "shop")
    assert code == ExitCode.INVALID_INPUT
    assert "ServiceAccount/shop/sleep already exists and was not created by ambientctl" in err
    assert applied(fake) == []


def test_apply_without_write_permission_names_it_and_changes_nothing() -> None:
    fake = shop()
    fake.allowed = set(READ_ONLY)
    code, out, err = run(fake, "samples", "apply", "sleep", "-n", "shop")
    assert code == ExitCode.FORBIDDEN
    assert 'samples apply needs 6 permission(s) you do not have: create serviceaccounts in namespace "shop"' in err
    assert "and 2 more" in err  # create+patch of serviceaccounts, services, deployments.apps
    assert "nothing was changed" in err and out == ""
    assert applied(fake) == [] and sample_objects(fake) == []


def test_delete_skips_kinds_the_cluster_does_not_serve() -> None:
    code, _, err = run(FakeKube(istio_api=False), "samples", "delete", "reviews-90-10", "-n", "shop")
    assert code == 0
    assert "nothing to delete" in err


_PROBE = """
import sys, io, contextlib
from ambientctl.cli import run
with contextlib.redirect_stdout(io.StringIO()):
    code = run(sys.argv[1:])
print(code, ",".join(m for m in ("kubernetes", "urllib3", "prometheus_client") if m in sys.modules))
"""


@pytest.mark.parametrize("argv", [
    ["samples", "list"], ["samples", "show", "bookinfo"], ["analyze", "-L"], ["x", "graph", "--help"],
    ["x", "authz", "allow", "--to", "app=a", "--from", "sa/b", "-n", "x"], ["waypoint", "metrics", "--help"],
])
def test_issue9_commands_without_cluster_stay_light(argv, tmp_path) -> None:
    """No kubernetes import (startup time) for the commands of this issue that need no cluster."""
    import subprocess
    import sys

    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "KUBECONFIG": str(tmp_path / "none")}
    out = subprocess.run([sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True, check=True,
                         env=env, cwd=str(Path(__file__).resolve().parents[2]))
    code, _, heavy = out.stdout.strip().partition(" ")
    assert code == "0", out.stderr
    assert heavy == "", f"{argv} imported {heavy}"
