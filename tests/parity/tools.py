"""Running the two tools side by side on the same inputs, and reading their tables."""

from __future__ import annotations

import atexit
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.support.cli import invoke

# A kubeconfig that points nowhere: commands that need no cluster must not reach one.
_NOWHERE_KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: nowhere, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: nobody, user: {}}]
contexts: [{name: nowhere, context: {cluster: nowhere, user: nobody}}]
current-context: nowhere
"""


@dataclass
class Outcome:
    """What a user sees: exit status, stdout, stderr."""

    tool: str
    argv: list[str]
    exit_code: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def __str__(self) -> str:
        tail = "\n".join(self.stderr.strip().splitlines()[-5:])
        return f"{self.tool} {' '.join(self.argv)} -> exit {self.exit_code}\n{tail}"


_isolated_home: str | None = None


def isolated_home() -> str:
    """A HOME for istioctl with a harmless kubeconfig, so the user's own cluster is never touched."""
    global _isolated_home
    if _isolated_home is None:
        _isolated_home = tempfile.mkdtemp(prefix="parity-home-")
        atexit.register(shutil.rmtree, _isolated_home, ignore_errors=True)
        kube = Path(_isolated_home, ".kube")
        kube.mkdir()
        (kube / "config").write_text(_NOWHERE_KUBECONFIG)
    return _isolated_home


def istioctl(binary: Path, *args: str, kubeconfig: str | None = None, timeout: float = 600,
             stdin: str | None = None) -> Outcome:
    """Run the reference istioctl with an isolated HOME (and the given kubeconfig, if any)."""
    home = isolated_home()
    env = {"HOME": home, "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "KUBECONFIG": kubeconfig or str(Path(home, ".kube", "config"))}
    argv = [*args]
    result = subprocess.run([str(binary), *argv], capture_output=True, text=True, env=env, timeout=timeout,
                            input=stdin)
    return Outcome("istioctl", argv, result.returncode, result.stdout, result.stderr)


def ambientctl(*args: str, kubeconfig: str | None = None) -> Outcome:
    """Run ambientctl in-process, the way the console script does."""
    argv = list(args)
    if kubeconfig:
        argv = ["--kubeconfig", kubeconfig, *argv]
    result = invoke(*argv)
    return Outcome("ambientctl", argv, result.exit_code, result.stdout, result.stderr)


def ambientctl_subprocess(*args: str, kubeconfig: str | None = None, timeout: float = 600) -> Outcome:
    """Run ambientctl as its own process (for timings and for commands that wait on a cluster)."""
    import sys

    argv = list(args)
    env = dict(os.environ)
    if kubeconfig:
        env["KUBECONFIG"] = kubeconfig
    result = subprocess.run([sys.executable, "-m", "ambientctl", *argv], capture_output=True, text=True,
                            env=env, timeout=timeout)
    return Outcome("ambientctl", argv, result.returncode, result.stdout, result.stderr)


def parse_table(text: str) -> list[dict[str, str]]:
    """Rows of a left-aligned fixed-width table (istioctl's tabwriter, or ours) as header -> cell.

    Column starts are where header words start after a run of 2+ spaces, so headers with one
    space inside ("CERTIFICATE NAME") stay one column.  Cells are cut at those starts."""
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    header = lines[0]
    starts = [0] + [m.end() for m in re.finditer(r" {2,}", header)]
    names = [header[s:e].strip() for s, e in zip(starts, starts[1:] + [len(header) + 1])]
    rows = []
    for line in lines[1:]:
        cells = [line[s:e].strip() for s, e in zip(starts, starts[1:] + [None])]
        rows.append(dict(zip(names, cells)))
    return rows
