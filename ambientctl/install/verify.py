"""`ambientctl verify-install`: is what the render describes in the cluster, ours, unchanged and ready?

One outcome per component (every object present, carrying our labels,
matching what we would apply, workloads ready), then the shape the guide
expects: each control-plane Deployment has ready pods and each node-agent
DaemonSet (istio-cni-node, ztunnel) has a ready pod on every schedulable node.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from ambientctl.install.checks import CheckResult, Outcome, Status
from ambientctl.errors import ConflictError, CRDMissingError, ForbiddenError
from ambientctl.install.diff import normalize_for_diff
from ambientctl.kube.pods import selector_string
from ambientctl.kube.resources import object_ref
from ambientctl.kube.wait import WORKLOAD_KINDS, workload_readiness
from ambientctl.meshparts import (
    AMBIENTCTL, HELM, ISTIOCTL, ISTIOD, PARTS, Installed, find_installed, installer_of, of_revision,
)
from ambientctl.ownership import OWNED_SELECTOR, owner_labels

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient
    from ambientctl.render import Component, Rendered


# ------------------------------------------------------------------ pure comparisons


def missing_labels(rendered: dict[str, Any], live: dict[str, Any]) -> list[str]:
    """Owner labels the rendered object carries that the live one lacks or has with another value."""
    want = (rendered.get("metadata") or {}).get("labels") or {}
    have = (live.get("metadata") or {}).get("labels") or {}
    owner_keys = owner_labels("x", "x").keys()
    return [f"{k}={want[k]}" for k in want if k in owner_keys and have.get(k) != want[k]]


def container_images(obj: dict[str, Any]) -> dict[str, str]:
    """`container name → image` of a workload's pod template (init containers included)."""
    spec = (obj.get("spec") or {}).get("template", {}).get("spec", {}) or {}
    return {c.get("name", ""): c.get("image", "") for c in (spec.get("initContainers") or []) + (spec.get("containers") or [])}


def image_drift(rendered: dict[str, Any], live: dict[str, Any]) -> list[str]:
    """Containers whose live image is not the rendered one."""
    want, have = container_images(rendered), container_images(live)
    return [f"{name}: {have.get(name, 'missing')} (want {image})" for name, image in want.items() if have.get(name) != image]


def unready_nodes(nodes: Iterable[dict[str, Any]], pods: Iterable[dict[str, Any]]) -> list[str]:
    """Schedulable nodes without a ready pod of a node agent."""
    covered = {p.get("spec", {}).get("nodeName") for p in pods if _pod_ready(p)}
    schedulable = [n["metadata"]["name"] for n in nodes if not (n.get("spec") or {}).get("unschedulable")]
    return sorted(name for name in schedulable if name not in covered)


