"""`ambientctl install`: apply a rendered Istio installation, component by component.

The `Installer` is istioctl's Installer{Force, DryRun, SkipWait, Kube,
WaitTimeout, ProgressLogger}: it applies each component's objects with
server-side apply (field manager `ambientctl`) in dependency order, waits for
the component's workloads, prints istioctl's `✔ <component> installed`
lines, and then prunes objects carrying our owner label that the new render
no longer contains. A lock ConfigMap (lock.py) keeps two installs from
interleaving.

Everything that can be decided without a cluster is a pure function, so unit
tests cover it without one: the change classification, the report and its
text, and the confirmation decision here; prune sets in kinds.py, diff
normalisation in diff.py, lock staleness in lock.py.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from ambientctl.errors import (
    AmbientctlError,
    ConflictError,
    CRDMissingError,
    KubeTimeoutError,
    NotFoundError,
)
from ambientctl.install.diff import normalize_for_diff, object_diff
from ambientctl.install.kinds import CREATED_NAMESPACE_LABELS, ObjectKey, listed_kinds, object_key, prune_set
from ambientctl.install.lock import DEFAULT_LOCK_TIMEOUT, LOCK_STALE_MARGIN, InstallLock
from ambientctl.kube import FIELD_MANAGER
from ambientctl.kube.resources import crd_established, object_ref, sort_for_apply
from ambientctl.kube.wait import WORKLOAD_KINDS, explain_pods, workload_readiness
from ambientctl.ownership import OWNED_SELECTOR

if TYPE_CHECKING:
    from rich.console import Console

    from ambientctl.kube.client import KubeClient
    from ambientctl.render import Component, Rendered

DEFAULT_READINESS_TIMEOUT = 300.0
CRD_ESTABLISH_TIMEOUT = 60.0


def revision_label(rendered: Rendered) -> str:
    """The owner revision label value the renderer put on this render's objects."""
    return rendered.revision or "default"


class Action(str, Enum):
    """What happened (or would happen) to one object, in kubectl's words."""

    CREATED = "created"
    CONFIGURED = "configured"
    UNCHANGED = "unchanged"
    PRUNED = "pruned"


@dataclass
class ObjectChange:
    """One object's fate; `note` says why a dry run could not validate it."""

    ref: str
    action: Action
    component: str = ""
    diff: str = ""
    note: str = ""


def classify(live: dict[str, Any] | None, result: dict[str, Any], dry_run: bool,
             field_manager: str = FIELD_MANAGER) -> Action:
    """Created, configured or unchanged, from the object before (if listed) and the apply result.

    A real apply that changes nothing keeps the resourceVersion; a dry run
    never bumps it, so there the normalised objects are compared instead.
    Without a listed object (install lists only objects carrying our owner
    label, instead of one GET per object), see `created_by_this_apply`.
    """
    if live is None:
        return Action.CREATED if created_by_this_apply(result, field_manager) else Action.CONFIGURED
    if dry_run:
        return Action.UNCHANGED if normalize_for_diff(live) == normalize_for_diff(result) else Action.CONFIGURED
    before = (live.get("metadata") or {}).get("resourceVersion")
    after = (result.get("metadata") or {}).get("resourceVersion")
    return Action.UNCHANGED if before and before == after else Action.CONFIGURED


def created_by_this_apply(result: dict[str, Any], field_manager: str = FIELD_MANAGER) -> bool:
    """Whether an object not among our listed ones did not exist before this apply.

    Such an object either is new, or existed without our owner label (made
    by istioctl, Helm or kubectl: the apply then adds our labels, so it is
    "configured"). An object that existed carries its creator's entry in
    managedFields; one our apply just created names only our field manager.
    """
    entries = (result.get("metadata") or {}).get("managedFields") or []
    return all(entry.get("manager") == field_manager for entry in entries)


@dataclass
class InstallReport:
    """Everything an install did (or would do)."""

    changes: list[ObjectChange] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action is action)

    @property
    def changed(self) -> bool:
        return any(c.action is not Action.UNCHANGED for c in self.changes)

    def summary(self) -> str:
        """`3 created, 1 configured, 80 unchanged, 1 pruned`, or the no-op sentence."""
        if not self.changed:
            return f"no changes: all {len(self.changes)} objects already match"
        parts = [f"{self.count(a)} {a.value}" for a in Action if self.count(a)]
        return ", ".join(parts)


