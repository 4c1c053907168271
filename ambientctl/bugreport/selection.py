"""What `bug-report` collects from: istioctl's --include/--exclude specs and the log time range.

A spec is `namespaces/workloads/pods/labels/annotations/containers`; each part is
a comma list (OR), parts are ANDed, an empty part or `*` matches anything, names
take `*` globs, labels and annotations are `key=value` with a glob value (a bare
key means "has the key"). A container is collected when it matches one include
spec (or there is none) and no exclude spec. `workloads` is istioctl's
"deployments" part; it matches a pod's Deployment, DaemonSet or StatefulSet.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from dataclasses import dataclass, field
from typing import Any

from ambientctl.errors import InvalidInputError

# istioctl never collects from these (its injector's ignored namespaces).
DEFAULT_EXCLUDED_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease", "local-path-storage")
_PARTS = ("namespaces", "workloads", "pods", "labels", "annotations", "containers")
_SPEC_HINT = ("use ns1,ns2/workload/pod/label=value/annotation=value/container, e.g. --include istio-system "
              "or --include bookinfo//productpage*")


@dataclass(frozen=True)
class PodInfo:
    """The facts a spec matches against (from a Pod object)."""

    namespace: str
    name: str
    workload: str
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    containers: tuple[str, ...] = ()

    @classmethod
    def of(cls, pod: dict[str, Any]) -> PodInfo:
        meta = pod.get("metadata") or {}
        spec = pod.get("spec") or {}
        return cls(meta.get("namespace", ""), meta.get("name", ""), workload_name(pod),
                   dict(meta.get("labels") or {}), dict(meta.get("annotations") or {}),
                   tuple(c.get("name", "") for c in spec.get("containers") or []))


def workload_name(pod: dict[str, Any]) -> str:
    """The pod's Deployment (its ReplicaSet's name less the hash), DaemonSet or StatefulSet, else ''."""
    for owner in (pod.get("metadata") or {}).get("ownerReferences") or []:
        kind, name = owner.get("kind"), owner.get("name", "")
        if kind == "ReplicaSet":
            return name.rsplit("-", 1)[0] if "-" in name else name
        if kind in ("DaemonSet", "StatefulSet", "Deployment"):
            return name
    return ""


@dataclass(frozen=True)
class SelectionSpec:
    """One --include/--exclude value, parsed."""

    text: str
    namespaces: tuple[str, ...] = ()
    workloads: tuple[str, ...] = ()
    pods: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    containers: tuple[str, ...] = ()

    @property
    def namespaces_only(self) -> bool:
        """Only the namespace part is set: the spec scopes whole namespaces (objects and events too)."""
        return bool(self.namespaces) and not (self.workloads or self.pods or self.labels or self.annotations
                                              or self.containers)

    def matches_pod(self, pod: PodInfo) -> bool:
        return (_any(self.namespaces, pod.namespace) and _any(self.workloads, pod.workload)
                and _any(self.pods, pod.name) and _pairs(self.labels, pod.labels)
                and _pairs(self.annotations, pod.annotations))

    def matches(self, pod: PodInfo, container: str) -> bool:
        return self.matches_pod(pod) and _any(self.containers, container)


def _any(patterns: tuple[str, ...], value: str) -> bool:
    return not patterns or any(fnmatch.fnmatchcase(value, p) for p in patterns)


def _pairs(wanted: tuple[tuple[str, str], ...], have: dict[str, str]) -> bool:
    return all(key in have and fnmatch.fnmatchcase(have[key], value) for key, value in wanted)


def _names(part: str) -> tuple[str, ...]:
    part = part.strip()
    if part in ("", "*"):
        return ()
    return tuple(name.strip() for name in part.split(",") if name.strip())


def _key_values(part: str, flag: str, text: str) -> tuple[tuple[str, str], ...]:
    out = []
    for item in _names(part):
        key, sep, value = item.partition("=")
        if "*" in key or not key:
            raise InvalidInputError(f"{flag} {text!r}: bad label/annotation {item!r} (the key cannot have '*')",
                                    _SPEC_HINT)
        out.append((key, value if sep else "*"))
    return tuple(out)


def parse_spec(text: str, flag: str = "--include") -> SelectionSpec:
    """`ns/workload/pod/labels/annotations/containers` (trailing parts may be left out)."""
    parts = text.split("/")
    if len(parts) > len(_PARTS):
        raise InvalidInputError(f"{flag} {text!r} has {len(parts)} parts; at most 6 (a label or annotation key "
                                "cannot contain '/')", _SPEC_HINT)
    parts += [""] * (len(_PARTS) - len(parts))
    for index in (0, 1, 2, 5):
        if "=" in parts[index]:
            raise InvalidInputError(f"{flag} {text!r}: {parts[index]!r} is in the {_PARTS[index]} part, where "
                                    "key=value does not belong (a label or annotation key cannot contain '/')",
                                    _SPEC_HINT)
    return SelectionSpec(
        text=text, namespaces=_names(parts[0]), workloads=_names(parts[1]), pods=_names(parts[2]),
        labels=_key_values(parts[3], flag, text), annotations=_key_values(parts[4], flag, text),
        containers=_names(parts[5]),
    )


@dataclass(frozen=True)
class Selection:
    """All include and exclude specs (the default exclusions added), and the question they answer."""

    include: tuple[SelectionSpec, ...] = ()
    exclude: tuple[SelectionSpec, ...] = ()

    @classmethod
    def parse(cls, include: list[str], exclude: list[str]) -> Selection:
        default = parse_spec(",".join(DEFAULT_EXCLUDED_NAMESPACES), "--exclude")
        return cls(tuple(parse_spec(t, "--include") for t in include if t.strip()),
                   (default,) + tuple(parse_spec(t, "--exclude") for t in exclude if t.strip()))

    def container(self, pod: PodInfo, container: str) -> bool:
        included = not self.include or any(s.matches(pod, container) for s in self.include)
        return included and not any(s.matches(pod, container) for s in self.exclude)

    def containers(self, pod: PodInfo) -> list[str]:
        return [c for c in pod.containers if self.container(pod, c)]

    def pod(self, pod: PodInfo) -> bool:
        """A pod counts when one of its containers does (its config dump is collected then)."""
        return bool(self.containers(pod))

    def namespace(self, namespace: str) -> bool:
        """Objects and events of a namespace: in an included namespace, and not in a namespace excluded whole."""
        included = not self.include or any(_any(s.namespaces, namespace) for s in self.include)
        return included and not any(s.namespaces_only and _any(s.namespaces, namespace) for s in self.exclude)

    def describe(self) -> list[str]:
        return ([f"include: {s.text}" for s in self.include] or ["include: everything"]) + \
            [f"exclude: {s.text}" for s in self.exclude]


@dataclass(frozen=True)
class TimeRange:
    """Log lines and events between `start` (None: all) and `end` (now unless --end-time)."""

    start: dt.datetime | None
    end: dt.datetime
    end_given: bool = False

    def contains(self, moment: dt.datetime | None) -> bool:
        if moment is None:
            return True
        return (self.start is None or moment >= self.start) and moment <= self.end

    def since_seconds(self, now: dt.datetime) -> int | None:
        if self.start is None:
            return None
        return max(1, int((now - self.start).total_seconds()) + 1)

    def describe(self) -> str:
        start = self.start.isoformat() if self.start else "the beginning"
        return f"{start} .. {self.end.isoformat()}"


def parse_time(text: str, flag: str) -> dt.datetime:
    """RFC 3339 (`2026-11-28T10:00:00Z`), as istioctl takes it; naive times are refused."""
    value = text.strip()
    try:
        moment = dt.datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidInputError(f"{flag} {text!r} is not an RFC 3339 time",
                                "use e.g. 2026-11-28T10:00:00Z or 2026-11-28T11:00:00+01:00")
    return moment


def time_range(start: str | None, end: str | None, duration: float | None, now: dt.datetime) -> TimeRange:
    """istioctl's rules: --duration counts back from --end-time (default now); not with --start-time."""
    end_time = parse_time(end, "--end-time") if end else now
    if duration and start:
        raise InvalidInputError("only one of --start-time and --duration/--since may be set",
                                "--duration 1h means the hour before --end-time")
    if duration:
        return TimeRange(end_time - dt.timedelta(seconds=duration), end_time, bool(end))
    start_time = parse_time(start, "--start-time") if start else None
    if start_time and start_time > end_time:
        raise InvalidInputError("--start-time is after --end-time", "swap them, or leave --end-time out (now)")
    return TimeRange(start_time, end_time, bool(end))


def line_time(line: str) -> dt.datetime | None:
    """The RFC 3339 timestamp the API server puts before each log line (`timestamps=true`)."""
    stamp, _, _ = line.partition(" ")
    if len(stamp) < 20 or stamp[4:5] != "-":
        return None
    head, dot, rest = stamp.partition(".")
    zone = rest.lstrip("0123456789") if dot else ""
    digits = rest[: len(rest) - len(zone)] if dot else ""
    text = head + (f".{digits[:6]}" if digits else "") + (zone or "")
    try:
        return parse_time(text, "log")
    except InvalidInputError:
        return None
