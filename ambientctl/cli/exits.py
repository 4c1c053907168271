"""The one place exceptions become an `Error:` line on stderr and an exit code (docs/exit-codes.md).

Click is not imported here: cli/fastpath.py maps its errors through this module
without loading Click, and a Click exception can only be raised once Click is loaded.
"""

from __future__ import annotations

import os
import sys
from typing import Callable, Optional

from ambientctl.errors import AmbientctlError, ExitCode


def _print_error(text: str) -> None:
    sys.stderr.write(f"Error: {text}\n")
    sys.stderr.flush()


def _print_traceback() -> None:
    """--debug only: `traceback` costs ~8 ms of imports that normal runs should not pay."""
    import traceback

    traceback.print_exc()


def call_mapping_errors(func: Callable[[], object], argv: list[str]) -> int:
    """Call the parsed command; turn every exception into one stderr line and an exit code."""
    debug = "--debug" in argv or os.environ.get("AMBIENTCTL_DEBUG") == "1"
    try:
        result = func()
        if result == ExitCode.INTERRUPTED:  # typer turns Ctrl-C into a silent 130: say it, once
            _print_error("interrupted; re-run the same command to finish or repair")
        return result if isinstance(result, int) else 0
    except AmbientctlError as exc:
        if debug:
            _print_traceback()
        _print_error(exc.one_line())
        return int(exc.exit_code)
    except KeyboardInterrupt:
        _print_error("interrupted; re-run the same command to finish or repair")
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        return int(ExitCode.OK)
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        code = _click_exit_code(exc)
        if code is not None:
            return code
        if debug:
            _print_traceback()
        _print_error(f"internal error ({type(exc).__name__}: {str(exc)[:200]}); re-run with --debug and report it")
        return int(ExitCode.ERROR)


def _click_exit_code(exc: Exception) -> Optional[int]:
    """Click's own exceptions (usage errors, --help's exit, Abort), or None for any other exception."""
    click = sys.modules.get("click")
    if click is None:
        return None
    if isinstance(exc, click.exceptions.Exit):
        return int(exc.exit_code)
    if isinstance(exc, click.UsageError):
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
        _print_error(f"{exc.format_message()}{hint}")
        return int(ExitCode.USAGE)
    if isinstance(exc, click.ClickException):
        _print_error(exc.format_message())
        return int(ExitCode.USAGE)
    if isinstance(exc, click.exceptions.Abort):
        if isinstance(exc.__cause__, KeyboardInterrupt) or isinstance(exc.__context__, KeyboardInterrupt):
            _print_error("interrupted; re-run the same command to finish or repair")
            return int(ExitCode.INTERRUPTED)
        _print_error("aborted")
        return int(ExitCode.ABORTED)
    return None
