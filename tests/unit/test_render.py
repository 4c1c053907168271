"""Rendering: golden manifests per profile, the ambient shape, Kubernetes and CRD schema validity."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from ambientctl.errors import InvalidInputError
from ambientctl.kube.resources import sort_for_apply
from ambientctl.ownership import COMPONENT_LABEL, MANAGED_BY_LABEL, OWNER_REVISION_LABEL, is_owned
from ambientctl.render import COMPONENT_ORDER, list_profiles, load_profile, render
from ambientctl.render.crds import CRDS, crd_names, istio_crds
from ambientctl.yamlout import dump_stream
from ambientctl.versions import ISTIO_VERSION
from tests.support.golden import assert_golden

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "tests" / "resources" / "guide"
PROFILES = ["ambient", "default", "demo", "minimal", "empty", "openshift-ambient", "remote"]
MULTUS_KINDS = {"NetworkAttachmentDefinition"}


def _manifest(profile: str) -> str:
    return dump_stream(sort_for_apply(render(profile).all_objects()))


def _find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


def _newest_validator_version() -> str:
    schema_dir = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    versions = [d.name[1:].split("-")[0] for d in schema_dir.iterdir() if d.name.endswith("-local-strict")]
    return max(versions, key=lambda v: tuple(int(p) for p in v.split(".")))[: -len(".0")]


# ------------------------------------------------------------------------------------------ goldens


def test_builtin_profiles_are_listed() -> None:
    assert set(PROFILES) <= set(list_profiles())


@pytest.mark.parametrize("profile", PROFILES)
def test_manifest_matches_golden(profile: str) -> None:
    assert_golden(f"render/{profile}.yaml", _manifest(profile))


def test_render_is_deterministic() -> None:
    first = render("ambient", set_values=["values.pilot.env.B=2", "values.pilot.env.A=1"])
    second = render("ambient", set_values=["values.pilot.env.B=2", "values.pilot.env.A=1"])
    assert first.all_objects() == second.all_objects()
    assert dump_stream(first.all_objects()) == dump_stream(second.all_objects())
    assert "&id" not in dump_stream(first.all_objects())  # no YAML anchors in manifests


# ------------------------------------------------------------------------------------------ ambient shape


def test_ambient_profile_renders_the_guides_components() -> None:
    rendered = render("ambient")
    assert [c.name for c in rendered.components] == ["Base", "Pilot", "Cni", "Ztunnel", "IngressGateways"]
    objects = rendered.all_objects()

    istiod = _find(objects, "Deployment", "istiod")
    env = {e["name"]: e.get("value") for e in istiod["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["PILOT_ENABLE_AMBIENT"] == "true"
    assert env["CA_TRUSTED_NODE_ACCOUNTS"] == "istio-system/ztunnel"
    assert istiod["spec"]["template"]["spec"]["containers"][0]["image"] == f"docker.io/istio/pilot:{ISTIO_VERSION}-distroless"

    cni = _find(objects, "DaemonSet", "istio-cni-node")
    assert cni["spec"]["template"]["metadata"]["labels"]["k8s-app"] == "istio-cni-node"
    assert cni["spec"]["template"]["spec"]["containers"][0]["image"] == f"docker.io/istio/install-cni:{ISTIO_VERSION}-distroless"
    assert _find(objects, "ConfigMap", "istio-cni-config")["data"]["AMBIENT_ENABLED"] == "true"

    ztunnel = _find(objects, "DaemonSet", "ztunnel")
    assert ztunnel["spec"]["template"]["metadata"]["labels"]["app"] == "ztunnel"
    assert ztunnel["spec"]["template"]["spec"]["containers"][0]["image"] == f"docker.io/istio/ztunnel:{ISTIO_VERSION}-distroless"

    gateway = _find(objects, "Deployment", "istio-ingressgateway")
    pod = gateway["spec"]["template"]
    assert pod["spec"]["serviceAccountName"] == "istio-ingressgateway-service-account"
    assert pod["metadata"]["labels"]["istio"] == "ingressgateway"
    assert pod["metadata"]["labels"]["app"] == "istio-ingressgateway"
    assert pod["spec"]["containers"][0]["image"] == f"docker.io/istio/proxyv2:{ISTIO_VERSION}-distroless"
    _find(objects, "ServiceAccount", "istio-ingressgateway-service-account")
    service = _find(objects, "Service", "istio-ingressgateway")
    assert service["spec"]["selector"] == {"app": "istio-ingressgateway", "istio": "ingressgateway"}

    mesh = yaml.safe_load(_find(objects, "ConfigMap", "istio")["data"]["mesh"])
    assert mesh["defaultConfig"]["proxyMetadata"]["ISTIO_META_ENABLE_HBONE"] == "true"
    assert {crd["metadata"]["name"] for crd in objects if crd["kind"] == "CustomResourceDefinition"} == set(crd_names())


def test_every_object_carries_the_owner_labels() -> None:
    for profile in PROFILES:
        for component in render(profile).components:
            for obj in component.objects:
                labels = obj["metadata"]["labels"]
                assert is_owned(obj), obj["metadata"]["name"]
                assert labels[COMPONENT_LABEL] == component.name
                shared = component.name == "Base" and not obj["metadata"].get("namespace")
                assert labels.get(OWNER_REVISION_LABEL) == (None if shared else "default"), obj["metadata"]["name"]


def test_shared_cluster_objects_look_the_same_from_every_revision() -> None:
    """CRDs and the default validator carry no revision label: a canary install does not relabel them."""
    default = {(o["kind"], o["metadata"]["name"]): o for o in render("ambient").component("Base").objects}
    canary = {(o["kind"], o["metadata"]["name"]): o for o in render("ambient", revision="canary").component("Base").objects}
    crds = [key for key in default if key[0] == "CustomResourceDefinition"]
    assert crds and all(default[key]["metadata"]["labels"] == canary[key]["metadata"]["labels"] for key in crds)
    assert OWNER_REVISION_LABEL not in default[("ValidatingWebhookConfiguration", "istiod-default-validator")]["metadata"]["labels"]
    reader = default[("ServiceAccount", "istio-reader-service-account")]
    assert reader["metadata"]["labels"][OWNER_REVISION_LABEL] == "default"  # namespaced: the revision's own


def test_components_are_in_order_and_only_enabled_ones() -> None:
    assert render("empty").components == []
    assert [c.name for c in render("minimal").components] == ["Base", "Pilot"]
    assert [c.name for c in render("demo").components] == ["Base", "Pilot", "IngressGateways", "EgressGateways"]
    for profile in PROFILES:
        names = [c.name for c in render(profile).components]
        assert names == [n for n in COMPONENT_ORDER if n in names]


def test_hub_tag_and_component_overrides_change_images() -> None:
    objects = render("ambient", set_values=["hub=registry.example.com/mesh", "tag=9.9.9",
                                            "components.ztunnel.tag=9.9.9-debug"]).all_objects()
    assert _find(objects, "Deployment", "istiod")["spec"]["template"]["spec"]["containers"][0]["image"] == \
        "registry.example.com/mesh/pilot:9.9.9-distroless"
    assert _find(objects, "DaemonSet", "ztunnel")["spec"]["template"]["spec"]["containers"][0]["image"] == \
        "registry.example.com/mesh/ztunnel:9.9.9-debug-distroless"


def _image(objects: list[dict[str, Any]], kind: str, name: str) -> str:
    return _find(objects, kind, name)["spec"]["template"]["spec"]["containers"][0]["image"]


def test_ambient_profile_uses_the_distroless_variant_everywhere() -> None:
    """Istio 1.31's ambient profile sets global.variant=distroless: images and the mesh default image."""
    objects = render("ambient").all_objects()
    for kind, name, image in (("Deployment", "istiod", "pilot"), ("DaemonSet", "ztunnel", "ztunnel"),
                              ("DaemonSet", "istio-cni-node", "install-cni")):
        assert _image(objects, kind, name) == f"docker.io/istio/{image}:{ISTIO_VERSION}-distroless"
        assert _find(objects, kind, name)["metadata"]["labels"]["app.kubernetes.io/version"] == ISTIO_VERSION
    mesh = yaml.safe_load(_find(objects, "ConfigMap", "istio")["data"]["mesh"])
    assert mesh["defaultConfig"]["image"] == {"imageType": "distroless"}
    plain = render("default", set_values=["values.global.variant="]).all_objects()
    assert _image(plain, "Deployment", "istiod") == f"docker.io/istio/pilot:{ISTIO_VERSION}"
    assert "image" not in yaml.safe_load(_find(plain, "ConfigMap", "istio")["data"]["mesh"])["defaultConfig"]


