"""One in-memory API server standing in for `KubeClient` in unit tests.

It keeps objects by (group, kind, namespace, name), as the API server does
(whatever version lists them), with the scope rules of the real client
(`namespace=None` means the client's default namespace; cluster-scoped kinds
ignore it). It bumps resourceVersion only when a write changes something,
and generation only when more than metadata and status changed; it records
managedFields per field manager, honours uid preconditions and stale
resourceVersions in merge patches (a conflict), matches label selectors in
every form ambientctl sends, and answers access reviews from an allow-list. It records what a real server would have received (`requests`,
`calls`) and what changed (`writes`), so tests check which objects a command
changes and how many requests it costs, not how it calls the client.

Knobs: `unready` (workload names kept unready), `conflicting` (names whose
apply conflicts unless forced), `deny()` (reads this user may not make), `allowed` (the access-review allow-list; None: cluster-admin),
`reviews_forbidden` (SelfSubjectAccessReview itself is refused),
`served_groups` (API groups served without a CRD).

`parse_selector` / `selector_matches` are the one label-selector parser of the
test suite; `invoke_with(kube, *args)` runs the CLI in-process against a fake.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import io
import itertools
import re
from typing import Any, Iterable

from ambientctl.errors import ConflictError, CRDMissingError, ForbiddenError, NotFoundError
from ambientctl.install.kinds import MANAGED_KINDS
from ambientctl.kube.resources import KNOWN_RESOURCES, ResourceType
from tests.support.cli import Result

ObjectKey = tuple[str, str, str, str]
Review = tuple[str, str, str, str]

CORE_GROUPS = frozenset({"", "apps", "batch", "rbac.authorization.k8s.io", "apiextensions.k8s.io",
                         "admissionregistration.k8s.io", "policy", "autoscaling", "networking.k8s.io",
                         "authorization.k8s.io"})
GATEWAY_API_GROUPS = frozenset({"gateway.networking.k8s.io"})
ISTIO_GROUPS = frozenset({"security.istio.io", "networking.istio.io", "telemetry.istio.io", "extensions.istio.io"})
# Namespaces every cluster has: objects may be created in them without adding a Namespace first.
BUILTIN_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
# An allow-list for a user who may only read (entries may use "*" for group and resource).
READ_ONLY: frozenset[tuple[str, str, str]] = frozenset({("get", "*", "*"), ("list", "*", "*"), ("watch", "*", "*")})


# ------------------------------------------------------------------ label selectors


_SET_TERM = re.compile(r"^\s*([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")


def _split_terms(selector: str) -> list[str]:
    """Split on commas outside parentheses (`a in (b,c),d=e` has two terms)."""
    terms, depth, current = [], 0, ""
    for char in selector:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    terms.append(current)
    return [t.strip() for t in terms if t.strip()]


def parse_selector(selector: str | None) -> list[tuple[str, str, frozenset[str]]]:
    """Kubernetes label-selector syntax → [(key, op, values)], op in =, !=, in, notin, exists, !exists."""
    requirements = []
    for term in _split_terms(selector or ""):
        if match := _SET_TERM.match(term):
            key, op, values = match.groups()
            requirements.append((key, op, frozenset(v.strip() for v in values.split(",") if v.strip())))
        elif "!=" in term:
            key, _, value = term.partition("!=")
            requirements.append((key.strip(), "!=", frozenset({value.strip()})))
        elif "=" in term:
            key, _, value = term.replace("==", "=").partition("=")
            requirements.append((key.strip(), "=", frozenset({value.strip()})))
        elif term.startswith("!"):
            requirements.append((term[1:].strip(), "!exists", frozenset()))
        else:
            requirements.append((term, "exists", frozenset()))
    return requirements


def selector_matches(selector: str | None, labels: dict[str, str] | None) -> bool:
    """Whether labels satisfy every requirement of the selector (an empty selector selects everything)."""
    labels = labels or {}
    for key, op, values in parse_selector(selector):
        present = key in labels
        ok = {
            "=": present and labels[key] in values,
            "in": present and labels[key] in values,
            "!=": not present or labels[key] not in values,
            "notin": not present or labels[key] not in values,
            "exists": present,
            "!exists": not present,
        }[op]
        if not ok:
            return False
    return True


# ------------------------------------------------------------------ the fake


def _plural(kind: str) -> str:
    lower = kind.lower()
    if lower.endswith("y"):
        return lower[:-1] + "ies"
    return lower + ("es" if lower.endswith("s") else "s")


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """JSON merge patch (RFC 7386): dicts merge, null deletes a key, anything else replaces."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            target[key] = _merge(dict(target[key]), value)
        else:
            target[key] = copy.deepcopy(value)
    return target


