"""Run ambientctl in-process the way a user does, and capture stdout, stderr and the exit code."""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass
from typing import Any, Callable

import pytest
import yaml

from ambientctl.cli import run


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def __iter__(self):
        """`code, out, err = result`: tests that only need the three values unpack it."""
        return iter((self.exit_code, self.stdout, self.stderr))

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)

    @property
    def yaml(self) -> Any:
        return yaml.safe_load(self.stdout)


def invoke(*args: str, stdin: str = "") -> Result:
    """ambientctl ARGS in this process, through the same `run` the console script uses."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), _stdin(stdin):
        code = run(list(args))
    return Result(code, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def _stdin(text: str):
    import sys

    saved = sys.stdin
    sys.stdin = io.StringIO(text)
    try:
        yield
    finally:
        sys.stdin = saved


@pytest.fixture
def ambientctl() -> Callable[..., Result]:
    """The `invoke` function as a fixture."""
    return invoke
