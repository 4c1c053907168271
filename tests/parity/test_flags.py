"""istioctl's flags beside ambientctl's: every invocation of the table parses in both tools.

No cluster: both point at a kubeconfig whose server is 127.0.0.1:1, so a command
that parsed its flags fails to connect, and one that did not says so first
(istioctl: `unknown flag`; ambientctl: `No such option`). The table's effects
on a cluster are tested in tests/unit/test_istioctl_flags.py; here the
reference binary proves each flag is istioctl's, and that ambientctl either
accepts it or refuses it on purpose, in one line saying what to use.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.parity.tools import ambientctl, isolated_home, istioctl

ISTIOCTL_PARSE_ERRORS = ("unknown flag", "unknown shorthand flag", "invalid argument", "unknown command")

# (argv, "accepted" or "refused": what ambientctl does with istioctl's flag)
TABLE: list[tuple[list[str], str]] = [
    # global flags, on a command that reads no cluster (istioctl retries a dead server for minutes)
    (["--istioNamespace", "istio-system", "version", "--remote=false"], "accepted"),
    (["version", "--remote=false", "-i", "istio-system", "--as", "jane", "--as-group", "devs", "--as-uid", "42"],
     "accepted"),
    (["--vklog=9", "version", "--remote=false"], "accepted"),
    (["--kubeclient-timeout", "5s", "version", "--remote=false"], "accepted"),
    (["version", "--remote=false"], "accepted"),
    (["version", "-r", "canary"], "accepted"),
    (["waypoint", "status", "--wait=false"], "accepted"),
    (["waypoint", "status", "--name", "waypoint", "--wait=false"], "accepted"),
    (["waypoint", "list", "--name", "waypoint"], "accepted"),
    (["waypoint", "delete", "--name", "waypoint"], "accepted"),
    (["waypoint", "apply", "--wait=false", "--name", "waypoint"], "accepted"),
    (["install", "--set", "profile=ambient", "--verify", "--force", "-y"], "accepted"),
    (["install", "-d", "/nonexistent/manifests", "-y"], "refused"),
    (["uninstall", "--set", "revision=canary", "-v", "-y"], "accepted"),
    (["uninstall", "-f", "{overlay}", "-y"], "accepted"),
    (["uninstall", "-d", "/nonexistent/manifests", "-y"], "refused"),
    (["manifest", "generate", "--set", "profile=ambient", "--dry-run", "--force"], "accepted"),
    (["manifest", "generate", "-d", "/nonexistent/manifests"], "refused"),
    (["manifest", "generate", "--cluster-specific"], "refused"),
    (["x", "precheck", "-o", "log"], "accepted"),
    (["x", "precheck", "--from-version", "1.30.0"], "accepted"),
    (["x", "precheck", "-r", "canary"], "accepted"),
    (["x", "precheck", "--skip-controlplane"], "refused"),
]

OVERLAY = "apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec:\n  revision: canary\n"


@pytest.mark.parametrize(("argv", "ours"), TABLE, ids=lambda v: " ".join(v) if isinstance(v, list) else v)
def test_istioctl_flag_parses_in_both(istioctl_bin: Path, tmp_path: Path, argv: list[str], ours: str):
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(OVERLAY)
    argv = [a.replace("{overlay}", str(overlay)) for a in argv]
    kubeconfig = str(Path(isolated_home(), ".kube", "config"))
    theirs = istioctl(istioctl_bin, *argv, kubeconfig=kubeconfig, timeout=60)
    assert not any(e in theirs.stderr for e in ISTIOCTL_PARSE_ERRORS), f"not istioctl's flag: {theirs}"
    mine = ambientctl(*argv, kubeconfig=kubeconfig)
    assert "No such option" not in mine.stderr and "No such command" not in mine.stderr, str(mine)
    refusal = [line for line in mine.stderr.splitlines() if "is not supported:" in line]
    if ours == "refused":
        assert mine.exit_code == 2 and len(refusal) == 1 and "; " in refusal[0], str(mine)
    else:
        assert not refusal, str(mine)
