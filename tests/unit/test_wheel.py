"""A built wheel works on its own: profiles and manifests are inside it, read via importlib.resources."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory):
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(work / "dist"), str(ROOT)],
                   check=True)
    wheel = next((work / "dist").glob("ambientctl-*.whl"))
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], check=True)
    return venv


@pytest.mark.slow
def test_wheel_ships_profiles_and_manifests(wheel_venv, tmp_path):
    exe = wheel_venv / "bin" / "ambientctl"
    # Run from an unrelated directory so the checkout's files cannot be picked up.
    profiles = subprocess.run([str(exe), "profile", "list"], capture_output=True, text=True, cwd=tmp_path)
    assert profiles.returncode == 0, profiles.stderr
    assert "ambient" in profiles.stdout.split()
    manifest = subprocess.run([str(exe), "manifest", "generate", "--set", "profile=ambient"],
                              capture_output=True, text=True, cwd=tmp_path)
    assert manifest.returncode == 0, manifest.stderr
    assert "kind: DaemonSet" in manifest.stdout and "name: ztunnel" in manifest.stdout
    translated = subprocess.run([str(exe), "manifest", "translate", "--set", "profile=ambient", "-o", "helm"],
                                capture_output=True, text=True, cwd=tmp_path)
    assert translated.returncode == 0, translated.stderr
    assert "profile: ambient" in (tmp_path / "helm" / "ztunnel-values.yaml").read_text()
    location = subprocess.run([str(wheel_venv / "bin" / "python"), "-c",
                               "import ambientctl, os; print(os.path.dirname(ambientctl.__file__))"],
                              capture_output=True, text=True, cwd=tmp_path, check=True).stdout.strip()
    assert str(wheel_venv) in location
