"""Small, named cluster checks (linkerd-style) and their printers.

A check is a description plus a function that inspects the cluster and
returns a `CheckResult` (ok / warn / fail, a message and a hint). Keeping
each check tiny makes it testable on its own and lets `precheck` and
`verify-install` share one way of printing and of choosing the exit code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from ambientctl.errors import ChecksFailedError, CRDMissingError, ForbiddenError

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient


class Status(str, Enum):
    """The outcome of one check: `fail` makes the command exit non-zero, `warn` does not."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


MARKS = {Status.OK: "✔", Status.WARN: "!", Status.FAIL: "✘"}


@dataclass
class CheckResult:
    """What a check found: a one-line message, details (one per line) and what to do next."""

    status: Status
    message: str
    hint: str = ""
    details: list[str] = field(default_factory=list)

    @classmethod
    def ok(cls, message: str, details: Sequence[str] = ()) -> CheckResult:
        return cls(Status.OK, message, "", list(details))

    @classmethod
    def warn(cls, message: str, hint: str = "", details: Sequence[str] = ()) -> CheckResult:
        return cls(Status.WARN, message, hint, list(details))

    @classmethod
    def fail(cls, message: str, hint: str = "", details: Sequence[str] = ()) -> CheckResult:
        return cls(Status.FAIL, message, hint, list(details))


@dataclass
class Check:
    """A named check; `run` gets the kube client and returns one result."""

    name: str
    description: str
    run: Callable[[KubeClient], CheckResult]


@dataclass
class Outcome:
    """A check together with its result, as printed and as serialised for `-o json`."""

    check: str
    description: str
    result: CheckResult

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "description": self.description,
            "status": self.result.status.value,
            "message": self.result.message,
            "hint": self.result.hint,
            "details": list(self.result.details),
        }


def run_checks(kube: KubeClient, checks: Iterable[Check]) -> list[Outcome]:
    """Run every check; a check the user may not run (RBAC) or whose API is absent becomes a warning.

    Other errors (cluster unreachable, timeouts) propagate: no later check could succeed.
    """
    outcomes = []
    for check in checks:
        try:
            result = check.run(kube)
        except ForbiddenError as exc:
            result = CheckResult.warn(f"could not check: {exc.message}", exc.hint)
        except CRDMissingError as exc:
            result = CheckResult.warn(f"could not check: {exc.message}", exc.hint)
        outcomes.append(Outcome(check.name, check.description, result))
    return outcomes


def format_outcome(outcome: Outcome) -> str:
    """`✔ description: message`, then indented details and the hint (for ! and ✘ only)."""
    result = outcome.result
    lines = [f"{MARKS[result.status]} {outcome.description}: {result.message}"]
    lines.extend(f"    {detail}" for detail in result.details)
    if result.hint and result.status is not Status.OK:
        lines.append(f"    hint: {result.hint}")
    return "\n".join(lines) + "\n"


def count(outcomes: Iterable[Outcome], status: Status) -> int:
    return sum(1 for o in outcomes if o.result.status is status)


def outcomes_document(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """The `-o json|yaml` document: every check and a summary."""
    return {
        "checks": [o.as_dict() for o in outcomes],
        "summary": {
            "ok": count(outcomes, Status.OK),
            "warnings": count(outcomes, Status.WARN),
            "failed": count(outcomes, Status.FAIL),
        },
    }


def raise_if_failed(outcomes: Sequence[Outcome], what: str, hint: str) -> None:
    """Exit 3 (ChecksFailedError) when any check failed."""
    failed = [o for o in outcomes if o.result.status is Status.FAIL]
    if failed:
        names = ", ".join(o.description for o in failed)
        raise ChecksFailedError(f"{what}: {len(failed)} check(s) failed ({names})", hint)
