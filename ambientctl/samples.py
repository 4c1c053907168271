"""The sample applications of the guide (steps 4 to 11), shipped with ambientctl.

Samples live in the top-level `samples/` directory (packaged as
`ambientctl/samples`), listed in `samples/index.yaml`. Each is a small Jinja
template rendered for one namespace, so its policies name the right
principals. Applied objects carry our owner labels plus `SAMPLE_LABEL`, so
`delete` removes exactly one sample's objects and nothing the user made.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any, Callable, Iterable

import yaml

from ambientctl.errors import CRDMissingError, InvalidInputError, NotFoundError
from ambientctl.kube.resources import object_ref, sort_for_apply, sort_for_delete
from ambientctl.ownership import COMPONENT_LABEL, is_owned, owned_selector, owner_labels

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient

COMPONENT = "samples"
SAMPLE_LABEL = "ambientctl.dev/sample"


@dataclass(frozen=True)
class Sample:
    """One entry of samples/index.yaml."""

    name: str
    file: str
    step: int
    description: str


def _root() -> Any:
    return resources.files("ambientctl").joinpath("samples")


def catalogue() -> list[Sample]:
    """Every sample, in the guide's order."""
    index = yaml.safe_load(_root().joinpath("index.yaml").read_text(encoding="utf-8"))
    return [Sample(e["name"], e["file"], int(e["step"]), e["description"]) for e in index["samples"]]


def find(names: Iterable[str]) -> list[Sample]:
    """The samples named, in the order given; an unknown name is an error listing the known ones."""
    known = {s.name: s for s in catalogue()}
    chosen = []
    for name in names:
        if name not in known:
            raise InvalidInputError(
                f"unknown sample {name!r}", f"choose from: {', '.join(known)} (ambientctl samples list)"
            )
        if known[name] not in chosen:
            chosen.append(known[name])
    return chosen


def render(sample: Sample, namespace: str, istio_namespace: str = "istio-system") -> list[dict[str, Any]]:
    """The sample's objects for one namespace, labelled as ours and as this sample's."""
    import jinja2

    env = jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    text = _root().joinpath(sample.file).read_text(encoding="utf-8")
    rendered = env.from_string(text).render(namespace=namespace, istio_namespace=istio_namespace)
    objects = []
    for doc in yaml.safe_load_all(rendered):
        if not doc:
            continue
        labels = doc.setdefault("metadata", {}).setdefault("labels", {})
        labels.update(owner_labels())
        labels[COMPONENT_LABEL] = COMPONENT
        labels[SAMPLE_LABEL] = sample.name
        objects.append(doc)
    return objects


def render_many(samples: Iterable[Sample], namespace: str, istio_namespace: str) -> list[dict[str, Any]]:
    """All objects of several samples, in apply order."""
    objects: list[dict[str, Any]] = []
    for sample in samples:
        objects.extend(render(sample, namespace, istio_namespace))
    return sort_for_apply(objects)


def apply(kube: KubeClient, objects: list[dict[str, Any]], *, dry_run: bool = False,
          on_applied: Callable[[str], None] | None = None) -> list[str]:
    """Server-side apply each object; returns their references, in order.

    An object of the same name that is not ours is never taken over, and a
    missing permission is named: both are errors before anything changes.
    """
    from ambientctl.kube import permissions

    needed = permissions.for_objects(kube, objects, ("get", "create", "patch"))
    permissions.require(kube, needed, "samples apply")
    for obj in objects:
        meta = obj["metadata"]
        live = kube.get_or_none(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
        if live is not None and not is_owned(live):
            raise InvalidInputError(
                f"{object_ref(obj)} already exists and was not created by ambientctl",
                "delete it or apply the sample to another namespace (-n)",
            )
    applied = []
    for obj in objects:
        kube.apply(obj, dry_run=dry_run)
        applied.append(object_ref(obj))
        if on_applied:
            on_applied(object_ref(obj))
    return applied


def delete(kube: KubeClient, samples: Iterable[Sample], namespace: str, *, dry_run: bool = False,
           istio_namespace: str = "istio-system") -> list[str]:
    """Delete the objects of these samples that carry our labels; returns what was deleted.

    The kinds to look at come from the rendered sample; the objects to delete
    come from the cluster, selected by our owner and sample labels, so renamed
    or edited objects are still found and foreign ones never are.
    """
    deleted = []
    for sample in samples:
        kinds = {(o["apiVersion"], o["kind"]) for o in render(sample, namespace, istio_namespace)}
        selector = f"{owned_selector(COMPONENT)},{SAMPLE_LABEL}={sample.name}"
        found: list[dict[str, Any]] = []
        for api_version, kind in sorted(kinds):
            try:
                found.extend(kube.list(api_version, kind, namespace, label_selector=selector))
            except (CRDMissingError, NotFoundError):
                continue  # the kind is not served, so none of its objects can exist
        for obj in sort_for_delete(found):
            if not is_owned(obj):
                continue
            meta = obj["metadata"]
            if kube.delete(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"),
                           uid=meta.get("uid"), dry_run=dry_run):
                deleted.append(object_ref(obj))
    return deleted
