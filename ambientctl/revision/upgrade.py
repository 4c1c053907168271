"""`upgrade` and `precheck --from-version/-r`: an in-place upgrade of one revision to ambientctl's pinned release.

An upgrade is the revision's last install again (its install record: profile,
`--set`, `-f` contents) with every version pin taken out, so the render uses
the pinned release (`versions.ISTIO_VERSION`). Istio supports an in-place
upgrade across one minor version and a canary (a second revision) across two;
those limits are the version-step check that precheck and upgrade share.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

from ambientctl.errors import InvalidInputError
from ambientctl.install.checks import Check, CheckResult
from ambientctl.revision.lookup import ControlPlane, control_planes
from ambientctl.revision.remote import version_of_image
from ambientctl.versions import ISTIO_VERSION

if TYPE_CHECKING:
    from ambientctl.install.record import InstallRecord
    from ambientctl.kube.client import KubeClient

_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+].*)?$")
# Where a version pin lives in an IstioOperator spec (--set paths and -f overlays).
_COMPONENT_KEYS = ("base", "pilot", "cni", "ztunnel", "ingressGateways", "egressGateways", "global")


def parse_version(text: str, what: str = "--from-version") -> tuple[int, int, int]:
    """`1.30.2`, `v1.30`, `1.30.2-distroless` → (1, 30, 2); anything else is refused (exit 11)."""
    match = _VERSION.match((text or "").strip())
    if not match:
        raise InvalidInputError(f"invalid {what} {text[:40]!r}: not an Istio version",
                                "give MAJOR.MINOR[.PATCH], e.g. 1.30.2")
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


def version_step(from_version: str, to_version: str = ISTIO_VERSION, *, in_place: bool) -> CheckResult:
    """Whether Istio supports going from one release to the other (in place: one minor; canary: two)."""
    old, new = parse_version(from_version), parse_version(to_version, "target version")
    if old == new:
        return CheckResult.ok(f"{from_version} is already the target release {to_version}")
    if old > new:
        return CheckResult.fail(f"{from_version} is newer than {to_version}: a downgrade is not an upgrade",
                                "use the ambientctl release that installed it, or install a revision of the "
                                "older release next to it (canary) and move namespaces")
    if old[0] != new[0]:
        return CheckResult.fail(f"major version change {from_version} → {to_version} is not supported")
    step = new[1] - old[1]
    if step == 0:
        return CheckResult.ok(f"patch upgrade {from_version} → {to_version}")
    if step == 1:
        return CheckResult.ok(f"one minor version {from_version} → {to_version}: in-place and canary upgrades "
                              "are supported")
    canary = "ambientctl install --revision " + to_version.replace(".", "-")
    if step == 2:
        if in_place:
            return CheckResult.fail(f"two minor versions {from_version} → {to_version}: Istio supports this as a "
                                    "canary upgrade only", f"install the new release next to it ({canary}), move "
                                    "namespaces (ambientctl dataplane enroll NS -r REV), then uninstall the old one")
        return CheckResult.warn(f"two minor versions {from_version} → {to_version}: supported as a canary "
                                "upgrade only, not in place", f"{canary}, then move namespaces")
    return CheckResult.fail(f"{step} minor versions {from_version} → {to_version}: more than Istio supports",
                            "upgrade through the releases in between")


def revision_versions(plane: ControlPlane, kube: KubeClient) -> list[str]:
    """The versions a revision's istiod runs (its pods' images; the Deployment's when no pod runs)."""
    from ambientctl.labels import REVISION_LABEL

    pods = kube.list("v1", "Pod", plane.namespace, label_selector=f"app=istiod,{REVISION_LABEL}={plane.revision}")
    versions = set()
    for pod in pods:
        for container in (pod.get("spec") or {}).get("containers") or []:
            if container.get("name") == "discovery":
                versions.add(version_of_image(container.get("image") or ""))
    return sorted(versions) or [version_of_image(plane.image)]


def _find_plane(kube: KubeClient, istio_namespace: str, revision: str) -> ControlPlane | None:
    return next((p for p in control_planes(kube, istio_namespace) if p.revision == revision), None)


