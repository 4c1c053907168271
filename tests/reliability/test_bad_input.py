"""Every case of the bad-input corpus: one `Error:` line naming the problem, exit 2 or 11, no traceback.

The corpus (tests/reliability/corpus.py) is run with KUBECONFIG pointing at a
dead API server, so a command that contacts the cluster before checking its
input fails here (exit 5 instead of 11).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.reliability.corpus import CASES, Case
from tests.support.cli import invoke

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MEMORY_LIMIT_MIB = 1024
HOSTILE_TIMEOUT = 60
# A hostile case must be refused well before the limit: the baseline import of ambientctl is ~60 MiB RSS.
HOSTILE_RSS_BUDGET_MIB = 400

DEAD_KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: dead
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: dead
  user: {token: not-a-real-token}
contexts:
- name: dead
  context: {cluster: dead, user: dead, namespace: default}
current-context: dead
"""

QUICK = [c for c in CASES if not c.hostile]
HOSTILE = [c for c in CASES if c.hostile]


@pytest.fixture
def dead_cluster(tmp_path, monkeypatch) -> str:
    path = tmp_path / "dead-kubeconfig"
    path.write_text(DEAD_KUBECONFIG)
    monkeypatch.setenv("KUBECONFIG", str(path))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("AMBIENTCTL_DEBUG", raising=False)
    return str(path)


def check_refused(case: Case, code: int, stdout: str, stderr: str) -> None:
    """The contract for bad input, shared by the in-process and the subprocess runs."""
    shown = f"argv={[a[:80] for a in case.argv]}\nexit={code}\nstderr={stderr[:600]!r}\nstdout={stdout[:300]!r}"
    assert "Traceback" not in stderr, shown
    assert code in case.expect, shown
    lines = stderr.strip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("Error: "), f"not exactly one Error line\n{shown}"
    assert case.needle in lines[0].lower(), f"the error does not say {case.needle!r}\n{shown}"
    assert stdout == "", f"bad input printed data on stdout\n{shown}"


@pytest.mark.parametrize("case", QUICK, ids=[c.id for c in QUICK])
def test_bad_input_is_refused_in_one_line(case: Case, tmp_path, dead_cluster) -> None:
    work = tmp_path / "case"
    work.mkdir()
    argv = case.materialise(str(work))
    result = invoke(*argv, stdin=case.stdin)
    check_refused(case, result.exit_code, result.stdout, result.stderr)


@pytest.mark.parametrize("case", HOSTILE, ids=[c.id for c in HOSTILE])
def test_hostile_input_is_refused_with_bounded_memory_and_time(case: Case, tmp_path, dead_cluster) -> None:
    work = tmp_path / "case"
    work.mkdir()
    argv = case.materialise(str(work))
    command = [sys.executable, "-m", "tests.reliability.limited", str(MEMORY_LIMIT_MIB), *argv]
    started = time.monotonic()
    rss_file = tmp_path / "peak-rss-kib"
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env=dict(os.environ, AMBIENTCTL_RSS_FILE=str(rss_file)))
    try:
        stdout, stderr = proc.communicate(timeout=HOSTILE_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"{case.id}: still running after {HOSTILE_TIMEOUT}s (hangs on hostile input)")
    elapsed = time.monotonic() - started
    rss_mib = int(rss_file.read_text()) / 1024 if rss_file.exists() else None
    check_refused(case, proc.returncode, stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace"))
    assert rss_mib is not None, f"{case.id}: the child did not report its peak memory"
    print(f"{case.id}: refused in {elapsed:.1f}s, peak RSS {rss_mib:.0f} MiB")
    assert rss_mib < HOSTILE_RSS_BUDGET_MIB, f"{case.id}: peak RSS {rss_mib:.0f} MiB"


def test_corpus_is_big_and_covers_every_area() -> None:
    categories = {c.category for c in CASES}
    assert len(CASES) >= 200
    assert {"set", "overlay", "overlay-hostile", "dump", "dump-hostile", "names", "flags"} <= categories
    assert len({c.id for c in CASES}) == len(CASES), "case ids must be unique"
