"""`ambientctl pc secret`: golden tables and detail views for all three dump shapes, the guide's
jq | base64 | openssl pipeline, bad input, redaction, and no cluster imports with --file."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ambientctl.errors import ExitCode
from ambientctl.output import format_table
from ambientctl.proxy import decode, documents, model, ztunneldump
from ambientctl.proxy.printers import secret as printer
from tests.support import dumpgen
from tests.support import dumpshapes as ds
from tests.support import golden
from tests.support.cli import invoke

REPO = Path(__file__).resolve().parents[2]
SHAPES = {
    "current": lambda d: d,
    "legacy": ds.to_legacy,
    "envoy": lambda d: ds.to_envoy(d, names="identity"),
}


def assert_golden(name: str, text: str) -> None:
    golden.assert_golden(f"pcsecret/{name}", text)


@pytest.fixture(scope="module")
def golden_doc() -> dict:
    return ds.golden_dump()


def parsed(doc: dict) -> model.ConfigDump:
    dump = ztunneldump.parse(json.dumps(doc).encode(), "dump.json")
    decode.decode_all(dump)
    return dump


def write(tmp_path: Path, doc: dict | str | bytes, name: str = "dump.json") -> str:
    path = tmp_path / name
    if isinstance(doc, bytes):
        path.write_bytes(doc)
    else:
        path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return str(path)


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1, stderr
    return errors[0]


# -- golden files: the same identities in three shapes -------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_short_golden(golden_doc, shape):
    assert_golden(f"short_{shape}.txt", printer.format_short(parsed(SHAPES[shape](golden_doc)).identities,
                                                             ds.GOLDEN_NOW))


@pytest.mark.parametrize("shape", SHAPES)
def test_detail_golden(golden_doc, shape):
    assert_golden(f"detail_{shape}.txt", printer.format_detail(parsed(SHAPES[shape](golden_doc)).identities,
                                                               ds.GOLDEN_NOW))


@pytest.mark.parametrize("shape", SHAPES)
def test_table_and_json_from_the_dumps_fields_match_the_parsed_certificates(golden_doc, shape):
    """check_all (dump fields, structure only) prints exactly what parsing every certificate prints."""
    data = json.dumps(SHAPES[shape](golden_doc)).encode()
    fast = ztunneldump.parse(data, "dump.json")
    decode.check_all(fast)
    slow = parsed(SHAPES[shape](golden_doc))
    assert printer.format_short(fast.identities, ds.GOLDEN_NOW) == printer.format_short(slow.identities, ds.GOLDEN_NOW)
    assert documents.secrets_document(fast.identities) == documents.secrets_document(slow.identities)
    assert documents.ztunnel_certificates_document(fast.identities) == \
        documents.ztunnel_certificates_document(slow.identities)
    parsed_entries = [e for ident in fast.identities for e in ident.entries() if e.info is not None]
    assert (parsed_entries == []) == (shape != "envoy")  # only Envoy dumps lack serials and dates


def test_a_certificate_without_its_dates_in_the_dump_is_parsed_for_them(golden_doc):
    doc = json.loads(json.dumps(golden_doc))
    del doc["certificates"][1]["certChain"][0]["validFrom"]
    dump = ztunneldump.parse(json.dumps(doc).encode(), "dump.json")
    decode.check_all(dump)
    leaf = dump.identities[1].chain[0]
    assert leaf.info is not None and leaf.error is None
    row = printer.short_rows(dump.identities[1:2], ds.GOLDEN_NOW)[0]
    assert row[6] == golden_doc["certificates"][1]["certChain"][0]["validFrom"]  # read off the certificate


def test_older_ztunnel_prints_the_same_rows_as_current(golden_doc):
    current = printer.format_short(parsed(golden_doc).identities, ds.GOLDEN_NOW)
    legacy = printer.format_short(parsed(ds.to_legacy(golden_doc)).identities, ds.GOLDEN_NOW)
    assert legacy == current


def test_short_rows_follow_istioctl(golden_doc):
    """istioctl's rules: Leaf, then Intermediate(s), then Root per chain; hex serial; NA rows; reason dropped."""
    rows = printer.short_rows(parsed(golden_doc).identities, ds.GOLDEN_NOW)
    by_name: dict[str, list[list[str]]] = {}
    for row in rows:
        by_name.setdefault(row[0], []).append(row)
    httpbin = by_name["spiffe://cluster.local/ns/default/sa/httpbin"]
    assert [r[1] for r in httpbin] == ["Leaf", "Intermediate", "Root"]
    leaf_entry = golden_doc["certificates"][1]["certChain"][0]
    assert httpbin[0][4] == format(int(leaf_entry["serialNumber"]), "x")
    assert httpbin[0][5:] == [leaf_entry["expirationTime"], leaf_entry["validFrom"]]
    assert by_name["spiffe://cluster.local/ns/prod/sa/legacy"][0][3] == "false"     # expired
    assert by_name["spiffe://cluster.local/ns/prod/sa/payments"][0][3] == "true"    # 30 min left: still valid
    assert by_name["spiffe://cluster.local/ns/prod/sa/gone"] == [
        ["spiffe://cluster.local/ns/prod/sa/gone", "NA", "Unavailable", "false", "NA", "NA", "NA"]]
    assert by_name["spiffe://cluster.local/ns/istio-system/sa/ztunnel"][0][1:4] == ["NA", "Initializing", "false"]
    assert len(rows) == 13


