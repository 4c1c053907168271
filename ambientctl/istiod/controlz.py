"""`admin log`: istiod's logging scopes through ControlZ (port 9876), as istioctl's `admin log`.

ControlZ's JSON API: `GET /scopej/` lists every scope (`name`, `description`,
`output_level`, `stack_trace_level`, `log_callers`), sorted by name;
`PUT /scopej/NAME` with such an object sets the levels it names (levels:
none, error, warn, info, debug) and `log_callers` to the value sent, false
when absent, then answers 202; an unknown scope is a 400.

istioctl PUTs `{name, output_level}` only, so each change also turns the
scope's `log_callers` off, and it learns that a scope name is unknown from a
400 after the other scopes were already changed. Here every change is planned
from the scopes the pod lists: unknown names are refused before any PUT, and
each PUT carries the scope's other fields as they were. Pure: no I/O.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, replace
from typing import Iterable

from ambientctl.errors import InvalidInputError, UsageError

CONTROLZ_PORT = 9876
SCOPES_PATH = "/scopej/"
LEVELS = ("none", "error", "warn", "info", "debug")
_ALIASES = {"warning": "warn"}
DEFAULT_OUTPUT_LEVEL = "info"      # what --reset and --log-reset set
DEFAULT_STACK_TRACE_LEVEL = "none"  # what --reset and --stack-trace-reset set
_SCOPE_NAME = re.compile(r"^[\w\- ]+$")   # the scope names istioctl's pattern accepts
TABLE_PADDING = 3


@dataclass(frozen=True)
class Scope:
    """One logging scope as ControlZ describes it."""

    name: str
    description: str = ""
    output_level: str = ""
    stack_trace_level: str = ""
    log_callers: bool = False


def scope_path(name: str) -> str:
    from urllib.parse import quote

    return SCOPES_PATH + quote(name, safe="")


def parse_pairs(spec: str, flag: str) -> dict[str, str]:
    """`scope:level[,scope:level...]` → {scope: level}; one line naming the bad clause otherwise."""
    pairs: dict[str, str] = {}
    for clause in spec.split(","):
        scope, sep, level = clause.strip().partition(":")
        level = _ALIASES.get(level.strip().lower(), level.strip().lower())
        scope = scope.strip()
        if not sep or not scope or not _SCOPE_NAME.match(scope):
            raise UsageError(f"invalid {flag} clause {clause!r}", "use SCOPE:LEVEL[,SCOPE:LEVEL...], e.g. ads:debug")
        if level not in LEVELS:
            raise UsageError(f"invalid level {level!r} in {flag} {clause!r}", f"levels: {', '.join(LEVELS)}")
        pairs[scope] = level
    return pairs


def check_flags(level: str | None, stack_trace_level: str | None, reset: bool, log_reset: bool,
                stack_trace_reset: bool) -> None:
    """Refuse flags that ask for two things at once (istioctl checks only some of these pairs)."""
    if level and (reset or log_reset):
        raise UsageError("--level cannot be combined with --reset or --log-reset", "give one of them")
    if stack_trace_level and (reset or stack_trace_reset):
        raise UsageError("--stack-trace-level cannot be combined with --reset or --stack-trace-reset",
                         "give one of them")


def parse_scopes(body: bytes, where: str) -> list[Scope]:
    """ControlZ's scope list, sorted by name; InvalidInputError when the answer is not that list."""
    try:
        items = json.loads(body)
        if not isinstance(items, list):
            raise ValueError("not a list")
        scopes = [Scope(name=str(i["name"]), description=str(i.get("description") or ""),
                        output_level=str(i.get("output_level") or ""),
                        stack_trace_level=str(i.get("stack_trace_level") or ""),
                        log_callers=bool(i.get("log_callers"))) for i in items]
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidInputError(f"{where} did not answer ControlZ's scope list ({exc})",
                                "check --ctrlz_port: it must be istiod's ControlZ port (9876)") from None
    return sorted(scopes, key=lambda s: s.name)


def plan(scopes: Iterable[Scope], levels: dict[str, str], stack_trace_levels: dict[str, str], *,
         reset: bool = False, log_reset: bool = False, stack_trace_reset: bool = False) -> list[Scope]:
    """The scopes to PUT, each whole (other fields unchanged); InvalidInputError naming unknown scopes."""
    known = {s.name: s for s in scopes}
    unknown = sorted((set(levels) | set(stack_trace_levels)) - set(known))
    if unknown:
        raise InvalidInputError(f"unknown scope(s) {', '.join(unknown)}; nothing was changed",
                                "list istiod's scopes with `ambientctl admin log`")
    changed: list[Scope] = []
    for name, scope in known.items():
        new = scope
        if reset or log_reset:
            new = replace(new, output_level=DEFAULT_OUTPUT_LEVEL)
        if reset or stack_trace_reset:
            new = replace(new, stack_trace_level=DEFAULT_STACK_TRACE_LEVEL)
        if name in levels:
            new = replace(new, output_level=levels[name])
        if name in stack_trace_levels:
            new = replace(new, stack_trace_level=stack_trace_levels[name])
        if new != scope:
            changed.append(new)
    return changed


def put_body(scope: Scope) -> bytes:
    return json.dumps(asdict(scope)).encode()


def document(scopes: Iterable[Scope]) -> list[dict[str, str]]:
    """istioctl's `-o json|yaml` records (its key names and order)."""
    return [{"scope_name": s.name, "log_level": s.output_level, "stack_trace_level": s.stack_trace_level,
             "description": s.description} for s in scopes]


def format_short(scopes: Iterable[Scope]) -> str:
    """istioctl's table (Go tabwriter, padding 3)."""
    from ambientctl.proxy.envoy.tabwriter import tabwrite

    lines = [["ACTIVE SCOPE", "DESCRIPTION", "LOG LEVEL", "STACK TRACE LEVEL"]]
    lines += [[s.name, s.description, s.output_level, s.stack_trace_level] for s in scopes]
    return tabwrite(lines, padding=TABLE_PADDING)


def differences(first: list[Scope], other: list[Scope]) -> list[str]:
    """Names of scopes whose levels differ between two pods (so a listing of one pod can say the others differ)."""
    mine = {s.name: (s.output_level, s.stack_trace_level) for s in first}
    theirs = {s.name: (s.output_level, s.stack_trace_level) for s in other}
    return sorted(n for n in set(mine) | set(theirs) if mine.get(n) != theirs.get(n))
