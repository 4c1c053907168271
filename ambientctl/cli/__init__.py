"""The command line: the root app, and the one place that turns errors into exit codes."""

from __future__ import annotations

import os
import sys
from typing import Callable

import click

from ambientctl.errors import AmbientctlError, ExitCode


def _print_error(text: str) -> None:
    sys.stderr.write(f"Error: {text}\n")
    sys.stderr.flush()


def _print_traceback() -> None:
    """--debug only: `traceback` costs ~8 ms of imports that normal runs should not pay."""
    import traceback

    traceback.print_exc()


def run(argv: list[str]) -> int:
    """Run ambientctl with `argv` and return the exit code; never raises."""
    from ambientctl.cli.app import app

    return int(app(args=argv, prog_name="ambientctl", standalone_mode=False) or 0)


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
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
        _print_error(f"{exc.format_message()}{hint}")
        return int(ExitCode.USAGE)
    except click.ClickException as exc:
        _print_error(exc.format_message())
        return int(ExitCode.USAGE)
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt) or isinstance(exc.__context__, KeyboardInterrupt):
            _print_error("interrupted; re-run the same command to finish or repair")
            return int(ExitCode.INTERRUPTED)
        _print_error("aborted")
        return int(ExitCode.ABORTED)
    except KeyboardInterrupt:
        _print_error("interrupted; re-run the same command to finish or repair")
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        return int(ExitCode.OK)
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        if debug:
            _print_traceback()
        _print_error(f"internal error ({type(exc).__name__}: {str(exc)[:200]}); re-run with --debug and report it")
        return int(ExitCode.ERROR)


def main() -> None:
    """Console-script entry point (also `python -m ambientctl`)."""
    _tune_garbage_collector()
    code = run(sys.argv[1:])
    _exit_without_teardown(code)


def _tune_garbage_collector() -> None:
    """Collect cycles every 50,000 allocations instead of every 700.

    Importing the CLI framework and reading a big config dump allocate
    hundreds of thousands of objects, none of them in cycles; the default
    threshold walks them all again and again (~5 ms of `pc secret --file`).
    Long-running commands (`--watch`) still collect.
    """
    import gc

    gc.set_threshold(50_000, 20, 20)


def _exit_without_teardown(code: int) -> None:
    """Run atexit handlers, flush, and leave without freeing every object one by one.

    Python's own shutdown (clearing modules, deallocating a 1,000-identity
    dump) costs ~15 ms that a short-lived CLI does not need. atexit handlers
    still run: the kubernetes client's removal of its temporary certificate
    files, logging's flush.
    """
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):
            pass
    os._exit(code)
