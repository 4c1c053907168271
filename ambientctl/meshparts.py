"""Where the mesh's parts are, whoever installed them: ambientctl, `istioctl install` or Istio's Helm charts.

The one definition of how istiod, ztunnel and the CNI node agent are found.
Lookups go by the labels every installer gives them (the ones Istio's charts
render, which istioctl installs and ambientctl copies), never by ambientctl's
owner labels alone:

* pods: istiod `app=istiod`, ztunnel `app=ztunnel`, CNI `k8s-app=istio-cni-node`;
* workloads: the Deployment `istiod[-REV]` (`app=istiod`), the DaemonSets
  `ztunnel` and `istio-cni-node`. istioctl's ztunnel DaemonSet carries no
  `app` label (only its pods do), so workloads match by name, by
  `app.kubernetes.io/name` or by their pod template's label;
* revision: `istio.io/rev` (absent means `default`).

`installer_of` tells who installed an object by the marks each tool leaves:
ambientctl's owner label; istioctl's install-time labels
(`operator.istio.io/managed`, `operator.istio.io/version`,
`install.operator.istio.io/owning-resource-namespace`); Helm's release
annotations (`meta.helm.sh/release-name`) or `app.kubernetes.io/managed-by=Helm`.
istioctl renders through the charts too, so its objects also say Helm: its own
marks are checked first.

A rule module: imports only other rule modules. `find_installed` takes the
client as an argument (anything with `list`), so every package can share it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ambientctl.labels import GATEWAY_NAME_LABEL, REVISION_LABEL, annotations_of, labels_of, name_of, namespace_of
from ambientctl.ownership import is_owned

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient

ISTIOD = "istiod"
ZTUNNEL = "ztunnel"
CNI = "istio-cni"

ISTIOD_POD_SELECTOR = "app=istiod"
ZTUNNEL_POD_SELECTOR = "app=ztunnel"
CNI_POD_SELECTOR = "k8s-app=istio-cni-node"

AMBIENTCTL = "ambientctl"
ISTIOCTL = "istioctl"
HELM = "helm"
UNKNOWN = "unknown"

# istioctl writes these at install time (they are not in `istioctl manifest generate` nor in a Helm render).
_ISTIOCTL_MARKS = ("operator.istio.io/managed", "operator.istio.io/version",
                   "install.operator.istio.io/owning-resource-namespace")
HELM_RELEASE_ANNOTATION = "meta.helm.sh/release-name"
HELM_NAMESPACE_ANNOTATION = "meta.helm.sh/release-namespace"
_HELM_MANAGED = ("app.kubernetes.io/managed-by", "Helm")


@dataclass(frozen=True)
class Part:
    """One mesh component: its workload kind and name, and the labels its pods and workload carry."""

    component: str
    kind: str
    name: str                      # the workload's name for the default revision
    pod_label: tuple[str, str]     # on the pods, under every installer
    name_label: tuple[str, str]    # app.kubernetes.io/name on the workload (charts, istioctl, ambientctl)

    @property
    def pod_selector(self) -> str:
        return f"{self.pod_label[0]}={self.pod_label[1]}"

    def matches_workload(self, obj: dict[str, Any]) -> bool:
        """The workload is this component's: by kind and (name, chart name label, or pod template label)."""
        if obj.get("kind") not in (None, self.kind):
            return False
        name = name_of(obj)
        labels = labels_of(obj)
        template = labels_of((obj.get("spec") or {}).get("template") or {})
        key, value = self.pod_label
        return (name == self.name or name.startswith(f"{self.name}-") or labels.get(key) == value
                or labels.get(self.name_label[0]) == self.name_label[1] or template.get(key) == value)

    def matches_pod(self, pod: dict[str, Any]) -> bool:
        key, value = self.pod_label
        return labels_of(pod).get(key) == value


PARTS: tuple[Part, ...] = (
    Part(ISTIOD, "Deployment", "istiod", ("app", "istiod"), ("app.kubernetes.io/name", "istiod")),
    Part(ZTUNNEL, "DaemonSet", "ztunnel", ("app", "ztunnel"), ("app.kubernetes.io/name", "ztunnel")),
    Part(CNI, "DaemonSet", "istio-cni-node", ("k8s-app", "istio-cni-node"), ("app.kubernetes.io/name", "istio-cni")),
)
PART = {p.component: p for p in PARTS}


