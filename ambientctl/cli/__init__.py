"""The command line (Typer only): the entry point here, the root app in app.py, error mapping in exits.py."""

from __future__ import annotations

import os
import sys


def run(argv: list[str]) -> int:
    """Run ambientctl with `argv` and return the exit code; never raises.

    A plain `zc VIEW --file` or `pc secret --file` read runs without loading
    Typer (cli/fastpath.py); every other command line goes through Typer.
    """
    from ambientctl.cli.fastpath import run_without_typer

    code = run_without_typer(argv)
    return run_with_typer(argv) if code is None else code


def run_with_typer(argv: list[str]) -> int:
    """Parse and run `argv` with the Typer app (every command; see `run`)."""
    from ambientctl.cli.app import app

    return int(app(args=argv, prog_name="ambientctl", standalone_mode=False) or 0)


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
