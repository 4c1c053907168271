"""Object-by-object comparison of two sets of Kubernetes objects, and the known-differences list.

Why facets rather than a text diff: istioctl and ambientctl legitimately
differ in formatting details (field order, defaulted empty maps, comment-only
template lines), but a platform engineer cares that the SAME objects exist with
the same labels, images, ports, env vars, RBAC rules and webhooks.  Each
object is flattened into ``facet key -> value`` strings; two object sets are
diffed key by key; every difference must match an entry of
``known_differences.yaml`` (with its reason), or the parity test fails.

``deep=True`` (manifest generate) flattens EVERY field of workloads
(Deployments, DaemonSets, StatefulSets: containers, env values, args, probes,
volumes, mounts, security contexts, resources, pod spec) and of webhook
configurations, so a changed value anywhere is a difference.  Named lists
(containers, env, volumes, ports, webhooks) are keyed by name, args by flag,
so a reordering is not a difference but a changed value is.
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader parses the CRDs 10x faster
KNOWN_DIFFERENCES = Path(__file__).with_name("known_differences.yaml")
MISSING = "<absent>"


# ------------------------------------------------------------------------------------------ objects


def object_ref(obj: dict) -> str:
    """``Kind/namespace/name`` (namespace empty for cluster-scoped objects)."""
    meta = obj.get("metadata") or {}
    return f"{obj.get('kind')}/{meta.get('namespace') or ''}/{meta.get('name')}"


def parse_manifest(text: str) -> list[dict]:
    """Every non-empty object of a multi-document YAML stream (Lists are expanded)."""
    objects: list[dict] = []
    for doc in yaml.load_all(text, Loader=_LOADER):
        if not doc:
            continue
        if doc.get("kind", "").endswith("List") and "items" in doc:
            objects.extend(item for item in doc["items"] if item)
        else:
            objects.append(doc)
    return objects


def index(objects: Iterable[dict]) -> dict[str, dict]:
    """Objects by reference; a duplicate reference is a bug in the generator under test."""
    indexed: dict[str, dict] = {}
    for obj in objects:
        ref = object_ref(obj)
        if ref in indexed:
            raise ValueError(f"duplicate object {ref}")
        indexed[ref] = obj
    return indexed


# ------------------------------------------------------------------------------------------- facets


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _pod_spec(obj: dict) -> dict | None:
    spec = obj.get("spec") or {}
    template = spec.get("template")
    if isinstance(template, dict):
        return template.get("spec") or {}
    if obj.get("kind") == "Pod":
        return spec
    return None


def _container_facets(pod_spec: dict) -> dict[str, str]:
    facets: dict[str, str] = {}
    for kind in ("initContainers", "containers"):
        for container in pod_spec.get(kind) or []:
            cname = f"{kind}.{container.get('name')}"
            facets[f"image.{cname}"] = _scalar(container.get("image"))
            for env in container.get("env") or []:
                facets[f"env.{cname}.{env.get('name')}"] = "set"
            for port in container.get("ports") or []:
                key = port.get("name") or str(port.get("containerPort"))
                facets[f"port.{cname}.{key}"] = f"{port.get('containerPort')}/{port.get('protocol', 'TCP')}"
    return facets


def _rbac_facets(obj: dict) -> dict[str, str]:
    """One key per (apiGroup, resource, verb) triple: rule reshuffles are not differences."""
    facets: dict[str, str] = {}
    for rule in obj.get("rules") or []:
        if rule.get("nonResourceURLs"):
            for url in rule["nonResourceURLs"]:
                for verb in rule.get("verbs") or []:
                    facets[f"rule.url:{url}.{verb}"] = "allowed"
            continue
        names = ",".join(sorted(rule.get("resourceNames") or [])) or "*"
        for group in rule.get("apiGroups") or [""]:
            for resource in rule.get("resources") or []:
                for verb in rule.get("verbs") or []:
                    facets[f"rule.{group or 'core'}/{resource}.{verb}"] = names
    return facets


def _binding_facets(obj: dict) -> dict[str, str]:
    facets = {"roleRef": f"{obj.get('roleRef', {}).get('kind')}/{obj.get('roleRef', {}).get('name')}"}
    for subject in obj.get("subjects") or []:
        facets[f"subject.{subject.get('kind')}/{subject.get('namespace', '')}/{subject.get('name')}"] = "bound"
    return facets


_WEBHOOK_FIELDS = ("failurePolicy", "sideEffects", "matchPolicy", "timeoutSeconds", "reinvocationPolicy",
                   "admissionReviewVersions", "namespaceSelector", "objectSelector", "rules", "matchConditions")


def _webhook_facets(obj: dict) -> dict[str, str]:
    facets: dict[str, str] = {}
    for hook in obj.get("webhooks") or []:
        prefix = f"webhook.{hook.get('name')}"
        for name in _WEBHOOK_FIELDS:
            if name in hook:
                facets[f"{prefix}.{name}"] = _scalar(hook[name])
        service = (hook.get("clientConfig") or {}).get("service") or {}
        if service:
            facets[f"{prefix}.service"] = (f"{service.get('namespace')}/{service.get('name')}:"
                                           f"{service.get('port', 443)}{service.get('path', '')}")
        elif (hook.get("clientConfig") or {}).get("url"):
            facets[f"{prefix}.url"] = hook["clientConfig"]["url"]
    return facets


def _service_facets(obj: dict) -> dict[str, str]:
    spec = obj.get("spec") or {}
    facets = {"service.type": _scalar(spec.get("type", "ClusterIP")),
              "service.selector": _scalar(spec.get("selector") or {})}
    for port in spec.get("ports") or []:
        key = port.get("name") or str(port.get("port"))
        facets[f"servicePort.{key}"] = (f"{port.get('port')}->{port.get('targetPort', port.get('port'))}"
                                        f"/{port.get('protocol', 'TCP')}")
    return facets


def _configmap_facets(obj: dict) -> dict[str, str]:
    """Data keys; for YAML/JSON documents inside (mesh config, injector config): their top-level
    scalar settings, and the NAMES below nested ones (e.g. the injector's templates)."""
    facets: dict[str, str] = {}
    for key, text in (obj.get("data") or {}).items():
        facets[f"data.{key}"] = "set"
        try:
            doc = yaml.load(text, Loader=_LOADER) if isinstance(text, str) else None
        except yaml.YAMLError:
            continue
        if not isinstance(doc, dict):
            continue
        for sub, value in doc.items():
            if isinstance(value, dict):
                facets[f"data.{key}.{sub}"] = "{...}"
                for name in value:
                    facets[f"data.{key}.{sub}.{name}"] = "set"
            elif not isinstance(value, list):
                facets[f"data.{key}.{sub}"] = _scalar(value)
            else:
                facets[f"data.{key}.{sub}"] = f"[{len(value)} items]"
    return facets


# ----------------------------------------------------------------------------------- deep facets

WORKLOAD_KINDS = ("Deployment", "DaemonSet", "StatefulSet")
WEBHOOK_KINDS = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
# Compared as one value: a selector means what all of its terms mean together.
_ATOMIC_FIELDS = {"namespaceSelector", "objectSelector", "selector", "matchLabels", "matchExpressions",
                  "nodeSelector", "labelSelector"}
# List items keyed by this field instead of their position.
_LIST_KEYS = {"volumeMounts": "mountPath", "volumeDevices": "devicePath", "ports": "name"}
_FLAG_LISTS = {"args", "command"}


def _flag_facets(values: list, prefix: str) -> dict[str, str]:
    """`--flag=value`, `--flag value` and positionals, keyed by flag (positionals by their rank)."""
    out: dict[str, str] = {}
    positional, i = 0, 0
    while i < len(values):
        item = str(values[i])
        if item.startswith("-"):
            name, sep, value = item.partition("=")
            if not sep and i + 1 < len(values) and not str(values[i + 1]).startswith("-"):
                value, i = str(values[i + 1]), i + 1
            elif not sep:
                value = "(set)"
            out[f"{prefix}[{name}]"] = value
        else:
            out[f"{prefix}[#{positional}]"] = item
            positional += 1
        i += 1
    return out


def _list_key(field_name: str, item: Any, index: int) -> str | None:
    if not isinstance(item, dict):
        return None
    key_field = _LIST_KEYS.get(field_name, "name")
    key = item.get(key_field)
    if key is None and field_name == "ports":
        key = item.get("containerPort", item.get("port"))
    return None if key is None else str(key)


def flatten(value: Any, prefix: str, field_name: str = "") -> dict[str, str]:
    """Every leaf of `value` as ``path -> scalar``; named list items by name, args by flag."""
    if field_name in _ATOMIC_FIELDS:
        return {prefix: _scalar(value)}
    if isinstance(value, dict):
        if not value:
            return {prefix: "{}"}
        out: dict[str, str] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key), str(key)))
        return out
    if isinstance(value, list):
        if field_name in _FLAG_LISTS and all(isinstance(v, (str, int, float)) for v in value):
            return _flag_facets(value, prefix) or {prefix: "[]"}
        keys = [_list_key(field_name, item, i) for i, item in enumerate(value)]
        if value and all(k is not None for k in keys) and len(set(keys)) == len(keys):
            out = {}
            for key, item in zip(keys, value):
                out.update(flatten(item, f"{prefix}[{key}]"))
            return out
        return {prefix: _scalar(value)}
    return {prefix: _scalar(value)}