def _spec_changed(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether anything but metadata and status changed: only that bumps metadata.generation."""
    def body(obj: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in obj.items() if k not in ("metadata", "status")}
    return body(old) != body(new)


def _comparable(obj: dict[str, Any]) -> dict[str, Any]:
    """The object without the fields the server maintains itself."""
    out = copy.deepcopy(obj)
    meta = out.get("metadata") or {}
    for key in ("resourceVersion", "managedFields", "generation", "uid", "creationTimestamp"):
        meta.pop(key, None)
    return out


class FakeKube:
    """Enough of KubeClient for every command: get/list/apply/create/merge_patch/delete, can_i, CRD waits."""

    context_name = "fake"
    server = "https://fake"
    field_manager = "ambientctl"

    def __init__(self, objects: Iterable[dict[str, Any]] = (), *, gateway_api: bool = True, istio_api: bool = True,
                 allowed: Iterable[tuple[str, str, str]] | None = None, reviews_forbidden: bool = False,
                 default_namespace: str = "default") -> None:
        self.default_namespace = default_namespace
        self.store: dict[ObjectKey, dict[str, Any]] = {}
        self.served_groups = set(CORE_GROUPS | (GATEWAY_API_GROUPS if gateway_api else set())
                                 | (ISTIO_GROUPS if istio_api else set()))
        self.allowed: set[tuple[str, str, str]] | None = None if allowed is None else set(allowed)
        self.reviews_forbidden = reviews_forbidden
        self.denied: set[tuple[str, str, str]] = set()  # (verb, kind, namespace); see deny()
        self.unready: set[str] = set()
        self.conflicting: set[str] = set()
        self.requests: collections.Counter[str] = collections.Counter()  # what an API server would receive
        self.calls: list[tuple[str, str, str]] = []  # (verb, kind, name) for every request but reviews
        self.writes: list[tuple[str, str, str]] = []  # (create|apply|patch|delete, kind, name): changes only
        self.reviews: list[Review] = []  # (verb, group, resource, namespace or "")
        self.crds_waited: list[str] = []
        self.crd_wait_selectors: list[str | None] = []
        self._rv = itertools.count(100)
        self._uids = itertools.count(1)
        for obj in objects:
            self.add(obj)

    # -- scope and identity

    def resource_type(self, api_version: str, kind: str) -> ResourceType:
        known = KNOWN_RESOURCES.get((api_version, kind))
        managed = next((k for k in MANAGED_KINDS if (k.api_version, k.kind) == (api_version, kind)), None)
        return known or managed or ResourceType(api_version, kind, _plural(kind), namespaced=True)

    def key(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> ObjectKey:
        """(group, kind, namespace, name), with the client's rule for a missing namespace."""
        namespaced = self.resource_type(api_version, kind).namespaced
        ns = (namespace or self.default_namespace) if namespaced else ""
        return api_version.rpartition("/")[0], kind, ns, name

    def _key_of(self, obj: dict[str, Any]) -> ObjectKey:
        meta = obj["metadata"]
        return self.key(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))

    def _check_served(self, api_version: str) -> None:
        group = api_version.rpartition("/")[0]
        if group in self.served_groups:
            return
        if not any(o["kind"] == "CustomResourceDefinition" and (o.get("spec") or {}).get("group") == group
                   for o in self.store.values()):
            raise CRDMissingError(f"the cluster does not serve {api_version}", "install its CRDs")

    def deny(self, kind: str, verb: str = "*", namespace: str = "*") -> None:
        """This user may not `verb` (get, list) objects of `kind` in `namespace` ("*": any)."""
        self.denied.add((verb, kind, namespace))

    def _check_readable(self, verb: str, kind: str, namespace: str) -> None:
        if {(v, kind, n) for v in (verb, "*") for n in (namespace, "*")} & self.denied:
            raise ForbiddenError(f"forbidden: not allowed to {verb} {_plural(kind)}")

    def _check_namespace(self, obj: dict[str, Any]) -> None:
        _, _, ns, _ = self._key_of(obj)
        if ns and ns not in BUILTIN_NAMESPACES and ("", "Namespace", "", ns) not in self.store:
            raise NotFoundError(f'namespaces "{ns}" not found')

    def _with_status(self, obj: dict[str, Any]) -> None:
        """What controllers would report at once: workload readiness, CRDs Established."""
        meta = obj["metadata"]
        if obj["kind"] in ("Deployment", "DaemonSet"):
            ready = 0 if meta["name"] in self.unready else 1
            obj["status"] = {"observedGeneration": meta["generation"], "replicas": 1, "updatedReplicas": 1,
                             "readyReplicas": ready, "desiredNumberScheduled": 1, "updatedNumberScheduled": 1,
                             "numberReady": ready}
        if obj["kind"] == "CustomResourceDefinition":
            obj["status"] = {"conditions": [{"type": "Established", "status": "True"}]}

    def _stored(self, obj: dict[str, Any], key: ObjectKey) -> dict[str, Any]:
        obj["metadata"]["resourceVersion"] = str(next(self._rv))
        self.store[key] = obj
        return copy.deepcopy(obj)

    # -- test set-up and inspection

    def add(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Put an object in the store as if someone else made it (no request counted, no checks)."""
        obj = copy.deepcopy(obj)
        meta = obj["metadata"]
        meta.setdefault("uid", f"uid-{next(self._uids)}")
        meta.setdefault("generation", 1)
        key = self._key_of(obj)
        if key[2] and not meta.get("namespace"):
            meta["namespace"] = key[2]
        return self._stored(obj, key)

    def live(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        """The stored object itself (not a copy), for a test to change behind the commands' back."""
        return self.store[self.key(api_version, kind, name, namespace)]

    def names(self, kind: str) -> list[str]:
        return sorted(k[3] for k in self.store if k[1] == kind)

    # -- verbs

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        self.requests["get"] += 1
        self.calls.append(("get", kind, name))
        self._check_served(api_version)
        key = self.key(api_version, kind, name, namespace)
        self._check_readable("get", kind, key[2])
        obj = self.store.get(key)
        if obj is None:
            raise NotFoundError(f'{kind} "{name}" not found')
        return copy.deepcopy(obj)

    def get_or_none(self, api_version: str, kind: str, name: str, namespace: str | None = None
                    ) -> dict[str, Any] | None:
        try:
            return self.get(api_version, kind, name, namespace)
        except NotFoundError:
            return None

    def list(self, api_version: str, kind: str, namespace: str | None = None, *, all_namespaces: bool = False,
             label_selector: str | None = None, field_selector: str | None = None) -> list[dict[str, Any]]:
        self.requests["list"] += 1
        self.calls.append(("list", kind, label_selector or ""))
        self._check_served(api_version)
        group = api_version.rpartition("/")[0]
        scope = None if all_namespaces else self.key(api_version, kind, "", namespace)[2] or None
        self._check_readable("list", kind, scope or "")
        return [copy.deepcopy(o) for (g, k, ns, _), o in sorted(self.store.items())
                if g == group and k == kind and (scope is None or ns == scope)
                and selector_matches(label_selector, o["metadata"].get("labels"))]

    def apply(self, obj: dict[str, Any], *, force: bool = False, dry_run: bool = False) -> dict[str, Any]:
        """Server-side apply: the applied fields merge into the live object; no change, no new version."""
        self.requests["apply"] += 1
        meta = obj["metadata"]
        self.calls.append(("apply-dry" if dry_run else "apply", obj["kind"], meta["name"]))
        self._check_served(obj["apiVersion"])
        self._check_namespace(obj)
        if meta["name"] in self.conflicting and not force:
            raise ConflictError('apply conflict: .spec.replicas (conflict with "kubectl")',
                                "re-run with --force-conflicts")
        key = self._key_of(obj)
        live = self.store.get(key)
        if live is None:
            new = copy.deepcopy(obj)
            new["metadata"].update(uid=f"uid-{next(self._uids)}", generation=1,
                                   managedFields=[{"manager": self.field_manager, "operation": "Apply"}])
            if key[2]:
                new["metadata"]["namespace"] = key[2]
        else:
            new = _merge(copy.deepcopy(live), copy.deepcopy(obj))
            if _comparable(new) == _comparable(live):
                return copy.deepcopy(live)
            managers = live["metadata"].get("managedFields") or []
            if not any(m["manager"] == self.field_manager for m in managers):
                managers = managers + [{"manager": self.field_manager, "operation": "Apply"}]
            new["metadata"]["managedFields"] = managers
            if _spec_changed(live, new):
                new["metadata"]["generation"] = live["metadata"].get("generation", 1) + 1
        if dry_run:
            new["metadata"]["resourceVersion"] = (live or {}).get("metadata", {}).get("resourceVersion", "")
            return new
        self._with_status(new)
        self.writes.append(("create" if live is None else "apply", obj["kind"], meta["name"]))
        return self._stored(new, key)

    def create(self, obj: dict[str, Any], *, dry_run: bool = False, manager: str = "ambientctl") -> dict[str, Any]:
        self.requests["create"] += 1
        self.calls.append(("create", obj["kind"], obj["metadata"]["name"]))
        self._check_served(obj["apiVersion"])
        key = self._key_of(obj)
        if key in self.store:
            raise ConflictError(f'{obj["kind"]} "{obj["metadata"]["name"]}" already exists')
        if obj["kind"] != "Namespace":
            self._check_namespace(obj)
        new = copy.deepcopy(obj)
        new["metadata"].update(uid=f"uid-{next(self._uids)}", generation=1,
                               managedFields=[{"manager": manager, "operation": "Update"}])
        if dry_run:
            return new
        self.writes.append(("create", obj["kind"], obj["metadata"]["name"]))
        return self._stored(new, key)

    def merge_patch(self, api_version: str, kind: str, name: str, namespace: str | None, patch: dict[str, Any],
                    *, dry_run: bool = False) -> dict[str, Any]:
        """JSON merge patch; a resourceVersion in the patch must match (optimistic concurrency)."""
        self.requests["patch"] += 1
        self.calls.append(("patch", kind, name))
        key = self.key(api_version, kind, name, namespace)
        if key not in self.store:
            raise NotFoundError(f'{kind} "{name}" not found')
        live = self.store[key]
        wanted_rv = (patch.get("metadata") or {}).get("resourceVersion")
        if wanted_rv and wanted_rv != live["metadata"]["resourceVersion"]:
            raise ConflictError("the object has been modified; please apply your changes to the latest version")
        patch = copy.deepcopy(patch)
        (patch.get("metadata") or {}).pop("resourceVersion", None)
        new = _merge(copy.deepcopy(live), patch)
        if dry_run or new == live:
            return copy.deepcopy(new)
        if _spec_changed(live, new):
            new["metadata"]["generation"] = live["metadata"].get("generation", 1) + 1
        self.writes.append(("patch", kind, name))
        return self._stored(new, key)

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None, *,
               uid: str | None = None, dry_run: bool = False) -> bool:
        """False when the object is gone or its uid is not the one asked for (as the client reports)."""
        self.requests["delete"] += 1
        self.calls.append(("delete-dry" if dry_run else "delete", kind, name))
        key = self.key(api_version, kind, name, namespace)
        live = self.store.get(key)
        if live is None or (uid and live["metadata"].get("uid") != uid):
            return False
        if not dry_run:
            del self.store[key]
            self.writes.append(("delete", kind, name))
        return True

    def can_i(self, verb: str, resource: str, group: str = "", namespace: str | None = None) -> bool:
        """SelfSubjectAccessReview against `allowed` ("*" in an entry matches any group or resource)."""
        if self.reviews_forbidden:
            raise ForbiddenError("forbidden: not allowed to create selfsubjectaccessreviews")
        self.requests["review"] += 1
        self.reviews.append((verb, group, resource, namespace or ""))
        if self.allowed is None:
            return True
        return any(v in (verb, "*") and g in (group, "*") and r in (resource, "*") for v, g, r in self.allowed)

    def wait_crds_established(self, names: list[str], timeout: float, label_selector: str | None = None) -> None:
        self.crds_waited += names
        self.crd_wait_selectors.append(label_selector)


def invoke_with(kube: Any, *args: str) -> Result:
    """ambientctl ARGS in this process with `kube` as the cluster (None: a context without a client)."""
    from ambientctl.cli.app import app
    from ambientctl.context import CliContext

    out, err = io.StringIO(), io.StringIO()
    obj = CliContext(_kube=kube) if kube is not None else CliContext()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = app(args=list(args), prog_name="ambientctl", standalone_mode=False, obj=obj)
    return Result(int(code or 0), out.getvalue(), err.getvalue())
