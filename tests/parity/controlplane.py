"""Putting the private parity cluster into a known state: no Istio, or Istio installed by one tool."""

from __future__ import annotations

import time

import pytest

from tests.parity.tools import Outcome, ambientctl_subprocess, istioctl


def wait_namespace_gone(kubeconfig: str, name: str, timeout: float = 180) -> None:
    from kubernetes import client, config
    from kubernetes.client.rest import ApiException

    core = client.CoreV1Api(config.new_client_from_config(config_file=kubeconfig))
    try:
        core.delete_namespace(name)
    except ApiException as e:
        if e.status != 404:
            raise
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            core.read_namespace(name)
        except ApiException as e:
            if e.status == 404:
                return
            raise
        time.sleep(1)
    pytest.fail(f"namespace {name} still exists after {timeout}s", pytrace=False)


def remove_istio(istioctl_bin, kubeconfig: str) -> None:
    """Back to a cluster without Istio, whichever tool installed it: each tool's purge, then the namespace."""
    ambientctl_subprocess("uninstall", "--purge", "--force", "-y", kubeconfig=kubeconfig, timeout=600)
    istioctl(istioctl_bin, "uninstall", "--purge", "-y", kubeconfig=kubeconfig, timeout=600)
    wait_namespace_gone(kubeconfig, "istio-system")


def install_istio(tool: str, istioctl_bin, kubeconfig: str) -> Outcome:
    """`install --set profile=ambient -y` with ``tool`` (istioctl or ambientctl)."""
    if tool == "istioctl":
        return istioctl(istioctl_bin, "install", "--set", "profile=ambient", "-y", kubeconfig=kubeconfig, timeout=900)
    return ambientctl_subprocess("install", "--set", "profile=ambient", "-y", kubeconfig=kubeconfig, timeout=900)


def reinstall_istio(tool: str, istioctl_bin, kubeconfig: str) -> None:
    """A fresh mesh installed by ``tool`` alone: whatever was there removed first; the test fails if install does."""
    remove_istio(istioctl_bin, kubeconfig)
    installed = install_istio(tool, istioctl_bin, kubeconfig)
    assert installed.ok, installed