def _deep_webhook_facets(obj: dict) -> dict[str, str]:
    """Every field of every webhook; the service reference summarised as in the shallow facets."""
    facets_ = _webhook_facets(obj)
    for hook in obj.get("webhooks") or []:
        prefix = f"webhook.{hook.get('name')}"
        rest = {k: v for k, v in hook.items() if k not in ("name", "clientConfig")}
        facets_.update(flatten(rest, prefix))
        client = {k: v for k, v in (hook.get("clientConfig") or {}).items() if k != "service"}
        if client:
            facets_.update(flatten(client, f"{prefix}.clientConfig"))
    return facets_


def _deep_workload_facets(obj: dict) -> dict[str, str]:
    result = flatten(obj.get("spec") or {}, "spec")
    annotations = (obj.get("metadata") or {}).get("annotations")
    if annotations:
        result.update(flatten(annotations, "annotation"))
    return result


def facets(obj: dict, ignore_labels: Iterable[str] = (), deep: bool = False) -> dict[str, str]:
    """What we compare of one object, flattened to ``key -> value`` strings (every field with `deep`
    for workloads and webhook configurations)."""
    meta = obj.get("metadata") or {}
    result: dict[str, str] = {"apiVersion": _scalar(obj.get("apiVersion"))}
    for key, value in (meta.get("labels") or {}).items():
        if not any(fnmatch.fnmatchcase(key, pattern) for pattern in ignore_labels):
            result[f"label.{key}"] = _scalar(value)
    kind = obj.get("kind")
    pod_spec = _pod_spec(obj)
    if deep and kind in WORKLOAD_KINDS:
        result.update(_deep_workload_facets(obj))
    elif pod_spec is not None:
        result.update(_container_facets(pod_spec))
        result["serviceAccountName"] = _scalar(pod_spec.get("serviceAccountName"))
    if kind in ("ClusterRole", "Role"):
        result.update(_rbac_facets(obj))
    elif kind in ("ClusterRoleBinding", "RoleBinding"):
        result.update(_binding_facets(obj))
    elif kind in WEBHOOK_KINDS:
        result.update(_deep_webhook_facets(obj) if deep else _webhook_facets(obj))
    elif kind == "Service":
        result.update(_service_facets(obj))
    elif kind == "ConfigMap":
        result.update(_configmap_facets(obj))
    return result