def part_of_workload(obj: dict[str, Any]) -> Part | None:
    """Which component a Deployment/DaemonSet is, or None (gateways, apps)."""
    template = (obj.get("spec") or {}).get("template") or {}
    if not (template.get("spec") or {}).get("containers"):
        return None
    if GATEWAY_NAME_LABEL in labels_of(template):
        return None  # a waypoint or gateway istiod deployed, whatever its name
    return next((p for p in PARTS if p.matches_workload(obj)), None)


def component_of_pod(pod: dict[str, Any], istio_namespace: str | None = None) -> str | None:
    """istiod, ztunnel or istio-cni for a pod of theirs (by label; in the Istio namespace also by container)."""
    labels = labels_of(pod)
    if labels.get("app") == "istiod" or labels.get("istio") == "pilot":
        return ISTIOD
    for part in PARTS:
        if part.matches_pod(pod):
            return part.component
    if istio_namespace and namespace_of(pod) == istio_namespace:
        # unlabelled pods of the Istio namespace, by container (ztunnel's container is named istio-proxy)
        containers = {c.get("name") for c in (pod.get("spec") or {}).get("containers") or []}
        if "install-cni" in containers:
            return CNI
        if "discovery" in containers:
            return ISTIOD
        if "ztunnel" in containers or name_of(pod).startswith(f"{ZTUNNEL}-"):
            return ZTUNNEL
    return None


def is_ztunnel_pod(pod: dict[str, Any]) -> bool:
    """istioctl's test for a ztunnel pod: the label app=ztunnel; a pod without an `app` label, by its name."""
    labels = labels_of(pod)
    if "app" in labels:
        return PART[ZTUNNEL].matches_pod(pod)
    return name_of(pod).startswith(ZTUNNEL)