def _pod_ready(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def component_result(count: int, missing: list[str], foreign: list[str], drifted: list[str],
                     unready: list[str], others: dict[str, int] | None = None) -> CheckResult:
    """`N objects, ready`, or what is wrong (first few of each problem as details).

    `others`: objects another tool installed (tool -> count), checked for presence and readiness only.
    """
    note = "".join(f", {n} installed by {tool} (presence and readiness checked)" for tool, n in (others or {}).items())
    problems = []
    details: list[str] = []
    for label, items in (("missing", missing), ("not managed by ambientctl", foreign),
                         ("changed since install", drifted), ("not ready", unready)):
        if items:
            problems.append(f"{len(items)} {label}")
            details += [f"{label}: {item}" for item in items[:5]]
            if len(items) > 5:
                details.append(f"{label}: ... and {len(items) - 5} more")
    if not problems:
        return CheckResult.ok(f"{count} objects, ready{note}")
    hint = "re-run `ambientctl install` with the same flags to repair"
    if unready and not (missing or foreign or drifted):
        hint = "look at the pods' events (kubectl describe pod), fix the cause; install prints the reasons on timeout"
    return CheckResult.fail(f"{count} objects: " + ", ".join(problems) + note, hint, details)


# ------------------------------------------------------------------ cluster checks


class Verifier:
    """Compares one render with the cluster."""

    def __init__(self, kube: KubeClient, rendered: Rendered) -> None:
        self.kube = kube
        self.rendered = rendered
        self.can_dry_run = True
        self._listed: dict[tuple[str, str, str], dict[str, dict[str, Any]] | None] | None = None
        self._unserved: set[tuple[str, str]] = set()

    def _list_groups(self) -> dict[tuple[str, str, str], dict[str, dict[str, Any]] | None]:
        """Our live objects by (apiVersion, kind, namespace), one LIST per group of two or more rendered objects.

        Why: one GET per rendered object was 51 requests for the ambient profile; the LISTs
        (by our owner label, so another tool's or a user's objects are not read) are ~14.
        A group that could not be listed maps to None: its objects are read one by one.
        """
        groups: dict[tuple[str, str, str], int] = {}
        for obj in self.rendered.all_objects():
            key = (obj["apiVersion"], obj["kind"], (obj.get("metadata") or {}).get("namespace") or "")
            groups[key] = groups.get(key, 0) + 1
        listed: dict[tuple[str, str, str], dict[str, dict[str, Any]] | None] = {}
        for (api_version, kind, namespace), count in groups.items():
            if count < 2:
                continue  # a LIST costs what the GET does
            try:
                items = self.kube.list(api_version, kind, namespace or None, label_selector=OWNED_SELECTOR)
            except CRDMissingError:  # the kind is not served: none of its objects exists
                listed[(api_version, kind, namespace)] = {}
                self._unserved.add((api_version, kind))
                continue
            except ForbiddenError:
                listed[(api_version, kind, namespace)] = None
                continue
            listed[(api_version, kind, namespace)] = {item["metadata"]["name"]: item for item in items}
        return listed

    def live(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        """The live object, from its group's LIST; a GET when it was not listed (unlisted, or not labelled ours)."""
        if self._listed is None:
            self._listed = self._list_groups()
        meta = obj.get("metadata") or {}
        group = self._listed.get((obj["apiVersion"], obj["kind"], meta.get("namespace") or ""))
        if group is not None and meta["name"] in group:
            return group[meta["name"]]
        if (obj["apiVersion"], obj["kind"]) in self._unserved:
            return None
        try:
            return self.kube.get_or_none(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
        except CRDMissingError:
            return None

    def matches(self, obj: dict[str, Any], live: dict[str, Any]) -> str:
        """"" when applying `obj` would change nothing; otherwise what differs (one line)."""
        if self.can_dry_run:
            try:
                result = self.kube.apply(obj, dry_run=True)
                if normalize_for_diff(result) == normalize_for_diff(live):
                    return ""
                return "fields differ from the render"
            except ForbiddenError:
                self.can_dry_run = False  # a read-only user: compare images and labels instead
            except ConflictError as exc:
                return f"another manager owns fields we set ({exc.message})"
        drift = image_drift(obj, live)
        return "; ".join(drift)

    def component(self, component: Component) -> Outcome:
        missing, foreign, drifted, unready = [], [], [], []
        others: dict[str, int] = {}
        for obj in component.objects:
            meta = obj.get("metadata") or {}
            ref = object_ref(obj)
            live = self.live(obj)
            if live is None:
                missing.append(ref)
                continue
            labels = missing_labels(obj, live)
            tool = installer_of(live)
            if labels and tool in (ISTIOCTL, HELM):
                # another tool's object: its labels and field managers differ by design; present and ready is
                # what can be asked of it (as istioctl's verify-install -f does)
                others[tool] = others.get(tool, 0) + 1
            elif labels:
                foreign.append(f"{ref} (lacks {', '.join(labels)})")
                continue
            elif difference := self.matches(obj, live):
                drifted.append(f"{ref}: {difference}")
            if obj.get("kind") in WORKLOAD_KINDS:
                ready, summary = workload_readiness(live)
                if not ready:
                    unready.append(f"{ref}: {summary}")
        title = component.title
        result = component_result(len(component.objects), missing, foreign, drifted, unready, others)
        return Outcome(component.name, title, result)

    def shape(self) -> list[Outcome]:
        """Control-plane Deployments have ready pods; node agents run on every schedulable node."""
        outcomes = []
        nodes: list[dict[str, Any]] | None = None
        for component in self.rendered.components:
            for obj in component.objects:
                if obj.get("kind") not in ("Deployment", "DaemonSet"):
                    continue
                meta = obj["metadata"]
                labels = (obj.get("spec") or {}).get("selector", {}).get("matchLabels") or {}
                pods = self.kube.list("v1", "Pod", meta.get("namespace"), label_selector=selector_string(labels))
                name = f"{obj['kind']} {meta.get('namespace')}/{meta['name']}"
                if obj["kind"] == "Deployment":
                    ready = sum(1 for p in pods if _pod_ready(p))
                    result = CheckResult.ok(f"{ready} pod(s) ready") if ready else CheckResult.fail(
                        f"no ready pod ({len(pods)} pod(s) exist)",
                        "kubectl describe pods of this Deployment; `ambientctl install` prints why on timeout")
                else:
                    if nodes is None:
                        nodes = self.kube.list("v1", "Node")
                    lacking = unready_nodes(nodes, pods)
                    schedulable = sum(1 for n in nodes if not (n.get("spec") or {}).get("unschedulable"))
                    result = CheckResult.ok(f"a ready pod on each of {schedulable} schedulable node(s)") \
                        if not lacking else CheckResult.fail(
                            f"no ready pod on {len(lacking)} of {schedulable} node(s)",
                            "check the DaemonSet's tolerations and the nodes' taints", lacking)
                outcomes.append(Outcome(f"shape/{meta['name']}", name, result))
        return outcomes

    def run(self) -> list[Outcome]:
        return [self.component(c) for c in self.rendered.components] + self.shape()


# ------------------------------------------------------------------ a mesh another tool installed


def versions_result(found: list[Installed], client_istio: str) -> CheckResult:
    """One Istio release across the components, and the one this ambientctl is built for."""
    versions = sorted({e.version for e in found})
    details = [f"{e.kind} {e.name}: {e.image}" for e in found]
    if len(versions) > 1:
        return CheckResult.warn(f"components run different releases: {', '.join(versions)}",
                                "finish the upgrade (each component at one release)", details)
    if versions and versions[0] != client_istio:
        return CheckResult.warn(f"Istio {versions[0]}; this ambientctl is built for Istio {client_istio}",
                                "commands read it all the same; config dump fields may differ between releases",
                                details)
    return CheckResult.ok(f"Istio {versions[0] if versions else '?'} on every component", details)


def readiness_result(entry: Installed) -> CheckResult:
    ready, summary = workload_readiness(entry.obj)
    if ready:
        return CheckResult.ok(summary)
    return CheckResult.fail(summary, "kubectl describe pods of this workload; the events say why")


def crds_result(crds: list[dict[str, Any]]) -> CheckResult:
    istio = [c for c in crds if str((c.get("spec") or {}).get("group", "")).endswith("istio.io")]
    if not istio:
        return CheckResult.fail("no Istio CRD (security.istio.io, networking.istio.io, ...)",
                                "the base chart or istioctl's Base component is missing: re-run the install")
    unready = [c["metadata"]["name"] for c in istio
               if not any(cond.get("type") == "Established" and cond.get("status") == "True"
                          for cond in (c.get("status") or {}).get("conditions") or [])]
    if unready:
        return CheckResult.fail(f"{len(unready)} of {len(istio)} Istio CRDs not Established", "", unready[:5])
    return CheckResult.ok(f"{len(istio)} Istio CRDs established")


def foreign_install(kube: KubeClient, istio_namespace: str, revision: str | None) -> list[Installed]:
    """The revision's components when another tool installed it, else [].

    Another tool's: the revision's istiod (else every component found) is not
    ambientctl's, and ambientctl recorded no install of that revision.
    """
    from ambientctl.install import record

    found = of_revision(find_installed(kube, istio_namespace), revision)
    istiods = [e for e in found if e.component == ISTIOD]
    if not found or any(e.installer == AMBIENTCTL for e in istiods or found):
        return []
    if record.find(kube, revision, istio_namespace) is not None:
        return []
    return found


class ForeignVerifier:
    """verify-install on a mesh istioctl or Helm installed: what can be checked without its inputs.

    Without the install's flags there is no render to compare with, so this
    checks what every install must have: istiod of the revision and both node
    agents present and ready (on every schedulable node), one Istio release
    throughout, and the CRDs established.
    """

    def __init__(self, kube: KubeClient, found: list[Installed], revision: str | None) -> None:
        self.kube = kube
        self.revision = revision or "default"
        self.found = of_revision(found, revision)

    def presence(self) -> list[Outcome]:
        outcomes = []
        for part in PARTS:
            entries = [e for e in self.found if e.component == part.component]
            what = f"{part.kind} {part.name}" + (f" (revision {self.revision})" if part.component == ISTIOD else "")
            if not entries:
                result = CheckResult.fail(f"not found: no {what}", "an ambient mesh needs istiod, ztunnel and "
                                          "the istio-cni node agent; install the missing component")
                outcomes.append(Outcome(f"present/{part.component}", what, result))
        return outcomes

    def workloads(self) -> list[Outcome]:
        outcomes: list[Outcome] = []
        nodes: list[dict[str, Any]] | None = None
        for entry in self.found:
            name = f"{entry.kind} {entry.namespace}/{entry.name} ({entry.installer})"
            result = readiness_result(entry)
            if entry.kind == "DaemonSet" and result.status is Status.OK:
                if nodes is None:
                    nodes = self.kube.list("v1", "Node")
                pods = self.kube.list("v1", "Pod", entry.namespace, label_selector=entry.pod_selector)
                lacking = unready_nodes(nodes, pods)
                if lacking:
                    result = CheckResult.fail(f"no ready pod on {len(lacking)} node(s)",
                                              "check the DaemonSet's tolerations and the nodes' taints", lacking)
                else:
                    result = CheckResult.ok(f"{result.message}; a ready pod on every schedulable node")
            outcomes.append(Outcome(f"ready/{entry.name}", name, result))
        return outcomes

    def run(self) -> list[Outcome]:
        from ambientctl.versions import ISTIO_VERSION

        crds = self.kube.list("apiextensions.k8s.io/v1", "CustomResourceDefinition")
        return [*self.presence(), *self.workloads(),
                Outcome("versions", "Versions", versions_result(self.found, ISTIO_VERSION)),
                Outcome("crds", "Istio CRDs", crds_result(crds))]