def test_legacy_single_certificate_chain_is_a_leaf(golden_doc):
    legacy = ds.to_legacy(golden_doc)
    legacy["certificates"] = [dict(legacy["certificates"][0], certChain=legacy["certificates"][0]["certChain"][:1])]
    rows = printer.short_rows(parsed(legacy).identities, ds.GOLDEN_NOW)
    assert [r[1] for r in rows] == ["Leaf"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"),
                                 max_size=12), min_size=3, max_size=3), max_size=8),
       st.integers(min_value=1, max_value=6))
def test_the_fast_table_formatter_lays_out_exactly_like_format_table(rows, gap):
    headers = ["A", "LONGER HEADER", "C"]
    assert printer.format_string_table(headers, rows, gap) == format_table(headers, rows, gap=gap)


def test_short_table_layout_is_istioctl_tabwriter(golden_doc):
    text = printer.format_short(parsed(golden_doc).identities[:1], ds.GOLDEN_NOW)
    header = text.splitlines()[0]
    assert header.startswith("CERTIFICATE NAME" + " " * (len("spiffe://cluster.local/ns/default/sa/sleep")
                                                          - len("CERTIFICATE NAME") + 5) + "TYPE")
    assert header.endswith("NOT AFTER                NOT BEFORE")


# -- the CLI on saved dumps ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def fresh_doc() -> dict:
    """Certificates valid now (the golden ones are dated 2026-09-01)."""
    return dumpgen.generate_dump([("default", "sleep"), ("default", "httpbin"), ("prod", "gone")],
                                 states={("prod", "gone"): "Unavailable: no longer needed"})


def test_short_is_the_default(tmp_path, fresh_doc):
    result = invoke("pc", "secret", "--file", write(tmp_path, fresh_doc))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["CERTIFICATE", "NAME", "TYPE", "STATUS", "VALID", "CERT", "SERIAL", "NUMBER",
                                "NOT", "AFTER", "NOT", "BEFORE"]
    assert [line.split()[:4] for line in lines[1:]] == [
        ["spiffe://cluster.local/ns/default/sa/sleep", "Leaf", "Available", "true"],
        ["spiffe://cluster.local/ns/default/sa/sleep", "Root", "Available", "true"],
        ["spiffe://cluster.local/ns/default/sa/httpbin", "Leaf", "Available", "true"],
        ["spiffe://cluster.local/ns/default/sa/httpbin", "Root", "Available", "true"],
        ["spiffe://cluster.local/ns/prod/sa/gone", "NA", "Unavailable", "false"],
    ]


