"""Turn a merged IstioOperator into Kubernetes objects: Jinja templates per component, CRDs from Python.

Templates live in the package's `manifests/<folder>/*.yaml.j2` and are read
through importlib.resources. Every interpolated string goes through the `q`
filter (a JSON string is a valid YAML scalar) and every structure through
`json` (JSON flow style is valid YAML), so values can never break the YAML.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files
from typing import Any

import yaml

from ambientctl.errors import InvalidInputError
from ambientctl.kube.resources import sort_for_apply
from ambientctl.names import is_dns_label
from ambientctl.ownership import is_shared_object, owner_labels
from ambientctl.render.components import COMPONENT_ORDER, Component, istio_namespace_of
from ambientctl.render.tree import deep_merge
from ambientctl.versions import ISTIO_VERSION

TEMPLATE_SUFFIX = ".yaml.j2"
FOLDERS = {"Base": "base", "Pilot": "pilot", "Cni": "cni", "Ztunnel": "ztunnel"}
SPEC_KEYS = {"Base": "base", "Pilot": "pilot", "Cni": "cni", "Ztunnel": "ztunnel"}
# The values.* subtree holding a component's own hub/tag/variant overrides.
VALUES_KEYS = {"Pilot": "pilot", "Cni": "cni", "Ztunnel": "ztunnel"}
GATEWAY_KEYS = {"IngressGateways": "ingressGateways", "EgressGateways": "egressGateways"}
# Which workload of a component receives components.<name>.k8s settings.
MAIN_WORKLOADS = {"Pilot": ("Deployment", "istiod"), "Cni": ("DaemonSet", "istio-cni-node"), "Ztunnel": ("DaemonSet", None)}

try:  # libyaml when available: rendering is on the hot path of `manifest generate`
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - pure-Python PyYAML
    _Loader = yaml.SafeLoader


def go_string(value: Any) -> str:
    """A value as Helm prints it: lower-case booleans, whole floats without `.0`, empty for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)


def _quote(value: Any) -> str:
    return json.dumps(go_string(value), ensure_ascii=False)


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _manifests_dir() -> Any:
    return files("ambientctl") / "manifests"


def _load_template(name: str) -> tuple[str, None, Any]:
    node = _manifests_dir()
    for part in name.split("/"):
        node = node / part
    return node.read_text(encoding="utf-8"), None, lambda: True


def _bytecode_cache() -> Any:
    """Compiled templates kept between runs (compiling is half of `manifest generate`'s time).

    `$XDG_CACHE_HOME/ambientctl/jinja` or `~/.cache/ambientctl/jinja`, private (0700). Jinja checks
    each entry against its template's source, so an upgrade never uses stale code. None (no
    cache, same output) when the directory cannot be created or written.
    """
    import os

    import jinja2

    class QuietBytecodeCache(jinja2.FileSystemBytecodeCache):
        """Never fails a render: an unreadable or unwritable entry is just compiled again."""

        def load_bytecode(self, bucket: Any) -> None:
            try:
                super().load_bytecode(bucket)
            except Exception:  # noqa: BLE001 - a broken cache entry must not break rendering
                bucket.reset()

        def dump_bytecode(self, bucket: Any) -> None:
            try:
                super().dump_bytecode(bucket)
            except Exception:  # noqa: BLE001
                pass

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    directory = os.path.join(base, "ambientctl", "jinja")
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
    except OSError:
        return None
    if not os.access(directory, os.W_OK | os.X_OK):
        return None
    return QuietBytecodeCache(directory, pattern="ambientctl-%s.cache")