# --------------------------------------------------------------------------------------------- diff


@dataclass(frozen=True)
class Difference:
    """One facet that differs: ``ours`` is ambientctl's value, ``theirs`` istioctl's (MISSING if absent)."""

    object: str
    key: str
    ours: str
    theirs: str

    def __str__(self) -> str:
        return f"{self.object}  {self.key}: ambientctl={self.ours!r} istioctl={self.theirs!r}"


def diff_objects(ours: Iterable[dict], theirs: Iterable[dict], ignore_labels: Iterable[str] = (),
                 deep: bool = False) -> list[Difference]:
    """Every facet difference between two object sets (whole missing objects use key ``object``)."""
    ours_by_ref, theirs_by_ref = index(ours), index(theirs)
    ignore_labels = tuple(ignore_labels)
    differences: list[Difference] = []
    for ref in sorted(set(ours_by_ref) | set(theirs_by_ref)):
        if ref not in theirs_by_ref:
            differences.append(Difference(ref, "object", "present", MISSING))
            continue
        if ref not in ours_by_ref:
            differences.append(Difference(ref, "object", MISSING, "present"))
            continue
        mine = facets(ours_by_ref[ref], ignore_labels, deep)
        other = facets(theirs_by_ref[ref], ignore_labels, deep)
        for key in sorted(set(mine) | set(other)):
            a, b = mine.get(key, MISSING), other.get(key, MISSING)
            if a != b:
                differences.append(Difference(ref, key, a, b))
    return differences