def test_aliases_and_stdin(fresh_doc):
    by_file = invoke("proxy-config", "secret", "--file", "-", stdin=json.dumps(fresh_doc))
    by_alias = invoke("pc", "s", "-f", "-", stdin=json.dumps(fresh_doc))
    assert by_file.exit_code == by_alias.exit_code == 0, by_file.stderr + by_alias.stderr
    assert by_file.stdout == by_alias.stdout


def test_guide_pipeline_jq_base64_openssl(tmp_path, fresh_doc):
    """The guide's step 6, unchanged, on `-o json` (fails loudly if jq/openssl are missing)."""
    for tool in ("jq", "openssl", "base64"):
        assert shutil.which(tool), f"{tool} is required for this test: apt-get install -y jq openssl"
    dump = write(tmp_path, fresh_doc)
    pipeline = (f"{sys.executable} -m ambientctl pc secret --file {dump} -o json"
                " | jq -r '.dynamicActiveSecrets[0].secret.tlsCertificate.certificateChain.inlineBytes'"
                " | base64 --decode | openssl x509 -noout -text")
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", pipeline], capture_output=True, text=True, cwd=REPO,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Issuer: O=cluster.local" in proc.stdout or "Issuer: O = cluster.local" in proc.stdout
    assert "URI:spiffe://cluster.local/ns/default/sa/sleep" in proc.stdout
    assert "X509v3 Subject Alternative Name" in proc.stdout


def test_json_and_yaml_are_the_same_document(tmp_path, fresh_doc):
    dump = write(tmp_path, fresh_doc)
    as_json = invoke("pc", "secret", "--file", dump, "-o", "json")
    as_yaml = invoke("pc", "secret", "--file", dump, "-o", "yaml")
    assert as_json.exit_code == as_yaml.exit_code == 0
    assert as_json.json == as_yaml.yaml
    doc = as_json.json
    assert [s["name"] for s in doc["dynamicActiveSecrets"]] == [
        "spiffe://cluster.local/ns/default/sa/sleep", "spiffe://cluster.local/ns/default/sa/httpbin", "ROOTCA"]
    assert doc["dynamicWarmingSecrets"][0]["name"] == "spiffe://cluster.local/ns/prod/sa/gone"
    assert base64.b64decode(doc["dynamicActiveSecrets"][0]["secret"]["tlsCertificate"]["privateKey"]["inlineBytes"]) \
        == b"[redacted]"


def test_detail_decodes_without_openssl(tmp_path, fresh_doc):
    result = invoke("pc", "secret", "--file", write(tmp_path, fresh_doc), "-o", "detail", "--identity", "default/sleep")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith("IDENTITY  spiffe://cluster.local/ns/default/sa/sleep\n")
    assert "CHAIN     ✔ verifies: leaf -> root O=cluster.local" in out
    assert "SAN URIs:             spiffe://cluster.local/ns/default/sa/sleep" in out
    assert "Public key:           EC P-256 (256 bit)" in out
    assert "Lifetime:             24h" in out
    assert "Warnings" not in out
    assert "httpbin" not in out


def test_detail_flags_a_chain_signed_by_another_root(tmp_path, fresh_doc):
    doc = json.loads(json.dumps(fresh_doc))
    other = dumpgen.make_root()
    doc["certificates"][0]["rootCerts"] = [dumpgen.cert_entry(other.cert)]
    result = invoke("pc", "secret", "--file", write(tmp_path, doc), "-o", "detail", "--identity", "default/sleep")
    assert result.exit_code == 0
    assert "CHAIN     ✘ does not verify" in result.stdout
    assert "! chain does not verify" in result.stdout


