"""`manifest translate`: the merged install configuration as Helm values, one release per component.

Pure, like the rest of render/: (profile, -f files, --set) in, text out. The
values hold what the configuration changes from the default profile (which
mirrors the charts' defaults) plus the keys that identify the install (hub,
tag, namespace, profile), so a values file stays short enough to review.
Gateways have no chart of their own here (Istio's gateway chart takes a
different values layout), so they are reported as not translated.
"""

from __future__ import annotations

import copy
import re
import shlex
from dataclasses import dataclass, field
from typing import Any, Sequence

from ambientctl.ownership import COMPONENT_LABEL, MANAGED_BY_LABEL, OWNER_REVISION_LABEL
from ambientctl.render.components import COMPONENT_ORDER, Rendered, istio_namespace_of

CHART_REPOSITORY = "oci://ghcr.io/istio/release/charts"
# IstioOperator component -> (Helm release name as istioctl names it, chart name).
RELEASES: dict[str, tuple[str, str]] = {
    "Base": ("base", "base"),
    "Pilot": ("pilot", "istiod"),
    "Cni": ("cni", "cni"),
    "Ztunnel": ("ztunnel", "ztunnel"),
}
# components.<name>.k8s settings that have a same-named value in the component's chart.
K8S_VALUES = ("replicaCount", "resources", "nodeSelector", "tolerations", "affinity", "podAnnotations")
K8S_SECTIONS = {"Pilot": "pilot", "Cni": "cni", "Ztunnel": "ztunnel"}
# Keys every values file carries even when they equal the default: they identify the install.
IDENTITY = (("global", "hub"), ("global", "tag"), ("global", "istioNamespace"), ("global", "configValidation"),
            ("defaultRevision",), ("profile",))
# Top-level values the ztunnel chart reads besides its own (which come from values.ztunnel, flattened).
ZTUNNEL_SHARED = ("defaultRevision", "global", "profile", "revision")
HELM_RELEASE_NAME = "meta.helm.sh/release-name"
HELM_RELEASE_NAMESPACE = "meta.helm.sh/release-namespace"
HELM_MANAGED_BY = "app.kubernetes.io/managed-by=Helm"
SEMVER = re.compile(r"\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?")


@dataclass
class Release:
    """One Helm release: its values and the objects Helm must adopt (kind.group, namespace, name)."""

    component: str
    name: str
    chart: str
    namespace: str
    values: dict[str, Any]
    objects: list[tuple[str, str, str]] = field(default_factory=list)
    chart_version: str | None = None

    @property
    def values_file(self) -> str:
        return f"{self.name}-values.yaml"

    @property
    def script_file(self) -> str:
        return f"install-{self.name}.sh"


@dataclass
class Translation:
    """Every release in install order, the components left out, and settings no value carries."""

    releases: list[Release]
    untranslated_components: list[str]
    untranslated_settings: list[str]


def translate(rendered: Rendered, default_config: dict[str, Any]) -> Translation:
    """Helm releases for the rendered components; `default_config` is the default profile (load_profile)."""
    config = rendered.config
    spec = config["spec"]
    namespace = istio_namespace_of(config)
    shared = _shared_values(spec, default_config["spec"], namespace)
    tag = str(spec["tag"])
    untranslated = _untranslated_k8s(spec)
    releases = []
    for component in rendered.components:
        if component.name not in RELEASES:
            continue
        name, chart = RELEASES[component.name]
        values = _component_values(component.name, shared, spec, default_config["spec"])
        objects = [_object_ref(obj) for obj in component.objects]
        releases.append(Release(component.name, name, f"{CHART_REPOSITORY}/{chart}", namespace, values, objects,
                                tag if SEMVER.fullmatch(tag) else None))
    releases.sort(key=lambda r: COMPONENT_ORDER.index(r.component))
    return Translation(releases, _gateway_names(rendered), untranslated)


