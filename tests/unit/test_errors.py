"""Every error path of the foundation: one line on stderr, a distinct exit code, no traceback."""

from __future__ import annotations

import datetime
import ssl
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ambientctl.cli.app import app
from ambientctl.errors import ExitCode, NotFoundError, UsageError, raise_first
from tests.support.cli import invoke
from tests.support.fakeapi import FakeApiServer, status_body, write_kubeconfig


def assert_one_line_error(result, code: ExitCode, *needles: str) -> None:
    assert result.exit_code == code, (result.exit_code, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.fixture
def fake_api():
    servers = []

    def start(responder):
        server = FakeApiServer(responder)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def test_exit_codes_are_distinct():
    values = [code.value for code in ExitCode]
    assert len(values) == len(set(values))


def test_raise_first_names_where_and_counts_the_rest():
    raise_first([])  # nothing failed: nothing raised
    with pytest.raises(NotFoundError) as one:
        raise_first([("a.ns", NotFoundError("gone", "look"))])
    assert one.value.message == "a.ns: gone" and one.value.hint == "look"
    with pytest.raises(NotFoundError) as several:
        raise_first([("istiod x", NotFoundError("gone")), ("istiod y", UsageError("other"))], "istiod")
    assert several.value.message == "istiod x: gone (and 1 more istiod(s))"
    assert several.value.exit_code == ExitCode.NOT_FOUND  # the first error's own kind and exit code


def test_missing_kubeconfig_names_the_file(tmp_path):
    missing = tmp_path / "nope.yaml"
    result = invoke("-c", str(missing), "dataplane", "status")
    assert_one_line_error(result, ExitCode.KUBECONFIG, str(missing))


def test_kubeconfig_env_with_only_missing_files(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'a'}:{tmp_path / 'b'}")
    result = invoke("dataplane", "status")
    assert_one_line_error(result, ExitCode.KUBECONFIG, "KUBECONFIG", str(tmp_path / "a"))


def test_no_kubeconfig_anywhere(tmp_path, monkeypatch):
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    result = invoke("version")
    assert_one_line_error(result, ExitCode.KUBECONFIG, ".kube/config")


def test_unknown_context_lists_existing(tmp_path):
    kubeconfig = write_kubeconfig(tmp_path / "kc", {"alpha": "http://127.0.0.1:1", "beta": "http://127.0.0.1:1"})
    result = invoke("-c", str(kubeconfig), "--context", "gamma", "version")
    assert_one_line_error(result, ExitCode.KUBECONFIG, '"gamma"', "alpha, beta")


def test_no_current_context(tmp_path):
    kubeconfig = write_kubeconfig(tmp_path / "kc", {"alpha": "http://127.0.0.1:1"})
    result = invoke("-c", str(kubeconfig), "version")
    assert_one_line_error(result, ExitCode.KUBECONFIG, "current-context", "alpha")


def test_invalid_kubeconfig_yaml(tmp_path):
    bad = tmp_path / "kc"
    bad.write_text("clusters: [unclosed\n")
    result = invoke("-c", str(bad), "version")
    assert_one_line_error(result, ExitCode.KUBECONFIG, str(bad))


def test_cluster_unreachable_names_server(tmp_path):
    kubeconfig = write_kubeconfig(tmp_path / "kc", {"dead": "http://127.0.0.1:1"}, current="dead")
    result = invoke("-c", str(kubeconfig), "version")
    assert_one_line_error(result, ExitCode.UNREACHABLE, "http://127.0.0.1:1", "context dead")


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "imposter")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "tls.crt", tmp_path / "tls.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_tls_verification_failure_is_reported_not_ignored(tmp_path):
    cert_path, key_path = _self_signed(tmp_path)
    httpd = HTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"https://127.0.0.1:{httpd.server_address[1]}"
        kubeconfig = write_kubeconfig(tmp_path / "kc", {"tls": url}, current="tls")
        result = invoke("-c", str(kubeconfig), "version")
        assert_one_line_error(result, ExitCode.UNREACHABLE, "TLS verification failed", url)
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize(
    ("status", "body", "code", "needles"),
    [
        (401, status_body(401, "Unauthorized", "Unauthorized"), ExitCode.FORBIDDEN, ["rejected the credentials"]),
        (
            403,
            status_body(403, "Forbidden", 'namespaces "x" is forbidden: User "bob" cannot get resource "namespaces"'),
            ExitCode.FORBIDDEN,
            ["not allowed to get namespaces", "ask a cluster admin", 'User "bob"'],
        ),
        (404, status_body(404, "NotFound", 'namespaces "x" not found', name="x", kind="namespaces"),
         ExitCode.NOT_FOUND, ['namespaces "x" not found']),
        (500, status_body(500, "InternalError", "etcd is sad"), ExitCode.ERROR, ["HTTP 500", "etcd is sad"]),
        (504, status_body(504, "Timeout", "request timed out"), ExitCode.TIMEOUT, ["timed out"]),
    ],
)
def test_http_errors_map_to_messages(tmp_path, fake_api, status, body, code, needles):
    server = fake_api(lambda method, path: (status, body))
    kubeconfig = write_kubeconfig(tmp_path / "kc", {"fake": server.url}, current="fake")
    result = invoke("-c", str(kubeconfig), "dataplane", "enroll", "x")
    assert_one_line_error(result, code, *needles)


