"""Secrets never printed, TLS never skipped unless the kubeconfig says so, written files hold nothing secret."""

from __future__ import annotations

import base64
import json
import os
import stat

import pytest
import yaml

from ambientctl.errors import ExitCode
from tests.support import leakcheck
from tests.support.cli import invoke
from tests.support.dumpgen import generate_dump
from tests.support.dumpshapes import fixed_key, to_envoy

# ------------------------------------------------------------------ the leak collector itself


def _pem(label: str) -> str:
    from cryptography.hazmat.primitives import serialization

    return fixed_key(label).private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()).decode()


def test_collector_finds_keys_tokens_and_registered_secrets() -> None:
    token = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.payload.sig"
    secret = "super-secret-bearer-0123456789"
    captured = [
        leakcheck.Captured("ambientctl a", "t1", _pem("leak")),
        leakcheck.Captured("ambientctl b", "t2", f"Authorization: Bearer {token}"),
        leakcheck.Captured("ambientctl c", "t3", f"debug: {secret}"),
        leakcheck.Captured("ambientctl d", "t4", base64.b64encode(secret.encode()).decode()),
        leakcheck.Captured("ambientctl e", "t5", "✔ Installation complete\n-----BEGIN CERTIFICATE-----"),
    ]
    leaks = leakcheck.find_leaks(captured, {secret: "test secret"})
    assert [line.split(":")[0] for line in leaks] == ["t1", "t2", "t3", "t4"]
    assert "ambientctl a" in leaks[0] and "PEM private key" in leaks[0]


def test_collector_reads_kubeconfig_credentials(tmp_path) -> None:
    pem = _pem("kubeconfig")
    config = {"users": [{"name": "u", "user": {"token": "tok-0123456789abcdef",
                                                  "client-key-data": base64.b64encode(pem.encode()).decode()}}]}
    path = tmp_path / "kc"
    path.write_text(yaml.safe_dump(config))
    found = leakcheck.secrets_of_kubeconfig(str(path))
    assert "tok-0123456789abcdef" in found
    body_lines = [line for line in pem.splitlines() if "-----" not in line and len(line) >= 40]
    assert body_lines and all(line in found for line in body_lines)


def test_in_process_runs_are_collected() -> None:
    before = len(leakcheck._CAPTURED)
    invoke("version", "--client")
    assert len(leakcheck._CAPTURED) == before + 1
    assert leakcheck._CAPTURED[-1].command == "ambientctl version --client"


# ------------------------------------------------------------------ pc secret on dumps that contain keys


def _dump_with_keys(tmp_path, shape: str) -> tuple[str, list[str]]:
    """A dump with private keys planted where proxies have put them; returns its path and the key texts."""
    dump = generate_dump([("default", "sleep"), ("bookinfo", "reviews")])
    if shape == "envoy":
        dump = to_envoy(dump)
    planted = [_pem(f"planted-{i}") for i in range(4)]
    if shape == "envoy":
        for i, secret in enumerate(dump["configs"][0].get("dynamic_active_secrets", [])):
            tls = secret.get("secret", {}).setdefault("tls_certificate", {})
            tls["private_key"] = {"inline_bytes": base64.b64encode(planted[i % 4].encode()).decode()}
    else:
        for i, cert in enumerate(dump["certificates"]):
            cert["privateKey"] = planted[i % 4]
            cert["certChain"][0]["key"] = base64.b64encode(planted[(i + 1) % 4].encode()).decode()
    dump["debugKey"] = planted[3]
    path = tmp_path / f"{shape}.json"
    path.write_text(json.dumps(dump))
    return str(path), planted


@pytest.mark.parametrize("shape", ["ztunnel", "envoy"])
@pytest.mark.parametrize("output", ["short", "json", "yaml", "detail"])
def test_pc_secret_never_prints_a_private_key(tmp_path, shape: str, output: str) -> None:
    path, planted = _dump_with_keys(tmp_path, shape)
    result = invoke("pc", "secret", "--file", path, "-o", output)
    assert result.exit_code == 0, result.stderr
    text = result.stdout + result.stderr
    assert "PRIVATE KEY" not in text
    for pem in planted:
        body = [line for line in pem.splitlines() if "-----" not in line]
        assert not any(line in text for line in body)
        assert base64.b64encode(pem.encode()).decode()[:60] not in text


@pytest.mark.parametrize("command", [["zc", "all", "-o", "json"], ["zc", "certificate", "-o", "yaml"],
                                     ["zc", "workload", "-o", "json"]])
