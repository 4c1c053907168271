"""`pc log` (Envoy) and `zc log` (ztunnel): log levels through the proxy admin's `/logging`.

Both admin servers answer only POST on `/logging`, and differ in everything else:

* Envoy: `POST /logging` lists `active loggers:` one `  name: level` line each;
  `POST /logging?level=L` sets every logger; `POST /logging?NAME=L` sets one.
  Levels: trace, debug, info, warning, error, critical, off.
* ztunnel: `POST /logging` prints `current log level is <filter>`;
  `POST /logging?level=<filter>` adds to the filter, `&reset` starts from the
  default first; `<filter>` is `L` or `target=L` clauses joined by commas.
  Levels: trace, debug, info, warn, error, off.

The user writes the same `--level` for both, as in istioctl:
`[<logger>:]<level>,...` (`=` also accepted). This module turns it into the
requests each proxy understands (istioctl sends `name:level` to ztunnel
unchanged, which ztunnel refuses; here it becomes `name=level`). Pure: no I/O.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

from ambientctl.errors import InvalidInputError, UsageError

LOGGING_PATH = "/logging"
# istioctl's names, in its order; `warn` is accepted as `warning`.
LEVELS = ("trace", "debug", "info", "warning", "error", "critical", "off")
_ALIASES = {"warn": "warning"}
ALL_LOGGERS = "level"           # istioctl's name for "every logger"
ENVOY_DEFAULT_LEVEL = "warning"  # istioctl's fallback for `pc log -r`
ZTUNNEL_DEFAULT_LEVEL = "info"   # istioctl's level for `zc log -r`
_ZTUNNEL_LEVEL = {"warning": "warn", "critical": "error"}
_SPLIT = re.compile(r"[:=]")


@dataclass(frozen=True)
class LevelChange:
    """One `[logger:]level` clause; logger is ALL_LOGGERS for a bare level."""

    logger: str
    level: str


def parse_levels(spec: str) -> list[LevelChange]:
    """`--level` as istioctl reads it: the last bare level wins, named loggers keep the user's order.

    `ns::name:level` keeps only `name:level` (istioctl drops the namespace part).
    """
    changes: dict[str, str] = {}
    for clause in spec.split(","):
        clause = clause.strip()
        if not clause:
            raise UsageError(f"empty clause in --level {spec!r}", "use [LOGGER:]LEVEL[,...], e.g. http:debug,info")
        if ":" not in clause and "=" not in clause:
            changes.pop(ALL_LOGGERS, None)
            changes[ALL_LOGGERS] = _level(clause)
            continue
        logger, level = _SPLIT.split(clause.split("::")[-1], maxsplit=1)
        if not logger:
            raise UsageError(f"no logger name in --level clause {clause!r}", "use LOGGER:LEVEL, e.g. http:debug")
        changes[logger] = _level(level)
    ordered = sorted(changes.items(), key=lambda item: item[0] != ALL_LOGGERS)  # all loggers first, as istioctl
    return [LevelChange(logger, level) for logger, level in ordered]


def _level(text: str) -> str:
    level = _ALIASES.get(text, text)
    if level not in LEVELS:
        raise UsageError(f"unrecognized logging level: {text}", f"use one of {', '.join(LEVELS)}")
    return level


def check_reset(level: str | None, reset: bool) -> None:
    if reset and level:
        raise UsageError("--level cannot be combined with --reset", "drop one of them")


# -- Envoy -----------------------------------------------------------------------------------------


def parse_envoy_loggers(text: str) -> dict[str, str]:
    """Envoy's `active loggers:` listing as {logger: level}."""
    loggers: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, level = line.strip().partition(": ")
        if sep and name and " " not in name and line.startswith(" "):
            loggers[name] = level.strip()
    return loggers


def envoy_paths(changes: list[LevelChange], known: dict[str, str]) -> list[str]:
    """The POST paths that apply `changes` to an Envoy whose loggers are `known` (empty: list only).

    A logger Envoy does not have is refused before anything is changed.
    """
    unknown = [c.logger for c in changes if c.logger != ALL_LOGGERS and c.logger not in known]
    if unknown:
        sample = ", ".join(sorted(known)[:12]) + (", ..." if len(known) > 12 else "")
        raise InvalidInputError(f"unrecognized logger name: {unknown[0]}",
                                f"this Envoy has the loggers {sample}" if known else
                                "the proxy listed no loggers")
    if not changes:
        return [LOGGING_PATH]
    return [f"{LOGGING_PATH}?{urllib.parse.quote(c.logger, safe='')}={c.level}" for c in changes]


def envoy_reset_changes(injector_values: str | None) -> list[LevelChange]:
    """`pc log -r`: every logger back to the mesh's proxy log level (`global.proxy.logLevel`), else warning."""
    configured = proxy_log_level(injector_values) or ""
    level = _ALIASES.get(configured, configured)
    return [LevelChange(ALL_LOGGERS, level if level in LEVELS else ENVOY_DEFAULT_LEVEL)]


def proxy_log_level(injector_values: str | None) -> str | None:
    """`global.proxy.logLevel` from the istio-sidecar-injector ConfigMap's `values` (JSON); None if unset."""
    if not injector_values:
        return None
    import json

    try:
        values = json.loads(injector_values)
    except ValueError:
        return None
    level = (((values.get("global") or {}).get("proxy") or {}).get("logLevel")) if isinstance(values, dict) else None
    return level if isinstance(level, str) and level else None


# -- ztunnel ---------------------------------------------------------------------------------------------


def ztunnel_path(changes: list[LevelChange], reset: bool) -> str:
    """The one POST path for ztunnel: `level=<filter>` (`&reset` to start from ztunnel's default)."""
    if reset:
        changes = [LevelChange(ALL_LOGGERS, ZTUNNEL_DEFAULT_LEVEL)]
    if not changes:
        return LOGGING_PATH
    clauses = [_ZTUNNEL_LEVEL.get(c.level, c.level) if c.logger == ALL_LOGGERS
               else f"{c.logger}={_ZTUNNEL_LEVEL.get(c.level, c.level)}" for c in changes]
    query = "level=" + urllib.parse.quote(",".join(clauses), safe=",:=")
    return f"{LOGGING_PATH}?{query}&reset" if reset else f"{LOGGING_PATH}?{query}"


# -- output ---------------------------------------------------------------------------------------------


def format_answer(pod: str, namespace: str, answer: str, *, ztunnel: bool) -> str:
    """istioctl's block per pod: `POD.NS:` then the admin's answer (ztunnel's with one more newline)."""
    return f"{pod}.{namespace}:\n{answer}" + ("\n" if ztunnel else "")