def test_values_global_hub_and_tag_reach_every_component_and_win_over_spec_hub() -> None:
    objects = render("ambient", set_values=["values.global.hub=reg.example/v", "hub=reg.example/h",
                                            "values.global.tag=9.9"]).all_objects()
    for kind, name, image in (("Deployment", "istiod", "pilot"), ("DaemonSet", "ztunnel", "ztunnel"),
                              ("DaemonSet", "istio-cni-node", "install-cni")):
        assert _image(objects, kind, name) == f"reg.example/v/{image}:9.9-distroless"


def test_the_injector_carries_the_templates_istiod_renders_waypoints_from() -> None:
    objects = render("ambient").all_objects()
    injector = _find(objects, "ConfigMap", "istio-sidecar-injector")["data"]
    config = yaml.safe_load(injector["config"])
    assert set(config["templates"]) == {"sidecar", "gateway", "waypoint", "kube-gateway"}
    assert config["defaultTemplates"] == ["sidecar"] and config["policy"] == "enabled"
    waypoint = config["templates"]["waypoint"]
    assert "{{" in waypoint and "{%" not in waypoint  # Go template text, not Jinja
    assert "- waypoint" in waypoint and ".DeploymentName" in waypoint
    values = json.loads(injector["values"])
    assert values["global"]["hub"] == "docker.io/istio" and values["global"]["tag"] == ISTIO_VERSION
    assert values["global"]["variant"] == "distroless"
    assert values["global"]["waypoint"]["resources"]["limits"] == {"cpu": "2", "memory": "1Gi"}
    assert values["pilot"]["cni"] == {"enabled": True, "provider": "default", "ambient": {"enabled": True}}
    assert values["revision"] == ""
    _find(objects, "ConfigMap", "values")