def _shared_values(spec: dict[str, Any], default_spec: dict[str, Any], namespace: str) -> dict[str, Any]:
    """spec.values minus the defaults, plus identity keys, meshConfig and revision (the istiod chart's layout)."""
    values = changed(spec.get("values") or {}, default_spec.get("values") or {})
    merged = spec.get("values") or {}
    for path in IDENTITY:
        if _lookup(merged, path) is not None:
            _put(values, path, copy.deepcopy(_lookup(merged, path)))
    glob = values.setdefault("global", {})
    glob["hub"], glob["tag"], glob["istioNamespace"] = str(spec["hub"]), str(spec["tag"]), namespace
    mesh = changed(spec.get("meshConfig") or {}, default_spec.get("meshConfig") or {})
    if mesh:
        values["meshConfig"] = mesh
    if _enabled(spec, "cni"):
        # istioctl's rule: istiod's chart learns from this value that pods need no init container.
        _put(values, ("pilot", "cni", "enabled"), True)
    if spec.get("revision") not in (None, "", "default"):
        values["revision"] = str(spec["revision"])
    return _sorted(values)


def _component_values(component: str, shared: dict[str, Any], spec: dict[str, Any],
                      default_spec: dict[str, Any]) -> dict[str, Any]:
    values = copy.deepcopy(shared)
    section = K8S_SECTIONS.get(component)
    if section:
        k8s = _k8s_of(spec, section)
        default_k8s = _k8s_of(default_spec, section)
        for key in K8S_VALUES:
            if key in k8s and k8s[key] != default_k8s.get(key):
                values.setdefault(section, {})[key] = copy.deepcopy(k8s[key])
    if component == "Ztunnel":
        own = values.pop("ztunnel", {}) or {}
        values = {key: values[key] for key in ZTUNNEL_SHARED if key in values}
        values.update(own)
    return _sorted(values)


def _enabled(spec: dict[str, Any], section: str) -> bool:
    return bool(((spec.get("components") or {}).get(section) or {}).get("enabled"))


def _k8s_of(spec: dict[str, Any], section: str) -> dict[str, Any]:
    return (((spec.get("components") or {}).get(section) or {}).get("k8s") or {})


def _untranslated_k8s(spec: dict[str, Any]) -> list[str]:
    """components.X.k8s settings with no chart value in K8S_VALUES: the user must carry them over by hand."""
    found = []
    for section in ("base", *K8S_SECTIONS.values()):
        for key in sorted(_k8s_of(spec, section)):
            if section == "base" or key not in K8S_VALUES:
                found.append(f"components.{section}.k8s.{key}")
    return found


def _gateway_names(rendered: Rendered) -> list[str]:
    components = rendered.config["spec"].get("components") or {}
    names = []
    for kind in ("ingressGateways", "egressGateways"):
        for gateway in components.get(kind) or []:
            if gateway.get("enabled"):
                names.append(str(gateway.get("name") or kind))
    return names


def changed(value: dict[str, Any], default: dict[str, Any]) -> dict[str, Any]:
    """The part of `value` that differs from `default` (maps compared key by key, lists whole)."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        base = default.get(key) if isinstance(default, dict) else None
        if isinstance(item, dict) and isinstance(base, dict):
            sub = changed(item, base)
            if sub:
                out[key] = sub
        elif key not in (default or {}) or item != base:
            out[key] = copy.deepcopy(item)
    return out


def _lookup(tree: dict[str, Any], path: Sequence[str]) -> Any:
    for key in path:
        if not isinstance(tree, dict) or key not in tree:
            return None
        tree = tree[key]
    return tree


def _put(tree: dict[str, Any], path: Sequence[str], value: Any) -> None:
    for key in path[:-1]:
        tree = tree.setdefault(key, {})
    tree[path[-1]] = value


def _sorted(tree: Any) -> Any:
    """Keys sorted at every level: files that diff cleanly between runs and against istioctl's."""
    if isinstance(tree, dict):
        return {key: _sorted(tree[key]) for key in sorted(tree)}
    return tree


def _object_ref(obj: dict[str, Any]) -> tuple[str, str, str]:
    api_version = str(obj.get("apiVersion", "v1"))
    kind = str(obj["kind"])
    kind_group = f"{kind}.{api_version.split('/')[0]}" if "/" in api_version else kind
    meta = obj.get("metadata") or {}
    return kind_group, str(meta.get("namespace") or ""), str(meta["name"])


