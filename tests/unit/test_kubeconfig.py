"""Kubeconfig discovery and merging, without a cluster."""

from __future__ import annotations

import pytest
import yaml

from ambientctl.errors import ContextNotFoundError, KubeconfigNotFoundError
from ambientctl.kube.config import context_namespace, find_kubeconfig, merge_kubeconfigs, select_context
from tests.support.fakeapi import write_kubeconfig


def test_explicit_path_wins_over_env(tmp_path, monkeypatch):
    a = write_kubeconfig(tmp_path / "a", {"a": "http://a"}, current="a")
    b = write_kubeconfig(tmp_path / "b", {"b": "http://b"}, current="b")
    monkeypatch.setenv("KUBECONFIG", str(b))
    assert find_kubeconfig(str(a)).paths == (a,)
    assert find_kubeconfig(None).paths == (b,)


def test_kubeconfig_env_with_several_files_merges_first_wins(tmp_path, monkeypatch):
    a = write_kubeconfig(tmp_path / "a", {"shared": "http://from-a", "only-a": "http://a"}, current="only-a")
    b = write_kubeconfig(tmp_path / "b", {"shared": "http://from-b", "only-b": "http://b"}, current="only-b")
    monkeypatch.setenv("KUBECONFIG", f"{a}:{tmp_path / 'missing'}:{b}")
    source = find_kubeconfig(None)
    assert source.paths == (a, b)
    merged = merge_kubeconfigs(source.paths)
    assert merged["current-context"] == "only-a"
    servers = {c["name"]: c["cluster"]["server"] for c in merged["clusters"]}
    assert servers == {"shared": "http://from-a", "only-a": "http://a", "only-b": "http://b"}


def test_default_path_then_in_cluster(tmp_path, monkeypatch):
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(KubeconfigNotFoundError):
        find_kubeconfig(None)
    (tmp_path / ".kube").mkdir()
    default = write_kubeconfig(tmp_path / ".kube" / "config", {"x": "http://x"}, current="x")
    assert find_kubeconfig(None).paths == (default,)


def test_in_cluster_detected(tmp_path, monkeypatch):
    import ambientctl.kube.config as cfg

    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text("t")
    (sa / "namespace").write_text("tenant-a\n")
    monkeypatch.setattr(cfg, "SERVICE_ACCOUNT_DIR", sa)
    assert find_kubeconfig(None).in_cluster
    assert context_namespace(None, None) == "tenant-a"


def test_context_namespace_default_and_explicit(tmp_path):
    kc = write_kubeconfig(tmp_path / "kc", {"a": "http://a", "b": "http://b"}, current="a", namespaces={"b": "team-b"})
    assert context_namespace(str(kc), None) == "default"
    assert context_namespace(str(kc), "b") == "team-b"
    with pytest.raises(ContextNotFoundError):
        context_namespace(str(kc), "c")


def test_select_context_errors_list_available():
    merged = {"contexts": [{"name": "one", "context": {}}, {"name": "two", "context": {}}]}
    with pytest.raises(ContextNotFoundError) as err:
        select_context(merged, "three")
    assert "one, two" in err.value.one_line()


def test_non_mapping_kubeconfig_rejected(tmp_path):
    from ambientctl.errors import KubeconfigInvalidError

    bad = tmp_path / "kc"
    bad.write_text(yaml.safe_dump(["a", "list"]))
    with pytest.raises(KubeconfigInvalidError):
        merge_kubeconfigs((bad,))


def test_client_is_built_from_path_context_namespace_and_timeout(tmp_path):
    """KubeClient.connect takes plain parameters (no CLI options): each one lands where it should."""
    from ambientctl.kube.client import KubeClient

    kc = write_kubeconfig(tmp_path / "kc", {"a": "http://a", "b": "http://b"}, current="a", namespaces={"b": "team-b"})
    default = KubeClient.connect(str(kc))
    assert (default.context_name, default.server, default.default_namespace) == ("a", "http://a", "default")
    chosen = KubeClient.connect(str(kc), "b", timeout=7.5)
    assert (chosen.context_name, chosen.default_namespace, chosen.timeout) == ("b", "team-b", 7.5)
    assert KubeClient.connect(str(kc), "b", namespace="other").default_namespace == "other"
    with pytest.raises(ContextNotFoundError):
        KubeClient.connect(str(kc), "c")