def test_user_injection_templates_are_added_to_the_built_in_ones() -> None:
    objects = render("ambient", set_values=["values.sidecarInjectorWebhook.templates.custom=metadata: {}"]).all_objects()
    config = yaml.safe_load(_find(objects, "ConfigMap", "istio-sidecar-injector")["data"]["config"])
    assert config["templates"]["custom"] == "metadata: {}" and "waypoint" in config["templates"]


def test_istiod_pdb_only_with_more_than_one_replica() -> None:
    single = render("ambient").all_objects()
    assert not [o for o in single if o["kind"] == "PodDisruptionBudget" and o["metadata"]["name"] == "istiod"]
    several = render("ambient", set_values=["values.pilot.autoscaleMin=2"]).all_objects()
    assert _find(several, "PodDisruptionBudget", "istiod")["spec"]["minAvailable"] == 1


def test_istiod_rbac_grants_optional_rules_only_when_enabled() -> None:
    def resources(objects: list[dict[str, Any]]) -> set[str]:
        role = _find(objects, "ClusterRole", "istiod-clusterrole-istio-system")
        return {r for rule in role["rules"] for r in rule["resources"]}

    plain = resources(render("ambient").all_objects())
    assert not plain & {"certificatesigningrequests", "clustertrustbundles", "virtualservices/status"}
    enabled = resources(render("ambient", set_values=[
        "values.global.istiod.enableAnalysis=true", "values.pilot.env.ENABLE_CLUSTER_TRUST_BUNDLE_API=true",
        "values.global.pilotCertProvider=kubernetes"]).all_objects())
    assert {"certificatesigningrequests", "clustertrustbundles", "virtualservices/status"} <= enabled


def test_validators_select_like_istioctl() -> None:
    objects = render("ambient").all_objects()
    validator = _find(objects, "ValidatingWebhookConfiguration", "istio-validator-istio-system")
    assert validator["webhooks"][0]["objectSelector"]["matchExpressions"][0]["values"] == ["default"]
    default = _find(objects, "ValidatingWebhookConfiguration", "istiod-default-validator")
    assert default["webhooks"][0]["objectSelector"] == {
        "matchExpressions": [{"key": "istio.io/rev", "operator": "DoesNotExist"}]}
    canary = render("ambient", revision="canary").all_objects()
    validator = _find(canary, "ValidatingWebhookConfiguration", "istio-validator-canary-istio-system")
    assert validator["webhooks"][0]["objectSelector"]["matchExpressions"][0]["values"] == ["canary"]


