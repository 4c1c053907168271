"""Shell completion through the hooks a shell calls: `_AMBIENTCTL_COMPLETE=complete_<shell>` with the
words typed so far (bash: COMP_WORDS/COMP_CWORD, zsh and fish: _TYPER_COMPLETE_ARGS), against a
fake cluster; plus the quiet failures and the `completion` command."""

from __future__ import annotations

import contextlib
import io
import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest

from ambientctl.errors import ClusterUnreachableError
from tests.support.cli import invoke
from tests.support.fakekube import FakeKube

SHELLS = ("bash", "zsh", "fish")


@dataclass
class Answer:
    code: int
    words: list[str]
    stdout: str
    stderr: str


def _env(shell: str, line: str) -> dict[str, str]:
    env = {"_AMBIENTCTL_COMPLETE": f"complete_{shell}"}
    if shell == "bash":
        words = line.split()
        env |= {"COMP_WORDS": line, "COMP_CWORD": str(len(words) if line.endswith(" ") else len(words) - 1)}
    else:
        env["_TYPER_COMPLETE_ARGS"] = line
        if shell == "fish":
            env["_TYPER_COMPLETE_FISH_ACTION"] = "get-args"
    return env


def _words(shell: str, text: str) -> list[str]:
    """The candidates out of each shell's answer format."""
    if shell == "zsh":  # _arguments '*: :(("value":"help"<newline>"value"...))', or _files for none
        if not text.startswith("_arguments '*: :(("):
            return []
        body = text.strip()[len("_arguments '*: :(("):-len("))'")]
        return [re.match(r'"((?:[^"]|"")*)"', line).group(1) for line in body.splitlines()]
    return [line.split("\t")[0] for line in text.splitlines() if line]


def complete(kube, shell: str, line: str, monkeypatch) -> Answer:
    """What `shell` gets for `line` (the cursor at its end) with `kube` as the cluster."""
    from ambientctl.cli.app import app
    from ambientctl.context import CliContext

    for name, value in _env(shell, line).items():
        monkeypatch.setenv(name, value)
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            app(args=[], prog_name="ambientctl", standalone_mode=False, obj=CliContext(_kube=kube))
        except SystemExit as exc:
            code = int(exc.code or 0)
    return Answer(code, _words(shell, out.getvalue()), out.getvalue(), err.getvalue())


def _meta(name: str, namespace: str | None = None, labels: dict | None = None) -> dict:
    meta: dict = {"name": name, "labels": labels or {}}
    if namespace:
        meta["namespace"] = namespace
    return meta


@pytest.fixture
def cluster() -> FakeKube:
    objects = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(name)}
        for name in ("istio-system", "bookinfo", "default")
    ] + [
        {"apiVersion": "v1", "kind": "Pod", "metadata": _meta(name, ns)}
        for name, ns in (("ztunnel-a1", "istio-system"), ("ztunnel-b2", "istio-system"), ("istiod-x", "istio-system"),
                         ("productpage-v1-abc", "bookinfo"), ("reviews-v1-def", "bookinfo"), ("sleep-1", "default"))
    ] + [
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": _meta("ztunnel", "istio-system"), "spec": {}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(
            "istiod", "istio-system", {"app": "istiod", "istio.io/rev": "default"}), "spec": {}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(
            "istiod-canary", "istio-system", {"app": "istiod", "istio.io/rev": "canary"}), "spec": {}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta("productpage-v1", "bookinfo"), "spec": {}},
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
         "metadata": _meta("istio-revision-tag-prod", labels={"istio.io/tag": "prod", "istio.io/rev": "canary"})},
    ] + [
        {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": _meta(name, ns),
         "spec": {"gatewayClassName": cls, "listeners": []}}
        for name, ns, cls in (("waypoint", "bookinfo", "istio-waypoint"),
                              ("reviews-waypoint", "bookinfo", "istio-waypoint"),
                              ("ingress", "bookinfo", "istio"),
                              ("waypoint", "default", "istio-waypoint"))
    ]
    kube = FakeKube(objects)
    return kube


# ------------------------------------------------------------------------------ commands and flags


@pytest.mark.parametrize("shell", SHELLS)
def test_commands_and_subcommands_complete(cluster, shell, monkeypatch):
    assert complete(cluster, shell, "ambientctl way", monkeypatch).words == ["waypoint"]
    sub = complete(cluster, shell, "ambientctl waypoint st", monkeypatch)
    assert sub.words == ["status"] and sub.code == 0 and sub.stderr == ""


def test_commands_complete_without_importing_kubernetes():
    """Completing a command or a flag never needs the cluster, so it never pays for the client."""
    probe = ("import sys\nfrom ambientctl.cli import run\n"
             "try:\n    run([])\nexcept SystemExit:\n    pass\n"
             "print('kubernetes' in sys.modules, 'rich' in sys.modules, file=sys.stderr)\n")
    for shell, line in (("bash", "ambientctl zc "), ("zsh", "ambientctl waypoint "), ("fish", "ambientctl pc s")):
        env = dict(os.environ, **_env(shell, line))
        out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60)
        assert out.stderr.strip() == "False False", (shell, out.stderr)
        assert _words(shell, out.stdout), (shell, out.stdout)