@lru_cache(maxsize=1)
def environment() -> Any:
    """The Jinja environment: templates from the package, undefined names are errors."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_load_template),
        bytecode_cache=_bytecode_cache(),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        # The optimizer's constant folding costs more compile time than it saves at render time:
        # each template renders once or twice per process.
        optimized=False,
    )
    env.filters["q"] = _quote
    env.filters["json"] = _json
    env.filters["gostr"] = go_string
    env.filters["merge"] = _merge
    env.filters["secret_refs"] = _secret_refs
    env.filters["yaml_text"] = _yaml_text
    env.filters["stringify_values"] = _stringify_values
    env.filters["pretty_json"] = _pretty_json
    env.filters["ip_family"] = _ip_family
    return env


def templates_in(folder: str) -> list[str]:
    """The template names of one folder, sorted (their order inside a component)."""
    return sorted(
        f"{folder}/{entry.name}" for entry in (_manifests_dir() / folder).iterdir() if entry.name.endswith(TEMPLATE_SUFFIX)
    )


def render_template(name: str, context: dict[str, Any]) -> list[dict[str, Any]]:
    """Render one template into objects (empty documents dropped)."""
    import jinja2

    try:
        text = environment().get_template(name).render(**context)
    except jinja2.UndefinedError as exc:
        raise InvalidInputError(
            f"cannot render {name}: {exc.message}",
            "a values.* key the templates need was removed or has the wrong type; compare with `ambientctl profile dump`",
        ) from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise InvalidInputError(
            f"cannot render {name}: {exc}",
            "a values.* setting has the wrong type; compare with `ambientctl profile dump`",
        ) from None
    try:
        return [doc for doc in yaml.load_all(text, Loader=_Loader) if doc]
    except yaml.YAMLError as exc:  # a template bug or a value that slipped past the filters
        raise InvalidInputError(f"rendering {name} produced invalid YAML: {str(exc).splitlines()[0]}", "check --set values") from None


# ------------------------------------------------------------------------------------------ context


def _common_labels(tag: str) -> dict[str, str]:
    """Labels Istio's charts put on everything they install."""
    return {"app.kubernetes.io/part-of": "istio", "app.kubernetes.io/version": tag}


def _object_tag(obj: dict[str, Any], default_tag: str, variant: str) -> str:
    """The tag of the object's own image (without the `-variant` suffix) if it runs one, else the install's."""
    try:
        image = obj["spec"]["template"]["spec"]["containers"][0]["image"]
    except (KeyError, IndexError, TypeError):
        return default_tag
    if ":" not in image.rpartition("/")[2]:
        return default_tag
    tag = image.rpartition(":")[2]
    return tag.removesuffix(f"-{variant}") if variant else tag


def _image_function(hub: str, tag: str, variant: str = "") -> Any:
    def image(name: Any, default: str) -> str:
        """`{hub}/{name}:{tag}[-{variant}]`; a name with a `/` is already a full image reference."""
        text = go_string(name) or default
        suffix = f"-{variant}" if variant else ""
        return text if "/" in text else f"{hub}/{text}:{tag}{suffix}"

    return image


def _merge(base: Any, extra: Any) -> dict[str, Any]:
    return {**(base or {}), **(extra or {})}


def _secret_refs(names: Any) -> list[dict[str, str]]:
    return [{"name": go_string(n)} for n in names or []]


def _yaml_text(value: Any) -> str:
    return yaml.safe_dump(value, sort_keys=True, default_flow_style=False).rstrip("\n")


def _stringify_values(mapping: Any) -> dict[str, str]:
    return {str(k): go_string(v) for k, v in (mapping or {}).items()}


def _component_spec(spec: dict[str, Any], key: str) -> dict[str, Any]:
    value = (spec.get("components") or {}).get(key) or {}
    if not isinstance(value, dict):
        raise InvalidInputError(f"spec.components.{key} must be a map", "fix the -f file or --set flags")
    return value


