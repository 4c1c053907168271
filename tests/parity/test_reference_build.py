"""The reference-binary fixture: builds when missing, and explains a failed build (no binaries needed)."""

from __future__ import annotations

import stat

import pytest

from tests.support import reference


@pytest.fixture
def fake_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(reference, "CACHE", tmp_path)
    monkeypatch.setattr(reference, "BIN_DIR", tmp_path / "bin")
    monkeypatch.setattr(reference, "BUILD_LOG", tmp_path / "build.log")
    return tmp_path


def _script(path, body: str):
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_a_failed_build_becomes_a_reason_with_the_log_tail(fake_cache, monkeypatch):
    failing = _script(fake_cache / "build.sh", "echo 'go: module lookup failed'\nexit 3\n")
    monkeypatch.setattr(reference, "BUILD_SCRIPT", failing)
    outcome = reference.ensure_built()
    assert isinstance(outcome, str)
    assert "exit 3" in outcome and "go: module lookup failed" in outcome


def test_a_successful_build_returns_both_binaries(fake_cache, monkeypatch):
    body = f"mkdir -p {fake_cache}/bin && touch {fake_cache}/bin/istioctl {fake_cache}/bin/pilot-discovery\n"
    monkeypatch.setattr(reference, "BUILD_SCRIPT", _script(fake_cache / "build.sh", body))
    outcome = reference.ensure_built()
    assert outcome == reference.Binaries(fake_cache / "bin" / "istioctl", fake_cache / "bin" / "pilot-discovery")


def test_cached_binaries_are_not_rebuilt(fake_cache, monkeypatch):
    (fake_cache / "bin").mkdir()
    for name in ("istioctl", "pilot-discovery"):
        (fake_cache / "bin" / name).touch()
    monkeypatch.setattr(reference, "BUILD_SCRIPT", _script(fake_cache / "build.sh", "exit 1\n"))
    assert isinstance(reference.ensure_built(), reference.Binaries)
