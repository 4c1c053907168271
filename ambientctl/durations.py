"""Durations as istioctl takes them: Go's `time.ParseDuration` syntax, the one parser for every duration flag.

`--readiness-timeout`, `--lock-timeout`, `--waypoint-timeout` and `--interval`
all read their value here, so `.5s`, `1h30m`, `300ms` and `1.5h` mean the same
everywhere and a bad value gets the same one-line error naming the flag.
Beyond Go, a bare number is seconds (`300`), as both earlier parsers allowed;
Go's own bare `0` is one such number. Negative values are refused: every flag
that reads a duration is a timeout or an interval.
"""

from __future__ import annotations

import re

from ambientctl.errors import InvalidInputError
from ambientctl.lazyre import LazyPattern

# A number needs a digit before or after its dot (`5`, `5.`, `.5`); ASCII digits only, as in Go.
_NUMBER = r"(?:\d+\.?\d*|\.\d+)"
_UNITS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "\u03bcs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_UNIT = "(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h)"  # `ms` before `m`: alternation takes the first that fits
_BARE = LazyPattern(rf"[+-]?{_NUMBER}", re.ASCII)
_GO = LazyPattern(rf"[+-]?(?:{_NUMBER}{_UNIT})+", re.ASCII)
_PART = LazyPattern(rf"({_NUMBER})({_UNIT})", re.ASCII)
EXAMPLE = "use seconds or a duration such as 90s, 1m30s, .5s or 300ms (units ns, us, ms, s, m, h)"


def parse_duration(text: str, flag: str, minimum: float = 0.0) -> float:
    """Seconds from a Go duration (`1h30m`, `.5s`) or a bare number of seconds; refuses below `minimum`."""
    value = (text or "").strip()
    if _BARE.fullmatch(value):
        seconds = float(value)
    elif _GO.fullmatch(value):
        sign = -1.0 if value.startswith("-") else 1.0
        seconds = sign * sum(float(number) * _UNITS[unit] for number, unit in _PART.findall(value))
    else:
        raise _invalid(flag, text)
    if seconds < 0:
        raise _invalid(flag, text, "must not be negative")
    if seconds < minimum:
        raise _invalid(flag, text, f"must be at least {minimum:g}s")
    return seconds


def _invalid(flag: str, text: str, why: str = "") -> InvalidInputError:
    """The one message every duration flag gives."""
    return InvalidInputError(f"invalid duration {text!r} for {flag}" + (f": {why}" if why else ""), EXAMPLE)