def _image_for(spec: dict[str, Any], component: dict[str, Any], values_key: str | None = None) -> tuple[str, str, str]:
    """(hub, tag, variant) of one component, most specific first, as istioctl resolves them:
    components.<c>.hub, values.<c>.hub, values.global.hub, spec.hub (same for tag; variant
    from values.<c>.variant or values.global.variant, e.g. `distroless` in the ambient profile)."""
    values = spec.get("values") or {}
    own = (values.get(values_key) or {}) if values_key else {}
    own = own if isinstance(own, dict) else {}
    glob = values.get("global") or {}
    hub = go_string(component.get("hub") or own.get("hub") or glob.get("hub") or spec.get("hub")).rstrip("/")
    tag = go_string(component.get("tag") or own.get("tag") or glob.get("tag") or spec.get("tag"))
    variant = go_string(own.get("variant") or glob.get("variant") or "")
    return hub, tag, variant


def mesh_config(spec: dict[str, Any], namespace: str, rev_suffix: str) -> dict[str, Any]:
    """The mesh config istiod reads: Istio's computed defaults under the user's spec.meshConfig."""
    glob = spec["values"].get("global") or {}
    defaults: dict[str, Any] = {
        "rootNamespace": namespace,
        "defaultConfig": {"discoveryAddress": f"istiod{rev_suffix}.{namespace}.svc:15012"},
    }
    if glob.get("meshID"):
        defaults["defaultConfig"]["meshId"] = glob["meshID"]
    # Proxies istiod injects or deploys later (waypoints, gateways) use the install's image variant.
    variant = ((glob.get("proxy") or {}).get("variant")) or glob.get("variant")
    if variant:
        defaults["defaultConfig"]["image"] = {"imageType": go_string(variant)}
    return deep_merge(defaults, spec.get("meshConfig") or {})


# Keys of values.global that the injection templates read (istioctl writes the same set into the
# injector's `values`); anything else in values.global is for the install only.
INJECTOR_GLOBAL_KEYS = (
    "caAddress", "caName", "certSigners", "configCluster", "configValidation", "defaultPodDisruptionBudget",
    "defaultResources", "externalIstiod", "hub", "imagePullPolicy", "imagePullSecrets", "istioNamespace", "istiod",
    "logAsJson", "logging", "meshID", "meshNetworks", "mountMtlsCerts", "multiCluster", "nativeNftables", "network",
    "networkPolicy", "omitSidecarInjectorConfigMap", "operatorManageWebhooks", "pilotCertProvider",
    "priorityClassName", "proxy", "proxy_init", "remotePilotAddress", "resourceScope", "sds", "sts", "tag",
    "trustBundleName", "trustDomain", "variant", "waypoint",
)


def effective_global(spec: dict[str, Any]) -> dict[str, Any]:
    """values.global with hub and tag resolved (values.global.* wins over spec.hub/spec.tag, as in istioctl)."""
    glob = dict(spec["values"].get("global") or {})
    glob["hub"] = go_string(glob.get("hub") or spec.get("hub")).rstrip("/")
    glob["tag"] = glob.get("tag") or spec.get("tag")
    glob["variant"] = go_string(glob.get("variant") or "")
    return glob


def injector_values(spec: dict[str, Any], glob: dict[str, Any], revision: str | None) -> dict[str, Any]:
    """The `values` istiod hands to its injection and gateway templates as `.Values`."""
    values = spec["values"]
    cni = values.get("cni") or {}
    pilot = values.get("pilot") or {}
    cni_enabled = _component_spec(spec, "cni").get("enabled") is True
    gateways = values.get("gateways") or {}
    injected_global = {key: glob[key] for key in INJECTOR_GLOBAL_KEYS if key in glob}
    if glob.get("platform"):
        injected_global["platform"] = glob["platform"]
    return {
        "gateways": {key: gateways.get(key) or {} for key in ("seccompProfile", "securityContext")},
        "global": injected_global,
        "pilot": {
            "cni": {
                "enabled": cni_enabled,
                "provider": cni.get("provider", "default"),
                "ambient": {"enabled": bool((cni.get("ambient") or {}).get("enabled"))},
            },
            "env": pilot.get("env") or {},
            **({"crlConfigMapName": pilot["crlConfigMapName"]} if pilot.get("crlConfigMapName") else {}),
        },
        "revision": revision or "",
        "sidecarInjectorWebhook": values.get("sidecarInjectorWebhook") or {},
    }


