"""`x authz allow --apply` on the real test cluster: it writes its own policies and never takes over another's."""

from __future__ import annotations

import pytest

from ambientctl.errors import ExitCode
from ambientctl.render import render
from tests.support.cli import invoke

pytestmark = pytest.mark.e2e

AP = ("security.istio.io/v1", "AuthorizationPolicy")


@pytest.fixture(scope="module")
def kube(cluster):
    """A client, with the AuthorizationPolicy CRD served (as after `install`)."""
    from ambientctl.kube.client import KubeClient

    client = KubeClient.connect(cluster.kubeconfig)
    crd = next(o for o in render("ambient").component("Base").objects
               if o["kind"] == "CustomResourceDefinition" and o["metadata"]["name"].startswith("authorizationpolicies."))
    client.apply(crd, force=True)
    client.wait_crds_established([crd["metadata"]["name"]], timeout=60)
    return client


def allow(cluster, namespace, name):
    return invoke("-c", cluster.kubeconfig, "-n", namespace, "x", "authz", "allow", "--to", "app=productpage",
                  "--from", "sa/sleep", "--name", name, "--apply")


def test_apply_writes_an_owned_policy_and_is_idempotent(cluster, namespace, kube):
    first = allow(cluster, namespace, "pp-viewer")
    assert first.exit_code == 0, first.stderr
    assert f"authorizationpolicy {namespace}/pp-viewer applied (enforced by ztunnel)" in first.stdout
    live = kube.get(*AP, "pp-viewer", namespace)
    assert live["metadata"]["labels"]["ambientctl.dev/managed-by"] == "ambientctl"
    assert live["spec"]["rules"] == [{"from": [{"source": {"principals": [f"cluster.local/ns/{namespace}/sa/sleep"]}}]}]
    again = allow(cluster, namespace, "pp-viewer")
    assert again.exit_code == 0, again.stderr
    assert kube.get(*AP, "pp-viewer", namespace)["metadata"]["resourceVersion"] == live["metadata"]["resourceVersion"]


def test_apply_refuses_a_policy_of_the_same_name_it_did_not_write(cluster, namespace, kube):
    theirs = {"apiVersion": AP[0], "kind": AP[1], "metadata": {"name": "pp-viewer", "namespace": namespace},
              "spec": {"action": "DENY", "rules": [{}]}}
    kube.apply(theirs)
    before = kube.get(*AP, "pp-viewer", namespace)
    result = allow(cluster, namespace, "pp-viewer")
    assert result.exit_code == ExitCode.CONFLICT
    assert result.stderr.startswith(f"Error: authorizationpolicy {namespace}/pp-viewer already exists and was not "
                                    "written by ambientctl")
    after = kube.get(*AP, "pp-viewer", namespace)
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert after["spec"] == {"action": "DENY", "rules": [{}]}
