"""Names shell completion offers from the cluster: namespaces, pod references, Services, waypoints, revisions.

Each function takes a connected `KubeClient` and returns sorted candidate words
(the shell filters them by what was typed). They make one or two list calls and
decide nothing else; `cli/completion.py` connects, bounds the time and turns
any failure into "no candidates". May import the rule modules and `kube/`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ambientctl.gateways import is_waypoint
from ambientctl.kube.pods import POD_REF_KINDS
from ambientctl.labels import REVISION_LABEL, labels_of
from ambientctl.meshparts import ISTIOD_POD_SELECTOR
from ambientctl.names import is_dns_label

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient

# istioctl's revision tags are MutatingWebhookConfigurations with this label.
TAG_LABEL = "istio.io/tag"


def _names(objects: list[dict]) -> list[str]:
    return sorted({obj["metadata"]["name"] for obj in objects})


def namespaces(kube: KubeClient) -> list[str]:
    """Every namespace's name."""
    return _names(kube.list("v1", "Namespace"))


def pod_refs(kube: KubeClient, namespace: str, incomplete: str) -> list[str]:
    """Pod references in `namespace`: `KIND/NAME` once a kind and `/` are typed (pod/, ds/, deploy/,
    sts/ and their long forms), else pod names, as kubectl and istioctl complete them."""
    if not is_dns_label(namespace):
        return []  # a half-typed -n: nothing to ask the cluster about
    kind, slash, _ = incomplete.partition("/")
    if slash:
        api = POD_REF_KINDS.get(kind.lower())
        if api is None:
            return []
        return [f"{kind}/{name}" for name in _names(kube.list(*api, namespace))]
    return _names(kube.list("v1", "Pod", namespace))


def services(kube: KubeClient, namespace: str) -> list[str]:
    """The Services of `namespace`."""
    if not is_dns_label(namespace):
        return []
    return _names(kube.list("v1", "Service", namespace))


def waypoints(kube: KubeClient, namespace: str) -> list[str]:
    """The waypoints (Gateways of a waypoint class, or made by `waypoint apply`) of `namespace`."""
    if not is_dns_label(namespace):
        return []
    return _names([g for g in kube.list("gateway.networking.k8s.io/v1", "Gateway", namespace) if is_waypoint(g)])


def revisions(kube: KubeClient) -> list[str]:
    """Control-plane revisions: the `istio.io/rev` of every istiod Deployment, and every revision tag."""
    found = {labels_of(d).get(REVISION_LABEL) or "default"
             for d in kube.list("apps/v1", "Deployment", all_namespaces=True, label_selector=ISTIOD_POD_SELECTOR)}
    found |= {labels_of(w)[TAG_LABEL] for w in kube.list(
        "admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", label_selector=TAG_LABEL)}
    return sorted(found)