# Istio's built-in injection templates that ambientctl ships (manifests/pilot/injection/).
INJECTION_TEMPLATES = ("sidecar", "gateway", "waypoint", "kube-gateway")
# istiod 1.0-era releases read a single `template`; this value makes such an istiod fail loudly.
LEGACY_TEMPLATE_GUARD = "{{ Template_Version_And_Istio_Version_Mismatched_Check_Installation }}"


def injector_config(spec: dict[str, Any], templates: dict[str, str]) -> str:
    """The injector ConfigMap's `config`: policy, selectors and the Go templates (user templates win)."""
    from ambientctl.yamlout import dump_yaml

    glob = spec["values"].get("global") or {}
    webhook = spec["values"].get("sidecarInjectorWebhook") or {}
    all_templates = {**templates, **{str(k): go_string(v) for k, v in (webhook.get("templates") or {}).items()}}
    return dump_yaml({
        "defaultTemplates": list(webhook.get("defaultTemplates") or ["sidecar"]),
        "policy": go_string((glob.get("proxy") or {}).get("autoInject") or "enabled"),
        "alwaysInjectSelector": list(webhook.get("alwaysInjectSelector") or []),
        "neverInjectSelector": list(webhook.get("neverInjectSelector") or []),
        "injectedAnnotations": dict(webhook.get("injectedAnnotations") or {}) or None,
        "template": LEGACY_TEMPLATE_GUARD,
        "templates": all_templates,
    })


def _ip_family(value: Any) -> str:
    """`IPv4` or `IPv6` for an IP address, empty for anything else (a host name)."""
    import ipaddress

    try:
        return f"IPv{ipaddress.ip_address(go_string(value)).version}"
    except ValueError:
        return ""


def _pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def _remote_control_plane(spec: dict[str, Any]) -> bool:
    """values.istiodRemote.enabled: istiod runs in another cluster (the remote profile).

    Istio's charts can also run a local injector or make the remote a config cluster; ambientctl
    renders neither, and says so instead of rendering something else.
    """
    remote = spec["values"].get("istiodRemote") or {}
    if not isinstance(remote, dict) or remote.get("enabled") is not True:
        return False
    glob = spec["values"].get("global") or {}
    for flag, value in (("values.istiodRemote.enabledLocalInjectorIstiod", remote.get("enabledLocalInjectorIstiod")),
                        ("values.global.configCluster", glob.get("configCluster"))):
        if value is True:
            raise InvalidInputError(
                f"{flag}=true with a remote control plane is not supported by ambientctl",
                "install that cluster with istioctl, or drop the flag (a remote cluster's injector calls the remote istiod)",
            )
    return True


def base_context(config: dict[str, Any], revision: str | None) -> dict[str, Any]:
    spec = config["spec"]
    if not isinstance(spec.get("values"), dict):
        raise InvalidInputError("spec.values must be a map", "fix the -f file or --set flags")
    for key in ("global", "pilot", "cni", "ztunnel", "gateways", "sidecarInjectorWebhook"):
        if spec["values"].get(key) is not None and not isinstance(spec["values"][key], dict):
            raise InvalidInputError(
                f"cannot render: values.{key} must be a map, not {go_string(spec['values'][key])!r}",
                f"set fields below it instead, e.g. --set values.{key}.<field>=...; see `ambientctl profile dump`",
            )
    namespace = istio_namespace_of(config)
    rev_suffix = f"-{revision}" if revision else ""
    remote = _remote_control_plane(spec)
    mesh = mesh_config(spec, namespace, rev_suffix)
    ztunnel = _component_spec(spec, "ztunnel")
    glob = effective_global(spec)
    return {
        "spec": spec,
        "values": spec["values"],
        "global_hub": glob["hub"],
        "global_tag": go_string(glob["tag"]),
        "global_variant": glob["variant"],
        "injector_values": injector_values(spec, glob, revision),
        "merged_values": {
            **spec["values"], "global": glob, "revision": revision or "", "meshConfig": spec.get("meshConfig") or {},
        },
        "injector_config": lambda templates: injector_config(spec, templates),
        "ztunnel_namespace": go_string(ztunnel.get("namespace") or namespace),
        "mesh": mesh,
        "mesh_yaml": yaml.safe_dump(mesh, sort_keys=True, default_flow_style=False).rstrip("\n"),
        "revision": revision or "",
        "rev_suffix": rev_suffix,
        "rev_label": revision or "default",
        "istio_namespace": namespace,
        "istio_version": ISTIO_VERSION,
        "profile": spec.get("profile", ""),
        "remote": remote,
    }


