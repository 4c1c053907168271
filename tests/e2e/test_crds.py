"""The rendered Istio CRDs on a real API server: guide resources accepted, malformed ones rejected (422)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ambientctl.errors import InvalidObjectError
from ambientctl.render import render

pytestmark = pytest.mark.e2e

GUIDE = Path(__file__).resolve().parents[1] / "resources" / "guide"


@pytest.fixture(scope="module")
def kube(cluster):
    from ambientctl.kube.client import KubeClient

    client = KubeClient.connect(cluster.kubeconfig)
    crds = render("ambient").component("Base").objects
    crds = [obj for obj in crds if obj["kind"] == "CustomResourceDefinition"]
    assert len(crds) == 15
    for crd in crds:
        client.apply(crd, force=True)
    client.wait_crds_established([crd["metadata"]["name"] for crd in crds], timeout=60)
    return client


def _load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def _plural(obj: dict[str, Any]) -> str:
    return {"AuthorizationPolicy": "authorizationpolicies", "VirtualService": "virtualservices",
            "DestinationRule": "destinationrules"}[obj["kind"]]


def test_crds_are_established_and_served(kube) -> None:
    crd = kube.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", "authorizationpolicies.security.istio.io")
    served = {v["name"]: v["storage"] for v in crd["spec"]["versions"]}
    assert served == {"v1": True, "v1beta1": False}
    conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
    assert conditions.get("Established") == "True"
    assert conditions.get("NonStructuralSchema") is None


@pytest.mark.parametrize("path", sorted(GUIDE.glob("*.yaml")), ids=lambda p: p.stem)
def test_guide_resources_are_accepted(kube, namespace: str, path: Path) -> None:
    obj = _load(path)
    obj["metadata"]["namespace"] = namespace
    created = kube.create(obj)
    assert created["metadata"]["name"] == obj["metadata"]["name"]
    assert created["spec"] == obj["spec"]  # nothing pruned: every field the guide uses is in the schema


@pytest.mark.parametrize("path", sorted((GUIDE / "malformed").glob("*.yaml")), ids=lambda p: p.stem)
def test_malformed_resources_are_rejected_with_422(cluster, kube, namespace: str, path: Path) -> None:
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    obj = _load(path)
    obj["metadata"]["namespace"] = namespace
    with pytest.raises(InvalidObjectError):
        kube.create(obj)
    group, version = obj["apiVersion"].split("/")
    api = client.CustomObjectsApi(cluster.api_client())
    with pytest.raises(ApiException) as caught:
        api.create_namespaced_custom_object(group, version, namespace, _plural(obj), obj)
    assert caught.value.status == 422, caught.value.body
