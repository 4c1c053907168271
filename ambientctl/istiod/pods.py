"""Which istiod pods a command acts on: `app=istiod` (or `-l`) in the Istio namespace, running, by name."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ambientctl.errors import NotFoundError
from ambientctl.labels import REVISION_LABEL, labels_of
from ambientctl.meshparts import ISTIOD_POD_SELECTOR

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient

ISTIOD_SELECTOR = ISTIOD_POD_SELECTOR  # every installer's istiod pods carry it (meshparts: the one lookup)
DEFAULT_REVISION = "default"


def selector_for(selector: str, revision: str | None) -> str:
    """The label selector with `istio.io/rev=REVISION` added when a revision is named."""
    return f"{selector},{REVISION_LABEL}={revision}" if revision else selector


def running_istiods(kube: KubeClient, namespace: str, selector: str = ISTIOD_SELECTOR,
                    revision: str | None = None) -> list[dict[str, Any]]:
    """Every running pod the selector matches, by name; NotFoundError naming the selector when there is none."""
    full = selector_for(selector, revision)
    pods = [p for p in kube.list("v1", "Pod", namespace, label_selector=full)
            if (p.get("status") or {}).get("phase") == "Running"]
    if not pods:
        raise NotFoundError(f"no running istiod pod ({full}) in namespace {namespace}",
                            "check the Istio namespace (-i), --revision and --selector")
    return sorted(pods, key=lambda p: p["metadata"]["name"])


def one_revision(pods: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    """Without --revision, the pods of one revision: `default` (or unlabelled) if present, else the only one.

    Returns the pods and a note for stderr when other revisions were left out ("" otherwise).
    """
    revisions = sorted({labels_of(p).get(REVISION_LABEL, DEFAULT_REVISION) for p in pods})
    if len(revisions) < 2:
        return pods, ""
    chosen = DEFAULT_REVISION if DEFAULT_REVISION in revisions else revisions[0]
    kept = [p for p in pods if labels_of(p).get(REVISION_LABEL, DEFAULT_REVISION) == chosen]
    others = ", ".join(r for r in revisions if r != chosen)
    return kept, f"istiod revision {chosen} (also running: {others}; pick one with --revision)"


def revision_of(pod: dict[str, Any]) -> str:
    """The pod's `istio.io/rev` label ("" when it has none), as istioctl's REVISION column."""
    return labels_of(pod).get(REVISION_LABEL, "")