def test_one_thousand_identities(tmp_path):
    doc = dumpgen.generate_dump([(f"ns{i % 10}", f"sa{i}") for i in range(1000)], with_workloads=False)
    dump = write(tmp_path, doc)
    short = invoke("pc", "secret", "--file", dump)
    assert short.exit_code == 0
    assert len(short.stdout.splitlines()) == 1 + 2000
    assert all(line.split()[3] == "true" for line in short.stdout.splitlines()[1:])
    as_json = invoke("pc", "secret", "--file", dump, "-o", "json")
    assert len(as_json.json["dynamicActiveSecrets"]) == 1001


# -- nothing to show: say where the certificate would be ------------------------------------------


def test_identity_not_on_this_ztunnel(tmp_path, fresh_doc):
    result = invoke("pc", "secret", "--file", write(tmp_path, fresh_doc), "--identity", "prod/payments")
    assert result.exit_code == ExitCode.NOT_FOUND
    assert result.stdout == ""
    line = one_error_line(result.stderr)
    assert "holds no certificate for prod/payments (3 other identities)" in line
    assert "only for workloads on its own node" in line
    assert "--node" in line


def test_dump_without_certificates(tmp_path):
    result = invoke("pc", "secret", "--file", write(tmp_path, {"certificates": [], "workloads": []}))
    assert result.exit_code == ExitCode.NOT_FOUND
    assert "holds no certificates" in one_error_line(result.stderr)


# -- bad input: one line, its own exit code, never a traceback -----------------------------------


@pytest.mark.parametrize("content, message", [
    (None, "does not exist"),
    ("DIR", "is a directory"),
    ("", "is empty"),
    ('{"certificates": [{"identity": "spiffe://cluster.local/ns/a/sa/b", "state": "Avail', "truncated"),
    ('{"kind": "ConfigMap", "data": {}}', "is not a ztunnel or Envoy config dump"),
])
def test_unusable_files(tmp_path, content, message):
    if content is None:
        path = str(tmp_path / "missing.json")
    elif content == "DIR":
        path = str(tmp_path)
    else:
        path = write(tmp_path, content)
    result = invoke("pc", "secret", "--file", path)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert result.stdout == ""
    assert message in one_error_line(result.stderr)


def test_hundred_megabyte_file_is_judged_by_content_not_size(tmp_path):
    big = tmp_path / "huge.json"
    with open(big, "wb") as f:
        f.truncate(100 * 1024 * 1024)  # no size limit any more (issue 17): NUL bytes are simply not JSON
    result = invoke("pc", "secret", "--file", str(big))
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "is not valid JSON (line 1 column 1" in one_error_line(result.stderr)


@pytest.mark.parametrize("bad_pem, reason", [
    ("%%% definitely not base64 %%%", "neither PEM text nor base64"),
    (base64.b64encode(b"-----BEGIN CERTIFICATE-----\nQUJDREVGR0g=\n-----END CERTIFICATE-----\n").decode(),
     "not a valid X.509 certificate"),
    (base64.b64encode(b"-----BEGIN PUBLIC KEY-----\nQUJD\n-----END PUBLIC KEY-----\n").decode(), "not a CERTIFICATE"),
])
def test_one_bad_certificate_is_marked_and_the_others_shown(tmp_path, fresh_doc, bad_pem, reason):
    doc = json.loads(json.dumps(fresh_doc))
    doc["certificates"][0]["certChain"][0]["pem"] = bad_pem
    result = invoke("pc", "secret", "--file", write(tmp_path, doc))
    assert result.exit_code == ExitCode.INVALID_INPUT
    rows = [line.split() for line in result.stdout.splitlines()[1:]]
    assert len(rows) == 5
    assert rows[0][:4] == ["spiffe://cluster.local/ns/default/sa/sleep", "Leaf", "Available", "false"]
    assert [row[3] for row in rows[1:]] == ["true", "true", "true", "false"]  # the last is the NA row
    line = one_error_line(result.stderr)
    assert "1 certificate(s) in" in line and "sleep certChain[0]" in line and reason in line
    detail = invoke("pc", "secret", "--file", write(tmp_path, doc), "-o", "detail")
    assert detail.exit_code == ExitCode.INVALID_INPUT
    assert "✘ cannot decode:" in detail.stdout
    assert detail.stdout.count("CHAIN     ✔ verifies") == 1  # httpbin still verified


