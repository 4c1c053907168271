"""`--suppress CODE=RESOURCE` and the `galley.istio.io/analyze-suppress` annotation, with istioctl's semantics.

A suppression names a code (IST or AMB) and a resource as analyze prints it,
`Kind namespace/name`; `*` matches any run of characters (istioctl's glob, the
only wildcard). istioctl's help writes the resource as `Kind name.namespace`,
which istioctl itself never matches; ambientctl accepts both spellings. An
object annotated `galley.istio.io/analyze-suppress: "IST0102,AMB0003"` (or
`"*"`) gets no message with those codes. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from ambientctl.analyze.messages import AnalyzeUsageError, Message
from ambientctl.labels import annotations_of

SUPPRESS_ANNOTATION = "galley.istio.io/analyze-suppress"


@dataclass(frozen=True)
class Suppression:
    """One `-S` value: a code and a resource pattern."""

    code: str
    pattern: str

    def matches(self, message: Message) -> bool:
        if message.code != self.code:
            return False
        regex = re.compile(".*".join(re.escape(part) for part in self.pattern.split("*")), re.DOTALL)
        return any(regex.fullmatch(name) for name in _spellings(message.resource))


def _spellings(resource: str) -> tuple[str, ...]:
    """`Kind ns/name`, and the `Kind name.ns` form istioctl's help shows."""
    kind, _, rest = resource.partition(" ")
    namespace, slash, name = rest.partition("/")
    return (resource, f"{kind} {name}.{namespace}") if slash else (resource,)


def parse_suppressions(values: Iterable[str]) -> list[Suppression]:
    """`CODE=RESOURCE` values; anything else is a usage error (istioctl refuses it too)."""
    out = []
    for value in values:
        parts = value.split("=")
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise AnalyzeUsageError(f"{value!r} is not a valid --suppress value",
                                    'use CODE=RESOURCE, e.g. -S "IST0102=Namespace default" or '
                                    '-S "AMB0003=Namespace *"')
        out.append(Suppression(parts[0], parts[1]))
    return out


def annotation_codes(obj: dict[str, Any]) -> set[str]:
    """The codes an object's suppress annotation names ("*": all)."""
    value = annotations_of(obj).get(SUPPRESS_ANNOTATION) or ""
    return {code.strip() for code in value.split(",") if code.strip()}


def apply(messages: list[Message], suppressions: list[Suppression],
          annotated: dict[str, set[str]]) -> list[Message]:
    """Messages that no suppression and no annotation (resource -> codes) removes."""
    kept = []
    for message in messages:
        codes = annotated.get(message.resource, set())
        if "*" in codes or message.code in codes:
            continue
        if any(s.matches(message) for s in suppressions):
            continue
        kept.append(message)
    return kept
