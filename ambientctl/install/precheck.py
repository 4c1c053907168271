"""`ambientctl precheck`: can this cluster take the pinned Istio release in ambient mode?

Each check is small and independent; `PRECHECKS` is their order. Version and
permission problems are fatal (install would fail); everything else is a
warning that explains what install will meet.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ambientctl.install.checks import Check, CheckResult
from ambientctl.labels import AMBIENT_MODE, DATAPLANE_MODE_LABEL, INJECTION_LABEL, REVISION_LABEL
from ambientctl.meshparts import ISTIOD_POD_SELECTOR, UNKNOWN, installer_of
from ambientctl.ownership import OWNER_REVISION_LABEL, is_owned
from ambientctl.versions import GATEWAY_API_RELEASE, ISTIO_VERSION, MAX_KUBERNETES_MINOR, MIN_KUBERNETES_MINOR

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient

GATEWAY_CRD = "gateways.gateway.networking.k8s.io"
GATEWAY_BUNDLE_ANNOTATION = "gateway.networking.k8s.io/bundle-version"
GATEWAY_INSTALL_COMMAND = (
    "kubectl apply -f https://github.com/kubernetes-sigs/gateway-api/releases/download/"
    f"{GATEWAY_API_RELEASE}/standard-install.yaml"
)
INSTALL_VERBS = ("create", "patch", "delete")


# ------------------------------------------------------------------ pure helpers


def parse_minor(minor: str) -> int | None:
    """`"36"`, `"36+"` (managed clusters) → 36; anything else → None."""
    match = re.match(r"^(\d+)", minor or "")
    return int(match.group(1)) if match else None


def kubernetes_version_result(git_version: str, major: str, minor: str) -> CheckResult:
    """Is this API server version inside the pinned release's support window?"""
    window = f"1.{MIN_KUBERNETES_MINOR}-1.{MAX_KUBERNETES_MINOR}"
    minor_number = parse_minor(minor)
    if major != "1" or minor_number is None:
        return CheckResult.warn(
            f"cannot read the version of API server {git_version or '?'} (major {major!r}, minor {minor!r})",
            f"Istio {ISTIO_VERSION} supports Kubernetes {window}; check the version yourself",
        )
    if minor_number < MIN_KUBERNETES_MINOR:
        return CheckResult.fail(
            f"{git_version} is older than Istio {ISTIO_VERSION} supports ({window})",
            f"upgrade the cluster to Kubernetes 1.{MIN_KUBERNETES_MINOR} or newer",
        )
    if minor_number > MAX_KUBERNETES_MINOR:
        return CheckResult.fail(
            f"{git_version} is newer than Istio {ISTIO_VERSION} supports ({window})",
            f"use a cluster running Kubernetes {window}, or an ambientctl release built for a newer Istio",
        )
    return CheckResult.ok(f"{git_version} is supported by Istio {ISTIO_VERSION} ({window})")


def permissions_result(missing: list[tuple[str, str]]) -> CheckResult:
    """Summarise the (verb, resource) pairs the user may not use, grouped by resource."""
    if not missing:
        return CheckResult.ok("can create, patch and delete every kind install applies")
    by_resource: dict[str, list[str]] = {}
    for verb, resource in missing:
        by_resource.setdefault(resource, []).append(verb)
    details = [f"{', '.join(verbs)} {resource}" for resource, verbs in by_resource.items()]
    return CheckResult.fail(
        f"missing {len(missing)} permission(s) on {len(by_resource)} resource(s) (cluster-wide)",
        "ask a cluster admin for these permissions (cluster-admin is what istioctl install needs too)",
        details,
    )


def gateway_api_result(crd: dict[str, Any] | None) -> CheckResult:
    """Gateway API CRDs: waypoints and Gateway-API ingress need them."""
    if crd is None:
        return CheckResult.warn(
            "Gateway API CRDs are not installed; waypoints need them",
            f"install them: {GATEWAY_INSTALL_COMMAND}",
        )
    bundle = (crd.get("metadata", {}).get("annotations") or {}).get(GATEWAY_BUNDLE_ANNOTATION, "")
    if bundle and _version_tuple(bundle) < _version_tuple(GATEWAY_API_RELEASE):
        return CheckResult.warn(
            f"Gateway API {bundle} is older than {GATEWAY_API_RELEASE}, the version Istio {ISTIO_VERSION} is tested with",
            f"upgrade them: {GATEWAY_INSTALL_COMMAND}",
        )
    return CheckResult.ok(f"Gateway API CRDs installed ({bundle or 'version unknown'})")


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", text)[:3])


