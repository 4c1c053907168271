"""The one duration rule (ambientctl.durations): Go's time.ParseDuration syntax, for every duration flag."""

from __future__ import annotations

import pytest

from ambientctl.durations import parse_duration
from ambientctl.errors import ExitCode, InvalidInputError
from tests.support.cli import invoke


@pytest.mark.parametrize(("text", "seconds"), [
    # Go's syntax, as istioctl takes it
    (".5s", 0.5), ("1h30m", 5400), ("300ms", 0.3), ("1.5h", 5400), ("90s", 90), ("2m", 120), ("1m30s", 90),
    ("2.5s", 2.5), ("1.5m", 90), ("5.s", 5), ("100ns", 1e-7), ("100us", 1e-4), ("100\u00b5s", 1e-4),
    ("100\u03bcs", 1e-4), ("1h0m0.5s", 3600.5), ("+5s", 5), ("0s", 0), ("-0s", 0),
    # Go accepts a bare 0; a bare number is seconds (both earlier parsers allowed it)
    ("0", 0), ("300", 300), ("5", 5), ("2.5", 2.5), (" 90s ", 90),
])
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_duration(text, "--waypoint-timeout") == pytest.approx(seconds)


@pytest.mark.parametrize("text", [
    "", " ", "abc", "10x", "s", ".s", "1m 30s", "5 minutes", "m5", "1.2.3s", "1e3s", "1e3", "inf", "nan",
    "5S", "1d", "\u0663s", "--5s", "5s-",
])
def test_not_durations(text: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_duration(text, "--readiness-timeout")
    assert info.value.message == f"invalid duration {text!r} for --readiness-timeout"
    assert "1m30s" in info.value.hint and ".5s" in info.value.hint
    assert info.value.exit_code == ExitCode.INVALID_INPUT


@pytest.mark.parametrize("text", ["-1s", "-5", "-.5s", "-1h30m"])
def test_negative_refused(text: str) -> None:
    with pytest.raises(InvalidInputError, match=r"^invalid duration .* for --lock-timeout: must not be negative$"):
        parse_duration(text, "--lock-timeout")


def test_minimum() -> None:
    assert parse_duration("200ms", "--interval", minimum=0.2) == pytest.approx(0.2)
    with pytest.raises(InvalidInputError, match=r"invalid duration '100ms' for --interval: must be at least 0.2s"):
        parse_duration("100ms", "--interval", minimum=0.2)


@pytest.mark.parametrize(("args", "flag"), [
    (["install", "--readiness-timeout", "5x", "-y"], "--readiness-timeout"),
    (["install", "--lock-timeout", "-1s", "-y"], "--lock-timeout"),
    (["waypoint", "apply", "--wait", "--waypoint-timeout", "1d"], "--waypoint-timeout"),
    (["waypoint", "status", "--wait", "--waypoint-timeout", "-2s"], "--waypoint-timeout"),
    (["waypoint", "metrics", "--watch", "--interval", "50ms"], "--interval"),
])
def test_every_duration_flag_gives_the_same_error_before_any_request(args: list[str], flag: str, tmp_path) -> None:
    """A bad duration fails with exit 11 and the one message, before the (missing) kubeconfig is read."""
    result = invoke("-c", str(tmp_path / "missing-kubeconfig"), *args)
    assert result.exit_code == ExitCode.INVALID_INPUT, result.stderr
    assert result.stderr.startswith("Error: invalid duration ") and f" for {flag}" in result.stderr, result.stderr