# ------------------------------------------------------------------------------ names from the cluster


@pytest.mark.parametrize("shell", SHELLS)
def test_namespaces_after_any_command(cluster, shell, monkeypatch):
    everything = ["bookinfo", "default", "istio-system"]
    assert complete(cluster, shell, "ambientctl -n ", monkeypatch).words == everything
    assert complete(cluster, shell, "ambientctl waypoint list -n ", monkeypatch).words == everything
    assert complete(cluster, shell, "ambientctl zc workloads --namespace is", monkeypatch).words == ["istio-system"]
    assert complete(cluster, shell, "ambientctl -i ", monkeypatch).words == everything
    assert complete(cluster, shell, "ambientctl dataplane enroll b", monkeypatch).words == ["bookinfo"]


def test_bash_splits_a_flag_and_its_value_at_the_equals_sign(cluster, monkeypatch):
    monkeypatch.setenv("_AMBIENTCTL_COMPLETE", "complete_bash")
    assert complete(cluster, "bash", "ambientctl waypoint list --namespace = bo", monkeypatch).words == ["bookinfo"]


@pytest.mark.parametrize("shell", SHELLS)
def test_pod_references_in_the_namespace(cluster, shell, monkeypatch):
    pods = complete(cluster, shell, "ambientctl zc workloads -n istio-system ", monkeypatch).words
    assert pods == ["istiod-x", "ztunnel-a1", "ztunnel-b2"]
    assert complete(cluster, shell, "ambientctl -n istio-system zc certificates zt", monkeypatch).words == [
        "ztunnel-a1", "ztunnel-b2"]
    assert complete(cluster, shell, "ambientctl zc all -n istio-system ds/", monkeypatch).words == ["ds/ztunnel"]
    # Without -n: the kubeconfig context's namespace (the fake's: default).
    assert complete(cluster, shell, "ambientctl pc secret ", monkeypatch).words == ["sleep-1"]
    assert complete(cluster, shell, "ambientctl pc listener -n bookinfo deploy/", monkeypatch).words == [
        "deploy/productpage-v1"]
    assert complete(cluster, shell, "ambientctl pc cluster -n bookinfo pod/r", monkeypatch).words == [
        "pod/reviews-v1-def"]
    assert complete(cluster, shell, "ambientctl pc cluster -n bookinfo nosuchkind/", monkeypatch).words == []
    # Every kind the pod-reference parser takes (kube/pods.py) is completed, its plural forms too.
    assert complete(cluster, shell, "ambientctl zc all -n istio-system daemonsets/", monkeypatch).words == [
        "daemonsets/ztunnel"]


@pytest.mark.parametrize("shell", SHELLS)
def test_describe_completes_pods_and_services(cluster, shell, monkeypatch):
    cluster.add({"apiVersion": "v1", "kind": "Service", "metadata": _meta("productpage", "bookinfo"),
                 "spec": {"ports": [{"port": 9080}]}})
    assert complete(cluster, shell, "ambientctl x describe pod -n bookinfo p", monkeypatch).words == [
        "productpage-v1-abc"]
    assert complete(cluster, shell, "ambientctl x describe service -n bookinfo ", monkeypatch).words == [
        "productpage"]


@pytest.mark.parametrize("shell", SHELLS)
def test_waypoints_for_status_delete_and_name(cluster, shell, monkeypatch):
    waypoints = ["reviews-waypoint", "waypoint"]
    assert complete(cluster, shell, "ambientctl waypoint status -n bookinfo ", monkeypatch).words == waypoints
    assert complete(cluster, shell, "ambientctl -n bookinfo waypoint delete r", monkeypatch).words == [
        "reviews-waypoint"]
    assert complete(cluster, shell, "ambientctl waypoint list -n bookinfo --name ", monkeypatch).words == waypoints
    assert complete(cluster, shell, "ambientctl waypoint status --name ", monkeypatch).words == ["waypoint"]


@pytest.mark.parametrize("shell", SHELLS)
def test_revisions_and_tags(cluster, shell, monkeypatch):
    assert complete(cluster, shell, "ambientctl uninstall -r ", monkeypatch).words == ["canary", "default", "prod"]
    assert complete(cluster, shell, "ambientctl waypoint apply --revision c", monkeypatch).words == ["canary"]
    assert complete(cluster, shell, "ambientctl proxy-status -r p", monkeypatch).words == ["prod"]


# ------------------------------------------------------------------------------ quiet failures


class BrokenCluster(FakeKube):
    def list(self, *args, **kwargs):
        raise ClusterUnreachableError("cannot reach the cluster", "check it")


@pytest.mark.parametrize("shell", SHELLS)
def test_a_cluster_error_gives_no_candidates_and_no_output(shell, monkeypatch):
    for line in ("ambientctl -n ", "ambientctl zc workloads ", "ambientctl waypoint status ", "ambientctl install -r "):
        answer = complete(BrokenCluster([]), shell, line, monkeypatch)
        assert answer.code == 0 and answer.words == [] and answer.stderr == "", (line, answer)