@pytest.mark.parametrize("flag", ["values.nosuch.key=1", "values.pilot.nosuch=1", "values.global.proxy.nosuch=1"])
def test_unknown_values_keys_are_rejected_like_istioctl(flag: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        render("ambient", set_values=[flag])
    assert "has no field 'nosuch'" in caught.value.one_line()


@pytest.mark.parametrize("flag", ["values.pilot.env.ANY_NAME=1", "values.ztunnel.anything=1",
                                  "values.cni.ambient.enablementSelectors[0].podSelector.matchLabels.a=b",
                                  "unvalidatedValues.free.form=1", "values.global.waypoint.resources.requests.cpu=1"])
def test_known_and_free_form_values_keys_are_accepted(flag: str) -> None:
    render("ambient", set_values=[flag])


def test_revision_names_revisioned_objects_like_istio() -> None:
    rendered = render("ambient", revision="canary")
    objects = rendered.all_objects()
    assert rendered.revision == "canary"
    istiod = _find(objects, "Deployment", "istiod-canary")
    assert istiod["metadata"]["labels"]["istio.io/rev"] == "canary"
    assert istiod["spec"]["selector"]["matchLabels"] == {"app": "istiod", "istio.io/rev": "canary"}
    _find(objects, "Service", "istiod-canary")
    _find(objects, "ConfigMap", "istio-canary")
    _find(objects, "ValidatingWebhookConfiguration", "istio-validator-canary-istio-system")
    _find(objects, "MutatingWebhookConfiguration", "istio-sidecar-injector-canary")
    assert not [o for o in objects if o["metadata"]["name"] == "istiod-default-validator"]
    env = {e["name"]: e.get("value") for e in
           _find(objects, "DaemonSet", "ztunnel")["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["XDS_ADDRESS"] == "istiod-canary.istio-system.svc:15012"
    assert all(o["metadata"]["labels"][OWNER_REVISION_LABEL] == "canary" for o in objects
               if o["kind"] != "CustomResourceDefinition")
    assert render("ambient", set_values=["revision=canary"]).revision == "canary"


def test_istio_namespace_moves_namespaced_objects() -> None:
    objects = render("ambient", istio_namespace="mesh-system").all_objects()
    namespaces = {o["metadata"].get("namespace") for o in objects} - {None}
    assert namespaces == {"mesh-system"}
    _find(objects, "ClusterRole", "istiod-clusterrole-mesh-system")


def test_k8s_settings_reach_the_workload() -> None:
    objects = render("ambient", set_values=[
        "components.pilot.k8s.replicaCount=3", "components.pilot.k8s.resources.requests.cpu=1",
        "components.ingressGateways[0].k8s.nodeSelector.pool=edge",
    ]).all_objects()
    istiod = _find(objects, "Deployment", "istiod")
    assert istiod["spec"]["replicas"] == 3
    # Merged into the profile's requests, as istioctl does: the memory request stays.
    assert istiod["spec"]["template"]["spec"]["containers"][0]["resources"] == {"requests": {"cpu": 1, "memory": "2048Mi"}}
    gateway = _find(objects, "Deployment", "istio-ingressgateway")
    assert gateway["spec"]["template"]["spec"]["nodeSelector"] == {"pool": "edge"}


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"profile": "nope"}, ["unknown profile 'nope'", "ambient, default, demo"]),
        ({"revision": "Canary_1"}, ["invalid revision"]),
        ({"set_values": ["hub="]}, ["invalid hub"]),
        ({"set_values": ["components.ingressGateways[0].name=Bad_Name"]}, ["needs a valid name"]),
        ({"set_values": ["components.ingressGateways[1].name=istio-ingressgateway",
                         "components.ingressGateways[1].enabled=true"]}, ["two ingressGateways"]),
        ({"set_values": ["values.pilot=broken"]}, ["cannot render"]),
        ({"istio_namespace": "Not_A_Namespace"}, ["invalid Istio namespace"]),
        ({"set_values": ["values.global.platform=eks"]}, ["unknown platform 'eks'", "gke, k3d, k3s"]),
        ({"profile": "remote", "set_values": ["values.istiodRemote.enabledLocalInjectorIstiod=true"]},
         ["enabledLocalInjectorIstiod", "not supported"]),
        ({"profile": "remote", "set_values": ["values.global.configCluster=true"]}, ["configCluster"]),
    ],
)
def test_bad_configuration_is_invalid_input(kwargs: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(InvalidInputError) as caught:
        render(**kwargs)
    for word in words:
        assert word in caught.value.one_line()


def test_load_profile_is_merged_over_default() -> None:
    ambient = load_profile("ambient")
    assert ambient["spec"]["profile"] == "ambient"
    assert ambient["spec"]["hub"] == "docker.io/istio" and ambient["spec"]["tag"] == ISTIO_VERSION
    assert ambient["spec"]["values"]["pilot"]["autoscaleMax"] == 5  # from default
    assert ambient["spec"]["values"]["pilot"]["env"]["PILOT_ENABLE_AMBIENT"] == "true"  # from ambient


# ------------------------------------------------------------------------------------------ schemas


@pytest.mark.parametrize("profile", PROFILES)
def test_builtin_objects_are_valid_kubernetes(profile: str) -> None:
    version = _newest_validator_version()
    for obj in render(profile).all_objects():
        if obj["kind"] in MULTUS_KINDS:  # a CRD of Multus's, not in Kubernetes' schemas
            assert obj["apiVersion"] == "k8s.cni.cncf.io/v1" and set(obj) == {"apiVersion", "kind", "metadata"}
            continue
        kubernetes_validate.validate(obj, version, strict=True)


@pytest.mark.parametrize("platform", ["gke", "k3d", "k3s", "microk8s", "minikube", "openshift"])
def test_platform_objects_are_valid_kubernetes(platform: str) -> None:
    version = _newest_validator_version()
    for obj in render("ambient", set_values=[f"values.global.platform={platform}"]).all_objects():
        if obj["kind"] not in MULTUS_KINDS:
            kubernetes_validate.validate(obj, version, strict=True)


def _schema_problems(node: Any, where: str) -> list[str]:
    """Kubernetes' structural-schema rules, checked locally."""
    problems: list[str] = []
    if not isinstance(node, dict):
        return [f"{where}: not a schema"]
    open_ = node.get("x-kubernetes-preserve-unknown-fields") or node.get("x-kubernetes-int-or-string")
    if "type" not in node and not open_:
        problems.append(f"{where}: no type")
    kind = node.get("type")
    if "properties" in node and "additionalProperties" in node:
        problems.append(f"{where}: properties and additionalProperties together")
    if kind == "array" and "items" not in node:
        problems.append(f"{where}: array without items")
    if kind == "object" and not ({"properties", "additionalProperties"} & set(node)) and not open_:
        problems.append(f"{where}: object without fields")
    for value in node.get("enum", []):
        if kind == "string" and not isinstance(value, str):
            problems.append(f"{where}: enum value {value!r} is not a string")
    for name, child in (node.get("properties") or {}).items():
        problems += _schema_problems(child, f"{where}.{name}")
    for name in node.get("required", []):
        if name not in (node.get("properties") or {}):
            problems.append(f"{where}: required {name} is not a property")
    if isinstance(node.get("additionalProperties"), dict):
        problems += _schema_problems(node["additionalProperties"], f"{where}{{}}")
    if "items" in node:
        problems += _schema_problems(node["items"], f"{where}[]")
    return problems


def test_crds_are_structural_and_versioned_like_istio() -> None:
    crds = istio_crds()
    assert len(crds) == len(CRDS) == 15
    for crd in crds:
        versions = crd["spec"]["versions"]
        assert sum(v["storage"] for v in versions) == 1, crd["metadata"]["name"]
        assert all(v["served"] for v in versions)
        for version in versions:
            schema = version["schema"]["openAPIV3Schema"]
            assert _schema_problems(schema, f"{crd['metadata']['name']}/{version['name']}") == []
    by_name = {c["metadata"]["name"]: c for c in crds}
    storage = {name: next(v["name"] for v in c["spec"]["versions"] if v["storage"]) for name, c in by_name.items()}
    assert storage["virtualservices.networking.istio.io"] == "v1"
    assert storage["authorizationpolicies.security.istio.io"] == "v1"
    assert storage["telemetries.telemetry.istio.io"] == "v1alpha1"
    assert [v["name"] for v in by_name["envoyfilters.networking.istio.io"]["spec"]["versions"]] == ["v1alpha3"]
    assert by_name["authorizationpolicies.security.istio.io"]["spec"]["names"]["shortNames"] == ["ap"]


def _crd_schema(obj: dict[str, Any]) -> dict[str, Any]:
    group, version = obj["apiVersion"].split("/")
    for crd in istio_crds():
        if crd["spec"]["group"] == group and crd["spec"]["names"]["kind"] == obj["kind"]:
            return next(v for v in crd["spec"]["versions"] if v["name"] == version)["schema"]["openAPIV3Schema"]
    raise AssertionError(f"no CRD serves {obj['apiVersion']} {obj['kind']}")


def _load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


GUIDE_FILES = sorted(GUIDE.glob("*.yaml"))
MALFORMED_FILES = sorted((GUIDE / "malformed").glob("*.yaml"))


def test_guide_fixtures_exist() -> None:
    assert len(GUIDE_FILES) == 4 and len(MALFORMED_FILES) == 6


@pytest.mark.parametrize("path", GUIDE_FILES, ids=lambda p: p.stem)
def test_guide_resources_are_accepted_by_the_crd_schemas(path: Path) -> None:
    obj = _load(path)
    jsonschema.Draft4Validator(_crd_schema(obj)).validate(obj)


@pytest.mark.parametrize("path", MALFORMED_FILES, ids=lambda p: p.stem)
def test_malformed_guide_resources_are_rejected_by_the_crd_schemas(path: Path) -> None:
    obj = _load(path)
    assert list(jsonschema.Draft4Validator(_crd_schema(obj)).iter_errors(obj)), f"{path.name} was accepted"


# ------------------------------------------------------------------------------------------ YAML output

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from ambientctl.yamlout import dump_yaml  # noqa: E402

_JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_JSONISH)
def test_manifest_yaml_round_trips_any_json_like_value(value: Any) -> None:
    assert yaml.safe_load(dump_yaml(value)) == value


