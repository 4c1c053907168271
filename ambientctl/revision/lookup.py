"""Which revisions are installed, and what a name (a revision or a tag) points at.

A revision is installed when its istiod Deployment exists in the Istio
namespace (`app=istiod`, `istio.io/rev=REV`): that is the control plane. A
sidecar-injector webhook or a Service alone (istioctl's test) is what an
uninstall or a failed install can leave behind, and a tag pointed at it
would fail every injection; so ambientctl asks for the Deployment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ambientctl.errors import NotFoundError
from ambientctl.labels import DEFAULT_REVISION, REVISION_LABEL, TAG_LABEL, labels_of, name_of
from ambientctl.names import is_dns_label

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient

ISTIOD_APP = "istiod"


class RevisionNotFoundError(NotFoundError):
    """A revision (or tag) names no installed control plane: exit 8 (NOT_FOUND)."""


@dataclass(frozen=True)
class ControlPlane:
    """One revision's istiod Deployment, as installed."""

    revision: str
    name: str
    namespace: str
    image: str
    ready: int
    replicas: int


def revision_of(obj: dict[str, Any]) -> str:
    """`istio.io/rev` of an object, `default` when absent or empty."""
    return labels_of(obj).get(REVISION_LABEL) or DEFAULT_REVISION


def control_planes(kube: KubeClient, istio_namespace: str) -> list[ControlPlane]:
    """Every istiod Deployment in the Istio namespace, one per revision, sorted by revision."""
    found = []
    for dep in kube.list("apps/v1", "Deployment", istio_namespace, label_selector=f"app={ISTIOD_APP}"):
        containers = (((dep.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
        status = dep.get("status") or {}
        found.append(ControlPlane(
            revision=revision_of(dep), name=name_of(dep), namespace=istio_namespace,
            image=(containers[0].get("image") or "") if containers else "",
            ready=int(status.get("readyReplicas") or 0),
            replicas=int((dep.get("spec") or {}).get("replicas", 1) or 0),
        ))
    return sorted(found, key=lambda cp: (cp.revision, cp.name))


def require_control_plane(kube: KubeClient, istio_namespace: str, revision: str, what: str) -> ControlPlane:
    """The revision's control plane, or a RevisionNotFoundError naming the revisions that are installed."""
    planes = control_planes(kube, istio_namespace)
    for plane in planes:
        if plane.revision == revision:
            return plane
    installed = sorted({p.revision for p in planes})
    there = f"installed revisions: {', '.join(installed)}" if installed else "no control plane is installed"
    raise RevisionNotFoundError(
        f"{what}: revision {revision!r} has no control plane (no istiod Deployment with "
        f"{REVISION_LABEL}={revision} in namespace {istio_namespace}; {there})",
        f"install it first (ambientctl install --revision {revision}) or pick an installed revision",
    )


def tag_targets(kube: KubeClient) -> dict[str, str]:
    """tag -> revision, from the tag webhooks (`istio.io/tag` and `istio.io/rev` labels)."""
    targets: dict[str, str] = {}
    for hook in kube.list("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", label_selector=TAG_LABEL):
        targets[labels_of(hook)[TAG_LABEL]] = revision_of(hook)
    return targets


def resolve(kube: KubeClient, istio_namespace: str, name: str, what: str) -> tuple[str, ControlPlane]:
    """A revision or a tag → (the revision it means, its control plane); refused when nothing serves it.

    Used before labelling a namespace `istio.io/rev=NAME`: a name that no
    control plane answers to would leave its pods unserved.
    """
    if not is_dns_label(name):
        from ambientctl.errors import InvalidInputError

        raise InvalidInputError(f"invalid revision {name[:80]!r} ({what})",
                                "a revision or tag name is lowercase letters, digits and '-', like canary or 1-31-0")
    planes = {p.revision: p for p in control_planes(kube, istio_namespace)}
    if name in planes:
        return name, planes[name]
    target = tag_targets(kube).get(name)
    if target is not None:
        if target in planes:
            return target, planes[target]
        raise RevisionNotFoundError(
            f"{what}: tag {name!r} points at revision {target!r}, which has no control plane in {istio_namespace}",
            f"point the tag at an installed revision (ambientctl tag set {name} -r REV --overwrite)")
    require_control_plane(kube, istio_namespace, name, what)
    raise AssertionError("unreachable")  # pragma: no cover