# --------------------------------------------------------------------------------- known differences


@dataclass
class KnownDifference:
    """One documented difference: `*` patterns on object ref, facet key and values, plus the reason."""

    id: str
    area: str          # the area being checked (an entry may list several in the YAML)
    object: str
    key: str
    reason: str
    ours: str = "*"
    theirs: str = "*"
    status: str = "intended"   # or "bug": listed (so documented) but still a failure until fixed
    matched: list[Difference] = field(default_factory=list)

    def matches(self, difference: Difference) -> bool:
        return (_glob(self.object, difference.object) and _glob(self.key, difference.key)
                and _glob(self.ours, difference.ours) and _glob(self.theirs, difference.theirs))


def _glob(pattern: str, text: str) -> bool:
    """`*` matches anything (also `/`); every other character is literal, so the `[` of
    `ingressGateways[0]` or `[name:x]` needs no escaping."""
    regex = "".join(".*" if ch == "*" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, text, flags=re.S) is not None


_REQUIRED = ("id", "area", "object", "key", "reason")


def load_known_differences(area: str, path: Path = KNOWN_DIFFERENCES) -> list[KnownDifference]:
    """The entries of ``path`` for one comparison area (e.g. ``manifest-generate``)."""
    data = yaml.safe_load(path.read_text()) or {}
    entries = []
    for raw in data.get("differences") or []:
        missing = [name for name in _REQUIRED if not raw.get(name)]
        if missing:
            raise ValueError(f"{path.name}: entry {raw.get('id', raw)!r} lacks {', '.join(missing)}")
        if raw.get("status", "intended") not in ("intended", "bug"):
            raise ValueError(f"{path.name}: entry {raw['id']!r} has status {raw['status']!r} (intended or bug)")
        areas = raw["area"] if isinstance(raw["area"], list) else [raw["area"]]
        if area in areas:
            entries.append(KnownDifference(**{k: str(v) for k, v in raw.items() if k != "area"}, area=area))
    return entries


def ignored_labels(area: str, path: Path = KNOWN_DIFFERENCES) -> list[str]:
    """Label key patterns not compared at all in ``area`` (documented as a whole in the YAML)."""
    data = yaml.safe_load(path.read_text()) or {}
    return [pattern for entry in data.get("ignore_labels") or [] if entry.get("area") == area
            for pattern in entry.get("keys") or []]