# ------------------------------------------------------------------------------------------ components


def render_components(config: dict[str, Any], revision: str | None) -> list[Any]:
    """Every enabled component, in COMPONENT_ORDER."""
    ctx = base_context(config, revision)
    spec = config["spec"]
    out: list[Component] = []
    for name in COMPONENT_ORDER:
        if name in GATEWAY_KEYS:
            objects, namespace = _render_gateways(name, spec, ctx)
            if not objects:
                continue
        else:
            settings = _component_spec(spec, SPEC_KEYS[name])
            if settings.get("enabled") is not True:
                continue
            namespace = go_string(settings.get("namespace") or ctx["istio_namespace"])
            hub, tag, variant = _image_for(spec, settings, VALUES_KEYS.get(name))
            context = {
                **ctx,
                "namespace": namespace,
                "hub": hub,
                "tag": tag,
                "component": name,
                "image": _image_function(hub, tag, variant),
            }
            objects = []
            if name == "Base":
                from ambientctl.render.crds import istio_crds

                objects.extend(istio_crds())
            for template in templates_in(FOLDERS[name]):
                objects.extend(render_template(template, context))
            _apply_k8s_settings(name, objects, settings.get("k8s") or {})
        labels = owner_labels(name, revision or "default")
        shared_labels = owner_labels(name)
        default_tag, variant = ctx["global_tag"], ctx["global_variant"]
        for obj in objects:
            meta = obj.setdefault("metadata", {})
            common = _common_labels(_object_tag(obj, default_tag, variant))
            own = shared_labels if is_shared_object(name, obj) else labels
            meta["labels"] = {**(meta.get("labels") or {}), **common, **own}
            template = (obj.get("spec") or {}).get("template")
            if obj.get("kind") in ("Deployment", "DaemonSet") and isinstance(template, dict):
                template_meta = template.setdefault("metadata", {})  # the charts label the pods too
                template_meta["labels"] = {**(template_meta.get("labels") or {}), **common}
        # A JSON round trip gives every object its own plain tree (no sub-objects shared with the
        # config or each other, which YAML would print as &anchors).
        objects = json.loads(json.dumps(objects))
        out.append(Component(name=name, namespace=namespace, objects=sort_for_apply(objects)))
    return out


