"""Helpers for the reliability e2e tests: a private install, snapshots, subprocess runs, API-server control.

The cluster is shared with other engineers' tests, so these tests install a
separate revision (`rel`) into their own Istio namespace and remove only that.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from tests.support import leakcheck
from tests.support.cli import Result, invoke

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AMBIENTCTL = os.path.join(REPO, ".venv", "bin", "ambientctl")
REL_NS = "e2e-rel-istio"
REV = "rel"
INSTALL = ["-i", REL_NS, "install", "--set", "profile=ambient", "-r", REV, "-y", "--readiness-timeout", "60s"]
VERIFY = ["-i", REL_NS, "verify-install", "--set", "profile=ambient", "-r", REV]
UNINSTALL = ["-i", REL_NS, "uninstall", "-r", REV, "--force", "-y"]


def admin(cluster: Any):
    from ambientctl.kube.client import KubeClient

    return KubeClient.connect(cluster.kubeconfig)


def run(kubeconfig: str, *args: str, stdin: str = "") -> Result:
    return invoke("-c", kubeconfig, *args, stdin=stdin)


def start(kubeconfig: str, *args: str) -> subprocess.Popen:
    """ambientctl as a real process (for signals), output captured as text."""
    return subprocess.Popen([AMBIENTCTL, "-c", kubeconfig, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True, cwd=REPO, env=dict(os.environ, NO_COLOR="1"))


def finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, str, str]:
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
        raise AssertionError(f"ambientctl still running after {timeout}s; stderr: {stderr[-2000:]}") from None
    leakcheck.record(" ".join(proc.args), stdout, stderr)
    return proc.returncode, stdout, stderr


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def apiserver_pid(cluster: Any) -> int:
    with open(os.path.join(cluster.state_dir, "cluster.json")) as handle:
        return int(json.load(handle)["pids"]["kube-apiserver"])


@contextmanager
def apiserver_stopped(cluster: Any) -> Iterator[None]:
    """SIGSTOP the shared API server for the block; SIGCONT whatever happens (keep blocks short)."""
    pid = apiserver_pid(cluster)
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def wait_api_healthy(cluster: Any, timeout: float = 30) -> None:
    kube = admin(cluster)

    def healthy() -> bool:
        try:
            kube.server_version()
            return True
        except Exception:  # noqa: BLE001 - still waking up
            return False
    wait_for(healthy, timeout, "the API server to answer again", interval=0.2)


# ------------------------------------------------------------------ snapshots

SNAPSHOT_KINDS = [
    ("v1", "Namespace"), ("v1", "ConfigMap"), ("v1", "Secret"), ("v1", "ServiceAccount"), ("v1", "Service"),
    ("apps/v1", "Deployment"), ("apps/v1", "DaemonSet"), ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"), ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"), ("policy/v1", "PodDisruptionBudget"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"), ("gateway.networking.k8s.io/v1", "Gateway"),
]


# Kinds whose status controllers keep writing: for these only uid and labels are compared.
STATUS_WRITTEN_BY_CONTROLLERS = {"Namespace", "Deployment", "DaemonSet", "HorizontalPodAutoscaler",
                                 "PodDisruptionBudget", "Gateway", "CustomResourceDefinition"}


@dataclass(frozen=True)
class Snapshot:
    """(kind, namespace, name) -> (uid, resourceVersion, labels as JSON) for every object of SNAPSHOT_KINDS."""

    objects: dict[tuple[str, str, str], tuple[str, str, str]]

    def diff(self, after: "Snapshot", ignore_kinds: frozenset[str] = frozenset()) -> list[str]:
        lines = []
        for key in sorted(set(self.objects) | set(after.objects)):
            if key[0] in ignore_kinds:
                continue
            before, now = self.objects.get(key), after.objects.get(key)
            if before is None:
                lines.append(f"created {key}")
            elif now is None:
                lines.append(f"deleted {key}")
            elif before[0] != now[0]:
                lines.append(f"replaced {key}")
            elif before[2] != now[2]:
                lines.append(f"labels changed {key}: {before[2]} -> {now[2]}")
            elif before[1] != now[1] and key[0] not in STATUS_WRITTEN_BY_CONTROLLERS:
                lines.append(f"modified {key}")
        return lines


# Objects controllers change on their own (leases, endpoints, the apiserver's own configmaps).
_VOLATILE = ("kube-system", "kube-node-lease")


def snapshot(kube: Any, namespaces: set[str] | None = None) -> Snapshot:
    """Every object of SNAPSHOT_KINDS; with `namespaces`, only those namespaces plus cluster-scoped objects
    (other engineers' tests change their own namespaces at the same time)."""
    objects = {}
    for api_version, kind in SNAPSHOT_KINDS:
        for obj in kube.list(api_version, kind, all_namespaces=True):
            meta = obj["metadata"]
            namespace = meta.get("namespace") or ""
            if namespace in _VOLATILE or (namespaces is not None and namespace and namespace not in namespaces):
                continue
            labels = json.dumps(meta.get("labels") or {}, sort_keys=True)
            objects[(kind, meta.get("namespace") or "", meta["name"])] = (meta["uid"], meta["resourceVersion"], labels)
    return Snapshot(objects)


def cleanup_rel_install(cluster: Any) -> None:
    """Remove the `rel` install and its lock, whatever state a test left them in."""
    kube = admin(cluster)
    kube.delete("v1", "ConfigMap", "ambientctl-install-lock", REL_NS)
    result = run(cluster.kubeconfig, *UNINSTALL)
    assert result.exit_code == 0, f"cleanup uninstall failed: {result.stderr}"


def token_kubeconfig(cluster: Any, token: str, path: str) -> str:
    """A copy of the admin kubeconfig whose user is a bearer token (same CA: TLS stays verified)."""
    import yaml

    with open(cluster.kubeconfig) as handle:
        config = yaml.safe_load(handle)
    for entry in config["users"]:
        entry["user"] = {"token": token}
    with open(path, "w") as handle:
        yaml.safe_dump(config, handle)
    os.chmod(path, 0o600)
    leakcheck.register_secret(token, f"service-account token in {path}")
    return path