def upgrade_checks(istio_namespace: str, revision: str | None, from_version: str | None,
                   in_place: bool) -> list[Check]:
    """precheck's extra checks: the revision's control plane, and the version step from what it runs."""
    if from_version is not None:
        parse_version(from_version)  # a bad value is refused before any request

    def check(kube: KubeClient) -> CheckResult:
        source = from_version
        if revision is not None:
            plane = _find_plane(kube, istio_namespace, revision)
            if plane is None:
                installed = ", ".join(sorted({p.revision for p in control_planes(kube, istio_namespace)})) or "none"
                return CheckResult.fail(f"revision {revision} has no control plane in {istio_namespace} "
                                        f"(installed: {installed})", "pick an installed revision (-r)")
            running = revision_versions(plane, kube)
            if source is None:
                if len(running) > 1:
                    return CheckResult.warn(f"revision {revision} runs several versions ({', '.join(running)}): "
                                            "a rollout is in progress", "wait for it, then re-run")
                source = running[0]
        if source is None:
            return CheckResult.ok("no --from-version or -r given: no upgrade step to check")
        result = version_step(source, in_place=in_place)
        where = f"revision {revision}: " if revision else ""
        result.message = where + result.message
        return result

    label = f"Upgrade to {ISTIO_VERSION}"
    return [Check("upgrade-version", label, check)]


# ------------------------------------------------------------------ the render of an upgrade


def _is_pin(path: str) -> bool:
    """`tag`, `spec.tag`, `values.global.tag`, `values.pilot.tag`, `components.ztunnel.tag`."""
    parts = path.strip().removeprefix("spec.").split(".")
    if parts == ["tag"]:
        return True
    return (len(parts) == 3 and parts[-1] == "tag" and parts[0] in ("values", "components")
            and parts[1] in _COMPONENT_KEYS)


def strip_version_pins(set_values: Sequence[str]) -> tuple[list[str], list[str]]:
    """(kept, dropped): the --set flags without the ones that pin an image tag."""
    kept, dropped = [], []
    for text in set_values:
        (dropped if "=" in text and _is_pin(text.split("=", 1)[0]) else kept).append(text)
    return kept, dropped


def strip_overlay_pins(overlay: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """An -f overlay without its image tags; returns the dotted paths it removed."""
    cleaned = copy.deepcopy(overlay)
    spec = cleaned.get("spec") if isinstance(cleaned.get("spec"), dict) else None
    if spec is None:
        return cleaned, []
    removed = []
    if "tag" in spec:
        spec.pop("tag")
        removed.append("spec.tag")
    for section in ("values", "components"):
        block = spec.get(section)
        if not isinstance(block, dict):
            continue
        for key in _COMPONENT_KEYS:
            entry = block.get(key)
            if isinstance(entry, dict) and "tag" in entry:
                entry.pop("tag")
                removed.append(f"spec.{section}.{key}.tag")
    return cleaned, removed


@dataclass
class UpgradeInputs:
    """What the upgrade renders from, and what it took out."""

    render_arguments: dict[str, Any]
    dropped: list[str] = field(default_factory=list)


def upgrade_inputs(record: InstallRecord | None, revision: str | None, extra_sets: Sequence[str],
                   overlays: Sequence[dict[str, Any]], istio_namespace: str | None) -> UpgradeInputs:
    """The last install's inputs without version pins, plus the user's extra --set/-f (which win)."""
    if record is not None:
        args = record.render_arguments()
        sets, dropped = strip_version_pins(args["set_values"])
        cleaned = []
        for overlay in args["overlays"]:
            stripped, removed = strip_overlay_pins(overlay)
            cleaned.append(stripped)
            dropped += removed
        args.update(set_values=sets + list(extra_sets), overlays=cleaned + list(overlays))
        return UpgradeInputs(args, dropped)
    return UpgradeInputs({"set_values": list(extra_sets), "overlays": list(overlays), "revision": revision,
                          "istio_namespace": istio_namespace})
