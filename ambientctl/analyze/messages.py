"""Analysis messages: level, code, resource and a text that says how to fix it (istioctl analyze's shape)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from ambientctl.errors import InvalidInputError

# istioctl analyze's exit codes (istioctl/cmd/sysexits.go), mirrored so CI
# scripts written for `istioctl analyze` keep working.
EXIT_ISSUES_FOUND = 79
EXIT_FILE_PARSE_ERROR = 65


class Level(IntEnum):
    """Severity; a higher value is worse."""

    Info = 0
    Warning = 1
    Error = 2

    @classmethod
    def parse(cls, text: str, flag: str) -> Level:
        for level in cls:
            if level.name.lower() == text.strip().lower() or (text.lower() == "warn" and level is cls.Warning):
                return level
        raise InvalidInputError(f"{flag} {text!r} is not a level", "use Info, Warning or Error")


class AnalyzeFileError(InvalidInputError):
    """A file given to analyze cannot be read or parsed (istioctl's exit code 65)."""

    exit_code = EXIT_FILE_PARSE_ERROR  # type: ignore[assignment]


@dataclass(frozen=True)
class Message:
    """One finding. `resource` is `Kind namespace/name`; `origin` the file it came from, if any."""

    level: Level
    code: str
    resource: str
    text: str
    origin: str | None = None

    def line(self) -> str:
        """istioctl's log format: `Error [AMB0001] (AuthorizationPolicy default/x) text`."""
        where = f" {self.origin}" if self.origin else ""
        return f"{self.level.name} [{self.code}] ({self.resource}{where}) {self.text}"

    def as_dict(self) -> dict[str, str]:
        data = {"code": self.code, "level": self.level.name, "origin": self.resource, "message": self.text}
        if self.origin:
            data["file"] = self.origin
        return data