def test_zc_never_prints_a_private_key(tmp_path, command) -> None:
    path, planted = _dump_with_keys(tmp_path, "ztunnel")
    result = invoke(*command, "--file", path)
    assert result.exit_code == 0, result.stderr
    assert "PRIVATE KEY" not in result.stdout + result.stderr


# ------------------------------------------------------------------ tokens in --debug tracebacks


JWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6InJlbCJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6cmVsIn0.c2lnbmF0dXJl"


@pytest.mark.parametrize("args", [["version"], ["waypoint", "list"], ["install", "-y", "--skip-wait"],
                                  ["dataplane", "enroll", "default"], ["precheck"]])
def test_debug_traceback_with_a_token_kubeconfig_shows_no_token(tmp_path, args) -> None:
    leakcheck.register_secret(JWT, "JWT in a unit-test kubeconfig")
    config = {"apiVersion": "v1", "kind": "Config", "current-context": "c",
              "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
              "users": [{"name": "u", "user": {"token": JWT}}],
              "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}
    path = tmp_path / "kc"
    path.write_text(yaml.safe_dump(config))
    result = invoke("-c", str(path), "--debug", "--request-timeout", "2", *args)
    assert result.exit_code == ExitCode.UNREACHABLE, result.stderr
    assert "Traceback" in result.stderr
    assert JWT not in result.stderr + result.stdout
    assert "eyJhbGciOi" not in result.stderr + result.stdout


# ------------------------------------------------------------------ TLS verification


def _all_help_texts() -> str:
    commands = [[], ["install"], ["uninstall"], ["verify-install"], ["precheck"], ["version"],
                ["manifest", "generate"], ["profile", "dump"], ["pc", "secret"], ["zc", "all"], ["zc", "workload"],
                ["waypoint", "apply"], ["waypoint", "list"], ["waypoint", "delete"], ["waypoint", "status"],
                ["dataplane", "enroll"], ["dataplane", "status"], ["x"], ["samples"], ["analyze"]]
    texts = []
    for command in commands:
        result = invoke(*command, "--help")
        assert result.exit_code == 0, (command, result.stderr)
        texts.append(result.stdout)
    return "\n".join(texts)


def test_no_flag_skips_tls_verification() -> None:
    text = _all_help_texts().lower()
    for word in ("insecure", "skip-tls", "tls-verify", "no-verify", "verify=false"):
        assert word not in text


def test_insecure_only_from_the_kubeconfig(tmp_path) -> None:
    """The kubeconfig's own `insecure-skip-tls-verify: true` is honoured (as kubectl does), nothing else turns it on."""
    from ambientctl.kube.client import KubeClient

    base = {"apiVersion": "v1", "kind": "Config", "current-context": "c",
            "users": [{"name": "u", "user": {"token": "t" * 20}}],
            "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}
    verified = dict(base, clusters=[{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}])
    insecure = dict(base, clusters=[{"name": "c", "cluster": {"server": "https://127.0.0.1:1",
                                                                "insecure-skip-tls-verify": True}}])
    for name, config, expected in (("verified", verified, True), ("insecure", insecure, False)):
        path = tmp_path / name
        path.write_text(yaml.safe_dump(config))
        client = KubeClient.connect(str(path))
        assert client.api.configuration.verify_ssl is expected, name


# ------------------------------------------------------------------ files ambientctl writes


def test_manifest_files_hold_no_secret_so_default_permissions_are_enough(tmp_path) -> None:
    """`manifest generate -o DIR` is the only writer; its files are as public as the charts they come from."""
    for profile in ("ambient", "default", "demo", "minimal"):
        out = tmp_path / profile
        result = invoke("manifest", "generate", "--set", f"profile={profile}", "-o", str(out))
        assert result.exit_code == 0, result.stderr
        for name in os.listdir(out):
            text = (out / name).read_text()
            assert "PRIVATE KEY" not in text and "eyJhbGciOi" not in text
            kinds = {doc.get("kind") for doc in yaml.safe_load_all(text) if doc}
            assert "Secret" not in kinds, f"{profile}/{name} renders a Secret: write it owner-only (0600)"
            assert not stat.S_IMODE(os.stat(out / name).st_mode) & stat.S_IWOTH  # never world-writable


def test_console_script_leaves_no_credential_files_behind(cluster, tmp_path) -> None:
    """The kubernetes client writes inline client certificates and keys to temporary files and removes
    them at exit; ambientctl's fast exit (cli.main skips Python's teardown) must still run that clean-up."""
    import subprocess
    import sys

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch), "KUBECONFIG": cluster.kubeconfig}
    result = subprocess.run([sys.executable, "-m", "ambientctl", "version", "-o", "json"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["kubernetesVersion"]  # it did talk to the cluster
    assert sorted(p.name for p in scratch.iterdir()) == []
