"""Built-in profiles: IstioOperator YAML files shipped in the package under `profiles/`."""

from __future__ import annotations

import copy
from functools import lru_cache
from importlib.resources import files
from typing import Any

import yaml

from ambientctl.errors import InvalidInputError
from ambientctl.render.tree import deep_merge
from ambientctl.versions import ISTIO_HUB, ISTIO_VERSION

BASE_PROFILE = "default"
PROFILE_SUFFIX = ".yaml"
# values.global.platform=<name> merges profiles/platforms/<name>.yaml over the profile (below -f and
# --set), as istioctl applies its platform settings for OpenShift, GKE, k3s, ...
PLATFORMS_DIR = "platforms"


def _profiles_dir() -> Any:
    return files("ambientctl") / "profiles"


def list_profiles() -> list[str]:
    """Names of the built-in profiles, sorted."""
    return sorted(
        entry.name[: -len(PROFILE_SUFFIX)]
        for entry in _profiles_dir().iterdir()
        if entry.name.endswith(PROFILE_SUFFIX) and not entry.name.startswith(("_", "."))
    )


def list_platforms() -> list[str]:
    """Names accepted by values.global.platform (besides empty), sorted."""
    return sorted(
        entry.name[: -len(PROFILE_SUFFIX)]
        for entry in (_profiles_dir() / PLATFORMS_DIR).iterdir()
        if entry.name.endswith(PROFILE_SUFFIX) and not entry.name.startswith(("_", "."))
    )


@lru_cache(maxsize=None)
def read_platform(name: str) -> dict[str, Any]:
    """One platform's settings (an IstioOperator overlay); an unknown name is refused, as istioctl does."""
    if name not in list_platforms():
        raise InvalidInputError(
            f"unknown platform {name!r} (values.global.platform)",
            f"choose one of: {', '.join(list_platforms())}, or leave it empty",
        )
    text = (_profiles_dir() / PLATFORMS_DIR / f"{name}{PROFILE_SUFFIX}").read_text(encoding="utf-8")
    doc = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    return {"spec": doc.get("spec") or {}}


@lru_cache(maxsize=None)
def read_profile(name: str) -> dict[str, Any]:
    """One profile file as written (not merged over the default profile); cached."""
    if name not in list_profiles():
        raise InvalidInputError(
            f"unknown profile {name!r}",
            f"choose one of: {', '.join(list_profiles())}",
        )
    text = (_profiles_dir() / f"{name}{PROFILE_SUFFIX}").read_text(encoding="utf-8")
    doc = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    doc.setdefault("spec", {})
    return doc


def load_profile(name: str) -> dict[str, Any]:
    """The profile merged over the default profile, with hub/tag filled in: what `profile dump` shows."""
    base = read_profile(BASE_PROFILE)
    merged = copy.deepcopy(base) if name == BASE_PROFILE else deep_merge(base, read_profile(name))
    spec = merged.setdefault("spec", {})
    spec.setdefault("hub", ISTIO_HUB)
    spec.setdefault("tag", ISTIO_VERSION)
    spec["profile"] = name
    # Keep the document's key order readable: apiVersion, kind, metadata, spec.
    ordered = {key: merged[key] for key in ("apiVersion", "kind", "metadata") if key in merged}
    ordered["spec"] = {"profile": spec.pop("profile"), "hub": spec.pop("hub"), "tag": spec.pop("tag"), **spec}
    return ordered
