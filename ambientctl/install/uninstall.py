"""`ambientctl uninstall`: remove exactly what ambientctl installed, and refuse to strand the mesh.

Objects are found by our owner label (never by name), deleted with uid
preconditions in reverse apply order, and waited for. Unlike istioctl
(istio#47334, #54777) we refuse while namespaces are still enrolled in
ambient or waypoints exist, because removing ztunnel and istiod under them
breaks their traffic; `--force` overrides.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from ambientctl.errors import ConflictError, CRDMissingError, KubeTimeoutError
from ambientctl.gateways import GATEWAY_API_VERSION, is_waypoint
from ambientctl.install.kinds import MANAGED_KINDS, install_selector, is_installed
from ambientctl.kube.resources import object_ref, sort_for_delete
from ambientctl.labels import AMBIENT_MODE, DATAPLANE_MODE_LABEL, REVISION_LABEL, TAG_LABEL, labels_of
from ambientctl.ownership import COMPONENT_LABEL, OWNER_REVISION_LABEL, is_shared_object

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient

DELETE_WAIT_TIMEOUT = 120.0
# Kinds looked at before deleting a namespace we created: if it holds objects
# of these kinds that we did not create, the namespace stays.
_CONTENT_KINDS = (("v1", "ConfigMap"), ("v1", "Secret"), ("v1", "Service"), ("apps/v1", "Deployment"),
                  ("apps/v1", "DaemonSet"), ("apps/v1", "StatefulSet"))
# Objects Kubernetes and istiod create by themselves in the Istio namespace.
_AUTOMATIC_NAMES = frozenset({"kube-root-ca.crt", "istio-ca-root-cert", "istio-ca-secret"})
# Field managers of the mesh's own processes: what only they wrote is theirs, not the user's.
_MESH_MANAGERS = frozenset({"pilot-discovery", "istiod", "ztunnel", "install-cni", "istio-cni"})


def object_revision(obj: dict[str, Any]) -> str:
    """The ambientctl revision an object of ours belongs to."""
    return labels_of(obj).get(OWNER_REVISION_LABEL, "default")


def istio_revision(obj: dict[str, Any]) -> str:
    """The Istio revision a namespace or waypoint uses (`istio.io/rev`, else default)."""
    return labels_of(obj).get(REVISION_LABEL, "default")


def is_shared(obj: dict[str, Any]) -> bool:
    """Shared by every revision (ownership.is_shared_object), by the component label it carries."""
    component = labels_of(obj).get(COMPONENT_LABEL)
    return is_shared_object(component, obj)


def select_for_uninstall(owned: list[dict[str, Any]], revision: str, purge: bool) -> list[dict[str, Any]]:
    """Which of our objects go: everything on --purge, else the revision's objects but not shared ones.

    CRDs stay without --purge: deleting them deletes every Istio resource in
    the cluster, which removing one revision must not do; so do Istio core's
    other cluster-scoped objects (the default validating webhook).
    """
    chosen = []
    for obj in owned:
        if not is_installed(obj) or obj.get("kind") == "Namespace":
            continue
        if purge:
            chosen.append(obj)
        elif object_revision(obj) == revision and not is_shared(obj):
            chosen.append(obj)
    return sort_for_delete(chosen)


def removable_namespaces(
    namespaces: list[dict[str, Any]], owned: list[dict[str, Any]], chosen: list[dict[str, Any]], purge: bool
) -> list[dict[str, Any]]:
    """Namespaces we created, once nothing of ours (another revision) stays in them."""
    chosen_uids = {(o.get("metadata") or {}).get("uid") for o in chosen}
    staying = {(o.get("metadata") or {}).get("namespace") for o in owned
               if (o.get("metadata") or {}).get("uid") not in chosen_uids and o.get("kind") != "Namespace"}
    return [ns for ns in namespaces if is_installed(ns) and (purge or ns["metadata"]["name"] not in staying)]


def blockers(
    ambient_namespaces: list[dict[str, Any]],
    ambient_pods: list[dict[str, Any]],
    waypoints: list[dict[str, Any]],
    revision: str,
    purge: bool,
    revision_of: Callable[[dict[str, Any]], str] = istio_revision,
) -> list[str]:
    """What still depends on the mesh being removed: one line each (`revision_of` says which revision serves
    an object: its label by default; `find_blockers` also follows the namespace's label and tags)."""
    def affected(obj: dict[str, Any]) -> bool:
        if (obj.get("metadata") or {}).get("deletionTimestamp"):
            return False  # already going away: it no longer needs the mesh
        return purge or revision_of(obj) == revision

    lines = [f"namespace {ns['metadata']['name']} is enrolled in ambient ({DATAPLANE_MODE_LABEL}={AMBIENT_MODE})"
             for ns in ambient_namespaces if affected(ns)]
    lines += [f"pod {p['metadata'].get('namespace')}/{p['metadata']['name']} is enrolled in ambient"
              for p in ambient_pods if affected(p)]
    lines += [f"waypoint {g['metadata'].get('namespace')}/{g['metadata']['name']} "
              f"(class {g.get('spec', {}).get('gatewayClassName')}) exists"
              for g in waypoints if affected(g)]
    return lines


def foreign_content(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Objects in a namespace that neither we nor a controller nor Kubernetes created."""
    from ambientctl.install.lock import LOCK_NAME
    from ambientctl.install.record import is_record

    foreign = []
    for obj in objects:
        meta = obj.get("metadata") or {}
        name = meta.get("name", "")
        if (is_installed(obj) or is_record(obj) or meta.get("ownerReferences") or name in _AUTOMATIC_NAMES
                or name == LOCK_NAME):
            continue
        managers = {m.get("manager") for m in meta.get("managedFields") or []}
        if managers and managers <= _MESH_MANAGERS:
            continue  # written only by istiod, ztunnel or the CNI agent: leader election, CA, CRL
        foreign.append(obj)
    return foreign


@dataclass
class UninstallPlan:
    """What uninstall will delete, and what stands in its way."""

    revision: str
    purge: bool
    objects: list[dict[str, Any]] = field(default_factory=list)
    namespaces: list[dict[str, Any]] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)
    kept_namespaces: dict[str, list[str]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.objects and not self.namespaces

    def refs(self) -> list[str]:
        return [object_ref(o) for o in self.objects] + [f"Namespace/{n['metadata']['name']}" for n in self.namespaces]


def list_owned(kube: KubeClient) -> list[dict[str, Any]]:
    """Every object install created (our owner label and an install component), across the kinds it renders.

    Samples, waypoints and policies carry the same managed-by label with other
    components; uninstall leaves them to their own commands.
    """
    found: list[dict[str, Any]] = []
    for kind in MANAGED_KINDS:
        try:
            found += kube.list(kind.api_version, kind.kind, all_namespaces=True, label_selector=install_selector())
        except CRDMissingError:
            continue
    return [o for o in found if is_installed(o)]


def find_blockers(kube: KubeClient, revision: str, purge: bool) -> list[str]:
    ambient = f"{DATAPLANE_MODE_LABEL}={AMBIENT_MODE}"
    namespaces = kube.list("v1", "Namespace", label_selector=ambient)
    pods = kube.list("v1", "Pod", all_namespaces=True, label_selector=ambient)
    try:
        gateways = kube.list(GATEWAY_API_VERSION, "Gateway", all_namespaces=True)
    except CRDMissingError:
        gateways = []
    waypoints = [g for g in gateways if is_waypoint(g)]
    if purge:
        return blockers(namespaces, pods, waypoints, revision, purge)
    tags = {labels_of(h)[TAG_LABEL]: labels_of(h).get(REVISION_LABEL, "default") for h in kube.list(
        "admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", label_selector=TAG_LABEL)}
    labelled = {ns["metadata"]["name"]: labels_of(ns).get(REVISION_LABEL)
                for ns in kube.list("v1", "Namespace", label_selector=REVISION_LABEL)}

    def serving(obj: dict[str, Any]) -> str:
        """istiod's rule: the object's istio.io/rev, else its namespace's; a tag means the revision it points at."""
        own = labels_of(obj).get(REVISION_LABEL)
        if not own and obj.get("kind") != "Namespace":
            own = labelled.get((obj.get("metadata") or {}).get("namespace") or "")
        own = own or "default"
        return tags.get(own, own)

    return blockers(namespaces, pods, waypoints, revision, purge, serving)


def plan_uninstall(kube: KubeClient, revision: str, purge: bool) -> UninstallPlan:
    """The revision's objects (everything on --purge), its install record, and the namespaces that empties."""
    from ambientctl.install.record import RECORD_SELECTOR

    owned = list_owned(kube)
    chosen = select_for_uninstall(owned, revision, purge)
    if chosen:  # the record goes with the install it describes
        records = kube.list("v1", "ConfigMap", all_namespaces=True, label_selector=RECORD_SELECTOR)
        chosen = sort_for_delete(chosen + [r for r in records if purge or object_revision(r) == revision])
    candidate_names = {(o.get("metadata") or {}).get("namespace") for o in chosen} - {None, ""}
    owned_namespaces = [ns for ns in kube.list("v1", "Namespace", label_selector=install_selector())
                        if purge or ns["metadata"]["name"] in candidate_names]
    namespaces, kept = [], {}
    for ns in removable_namespaces(owned_namespaces, owned, chosen, purge):
        others = namespace_foreign_content(kube, ns["metadata"]["name"])
        if others:
            kept[ns["metadata"]["name"]] = others
        else:
            namespaces.append(ns)
    return UninstallPlan(
        revision=revision,
        purge=purge,
        objects=chosen,
        namespaces=namespaces,
        blockers=(find_blockers(kube, revision, purge) + node_component_blockers(owned, chosen, revision, purge)
                  + tag_blockers(kube, revision, purge)),
        kept_namespaces=kept,
    )


def tag_blockers(kube: KubeClient, revision: str, purge: bool) -> list[str]:
    """Revision tags (istioctl's `tag set`) pointing at the revision: after it goes, their webhooks name
    an istiod that is gone, and every pod created in a namespace using the tag is refused."""
    selector = TAG_LABEL if purge else f"{TAG_LABEL},{REVISION_LABEL}={revision}"
    hooks = kube.list("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", label_selector=selector)
    return [f"revision tag {labels_of(h)[TAG_LABEL]} points at revision {labels_of(h).get(REVISION_LABEL)} "
            f"(move it with `ambientctl tag set {labels_of(h)[TAG_LABEL]} -r REV --overwrite` or remove it)"
            for h in hooks]


def node_component_blockers(owned: list[dict[str, Any]], chosen: list[dict[str, Any]], revision: str,
                            purge: bool) -> list[str]:
    """A revision's DaemonSets (ztunnel, istio-cni) carry every revision's ambient traffic: removing them
    while another revision's istiod stays breaks that revision's pods."""
    if purge:
        return []
    others = sorted({object_revision(o) for o in owned if o.get("kind") == "Deployment"
                     and labels_of(o).get("app") == "istiod"} - {revision})
    if not others:
        return []
    return [f"DaemonSet {(d.get('metadata') or {}).get('namespace')}/{(d.get('metadata') or {}).get('name')} of "
            f"revision {revision} also carries revision {', '.join(others)}'s ambient traffic"
            for d in chosen if d.get("kind") == "DaemonSet"]


def namespace_foreign_content(kube: KubeClient, namespace: str) -> list[str]:
    """Refs of objects in `namespace` that we did not create (deleting the namespace would delete them)."""
    found: list[dict[str, Any]] = []
    for api_version, kind in _CONTENT_KINDS:
        found += kube.list(api_version, kind, namespace)
    return [object_ref(o) for o in foreign_content(found)]


def refuse_if_blocked(plan: UninstallPlan, force: bool) -> None:
    if plan.blockers and not force:
        shown = "; ".join(plan.blockers[:5])
        more = f"; and {len(plan.blockers) - 5} more" if len(plan.blockers) > 5 else ""
        raise ConflictError(
            f"refusing to uninstall while the mesh is in use: {shown}{more}",
            "unenroll namespaces (ambientctl dataplane unenroll NS), delete waypoints, then retry; "
            "or pass --force to remove it anyway (their traffic breaks)",
        )


def execute(
    kube: KubeClient,
    plan: UninstallPlan,
    *,
    dry_run: bool = False,
    timeout: float = DELETE_WAIT_TIMEOUT,
    on_progress: Callable[[str], None] | None = None,
) -> list[str]:
    """Delete the plan's objects (uid preconditions), wait until gone, then our namespaces; returns refs deleted.

    A dry run sends no DELETE at all: the API server reads DeleteOptions from
    the body when there is one, so a `?dryRun=All` next to a precondition body
    would really delete.
    """
    if dry_run:
        return plan.refs()
    deleted: list[str] = []
    for obj in plan.objects:
        meta = obj["metadata"]
        if on_progress:
            on_progress(f"deleting {object_ref(obj)}")
        if kube.delete(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"), uid=meta.get("uid")):
            deleted.append(object_ref(obj))
    wait_gone(kube, plan.objects, timeout, on_progress)
    for ns in plan.namespaces:
        meta = ns["metadata"]
        if kube.delete("v1", "Namespace", meta["name"], uid=meta.get("uid")):
            deleted.append(f"Namespace/{meta['name']}")
    if plan.namespaces:
        wait_gone(kube, plan.namespaces, timeout, on_progress)
    return deleted


def wait_gone(kube: KubeClient, objects: list[dict[str, Any]], timeout: float,
              on_progress: Callable[[str], None] | None = None) -> None:
    """Poll until no object with these uids exists (a new object of the same name does not count)."""
    deadline = time.monotonic() + timeout
    pending = list(objects)
    while pending:
        still = []
        for obj in pending:
            meta = obj["metadata"]
            try:
                live = kube.get_or_none(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
            except CRDMissingError:
                live = None  # its CRD went first: the object went with it
            if live is not None and live["metadata"].get("uid") == meta.get("uid"):
                still.append(obj)
        pending = still
        if not pending:
            return
        if on_progress:
            on_progress(f"waiting for {len(pending)} object(s) to go, e.g. {object_ref(pending[0])}")
        if time.monotonic() >= deadline:
            refs = ", ".join(object_ref(o) for o in pending[:5])
            raise KubeTimeoutError(
                f"{len(pending)} object(s) still present {timeout:g}s after deletion: {refs}",
                "check their finalizers (kubectl get -o yaml), then re-run uninstall",
            )
        time.sleep(0.5)
