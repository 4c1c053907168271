"""Regular expressions compiled on first use.

Compiling costs ~0.2 ms a pattern; a module-level `re.compile` makes every
command that imports the module pay for it, used or not (startup matters:
`pc secret --file` is measured against istioctl).
"""

from __future__ import annotations

import re
from typing import Any


class LazyPattern:
    """Stands in for `re.compile(pattern, flags)`; the first method looked up compiles it."""

    def __init__(self, pattern: str | bytes, flags: int = 0) -> None:
        self._source = (pattern, flags)

    def __getattr__(self, name: str) -> Any:
        """Called only for attributes not yet cached: compile, then keep the bound method."""
        if name.startswith("__"):
            raise AttributeError(name)
        attribute = getattr(re.compile(*self._source), name)
        self.__dict__[name] = attribute  # later lookups find it directly, at C speed
        return attribute