@pytest.mark.parametrize("shell", SHELLS)
def test_a_forbidden_lookup_gives_no_candidates(cluster, shell, monkeypatch):
    cluster.deny("Namespace", "list")
    answer = complete(cluster, shell, "ambientctl -n ", monkeypatch)
    assert answer.words == [] and answer.stderr == ""


def test_a_dangling_global_flag_no_longer_breaks_completion(cluster, monkeypatch):
    """`--context <TAB>` used to print 'Error: Option requires an argument' into the shell."""
    answer = complete(cluster, "bash", "ambientctl waypoint list --context ", monkeypatch)
    assert answer.code == 0 and answer.stderr == ""


def test_fish_asks_whether_there_are_candidates(cluster, monkeypatch):
    monkeypatch.setenv("_TYPER_COMPLETE_FISH_ACTION", "is-args")
    monkeypatch.setenv("_AMBIENTCTL_COMPLETE", "complete_fish")
    for line, code in (("ambientctl -n b", 0), ("ambientctl -n zzz", 1)):
        monkeypatch.setenv("_TYPER_COMPLETE_ARGS", line)
        from ambientctl.cli.app import app
        from ambientctl.context import CliContext

        with pytest.raises(SystemExit) as exited, contextlib.redirect_stdout(io.StringIO()):
            app(args=[], prog_name="ambientctl", standalone_mode=False, obj=CliContext(_kube=cluster))
        assert exited.value.code == code, line


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_api_server_is_silent_and_quick(tmp_path):
    """The real client, a kubeconfig whose server refuses connections: no candidates, nothing on stderr
    (urllib3 logs its retries as warnings), and no wait for a timeout: a refused connection answers at once,
    so even a loaded machine (the kubernetes import alone took 5-8 s at load 16) stays far below 30 s, while a
    retry loop with the 3 s completion timeout per attempt would not."""
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: dead\n"
        f"clusters: [{{name: dead, cluster: {{server: 'https://127.0.0.1:{_closed_port()}'}}}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: dead, context: {cluster: dead, user: u}}]\n")
    env = dict(os.environ, KUBECONFIG=str(kubeconfig), **_env("bash", "ambientctl waypoint status -n "))
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "ambientctl"], capture_output=True, text=True, env=env, timeout=60)
    assert (out.returncode, out.stdout.strip(), out.stderr) == (0, "", "")
    assert time.monotonic() - started < 30


def test_no_kubeconfig_is_silent(tmp_path):
    env = dict(os.environ, KUBECONFIG=str(tmp_path / "missing"), HOME=str(tmp_path),
               **_env("zsh", "ambientctl waypoint status -n "))
    env.pop("KUBERNETES_SERVICE_HOST", None)
    out = subprocess.run([sys.executable, "-m", "ambientctl"], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0 and out.stderr == "" and _words("zsh", out.stdout) == []


# ------------------------------------------------------------------------------ `ambientctl completion`


@pytest.mark.parametrize(("shell", "marker"), [
    ("bash", "_AMBIENTCTL_COMPLETE=complete_bash"),
    ("zsh", "_AMBIENTCTL_COMPLETE=complete_zsh"),
    ("fish", "_AMBIENTCTL_COMPLETE=complete_fish"),
])
def test_completion_prints_the_script(shell, marker):
    result = invoke("completion", shell)
    assert result.exit_code == 0 and result.stderr == ""
    assert marker in result.stdout and "ambientctl" in result.stdout and result.stdout.endswith("\n")


def test_completion_refuses_other_shells_in_one_line():
    result = invoke("completion", "tcsh")
    assert result.exit_code == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and "bash" in result.stderr


def test_the_bash_script_really_completes_in_bash(tmp_path):
    """bash sources the script and runs its completion function for a typed line, as on a terminal."""
    shim = tmp_path / "ambientctl"
    shim.write_text(f"#!/bin/sh\nexec {sys.executable} -m ambientctl \"$@\"\n")
    shim.chmod(0o755)
    script = invoke("completion", "bash").stdout
    test = (f'{script}\nCOMP_WORDS=(ambientctl waypoint st); COMP_CWORD=2\n'
            '_ambientctl_completion ambientctl\nprintf "%s\\n" "${COMPREPLY[@]}"\n')
    env = dict(os.environ, PATH=f"{tmp_path}:{os.environ['PATH']}")
    out = subprocess.run(["bash", "--norc", "-c", test], capture_output=True, text=True, env=env, timeout=60)
    assert out.stdout.split() == ["status"], out


def test_a_malformed_namespace_is_not_sent_to_the_cluster(cluster, monkeypatch):
    before = sum(cluster.requests.values())
    assert complete(cluster, "bash", "ambientctl pc secret -n ../../api ", monkeypatch).words == []
    assert complete(cluster, "bash", "ambientctl waypoint status -n Bad_NS ", monkeypatch).words == []
    assert sum(cluster.requests.values()) == before
