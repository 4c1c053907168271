"""Every error ambientctl reports, and the exit code each one maps to.

Commands raise these; `ambientctl.cli.main` is the one place that turns them
into a single line on stderr and an exit code. Each error carries a `hint`
that tells the user what to do next.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Sequence


class ExitCode(IntEnum):
    """Process exit codes; documented in docs/exit-codes.md."""

    OK = 0
    ERROR = 1
    USAGE = 2
    CHECK_FAILED = 3
    TIMEOUT = 4
    UNREACHABLE = 5
    KUBECONFIG = 6
    FORBIDDEN = 7
    NOT_FOUND = 8
    CONFLICT = 9
    CRD_MISSING = 10
    INVALID_INPUT = 11
    ABORTED = 12
    INTERRUPTED = 130


class AmbientctlError(Exception):
    """Base class: a message for the user, a hint, and an exit code."""

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        """The message and hint joined on one line, as printed on stderr."""
        text = self.message.replace("\n", " ").strip()
        if self.hint:
            text = f"{text}; {self.hint}"
        return text


def raise_first(failed: Sequence[tuple[str, AmbientctlError]], noun: str = "pod") -> None:
    """Of (where, error) pairs from a command run on several targets, raise the first, naming where and how many
    more failed; nothing when none did. Why: the other targets' answers are printed first, the failure once."""
    if failed:
        where, first = failed[0]
        more = f" (and {len(failed) - 1} more {noun}(s))" if len(failed) > 1 else ""
        first.message = f"{where}: {first.message}{more}"
        raise first


class InvalidInputError(AmbientctlError):
    """A flag, file, --set value or dump that cannot be used."""

    exit_code = ExitCode.INVALID_INPUT


class UsageError(AmbientctlError):
    """Flags that contradict each other or are missing."""

    exit_code = ExitCode.USAGE


class KubeconfigNotFoundError(AmbientctlError):
    """No kubeconfig file at the given or default path."""

    exit_code = ExitCode.KUBECONFIG


class ContextNotFoundError(AmbientctlError):
    """The kubeconfig has no context of the requested name."""

    exit_code = ExitCode.KUBECONFIG


class KubeconfigInvalidError(AmbientctlError):
    """The kubeconfig exists but cannot be used."""

    exit_code = ExitCode.KUBECONFIG


class ClusterUnreachableError(AmbientctlError):
    """The API server did not answer (connection refused, DNS, TLS)."""

    exit_code = ExitCode.UNREACHABLE


class UnauthorizedError(AmbientctlError):
    """The API server rejected the credentials (HTTP 401)."""

    exit_code = ExitCode.FORBIDDEN


class ForbiddenError(AmbientctlError):
    """RBAC denied a request (HTTP 403)."""

    exit_code = ExitCode.FORBIDDEN


class NotFoundError(AmbientctlError):
    """An object the command needs does not exist (HTTP 404)."""

    exit_code = ExitCode.NOT_FOUND


class ConflictError(AmbientctlError):
    """Another field manager owns a field we apply, or the object changed under us."""

    exit_code = ExitCode.CONFLICT


class CRDMissingError(AmbientctlError):
    """The API group of a custom resource is not served by the cluster."""

    exit_code = ExitCode.CRD_MISSING


class InvalidObjectError(AmbientctlError):
    """The API server rejected an object as invalid (HTTP 422, admission)."""

    exit_code = ExitCode.INVALID_INPUT


class ApiServerError(AmbientctlError):
    """The API server failed (HTTP 5xx) or answered unexpectedly."""

    exit_code = ExitCode.ERROR


class ListExpiredError(ApiServerError):
    """A paged LIST's `continue` token expired (HTTP 410): the collection changed too much meanwhile."""


class KubeTimeoutError(AmbientctlError):
    """A request or a wait ran out of time."""

    exit_code = ExitCode.TIMEOUT


class ChecksFailedError(AmbientctlError):
    """One or more checks (precheck, verify-install, analyze) failed."""

    exit_code = ExitCode.CHECK_FAILED


class AbortedError(AmbientctlError):
    """The user declined a confirmation prompt."""

    exit_code = ExitCode.ABORTED
