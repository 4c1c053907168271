"""The real data plane fails loudly when ztunnel or istiod cannot be built: the error names the build and
carries its log's tail (tests/support/ztunnel.py, tests/support/realmesh.py)."""

from __future__ import annotations

import pytest

from tests.support import realmesh, reference
from tests.support import ztunnel as zt


def test_a_failed_ztunnel_build_raises_with_the_log_tail(tmp_path, monkeypatch):
    log = tmp_path / "build.log"
    script = tmp_path / "build.sh"
    script.write_text(f"#!/bin/sh\necho 'error: linker cc not found' >> {log}\nexit 101\n")
    script.chmod(0o755)
    monkeypatch.setattr(zt, "BINARY", tmp_path / "bin" / "ztunnel")
    monkeypatch.setattr(zt, "BUILD_SCRIPT", script)
    monkeypatch.setattr(zt, "BUILD_LOG", log)
    said: list[str] = []
    with pytest.raises(realmesh.RealMeshUnavailable) as failure:
        realmesh.build_ztunnel(said.append)
    assert "ztunnel build failed (exit 101)" in str(failure.value)
    assert "error: linker cc not found" in str(failure.value)
    assert said[0].startswith("[build] ztunnel (cargo): starting") and "FAILED" in said[-1]


def test_a_failed_istiod_build_raises_with_the_log_tail(tmp_path, monkeypatch):
    script = tmp_path / "build.sh"
    script.write_text("#!/bin/sh\necho 'go: module lookup disabled' >&2\nexit 1\n")
    script.chmod(0o755)
    monkeypatch.setattr(reference, "BIN_DIR", tmp_path / "bin")
    monkeypatch.setattr(reference, "BUILD_SCRIPT", script)
    monkeypatch.setattr(reference, "BUILD_LOG", tmp_path / "build.log")
    with pytest.raises(realmesh.RealMeshUnavailable) as failure:
        realmesh.build_pilot_discovery(lambda _: None)
    assert "building istiod (pilot-discovery) failed (exit 1)" in str(failure.value)
    assert "go: module lookup disabled" in str(failure.value)