def test_manifest_yaml_round_trips_every_profile() -> None:
    for profile in PROFILES:
        objects = render(profile).all_objects()
        assert list(yaml.safe_load_all(dump_stream(objects))) == objects


def test_compiled_templates_are_cached_privately_and_optional(tmp_path, monkeypatch) -> None:
    """The Jinja bytecode cache (speed) lives in a 0700 directory; an unusable one only costs time."""
    from ambientctl.render import engine

    expected = dump_stream(render("ambient").all_objects())
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    engine.environment.cache_clear()
    try:
        assert dump_stream(render("ambient").all_objects()) == expected
        cache = tmp_path / "ambientctl" / "jinja"
        assert (cache.stat().st_mode & 0o777) == 0o700 and any(cache.iterdir())
        assert dump_stream(render("ambient").all_objects()) == expected
        blocked = tmp_path / "not-a-directory"
        blocked.write_text("")
        monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
        engine.environment.cache_clear()
        assert dump_stream(render("ambient").all_objects()) == expected
    finally:
        engine.environment.cache_clear()


# ------------------------------------------------------------------------------------ platforms, profiles


def _container(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["spec"]["template"]["spec"]["containers"][0]


def _volume_path(obj: dict[str, Any], name: str) -> str:
    return next(v["hostPath"]["path"] for v in obj["spec"]["template"]["spec"]["volumes"] if v["name"] == name)


def test_platform_settings_sit_below_the_users_flags() -> None:
    """As in istioctl: the platform's CNI directories apply, but a --set of the same value wins,
    and the platform may be named by --set after the profile."""
    k3s = render("ambient", set_values=["values.global.platform=k3s"]).all_objects()
    assert _volume_path(_find(k3s, "DaemonSet", "istio-cni-node"), "cni-bin-dir") == "/var/lib/rancher/k3s/data/cni"
    mine = render("ambient", set_values=["values.cni.cniBinDir=/mine", "values.global.platform=k3s"]).all_objects()
    cni = _find(mine, "DaemonSet", "istio-cni-node")
    assert _volume_path(cni, "cni-bin-dir") == "/mine"
    assert _volume_path(cni, "cni-net-dir") == "/var/lib/rancher/k3s/agent/etc/cni/net.d"


def test_gke_gets_resource_quotas_for_the_node_agents() -> None:
    objects = render("ambient", set_values=["values.global.platform=gke"]).all_objects()
    quotas = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ResourceQuota"}
    assert set(quotas) == {"istio-cni-resource-quota", "ztunnel"}
    for quota in quotas.values():
        assert quota["spec"]["scopeSelector"]["matchExpressions"][0]["values"] == ["system-node-critical"]
    assert [o["kind"] for o in objects].index("ResourceQuota") < [o["kind"] for o in objects].index("DaemonSet")
    assert not [o for o in render("ambient").all_objects() if o["kind"] == "ResourceQuota"]


def test_openshift_ambient_runs_the_node_agents_in_kube_system() -> None:
    objects = render("openshift-ambient").all_objects()
    ztunnel, cni = _find(objects, "DaemonSet", "ztunnel"), _find(objects, "DaemonSet", "istio-cni-node")
    assert ztunnel["metadata"]["namespace"] == cni["metadata"]["namespace"] == "kube-system"
    assert _container(ztunnel)["securityContext"]["seLinuxOptions"] == {"type": "spc_t"}
    assert _container(cni)["securityContext"]["seLinuxOptions"] == {"type": "spc_t"}
    assert _volume_path(cni, "cni-net-dir") == "/etc/cni/multus/net.d"
    istiod = _container(_find(objects, "Deployment", "istiod"))
    env = {e["name"]: e.get("value") for e in istiod["env"]}
    assert env["CA_TRUSTED_NODE_ACCOUNTS"] == "kube-system/ztunnel" and env["PLATFORM"] == "openshift"
    assert istiod["terminationMessagePolicy"] == "FallbackToLogsOnError"
    assert _find(objects, "NetworkAttachmentDefinition", "istio-cni")["metadata"]["namespace"] == "default"
    assert not [o for o in objects if o["metadata"]["name"].startswith("istio-ingressgateway")]


def test_remote_renders_only_what_a_remote_control_plane_needs() -> None:
    objects = render("remote").all_objects()
    kinds = {o["kind"] for o in objects}
    assert kinds == {"CustomResourceDefinition", "ServiceAccount", "ClusterRole", "ClusterRoleBinding",
                     "ConfigMap", "MutatingWebhookConfiguration"}
    assert [o["metadata"]["name"] for o in objects if o["kind"] == "ConfigMap"] == ["values"]
    webhook = _find(objects, "MutatingWebhookConfiguration", "istio-sidecar-injector")
    assert webhook["webhooks"][0]["clientConfig"]["service"]["path"] == "/inject"
    reader = _find(objects, "ClusterRole", "istio-reader-clusterrole-istio-system")
    assert any("mutatingwebhookconfigurations" in rule["resources"] for rule in reader["rules"])


def test_remote_points_the_injector_at_the_remote_istiod() -> None:
    by_url = render("remote", set_values=["values.istiodRemote.injectionURL=https://istiod.example:15017/inject"])
    hook = _find(by_url.all_objects(), "MutatingWebhookConfiguration", "istio-sidecar-injector")["webhooks"][0]
    assert hook["clientConfig"] == {"url": "https://istiod.example:15017/inject"}
    by_ip = render("remote", set_values=["values.global.remotePilotAddress=192.0.2.10"]).all_objects()
    assert _find(by_ip, "EndpointSlice", "istiod")["endpoints"] == [{"addresses": ["192.0.2.10"]}]
    assert "type" not in _find(by_ip, "Service", "istiod")["spec"]
    by_ipv6 = render("remote", set_values=["values.global.remotePilotAddress=2001:db8::1"]).all_objects()
    assert _find(by_ipv6, "EndpointSlice", "istiod")["addressType"] == "IPv6"
    by_name = render("remote", set_values=["values.global.remotePilotAddress=istiod.example"]).all_objects()
    assert _find(by_name, "Service", "istiod")["spec"]["externalName"] == "istiod.example"
    assert not [o for o in by_name if o["kind"] == "EndpointSlice"]
