"""Shell completion against the real test cluster: the console script, run as bash and zsh run it,
completes namespaces, pods, waypoints and revisions from the API server."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.cli import invoke

pytestmark = pytest.mark.e2e


def _complete(cluster, line: str, shell: str = "bash") -> list[str]:
    env = dict(os.environ, KUBECONFIG=cluster.kubeconfig, _AMBIENTCTL_COMPLETE=f"complete_{shell}")
    if shell == "bash":
        words = line.split()
        env |= {"COMP_WORDS": line, "COMP_CWORD": str(len(words) if line.endswith(" ") else len(words) - 1)}
    else:
        env["_TYPER_COMPLETE_ARGS"] = line
    out = subprocess.run([sys.executable, "-m", "ambientctl"], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0 and out.stderr == "", out
    if shell == "zsh":
        return [part.split('"')[1] for part in out.stdout.split("\n") if '"' in part]
    return out.stdout.split()


def test_names_complete_from_the_cluster(cluster, namespace):
    from kubernetes import client

    apps = client.AppsV1Api(cluster.api_client())
    core = client.CoreV1Api(cluster.api_client())
    core.create_namespaced_pod(namespace, client.V1Pod(
        metadata=client.V1ObjectMeta(name="sleep-e2e"),
        spec=client.V1PodSpec(containers=[client.V1Container(name="app", image="curlimages/curl")])))
    labels = {"app": "istiod", "istio.io/rev": f"rev-{namespace}"}  # an istiod of a revision, for -r
    apps.create_namespaced_deployment(namespace, client.V1Deployment(
        metadata=client.V1ObjectMeta(name="istiod-e2e", labels=labels),
        spec=client.V1DeploymentSpec(
            replicas=0, selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(containers=[client.V1Container(name="discovery", image="pilot")])))))
    applied = invoke("-c", cluster.kubeconfig, "waypoint", "apply", "-n", namespace, "--name", "e2e-waypoint")
    assert applied.exit_code == 0, applied.stderr

    assert namespace in _complete(cluster, "ambientctl waypoint list -n ")
    assert _complete(cluster, f"ambientctl -n {namespace[:6]}", "zsh").count(namespace) == 1
    assert _complete(cluster, f"ambientctl pc secret -n {namespace} ") == ["sleep-e2e"]
    assert _complete(cluster, f"ambientctl zc workloads -n {namespace} pod/s") == ["pod/sleep-e2e"]
    assert _complete(cluster, f"ambientctl waypoint status -n {namespace} ") == ["e2e-waypoint"]
    assert _complete(cluster, f"ambientctl -n {namespace} waypoint delete --name e2e", "zsh") == ["e2e-waypoint"]
    assert f"rev-{namespace}" in _complete(cluster, "ambientctl uninstall -r ")
