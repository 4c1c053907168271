"""Analysis messages: level, code, resource and a text that says how to fix it (istioctl analyze's shape)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from ambientctl.errors import AmbientctlError, InvalidInputError

# istioctl analyze's exit codes (istioctl/cmd/sysexits.go), mirrored so CI
# scripts written for `istioctl analyze` keep working.
EXIT_ISSUES_FOUND = 79
EXIT_FILE_PARSE_ERROR = 65
EXIT_USAGE = 64
# Where istioctl's messages are documented (the code, lower-cased, is appended).
ISTIO_DOCS = "https://istio.io/v1.31/docs/reference/config/analysis"


def documentation_url(code: str) -> str:
    """Where a code is explained: Istio's page for IST codes, ambientctl's analyze doc for AMB codes."""
    if code.startswith("IST"):
        return f"{ISTIO_DOCS}/{code.lower()}/"
    return f"docs/analyze.md#{code.lower()}"


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
        raise AnalyzeUsageError(f"invalid value {text!r} for {flag}: not a level", "use Info, Warning or Error")


class AnalyzeFileError(InvalidInputError):
    """A file given to analyze cannot be read or parsed (istioctl's exit code 65)."""

    exit_code = EXIT_FILE_PARSE_ERROR  # type: ignore[assignment]


class AnalyzeUsageError(AmbientctlError):
    """A flag value or argument analyze cannot use (istioctl's exit code 64, incorrect usage)."""

    exit_code = EXIT_USAGE  # type: ignore[assignment]


@dataclass(frozen=True)
class Message:
    """One finding. `resource` is `Kind namespace/name`; `origin` the file it came from, if any.

    `line` is where in that file (the field the message is about, else the
    object's first line); istioctl prints the two as `file:line`.
    """

    level: Level
    code: str
    resource: str
    text: str
    origin: str | None = None
    line: int = 0

    @property
    def namespace(self) -> str:
        """The namespace a message is about (a Namespace's own name, as istioctl filters them); "" if none."""
        kind, _, rest = self.resource.partition(" ")
        if kind == "Namespace":
            return rest
        namespace, slash, _ = rest.partition("/")
        return namespace if slash else ""

    @property
    def reference(self) -> str | None:
        """`file:line` (JSON files: no line, as istioctl), or None for cluster objects."""
        if not self.origin:
            return None
        if self.line > 0 and not self.origin.endswith(".json"):
            return f"{self.origin}:{self.line}"
        return self.origin

    def line_text(self) -> str:
        """istioctl's log format: `Error [IST0101] (VirtualService ns/name file.yaml:8) text`."""
        where = f" {self.reference}" if self.reference else ""
        return f"{self.level.name} [{self.code}] ({self.resource}{where}) {self.text}"

    def as_dict(self) -> dict[str, str]:
        """istioctl's JSON/YAML shape: code, documentationUrl, level, message, origin[, reference]."""
        data = {"code": self.code, "documentationUrl": documentation_url(self.code), "level": self.level.name,
                "message": self.text, "origin": self.resource}
        if self.reference:
            data["reference"] = self.reference
        return data

    def sort_key(self) -> tuple:
        """istioctl's order: worst level first, then code, then kind/name/namespace, then the text."""
        kind, _, rest = self.resource.partition(" ")
        namespace, _, name = rest.rpartition("/")
        return (-self.level, self.code, f"{kind}/{name}/{namespace}", self.line_text())


def sorted_unique(messages: list[Message]) -> list[Message]:
    """istioctl's sorted, de-duplicated list (two messages that print the same line are one)."""
    out: list[Message] = []
    for message in sorted(messages, key=Message.sort_key):
        if not out or out[-1].line_text() != message.line_text():
            out.append(message)
    return out