def _pod_ready(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def ztunnel_pods(kube: KubeClient, namespace: str, node: str | None = None) -> list[dict[str, Any]]:
    """The ztunnel pods of a namespace (on `node` if given), ready ones first, then by name.

    By the pods' label, which every installer sets, not by a DaemonSet name or
    the DaemonSet's own labels (istioctl's carries no `app` label).
    """
    pods = [p for p in kube.list("v1", "Pod", namespace, label_selector=ZTUNNEL_POD_SELECTOR)
            if not (p.get("metadata") or {}).get("deletionTimestamp")]
    if node:
        pods = [p for p in pods if (p.get("spec") or {}).get("nodeName") == node]
    return sorted(pods, key=lambda p: (not _pod_ready(p), name_of(p)))


def istiod_pod_selector(revision: str | None = None) -> str:
    """istiod's pods, optionally of one revision (`istio.io/rev`)."""
    return ISTIOD_POD_SELECTOR + (f",{REVISION_LABEL}={revision}" if revision else "")


def revision_of(obj: dict[str, Any]) -> str:
    """The Istio revision an object belongs to (`istio.io/rev`; absent: default)."""
    return labels_of(obj).get(REVISION_LABEL) or "default"


def installer_of(obj: dict[str, Any]) -> str:
    """ambientctl, istioctl, helm or unknown (e.g. `kubectl apply` of a render), by the marks each leaves."""
    if is_owned(obj):
        return AMBIENTCTL
    labels = labels_of(obj)
    if any(mark in labels for mark in _ISTIOCTL_MARKS):
        return ISTIOCTL
    if HELM_RELEASE_ANNOTATION in annotations_of(obj) or labels.get(_HELM_MANAGED[0]) == _HELM_MANAGED[1]:
        return HELM
    return UNKNOWN


def helm_release(obj: dict[str, Any]) -> str | None:
    """The Helm release an object belongs to (its annotation, else `app.kubernetes.io/instance`)."""
    if installer_of(obj) != HELM:
        return None
    return annotations_of(obj).get(HELM_RELEASE_ANNOTATION) or labels_of(obj).get("app.kubernetes.io/instance")


def image_tag(image: str) -> str:
    """The tag of an image reference (`hub/name:tag` or `@sha256:...`)."""
    if "@" in image:
        return image.split("@", 1)[1]
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else "latest"


def version_of_tag(tag: str) -> str:
    """The Istio release of an image tag: `1.31.0-distroless` and `1.31.0-debug` are 1.31.0."""
    for variant in ("-distroless", "-debug"):
        if tag.endswith(variant):
            return tag[: -len(variant)]
    return tag


@dataclass
class Installed:
    """One component workload found in the cluster, and who installed it."""

    component: str
    kind: str
    name: str
    namespace: str
    revision: str
    installer: str
    image: str
    ready: int
    desired: int
    helm_release: str | None = None
    obj: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"

    @property
    def version(self) -> str:
        return version_of_tag(image_tag(self.image))

    @property
    def pod_selector(self) -> str:
        """The pods of this workload: its own selector (istiod's differs per revision)."""
        match = ((self.obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        return ",".join(f"{k}={v}" for k, v in sorted(match.items())) or PART[self.component].pod_selector


def installed_from(obj: dict[str, Any]) -> Installed | None:
    """The Installed entry of one Deployment/DaemonSet, or None when it is not a mesh component."""
    part = part_of_workload(obj)
    if part is None:
        return None
    containers = obj["spec"]["template"]["spec"]["containers"]
    image = next((c.get("image", "") for c in containers if c.get("name") in ("discovery", "istio-proxy", "ztunnel",
                                                                             "install-cni")), containers[0].get("image", ""))
    status = obj.get("status") or {}
    if part.kind == "DaemonSet":
        ready, desired = status.get("numberReady", 0), status.get("desiredNumberScheduled", 0)
    else:
        ready, desired = status.get("readyReplicas", 0), (obj.get("spec") or {}).get("replicas", 1)
    return Installed(part.component, part.kind, name_of(obj), namespace_of(obj), revision_of(obj),
                     installer_of(obj), image, ready, desired, helm_release(obj), obj)


def find_installed(kube: KubeClient, namespace: str) -> list[Installed]:
    """Every istiod, ztunnel and CNI workload in the Istio namespace (two LISTs), istiod first."""
    found = []
    for kind in ("Deployment", "DaemonSet"):
        for obj in kube.list("apps/v1", kind, namespace):
            obj.setdefault("kind", kind)
            entry = installed_from(obj)
            if entry is not None:
                found.append(entry)
    order = [p.component for p in PARTS]
    return sorted(found, key=lambda e: (order.index(e.component), e.revision, e.name))


def of_revision(found: list[Installed], revision: str | None) -> list[Installed]:
    """The revision's istiod and the node agents (ztunnel, CNI), which serve every revision."""
    wanted = revision or "default"
    return [e for e in found if e.component != ISTIOD or e.revision == wanted]


def installers(found: list[Installed]) -> list[str]:
    """The tools that installed what was found, ambientctl first, then as found."""
    names = dict.fromkeys(e.installer for e in found)
    return sorted(names, key=lambda n: (n != AMBIENTCTL, list(names).index(n)))


def foreign(found: list[Installed]) -> list[Installed]:
    """What ambientctl did not install (and so will not change or delete)."""
    return [e for e in found if e.installer != AMBIENTCTL]


def describe(found: list[Installed]) -> str:
    """`istioctl: Deployment istio-system/istiod, ...`, grouped by the tool that installed them."""
    groups = []
    for tool in installers(found):
        refs = [f"{e.kind} {e.namespace}/{e.name}" for e in found if e.installer == tool]
        groups.append(f"{'an unknown tool' if tool == UNKNOWN else tool}: {', '.join(refs)}")
    return "; ".join(groups)


def uninstall_hint(found: list[Installed]) -> str:
    """How to remove what another tool installed."""
    hints = []
    tools = installers(found)
    if ISTIOCTL in tools or UNKNOWN in tools:
        revisions = sorted({e.revision for e in found if e.installer in (ISTIOCTL, UNKNOWN)})
        hints.append("`istioctl uninstall --purge`" if revisions == ["default"] or len(revisions) > 1
                     else f"`istioctl uninstall --revision {revisions[0]}`")
    releases = sorted({(e.helm_release, e.namespace) for e in found if e.installer == HELM and e.helm_release})
    if releases:
        hints.append(" and ".join(f"`helm uninstall {r} -n {ns}`" for r, ns in releases)
                     + " (then the base chart's release, which holds the CRDs)")
    return " or ".join(hints) or "`istioctl uninstall --purge`"