def _render_gateways(name: str, spec: dict[str, Any], ctx: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    key = GATEWAY_KEYS[name]
    gateways = (spec.get("components") or {}).get(key) or []
    if not isinstance(gateways, list):
        raise InvalidInputError(f"spec.components.{key} must be a list", "fix the -f file or --set flags")
    ingress = name == "IngressGateways"
    default_name = "istio-ingressgateway" if ingress else "istio-egressgateway"
    all_values = ctx["values"].get("gateways") or {}
    objects: list[dict[str, Any]] = []
    seen: set[str] = set()
    namespace = ctx["istio_namespace"]
    for index, gateway in enumerate(gateways):
        if not isinstance(gateway, dict) or gateway.get("enabled") is not True:
            continue
        gw_name = go_string(gateway.get("name") or "")
        if not gw_name or not is_dns_label(gw_name):
            raise InvalidInputError(
                f"spec.components.{key}[{index}] needs a valid name (got {gw_name!r})",
                f"e.g. --set components.{key}[{index}].name={default_name}",
            )
        if gw_name in seen:
            raise InvalidInputError(f"two {key} are named {gw_name!r}", "give each gateway its own name")
        seen.add(gw_name)
        values = deep_merge(all_values.get(default_name) or {}, all_values.get(gw_name) or {})
        labels = _gateway_labels(gw_name, default_name, ingress, values, gateway.get("label") or {})
        gw_namespace = go_string(gateway.get("namespace") or ctx["istio_namespace"])
        if index == 0 or not objects:
            namespace = gw_namespace
        hub, tag, variant = _image_for(spec, gateway)
        context = {
            **ctx,
            "namespace": gw_namespace,
            "hub": hub,
            "tag": tag,
            "component": name,
            "image": _image_function(hub, tag, variant),
            "gateway": {**values, "name": gw_name, "labels": labels, "ingress": ingress},
        }
        rendered: list[dict[str, Any]] = []
        for template in templates_in("gateways"):
            rendered.extend(render_template(template, context))
        _apply_k8s_settings(name, rendered, gateway.get("k8s") or {}, workload=gw_name)
        objects.extend(rendered)
    return objects, namespace


def _gateway_labels(
    name: str, default_name: str, ingress: bool, values: dict[str, Any], label: dict[str, Any]
) -> dict[str, str]:
    if name == default_name:
        labels = {"app": name, "istio": "ingressgateway" if ingress else "egressgateway"}
    else:
        labels = {"app": name, "istio": name.removeprefix("istio-")}
    labels.update({str(k): go_string(v) for k, v in (values.get("labels") or {}).items()})
    labels.update({str(k): go_string(v) for k, v in label.items()})
    return labels


def _apply_k8s_settings(
    component: str, objects: list[dict[str, Any]], k8s: dict[str, Any], workload: str | None = None
) -> None:
    """istioctl's components.<name>.k8s: replicas, resources, env, scheduling, pod annotations."""
    if not k8s:
        return
    kind, name = MAIN_WORKLOADS.get(component, ("Deployment", workload))
    for obj in objects:
        if obj.get("kind") != kind or (name and not obj["metadata"]["name"].startswith(name)):
            continue
        pod = obj["spec"]["template"]
        container = pod["spec"]["containers"][0]
        if "replicaCount" in k8s and kind == "Deployment":
            obj["spec"]["replicas"] = k8s["replicaCount"]
        if "resources" in k8s:  # merged into the chart's requests/limits, as istioctl does
            container["resources"] = deep_merge(container.get("resources") or {}, k8s["resources"] or {})
        if "env" in k8s:
            container.setdefault("env", []).extend(k8s["env"] or [])
        if "imagePullPolicy" in k8s:
            container["imagePullPolicy"] = k8s["imagePullPolicy"]
        if "readinessProbe" in k8s:
            container["readinessProbe"] = k8s["readinessProbe"]
        for key in ("nodeSelector", "tolerations", "affinity", "priorityClassName", "securityContext"):
            if key in k8s:
                pod["spec"][key] = k8s[key]
        if "podAnnotations" in k8s:
            pod["metadata"]["annotations"] = {**(pod["metadata"].get("annotations") or {}), **k8s["podAnnotations"]}
        if "strategy" in k8s and kind == "Deployment":
            obj["spec"]["strategy"] = k8s["strategy"]
    for obj in objects:
        if obj.get("kind") == "Service" and "serviceAnnotations" in k8s:
            obj["metadata"]["annotations"] = {**(obj["metadata"].get("annotations") or {}), **k8s["serviceAnnotations"]}
        if obj.get("kind") == "HorizontalPodAutoscaler" and "hpaSpec" in k8s:
            obj["spec"].update(k8s["hpaSpec"])
        if obj.get("kind") == "PodDisruptionBudget" and "podDisruptionBudget" in k8s:
            obj["spec"].update(k8s["podDisruptionBudget"])