def values_yaml(release: Release) -> str:
    from ambientctl.output import format_yaml

    return format_yaml(release.values)


def install_script(release: Release) -> str:
    """A shell script that hands the objects to Helm (labels, annotations) and then installs the release."""
    q = shlex.quote
    lines = ["#!/usr/bin/env bash",
             f"# Moves ambientctl's {release.component} component to the Helm release {release.name!r}.",
             "# Generated by `ambientctl manifest translate`; review before running. Changes the cluster.",
             "set -euo pipefail", "",
             "# 1. Mark the existing objects as part of the release, so Helm adopts them instead of refusing."]
    for ref in release.objects:
        target = _kubectl_target(*ref)
        lines.append(f"kubectl annotate --overwrite {target} {HELM_RELEASE_NAME}={q(release.name)} "
                     f"{HELM_RELEASE_NAMESPACE}={q(release.namespace)}")
        lines.append(f"kubectl label --overwrite {target} {HELM_MANAGED_BY}")
    version = f" --version {q(release.chart_version)}" if release.chart_version else ""
    lines += ["", "# 2. Install the release over them, with the translated values.",
              f"helm upgrade --install {q(release.name)} {q(release.chart)}{version} "
              f"--namespace {q(release.namespace)} -f {q(release.values_file)}", "",
              "# 3. Hand the objects over: without ambientctl's owner labels, its install/uninstall leave them alone."]
    owner = " ".join(f"{label}-" for label in (MANAGED_BY_LABEL, COMPONENT_LABEL, OWNER_REVISION_LABEL))
    lines += [f"kubectl label {_kubectl_target(*ref)} {owner}" for ref in release.objects]
    lines.append("")
    return "\n".join(lines)


def _kubectl_target(kind: str, namespace: str, name: str) -> str:
    where = f"--namespace={shlex.quote(namespace)} " if namespace else ""
    return f"{shlex.quote(kind)} {where}{shlex.quote(name)}"


def readme(translation: Translation, record: str) -> str:
    """What the directory holds, in install order, and what was left out; `record`: the install record's name."""
    first = translation.releases[0] if translation.releases else None
    namespace = first.namespace if first else "istio-system"
    lines = ["# From ambientctl to Helm", "",
             "Written by `ambientctl manifest translate`, which only writes these files: the cluster is unchanged.",
             "Run the scripts in this order, from this directory (each adopts its component's objects into a",
             "Helm release, then runs `helm upgrade --install`):", ""]
    if not translation.releases:
        lines.append("Nothing to install: the configuration enables none of base, pilot, cni or ztunnel.")
    for number, release in enumerate(translation.releases, 1):
        lines.append(f"{number}. `{release.script_file}`: release `{release.name}` "
                     f"(chart {release.chart}), values in `{release.values_file}`.")
    if translation.untranslated_components:
        lines += ["", "Not translated (no chart with this values layout): "
                  + ", ".join(f"`{name}`" for name in translation.untranslated_components)
                  + ". Install these gateways with Istio's gateway chart or the Gateway API."]
    if translation.untranslated_settings:
        lines += ["", "Settings with no Helm value here; carry them over by hand: "
                  + ", ".join(f"`{key}`" for key in translation.untranslated_settings) + "."]
    lines += ["", "Each script's last step removes ambientctl's owner labels, so `ambientctl install` and",
              "`uninstall` no longer touch these objects: manage them with Helm from then on. Then delete",
              f"ambientctl's install record: `kubectl -n {namespace} delete configmap {record}`.", ""]
    return "\n".join(lines)


def output_files(translation: Translation, record: str) -> list[tuple[str, str, bool]]:
    """(file name, text, executable) for every file `-o DIR` writes."""
    files: list[tuple[str, str, bool]] = [("README.md", readme(translation, record), False)]
    for release in translation.releases:
        files.append((release.values_file, values_yaml(release), False))
        files.append((release.script_file, install_script(release), True))
    return files