def test_forbidden_names_verb_resource_and_namespace(tmp_path, fake_api):
    def responder(method, path):
        if method == "GET":
            return 200, {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "shop"}} \
                if path.endswith("/namespaces/shop") else {"kind": "PodList", "items": []}
        return 403, status_body(403, "Forbidden", "nope")

    server = fake_api(responder)
    kubeconfig = write_kubeconfig(tmp_path / "kc", {"fake": server.url}, current="fake")
    result = invoke("-c", str(kubeconfig), "dataplane", "enroll", "shop")
    assert_one_line_error(result, ExitCode.FORBIDDEN, "not allowed to patch namespaces")


def test_apply_conflict_names_field_and_manager(tmp_path, fake_api):
    conflict = status_body(
        409, "Conflict", "Apply failed with 1 conflict",
        causes=[{"reason": "FieldManagerConflict", "message": 'conflict with "kubectl-edit"',
                 "field": ".spec.replicas"}],
    )
    server = fake_api(lambda m, p: (409, conflict))
    kubeconfig = write_kubeconfig(tmp_path / "kc", {"fake": server.url}, current="fake")
    from ambientctl.errors import ConflictError
    from ambientctl.kube.client import KubeClient

    kube = KubeClient.connect(str(kubeconfig))
    with pytest.raises(ConflictError) as err:
        kube.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "d"}})
    assert ".spec.replicas" in err.value.one_line() and "kubectl-edit" in err.value.one_line()
    assert "--force-conflicts" in err.value.one_line()


def test_missing_crd_says_to_install(tmp_path, fake_api):
    not_served = status_body(404, "NotFound", "the server could not find the requested resource")
    server = fake_api(lambda m, p: (404, not_served))
    kubeconfig = write_kubeconfig(tmp_path / "kc", {"fake": server.url}, current="fake")
    from ambientctl.errors import CRDMissingError
    from ambientctl.kube.client import KubeClient

    kube = KubeClient.connect(str(kubeconfig))
    with pytest.raises(CRDMissingError) as err:
        kube.list("gateway.networking.k8s.io/v1", "Gateway", "default")
    assert "gateway.networking.k8s.io/v1" in err.value.one_line()
    assert "precheck" in err.value.one_line()
    with pytest.raises(CRDMissingError):
        kube.list("example.com/v1", "Widget", "default")  # through discovery


def test_usage_error_is_one_line_exit_2():
    result = invoke("version", "--no-such-flag")
    assert_one_line_error(result, ExitCode.USAGE, "--no-such-flag", "--help")


def test_bad_output_choice_is_usage_error():
    result = invoke("version", "--client", "-o", "xml")
    assert_one_line_error(result, ExitCode.USAGE, "xml")


def test_debug_shows_traceback(tmp_path):
    result = invoke("--debug", "-c", str(tmp_path / "missing"), "version")
    assert result.exit_code == ExitCode.KUBECONFIG
    assert "Traceback" in result.stderr


def test_typer_cli_runner_goes_through_the_same_mapping(tmp_path):
    result = CliRunner().invoke(app, ["-c", str(tmp_path / "missing"), "version"])
    assert result.exit_code == ExitCode.KUBECONFIG
    assert "does not exist" in result.output


def test_token_never_printed_in_debug_errors(tmp_path, fake_api):
    server = fake_api(lambda m, p: (403, status_body(403, "Forbidden", "denied")))
    kubeconfig = write_kubeconfig(tmp_path / "kc", {"fake": server.url}, current="fake")
    result = invoke("--debug", "-c", str(kubeconfig), "dataplane", "status")
    assert result.exit_code == ExitCode.FORBIDDEN
    assert "sekrit-test-token" not in result.stderr + result.stdout


def test_interrupt_maps_to_130(monkeypatch):
    from ambientctl.cli.exits import call_mapping_errors

    def boom():
        raise KeyboardInterrupt

    assert call_mapping_errors(boom, []) == ExitCode.INTERRUPTED


def test_unexpected_exception_is_one_line(capsys):
    from ambientctl.cli.exits import call_mapping_errors

    def boom():
        raise RuntimeError("kaputt")

    assert call_mapping_errors(boom, []) == ExitCode.ERROR
    err = capsys.readouterr().err
    assert "internal error" in err and "kaputt" in err and "Traceback" not in err
