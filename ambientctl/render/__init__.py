"""Render Istio's components from a profile, `-f` overlays and `--set` flags, as istioctl does.

Pure and deterministic: no cluster and no `kubernetes` import, so `manifest
generate` stays fast and `install` can render first and apply afterwards.
The merged IstioOperator is: default profile < chosen profile < -f files (in
order) < -i namespace < --set flags (in order) < `revision` argument.
May import the rule modules and `kube.resources` (the kind table), never
the client, `install/` or `cli/`.
"""

from __future__ import annotations

from typing import Any, Sequence

from ambientctl.errors import InvalidInputError
from ambientctl.names import is_dns_label
from ambientctl.render.components import (
    COMPONENT_ORDER,
    COMPONENT_TITLES,
    Component,
    Rendered,
    istio_namespace_of,
)
from ambientctl.render.profiles import BASE_PROFILE, list_platforms, list_profiles, load_profile, read_platform

__all__ = [
    "COMPONENT_ORDER",
    "COMPONENT_TITLES",
    "Component",
    "Rendered",
    "render",
    "build_config",
    "istio_namespace_of",
    "list_platforms",
    "list_profiles",
    "load_profile",
]

def render(
    profile: str | None = None,
    files: Sequence[str] = (),
    set_values: Sequence[str] = (),
    revision: str | None = None,
    istio_namespace: str | None = None,
    overlays: Sequence[dict[str, Any]] = (),
) -> Rendered:
    """Merge the configuration (see build_config) and render every enabled component.

    Raises InvalidInputError for any bad profile, file, --set flag or resulting value.
    """
    import gc

    config, name, rev = build_config(profile, files, set_values, revision, istio_namespace, overlays)
    from ambientctl.render.engine import render_components

    # Compiling templates allocates many short-lived objects and no garbage cycles worth
    # collecting; pausing the cyclic GC makes rendering noticeably faster.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        components = render_components(config, rev)
    finally:
        if was_enabled:
            gc.enable()
    return Rendered(profile=name, revision=rev, config=config, components=components)


def build_config(
    profile: str | None = None,
    files: Sequence[str] = (),
    set_values: Sequence[str] = (),
    revision: str | None = None,
    istio_namespace: str | None = None,
    overlays: Sequence[dict[str, Any]] = (),
) -> tuple[dict[str, Any], str, str | None]:
    """The merged IstioOperator, the profile name and the revision (None for the default).

    `profile` is used unless a `--set profile=` or a file's `spec.profile` names
    one (the last `--set` wins, then the last file). `istio_namespace` (the -i
    flag) sets values.global.istioNamespace. `overlays` are `-f` files already
    read (an install record's), merged after `files`.
    """
    import copy

    from ambientctl.render.overlay import load_overlay
    from ambientctl.render.setflags import apply_sets, parse_set
    from ambientctl.render.tree import Key, deep_merge

    overlays = [load_overlay(path) for path in files] + copy.deepcopy(list(overlays))
    flags = [parse_set(text) for text in set_values]
    name = _choose_profile(profile, overlays, flags)

    def merged(platform: dict[str, Any] | None) -> dict[str, Any]:
        config = load_profile(name)
        if platform:
            config = deep_merge(config, platform)
        for overlay in overlays:
            config = deep_merge(config, overlay)
        if istio_namespace:
            config["spec"].setdefault("values", {}).setdefault("global", {})["istioNamespace"] = istio_namespace
        apply_sets(config, [f for f in flags if f.path != [Key("profile")]])
        return config

    config = merged(None)
    # The platform may come from the profile, a file or --set; its settings sit below all of them.
    platform = _platform_of(config)
    if platform:
        config = merged(read_platform(platform))
    config["spec"]["profile"] = name
    if revision is not None:
        config["spec"]["revision"] = revision
    rev = _check_config(config)
    return config, name, rev


def _platform_of(config: dict[str, Any]) -> str:
    values = config.get("spec", {}).get("values")
    glob = values.get("global") if isinstance(values, dict) else None
    platform = glob.get("platform") if isinstance(glob, dict) else None
    return "" if platform in (None, "") else str(platform)


def _choose_profile(profile: str | None, overlays: list[dict[str, Any]], flags: list[Any]) -> str:
    from ambientctl.render.tree import Key

    from_set = [f.value for f in flags if f.path == [Key("profile")]]
    from_files = [o["spec"]["profile"] for o in overlays if o.get("spec", {}).get("profile")]
    chosen = from_set[-1] if from_set else profile or (from_files[-1] if from_files else BASE_PROFILE)
    chosen = str(chosen)
    if chosen not in list_profiles():
        raise InvalidInputError(f"unknown profile {chosen!r}", f"choose one of: {', '.join(list_profiles())}")
    return chosen


def _check_config(config: dict[str, Any]) -> str | None:
    """Validate the merged values that name things; return the revision (None for the default)."""
    spec = config["spec"]
    revision = spec.get("revision")
    revision = None if revision in (None, "", "default") else str(revision)
    if revision is not None and not is_dns_label(revision):
        raise InvalidInputError(
            f"invalid revision {revision!r}",
            "use lower-case letters, digits and '-' (at most 63), e.g. canary or 1-31-0",
        )
    namespace = istio_namespace_of(config)
    if not is_dns_label(namespace):
        raise InvalidInputError(f"invalid Istio namespace {namespace!r}", "use a valid namespace name, e.g. istio-system")
    for key in ("hub", "tag"):
        value = spec.get(key)
        if not isinstance(value, (str, int, float)) or isinstance(value, bool) or not str(value).strip():
            raise InvalidInputError(f"invalid {key} {value!r}", f"set a non-empty {key}, e.g. --set {key}=...")
    return revision
