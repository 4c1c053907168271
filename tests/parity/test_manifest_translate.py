"""`manifest translate` beside `istioctl manifest translate`: the same Helm releases, charts and values.

Both tools write a directory (-o); the values files are compared key by key
(dotted paths). Every difference must be listed in KNOWN with its reason, and
an entry that matches nothing fails too (stale)."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.parity.tools import ambientctl, istioctl

RELEASES = ("base", "pilot", "cni", "ztunnel")
ABSENT = "<absent>"
# (args, values file, dotted key) patterns -> reason.
EXPLICIT_PROFILE = (
    "ambientctl's ambient profile spells out what Istio's charts apply for `profile: ambient` "
    "(docs/profiles.md); istioctl leaves it to the chart. Same resulting install."
)
CHART_DEFAULT = "A chart default: ambientctl writes only values that differ from the default profile."
KNOWN: dict[tuple[str, str, str], str] = {
    ("*", "*", "cni.ambient.enabled"): EXPLICIT_PROFILE,
    ("*", "*", "global.variant"): EXPLICIT_PROFILE,
    ("*", "*", "meshConfig.defaultConfig.proxyMetadata.ISTIO_META_ENABLE_HBONE"): EXPLICIT_PROFILE,
    ("*", "*", "meshConfig.serviceScopeConfigs"): EXPLICIT_PROFILE,
    ("*", "*", "pilot.env.PILOT_ENABLE_AMBIENT"): EXPLICIT_PROFILE,
    ("*", "*", "gateways.istio-*gateway"): CHART_DEFAULT + " (an empty map, istioctl's leftover of the gateways)",
    ("*", "*", "pilot.enabled"): CHART_DEFAULT,
    ("*", "ztunnel-values.yaml", "resourceName"): CHART_DEFAULT,
    ("*", "*", "ztunnel.resourceName"): CHART_DEFAULT,
}


def _flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(tree, dict) and tree:
        out: dict[str, Any] = {}
        for key, value in tree.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: tree}


def _translate(tool: str, binary: Path, directory: Path, args: tuple[str, ...]) -> Path:
    directory.mkdir()
    argv = ("manifest", "translate", *args, "-o", str(directory))
    outcome = istioctl(binary, *argv) if tool == "istioctl" else ambientctl(*argv)
    assert outcome.ok, outcome
    return directory


def _differences(ours: Path, theirs: Path, args: str) -> list[tuple[str, str, str, Any, Any]]:
    found = []
    for release in RELEASES:
        name = f"{release}-values.yaml"
        mine = _flatten(yaml.safe_load((ours / name).read_text()))
        other = _flatten(yaml.safe_load((theirs / name).read_text()))
        for key in sorted(set(mine) | set(other)):
            if mine.get(key, ABSENT) != other.get(key, ABSENT):
                found.append((args, name, key, mine.get(key, ABSENT), other.get(key, ABSENT)))
    return found


CASES = [("--set", "profile=ambient"), ("--set", "profile=ambient", "--set", "meshConfig.enableTracing=true")]


@pytest.fixture(scope="module")
def translated(istioctl_bin, tmp_path_factory) -> list[tuple[str, Path, Path]]:
    out = []
    for number, args in enumerate(CASES):
        base = tmp_path_factory.mktemp(f"translate{number}")
        out.append((" ".join(args), _translate("ambientctl", istioctl_bin, base / "ours", args),
                    _translate("istioctl", istioctl_bin, base / "theirs", args)))
    return out


def test_same_files_releases_and_charts(translated):
    for _, ours, theirs in translated:
        assert sorted(p.name for p in ours.iterdir()) == sorted(p.name for p in theirs.iterdir())
        for release in RELEASES:
            helm = [re.search(r"helm upgrade --install (\S+) .*(oci://\S+)", line)
                    for directory in (ours, theirs)
                    for line in (directory / f"install-{release}.sh").read_text().splitlines()
                    if line.startswith("helm ")]
            assert len(helm) == 2 and all(helm), release
            assert helm[0].groups() == helm[1].groups() == (release, helm[1].group(2))


def test_every_values_difference_is_known(translated):
    differences = [d for args, ours, theirs in translated for d in _differences(ours, theirs, args)]
    unexplained = [d for d in differences
                   if not any(fnmatchcase(d[0], a) and fnmatchcase(d[1], f) and fnmatchcase(d[2], k)
                              for a, f, k in KNOWN)]
    assert not unexplained, "\n".join(f"{a} {f} {k}: ours={o!r} theirs={t!r}" for a, f, k, o, t in unexplained)
    stale = [entry for entry in KNOWN
             if not any(fnmatchcase(d[0], entry[0]) and fnmatchcase(d[1], entry[1]) and fnmatchcase(d[2], entry[2])
                        for d in differences)]
    assert not stale, stale


def test_the_set_flag_reaches_the_same_values(translated):
    """Guards against a vacuous comparison: the --set case differs from the plain one on both sides."""
    (_, plain_ours, plain_theirs), (_, set_ours, set_theirs) = translated
    for plain, changed in ((plain_ours, set_ours), (plain_theirs, set_theirs)):
        before = yaml.safe_load((plain / "pilot-values.yaml").read_text())
        after = yaml.safe_load((changed / "pilot-values.yaml").read_text())
        assert "meshConfig" not in before or "enableTracing" not in before["meshConfig"]
        assert after["meshConfig"]["enableTracing"] is True
