"""Two revisions side by side: an install of one revision never takes over another's objects.

Istio's ambient profile renders per-node components (ztunnel, istio-cni) and
gateways under the same names for every revision. Installing a canary with
istioctl relabels and reconfigures them for the canary, so removing the
canary later removes the data plane the default revision still uses. Here,
a rendered object that already exists as another installed revision's
(ambientctl's revision owner label, and that revision's istiod still there)
is left to that revision: it is dropped from this render, so it is neither
applied, nor pruned, nor checked by verify-install, nor removed by
`uninstall -r` of this revision. Node components move with an in-place
`upgrade` of the revision that owns them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ambientctl.errors import CRDMissingError
from ambientctl.install.kinds import MANAGED_KINDS, install_selector, object_key
from ambientctl.kube.resources import object_ref
from ambientctl.labels import labels_of
from ambientctl.ownership import OWNER_REVISION_LABEL
from ambientctl.render.components import COMPONENT_TITLES, Component, Rendered
from ambientctl.revision.lookup import control_planes

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient


@dataclass
class Coexistence:
    """The render without other revisions' objects, and what was left to whom."""

    rendered: Rendered
    left: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # owner revision -> component -> refs

    def describe(self) -> str:
        """`Ztunnel, CNI (18 objects) stay with revision default`."""
        parts = []
        for owner, components in sorted(self.left.items()):
            count = sum(len(refs) for refs in components.values())
            titles = ", ".join(COMPONENT_TITLES.get(name, name) for name in components)
            parts.append(f"{titles} ({count} objects) stay with revision {owner}")
        return "; ".join(parts)


def without_other_revisions(kube: KubeClient, rendered: Rendered, istio_namespace: str) -> Coexistence:
    """Drop rendered objects that exist as another installed revision's; one list per kind, only if one exists."""
    own = rendered.revision or "default"
    others = {p.revision for p in control_planes(kube, istio_namespace)} - {own}
    if not others:
        return Coexistence(rendered)
    owners: dict[tuple[str, str, str, str], str] = {}
    wanted = {object_key(o) for o in rendered.all_objects()}
    kinds = {(o.get("apiVersion", ""), o.get("kind", "")) for o in rendered.all_objects()}
    for kind in MANAGED_KINDS:
        if (kind.api_version, kind.kind) not in kinds:
            continue
        try:
            live = kube.list(kind.api_version, kind.kind, all_namespaces=True, label_selector=install_selector())
        except CRDMissingError:
            continue
        for obj in live:
            owner = labels_of(obj).get(OWNER_REVISION_LABEL)
            if owner in others and object_key(obj) in wanted:
                owners[object_key(obj)] = owner
    if not owners:
        return Coexistence(rendered)
    result = Coexistence(Rendered(rendered.profile, rendered.revision, rendered.config, []))
    for component in rendered.components:
        kept = []
        for obj in component.objects:
            owner = owners.get(object_key(obj))
            if owner is None:
                kept.append(obj)
            else:
                result.left.setdefault(owner, {}).setdefault(component.name, []).append(object_ref(obj))
        if kept:
            result.rendered.components.append(Component(component.name, component.namespace, kept))
    return result