@pytest.mark.parametrize("args, code, message", [
    (["--node", "n1"], ExitCode.USAGE, "--node picks a live ztunnel pod"),
    (["ds/ztunnel"], ExitCode.USAGE, "either a pod"),
    (["--identity", "sleep"], ExitCode.USAGE, "NAMESPACE/SERVICEACCOUNT"),
    (["-o", "xml"], ExitCode.USAGE, "xml"),
])
def test_flag_mistakes(tmp_path, fresh_doc, args, code, message):
    result = invoke("pc", "secret", "--file", write(tmp_path, fresh_doc), *args)
    assert result.exit_code == code
    assert message in one_error_line(result.stderr)


# -- never a private key, in any output --------------------------------------------------------


def test_private_keys_never_reach_any_output(tmp_path, fresh_doc):
    key = ds.private_key_pem()
    key_b64 = base64.b64encode(key.encode()).decode()
    doc = json.loads(json.dumps(fresh_doc))
    doc["certificates"][1]["rootCerts"][0]["pem"] = key_b64
    doc["certificates"][0]["privateKey"] = key
    doc["workloads"][0]["secretStuff"] = {"private_key": {"inline_bytes": key_b64}, "note": key}
    dump = write(tmp_path, doc)
    outputs = [invoke("pc", "secret", "--file", dump, "-o", fmt) for fmt in ("short", "json", "yaml", "detail")]
    outputs += [invoke("zc", sub, "--file", dump, "-o", fmt)
                for sub in ("all", "workload", "certificate") for fmt in ("short", "json", "yaml")]
    for result in outputs:
        text = result.stdout + result.stderr
        assert "PRIVATE KEY" not in text
        assert key_b64[:60] not in text
        assert key.splitlines()[1] not in text
        assert "Traceback" not in text
    zc_all = invoke("zc", "all", "--file", dump, "-o", "json").json
    assert zc_all["certificates"][0]["privateKey"] == "[redacted]"


# -- no cluster needed, no heavy imports ---------------------------------------------------------


def _imported_after(args: list[str]) -> list[str]:
    code = ("import sys\nfrom ambientctl.cli import run\nrc = run(sys.argv[1:])\n"
            "print(sorted(m for m in ('kubernetes', 'cryptography') if m in sys.modules))\n")
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO, timeout=60,
                          env={**os.environ, "KUBECONFIG": "/nonexistent"})
    return json.loads(proc.stdout.strip().splitlines()[-1].replace("'", '"'))


def test_help_imports_neither_kubernetes_nor_cryptography():
    assert _imported_after(["pc", "secret", "--help"]) == []
    assert _imported_after(["zc", "workload", "--help"]) == []


def test_file_mode_never_imports_kubernetes(tmp_path, fresh_doc):
    assert "kubernetes" not in _imported_after(["pc", "secret", "--file", write(tmp_path, fresh_doc), "-o", "detail"])
    assert "kubernetes" not in _imported_after(["zc", "all", "--file", write(tmp_path, fresh_doc)])


def test_table_and_json_of_a_current_dump_do_not_parse_certificates(tmp_path, fresh_doc):
    """istioctl's way (and why we are faster): the dump's own serials and dates, no X.509 parsing."""
    dump = write(tmp_path, fresh_doc)
    for fmt in ("short", "json", "yaml"):
        assert _imported_after(["pc", "secret", "--file", dump, "-o", fmt]) == [], fmt
    assert _imported_after(["zc", "certificate", "--file", dump]) == []
    assert _imported_after(["pc", "secret", "--file", dump, "-o", "detail"]) == ["cryptography"]


def test_dumps_without_serials_and_dates_are_parsed(tmp_path, golden_doc):
    envoy = write(tmp_path, SHAPES["envoy"](golden_doc), "envoy.json")
    assert _imported_after(["pc", "secret", "--file", envoy]) == ["cryptography"]