def existing_install_result(istiods: list[dict[str, Any]], crds: list[dict[str, Any]]) -> CheckResult:
    """Istio control planes and CRDs already present, and whether they are ours."""
    foreign = [d for d in istiods if not is_owned(d)]
    foreign_crds = [c for c in crds if not is_owned(c)]
    ours = sorted({(d["metadata"].get("labels") or {}).get(OWNER_REVISION_LABEL, "default") for d in istiods if is_owned(d)})
    details = [
        f"Deployment {d['metadata'].get('namespace')}/{d['metadata']['name']} "
        f"(revision {(d['metadata'].get('labels') or {}).get(REVISION_LABEL, 'default')}, "
        f"{'not installed by ambientctl' if installer_of(d) == UNKNOWN else 'installed by ' + installer_of(d)})"
        for d in foreign
    ]
    if foreign_crds:
        details.append(f"{len(foreign_crds)} Istio CRD(s) not installed by ambientctl, "
                       f"e.g. {foreign_crds[0]['metadata']['name']}")
    if foreign or foreign_crds:
        return CheckResult.warn(
            "an Istio installation not made by ambientctl exists",
            "uninstall it first (istioctl uninstall --purge or helm uninstall), or install over it with "
            "--force-conflicts to take over its fields; ambientctl will never delete what it did not create",
            details,
        )
    if ours:
        return CheckResult.ok(f"ambientctl-installed revision(s) found: {', '.join(ours)}; install upgrades in place")
    if crds:
        return CheckResult.ok(f"{len(crds)} Istio CRD(s) installed by ambientctl, no control plane")
    return CheckResult.ok("no existing Istio installation")


def sidecar_namespaces_result(namespaces: list[dict[str, Any]]) -> CheckResult:
    """Namespaces set up for sidecar injection: ambient leaves pods with sidecars alone."""
    sidecar = []
    for ns in namespaces:
        labels = ns.get("metadata", {}).get("labels") or {}
        if labels.get(DATAPLANE_MODE_LABEL) == AMBIENT_MODE:
            continue  # istio.io/rev on an ambient namespace picks the ambient revision
        if labels.get(INJECTION_LABEL) == "enabled" or REVISION_LABEL in labels:
            how = f"{INJECTION_LABEL}=enabled" if labels.get(INJECTION_LABEL) == "enabled" else \
                f"{REVISION_LABEL}={labels[REVISION_LABEL]}"
            sidecar.append(f"{ns['metadata']['name']} ({how})")
    if not sidecar:
        return CheckResult.ok("no namespace uses sidecar injection")
    return CheckResult.warn(
        f"{len(sidecar)} namespace(s) use sidecar injection; ztunnel skips pods that have a sidecar",
        "to move them to ambient: remove the injection label, add istio.io/dataplane-mode=ambient "
        "(ambientctl dataplane enroll NS), then restart their pods",
        sorted(sidecar),
    )


# ------------------------------------------------------------------ the checks


def check_kubernetes_version(kube: KubeClient) -> CheckResult:
    info = kube.server_version()
    return kubernetes_version_result(info.get("gitVersion", ""), str(info.get("major", "")), str(info.get("minor", "")))


def check_permissions(kube: KubeClient) -> CheckResult:
    """One access review for a cluster admin; else one per (verb, resource), to name each missing one."""
    from ambientctl.install.kinds import MANAGED_KINDS
    from ambientctl.kube.permissions import may_do_anything

    missing: list[tuple[str, str]] = []
    if may_do_anything(kube):
        return permissions_result(missing)
    resources = [("", "namespaces")] + [(kind.group, kind.plural) for kind in MANAGED_KINDS]
    for group, plural in resources:
        resource = f"{plural}.{group}" if group else plural
        for verb in INSTALL_VERBS:
            if not kube.can_i(verb, plural, group):
                missing.append((verb, resource))
    return permissions_result(missing)


def check_gateway_api(kube: KubeClient) -> CheckResult:
    crd = kube.get_or_none("apiextensions.k8s.io/v1", "CustomResourceDefinition", GATEWAY_CRD)
    return gateway_api_result(crd)


def check_existing_install(kube: KubeClient) -> CheckResult:
    istiods = kube.list("apps/v1", "Deployment", all_namespaces=True, label_selector=ISTIOD_POD_SELECTOR)
    crds = [c for c in kube.list("apiextensions.k8s.io/v1", "CustomResourceDefinition")
            if str(c.get("spec", {}).get("group", "")).endswith("istio.io")]
    return existing_install_result(istiods, crds)


def check_sidecar_namespaces(kube: KubeClient) -> CheckResult:
    injected = kube.list("v1", "Namespace", label_selector=f"{INJECTION_LABEL}=enabled")
    revisioned = kube.list("v1", "Namespace", label_selector=REVISION_LABEL)
    unique = {ns["metadata"]["name"]: ns for ns in injected + revisioned}
    return sidecar_namespaces_result(list(unique.values()))


PRECHECKS: tuple[Check, ...] = (
    Check("kubernetes-version", "Kubernetes version", check_kubernetes_version),
    Check("install-permissions", "Install permissions", check_permissions),
    Check("gateway-api", "Gateway API", check_gateway_api),
    Check("existing-install", "Existing Istio", check_existing_install),
    Check("sidecar-namespaces", "Sidecar namespaces", check_sidecar_namespaces),
)