@dataclass
class Verdict:
    unlisted: list[Difference]
    explained: list[tuple[Difference, KnownDifference]]
    stale: list[KnownDifference]

    @property
    def open_bugs(self) -> list[KnownDifference]:
        seen: dict[str, KnownDifference] = {}
        for _, entry in self.explained:
            if entry.status == "bug":
                seen.setdefault(entry.id, entry)
        return list(seen.values())

    @property
    def ok(self) -> bool:
        return not self.unlisted and not self.stale and not self.open_bugs

    def __repr__(self) -> str:  # keeps pytest's assertion rewriting short
        return (f"Verdict(unlisted={len(self.unlisted)}, explained={len(self.explained)}, "
                f"stale={len(self.stale)}, open_bugs={len(self.open_bugs)})")

    def report(self, limit: int = 60) -> str:
        lines = []
        if self.unlisted:
            lines.append(f"{len(self.unlisted)} difference(s) not listed in {KNOWN_DIFFERENCES.name}:")
            lines.extend(f"  {d}" for d in self.unlisted[:limit])
            if len(self.unlisted) > limit:
                lines.append(f"  ... and {len(self.unlisted) - limit} more")
        if self.open_bugs:
            lines.append(f"{len(self.open_bugs)} listed difference(s) are open bugs (status: bug):")
            lines.extend(f"  {k.id} ({len(k.matched)} difference(s)): {k.reason}" for k in self.open_bugs)
        if self.stale:
            lines.append(f"{len(self.stale)} listed difference(s) no longer occur (remove them):")
            lines.extend(f"  {k.id}: {k.object} {k.key}" for k in self.stale)
        return "\n".join(lines)


def classify(differences: Iterable[Difference], known: list[KnownDifference]) -> Verdict:
    """Split differences into explained and unlisted; entries that explained nothing are stale."""
    unlisted, explained = [], []
    for entry in known:
        entry.matched = []
    for difference in differences:
        entry = next((k for k in known if k.matches(difference)), None)
        if entry is None:
            unlisted.append(difference)
        else:
            entry.matched.append(difference)
            explained.append((difference, entry))
    stale = [k for k in known if not k.matched]
    return Verdict(unlisted, explained, stale)


# ------------------------------------------------------------------------------------------- tables


def diff_tables(command: str, ours: list[dict[str, str]], theirs: list[dict[str, str]],
                key_columns: tuple[str, ...]) -> list[Difference]:
    """Differences between two printed tables: columns, rows (by key columns), cells, and row order.

    ``object`` is ``<command>/<key values joined by |>``; ``key`` is the column name, or
    ``columns``/``row``/``order`` for structural differences."""
    differences: list[Difference] = []
    our_columns = list(ours[0]) if ours else []
    their_columns = list(theirs[0]) if theirs else []
    if ours and theirs and our_columns != their_columns:
        differences.append(Difference(command, "columns", " | ".join(our_columns), " | ".join(their_columns)))

    def key(row: dict[str, str]) -> str:
        return "|".join(row.get(column, MISSING) for column in key_columns)

    ours_by_key = {key(row): row for row in ours}
    theirs_by_key = {key(row): row for row in theirs}
    for row_key in sorted(set(ours_by_key) | set(theirs_by_key)):
        ref = f"{command}/{row_key}"
        if row_key not in theirs_by_key:
            differences.append(Difference(ref, "row", "present", MISSING))
        elif row_key not in ours_by_key:
            differences.append(Difference(ref, "row", MISSING, "present"))
        else:
            mine, other = ours_by_key[row_key], theirs_by_key[row_key]
            for column in their_columns:
                a, b = mine.get(column, MISSING), other.get(column, MISSING)
                if a != b:
                    differences.append(Difference(ref, column, a, b))
    shared = set(ours_by_key) & set(theirs_by_key)
    our_order = [key(r) for r in ours if key(r) in shared]
    their_order = [key(r) for r in theirs if key(r) in shared]
    if our_order != their_order:
        differences.append(Difference(command, "order", ",".join(our_order[:5]) + "...",
                                      ",".join(their_order[:5]) + "..."))
    return differences