def format_dry_run(report: InstallReport) -> str:
    """`install --dry-run`: one line per object and what the server said would happen."""
    lines = []
    for change in report.changes:
        suffix = f" ({change.note})" if change.note else " (server dry run)"
        lines.append(f"{change.ref} {change.action.value}{suffix}\n")
    return "".join(lines)


def format_diff(report: InstallReport) -> str:
    """`install --diff`: new and pruned objects by name, a unified diff per changed object."""
    parts = []
    for change in report.changes:
        if change.action is Action.CREATED:
            parts.append(f"+ {change.ref} (new)\n")
        elif change.action is Action.PRUNED:
            parts.append(f"- {change.ref} (pruned: no longer rendered)\n")
        elif change.action is Action.CONFIGURED:
            parts.append(change.diff or f"~ {change.ref} (changes managed fields only)\n")
    return "".join(parts)


class Confirmation(str, Enum):
    PROCEED = "proceed"
    ASK = "ask"
    REFUSE = "refuse"


def confirmation_decision(skip_confirmation: bool, changes_nothing: bool, stdin_is_tty: bool) -> Confirmation:
    """Ask before changing a cluster, unless -y; without a terminal to ask on, refuse (never assume yes)."""
    if skip_confirmation or changes_nothing:
        return Confirmation.PROCEED
    return Confirmation.ASK if stdin_is_tty else Confirmation.REFUSE


def install_summary(rendered: Rendered, context: str, server: str, istio_version: str) -> str:
    """What is about to happen, for the confirmation prompt (istioctl's `This will install...`)."""
    titles = [c.title for c in rendered.components]
    namespaces = sorted({c.namespace for c in rendered.components if c.namespace})
    count = sum(len(c.objects) for c in rendered.components)
    revision = rendered.revision or "default"
    return (
        f'This will install the Istio {istio_version} "{rendered.profile}" profile (revision {revision}) '
        f"with components: {', '.join(titles) or 'none'}\n"
        f"  namespace: {', '.join(namespaces) or '-'}\n"
        f"  objects:   {count}\n"
        f"  cluster:   context {context} ({server})"
    )


class InstallProgress:
    """Status lines on stderr; on a terminal also a live spinner per component."""

    def __init__(self, console: Console | None, interactive: bool) -> None:
        self.console = console
        self.interactive = interactive and console is not None
        self.lines: list[str] = []

    def line(self, text: str) -> None:
        self.lines.append(text)
        if self.console is not None:
            self.console.print(text, markup=False, highlight=False)

    @contextlib.contextmanager
    def step(self, title: str) -> Iterator[Callable[[str], None]]:
        """Live `title: what is happening` on a terminal; nothing on a pipe."""
        if not self.interactive:
            yield lambda _text: None
            return
        assert self.console is not None
        with self.console.status(f"{title}: applying") as status:
            yield lambda text: status.update(f"{title}: {text}")


def rollout_note(live: dict[str, Any]) -> str:
    """`, rollout stuck: 2 pods for 1 wanted` when old pods still serve while new ones cannot start."""
    if live.get("kind") != "Deployment":
        return ""
    want = (live.get("spec") or {}).get("replicas", 1)
    total = (live.get("status") or {}).get("replicas", 0)
    return f", rollout stuck: {total} pods for {want} wanted (new pods not ready)" if total > want else ""


@dataclass
class InstallOptions:
    """istioctl's Installer flags."""

    force_conflicts: bool = False
    dry_run: bool = False
    skip_wait: bool = False
    readiness_timeout: float = DEFAULT_READINESS_TIMEOUT
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT


class Installer:
    """Applies a `Rendered` installation to a cluster, then prunes what it no longer contains."""

    def __init__(self, kube: KubeClient, rendered: Rendered, options: InstallOptions, progress: InstallProgress) -> None:
        self.kube = kube
        self.rendered = rendered
        self.options = options
        self.progress = progress
        self.report = InstallReport()

    # ---- what is rendered

    @property
    def objects(self) -> list[dict[str, Any]]:
        return [o for c in self.rendered.components for o in c.objects]

    @property
    def istio_namespace(self) -> str:
        """Where the lock lives: Istiod's namespace (the control plane's), else the first component's."""
        for component in self.rendered.components:
            if component.name == "Pilot" and component.namespace:
                return component.namespace
        for component in self.rendered.components:
            if component.namespace:
                return component.namespace
        return "istio-system"

    def namespaces(self) -> list[str]:
        """Namespaces the render puts objects in, in first-use order."""
        seen: list[str] = []
        for component in self.rendered.components:
            names = [component.namespace] + [(o.get("metadata") or {}).get("namespace") for o in component.objects]
            for name in names:
                if name and name not in seen:
                    seen.append(name)
        return seen

    # ---- the cluster before

    def live_owned(self) -> dict[ObjectKey, dict[str, Any]]:
        """Every object carrying our owner label, by key: one LIST per kind, never one GET per object.

        All revisions and components, not only this install's: an object of
        ours made by another revision or feature is then classified by its
        resourceVersion too. Prune narrows this down itself (`prune_set`).
        """
        found: dict[ObjectKey, dict[str, Any]] = {}
        for api_version, kind in listed_kinds(self.objects):
            try:
                items = self.kube.list(api_version, kind, all_namespaces=True, label_selector=OWNED_SELECTOR)
            except CRDMissingError:
                continue  # the cluster does not serve this kind: nothing of ours can exist
            for item in items:
                found[object_key(item)] = item
        return found

    @staticmethod
    def _live(obj: dict[str, Any], known: dict[ObjectKey, dict[str, Any]]) -> dict[str, Any] | None:
        """The object as listed before the apply; None when it is not ours (new, or made by another tool)."""
        return known.get(object_key(obj))

    def _fetch_for_diff(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        """The live object for a dry-run diff of an object we do not own yet (the only per-object GET)."""
        meta = obj.get("metadata") or {}
        try:
            return self.kube.get_or_none(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
        except CRDMissingError:
            return None

    # ---- steps

    def ensure_namespaces(self) -> list[str]:
        """Create missing namespaces, labelled as ours (so uninstall may delete exactly those)."""
        created = []
        for name in self.namespaces():
            if self.kube.get_or_none("v1", "Namespace", name) is not None:
                continue
            body = {"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": name, "labels": CREATED_NAMESPACE_LABELS}}
            try:
                self.kube.create(body)
                created.append(name)
            except ConflictError:
                pass  # another install created it at the same moment
        return created

    def apply_object(self, obj: dict[str, Any], live: dict[str, Any] | None, component: str) -> ObjectChange:
        ref = object_ref(obj)
        try:
            result = self.kube.apply(obj, force=self.options.force_conflicts, dry_run=self.options.dry_run)
        except ConflictError as exc:
            raise ConflictError(f"{ref}: {exc.message}", exc.hint) from None
        except (CRDMissingError, NotFoundError) as exc:
            if not self.options.dry_run:
                raise
            # A dry run cannot validate objects whose CRD or namespace this install would create first.
            action = Action.CREATED if live is None else Action.CONFIGURED
            return ObjectChange(ref, action, component, note=f"not validated: {exc.message}")
        action = classify(live, result, self.options.dry_run, getattr(self.kube, "field_manager", FIELD_MANAGER))
        diff = ""
        if self.options.dry_run and action is Action.CONFIGURED:
            diff = object_diff(live if live is not None else self._fetch_for_diff(obj), result, ref)
        return ObjectChange(ref, action, component, diff=diff)

    def apply_component(self, component: Component, known: dict[ObjectKey, dict[str, Any]],
                        update: Callable[[str], None]) -> None:
        title = component.title
        objects = sort_for_apply(component.objects)
        for index, obj in enumerate(objects, 1):
            update(f"applying {index}/{len(objects)} {object_ref(obj)}")
            self.report.changes.append(self.apply_object(obj, self._live(obj, known), title))
        # A CRD already Established before this apply stays so: only new ones are waited for.
        crds = [o["metadata"]["name"] for o in objects
                if o.get("kind") == "CustomResourceDefinition" and not crd_established(self._live(o, known))]
        if crds and not self.options.dry_run:
            update(f"waiting for {len(crds)} CRDs to be established")
            self.kube.wait_crds_established(crds, CRD_ESTABLISH_TIMEOUT, label_selector=OWNED_SELECTOR)

    def wait_component(self, component: Component, update: Callable[[str], None]) -> None:
        """Wait for the component's workloads; on timeout say which pods are not ready and why."""
        from ambientctl.kube.wait import wait_ready

        workloads = [o for o in component.objects if o.get("kind") in WORKLOAD_KINDS]
        if not workloads:
            return
        try:
            wait_ready(self.kube, workloads, self.options.readiness_timeout, on_progress=update)
        except KubeTimeoutError:
            raise self.diagnose(component, workloads) from None

    def diagnose(self, component: Component, workloads: Sequence[dict[str, Any]]) -> KubeTimeoutError:
        """Print ✘ and one line per unready workload and pod (istio#54045: never just "not ready")."""
        title = component.title
        timeout = self.options.readiness_timeout
        self.progress.line(f"✘ {title}: not ready after {timeout:g}s")
        first_reason = ""
        for obj in workloads:
            meta = obj["metadata"]
            live = self.kube.get_or_none(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
            if live is None:
                self.progress.line(f"    {object_ref(obj)}: missing")
                first_reason = first_reason or f"{object_ref(obj)} is missing"
                continue
            ready, summary = workload_readiness(live)
            if ready:
                continue
            self.progress.line(f"    {object_ref(obj)}: {summary}{rollout_note(live)}")
            labels = live.get("spec", {}).get("selector", {}).get("matchLabels") or {}
            for reason in explain_pods(self.kube, meta.get("namespace", ""), labels):
                self.progress.line(f"      {reason}")
                first_reason = first_reason or reason
        return KubeTimeoutError(
            f"{title} not ready after {timeout:g}s: {first_reason or 'see the reasons above'}",
            "fix the causes above and re-run the same command (it resumes), or raise --readiness-timeout",
        )

    def prune(self, known: dict[ObjectKey, dict[str, Any]]) -> None:
        stale = prune_set(self.objects, known.values(), revision_label(self.rendered))
        for obj in stale:
            meta = obj["metadata"]
            ref = object_ref(obj)
            if not self.options.dry_run:
                self.kube.delete(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"), uid=meta.get("uid"))
            self.report.changes.append(ObjectChange(ref, Action.PRUNED))

    # ---- the whole run

    def plan(self) -> InstallReport:
        """Server-side dry run of every apply, plus what would be pruned; changes nothing."""
        known = self.live_owned()
        missing_namespaces = [n for n in self.namespaces() if self.kube.get_or_none("v1", "Namespace", n) is None]
        for name in missing_namespaces:
            self.report.changes.append(ObjectChange(f"Namespace/{name}", Action.CREATED))
        for component in self.rendered.components:
            for obj in sort_for_apply(component.objects):
                self.report.changes.append(self.apply_object(obj, self._live(obj, known), component.title))
            self.report.completed.append(component.title)
        self.prune(known)
        return self.report

    def install(self) -> InstallReport:
        """Apply component by component, wait for each, prune, print istioctl's lines."""
        created = self.ensure_namespaces()
        for name in created:
            self.report.changes.append(ObjectChange(f"Namespace/{name}", Action.CREATED))
        lock = InstallLock(
            self.kube, self.istio_namespace,
            stale_after=self.options.readiness_timeout + LOCK_STALE_MARGIN,
            wait=self.options.lock_timeout,
            on_wait=lambda text: self.progress.line(f"! {text}"),
        )
        lock.acquire()
        try:
            known = self.live_owned()
            for component in self.rendered.components:
                title = component.title
                lock.keep_alive()
                with self.progress.step(title) as update:
                    self.apply_component(component, known, update)
                    if not self.options.skip_wait:
                        self.wait_component(component, update)
                self.report.completed.append(title)
                self.progress.line(f"✔ {title} installed")
            self.prune(known)
            self.progress.line("✔ Installation complete")
        except KeyboardInterrupt:
            self.progress.line(self.interrupted_text())
            raise
        except AmbientctlError:  # say what was done before the error line (issue 8)
            self.progress.line(self.interrupted_text().replace("interrupted", "stopped", 1))
            raise
        finally:
            lock.release()
        return self.report

    def interrupted_text(self) -> str:
        done = ", ".join(self.report.completed) or "no component"
        applied = sum(1 for c in self.report.changes if c.action is not Action.UNCHANGED)
        return (f"! interrupted: {done} completed, {applied} object(s) changed so far; "
                "re-running the same command finishes or repairs the installation")
