"""ambientctl.proxy (sources, shapes, redact, decode, identities, documents): reading, shape detection, normalisation, redaction, the Envoy-style document."""

from __future__ import annotations

import base64
import io
import json

import pytest
import yaml

from ambientctl.errors import InvalidInputError, UsageError
from ambientctl.proxy import certs, decode, documents, identities, model, redact, sources, ztunneldump
from tests.support import dumpgen
from tests.support import dumpshapes as ds


@pytest.fixture(scope="module")
def golden() -> dict:
    return ds.golden_dump()


def parse(doc: dict | bytes, source: str = "dump.json") -> model.ConfigDump:
    data = doc if isinstance(doc, (bytes, bytearray)) else json.dumps(doc).encode()
    return ztunneldump.parse(data, source)


def summary(dump: model.ConfigDump) -> list[tuple[str, str, list[int], list[int]]]:
    """Per identity: name, status, chain serials, root serials: what every shape must agree on."""
    decode.decode_all(dump)
    return [(i.name, i.status, [e.info.serial for e in i.chain], [e.info.serial for e in i.roots])
            for i in dump.identities if not i.trust_bundle]


# -- shapes ---------------------------------------------------------------------------------


def test_current_shape(golden):
    dump = parse(golden)
    assert dump.shape == model.SHAPE_ZTUNNEL
    names = [i.name for i in dump.identities]
    assert names[0] == "spiffe://cluster.local/ns/default/sa/sleep"
    assert len(names) == 7
    sleep = dump.identities[0]
    assert sleep.available and len(sleep.chain) == 1 and len(sleep.roots) == 1
    httpbin = dump.identities[1]
    assert len(httpbin.chain) == 2  # leaf + intermediate
    assert dump.identities[-1].status == "Unavailable"
    assert dump.identities[-1].reason == "the identity is no longer needed"


def test_legacy_shape_moves_the_root_out_of_the_chain(golden):
    legacy = ds.to_legacy(golden)
    assert "rootCerts" not in legacy["certificates"][0]
    assert legacy["certificates"][0]["certChain"][0]["pem"].startswith("-----BEGIN CERTIFICATE-----")
    dump = parse(legacy)
    assert dump.shape == model.SHAPE_ZTUNNEL_LEGACY
    assert summary(dump) == summary(parse(golden))


@pytest.mark.parametrize("camel", [False, True])
def test_envoy_shape_snake_and_camel_case(golden, camel):
    dump = parse(ds.to_envoy(golden, camel=camel, names="identity"))
    assert dump.shape == model.SHAPE_ENVOY
    ztunnel = [s for s in summary(parse(golden))]
    envoy = summary(dump)
    # Envoy keeps chains per secret and the roots in one ROOTCA secret.
    assert [(n, s, c) for n, s, c, _ in envoy if s == "Available"] == \
        [(n, s, c) for n, s, c, _ in ztunnel if s == "Available"]
    rootca = [i for i in dump.identities if i.trust_bundle]
    assert [i.name for i in rootca] == ["ROOTCA"]
    decode.decode_all(dump)
    assert rootca[0].roots[0].info.subject == "O=cluster.local"


def test_envoy_default_secret(golden):
    dump = parse(ds.to_envoy(golden))
    assert [i.name for i in dump.identities][:2] == ["default", "ROOTCA"]


def test_ztunnel_sections_may_be_maps(golden):
    as_map = dict(golden, certificates={c["identity"]: c for c in golden["certificates"]},
                  workloads={"/10.0.0.1": {"name": "a", "namespace": "x"}})
    dump = parse(as_map)
    assert len(dump.identities) == 7
    views = ztunneldump.read(json.dumps(as_map).encode(), "dump.json", ztunneldump.Request.everything())
    assert [row[:2] for row in ztunneldump.workload_rows(views)] == [("x", "a")]


def test_a_bad_certificate_is_kept_with_its_reason(golden):
    doc = json.loads(json.dumps(golden))
    doc["certificates"][0]["certChain"][0]["pem"] = "%%% not base64 %%%"
    dump = parse(doc)
    bad = dump.bad_entries()
    assert len(bad) == 1
    assert bad[0].where == "spiffe://cluster.local/ns/default/sa/sleep certChain[0]"
    assert "neither PEM text nor base64" in bad[0].error
    decode.decode_all(dump)
    assert all(e.info is not None for i in dump.identities[1:] for e in i.entries())


def test_garbage_der_inside_valid_base64_pem_is_reported_after_decoding(golden):
    doc = json.loads(json.dumps(golden))
    fake = b"-----BEGIN CERTIFICATE-----\nQUJDREVGR0g=\n-----END CERTIFICATE-----\n"
    doc["certificates"][0]["certChain"][0]["pem"] = base64.b64encode(fake).decode()
    dump = parse(doc)
    decode.decode_all(dump)
    assert "not a valid X.509 certificate" in dump.identities[0].chain[0].error


# -- reading --------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(InvalidInputError, match="does not exist"):
        sources.read_dump_file(str(tmp_path / "nope.json"))


def test_directory(tmp_path):
    with pytest.raises(InvalidInputError, match="is a directory"):
        sources.read_dump_file(str(tmp_path))


def test_a_file_has_no_size_limit(tmp_path):
    big = tmp_path / "big.json"
    with open(big, "wb") as f:
        f.truncate(80 * 1024 * 1024)  # sparse: NUL bytes, over the 64 MiB limit there used to be (issue 17)
    data = sources.read_dump_file(str(big))
    assert len(data) == 80 * 1024 * 1024
    with pytest.raises(InvalidInputError, match="not valid JSON"):  # refused for what it is, not for its size
        ztunneldump.parse(data, "big.json")


def test_stdin_is_cut_at_the_stream_guard():
    class Endless(io.RawIOBase):
        reads = 0

        def readable(self):
            return True

        def read(self, size=-1):
            Endless.reads += 1
            return b" " * (size if size and size > 0 else 1 << 20)

    with pytest.raises(InvalidInputError, match="more than 1 MiB, more than any config dump"):
        sources.read_dump_file("-", stdin=Endless(), limit=1 << 20)
    assert Endless.reads <= 3  # stopped as soon as the limit was passed


def test_stdin_text_stream(golden):
    data = sources.read_dump_file("-", stdin=io.StringIO(json.dumps(golden)))
    assert parse(data).identities


@pytest.mark.parametrize("data, message", [
    (b"", "is empty"),
    (b"  \n", "is empty"),
    (b'{"certificates": [{"identity": "spiffe://x", "state": "Avail', "ends early: the dump is truncated"),
    (b"{not json}", "line 1 column 2"),
    (b"\xff\xfe\x00garbage", "not text"),
    (b"[1, 2]", "top level is a list"),
    (b'{"apiVersion": "v1", "kind": "Pod"}', "not a ztunnel or Envoy config dump (top-level keys: apiVersion, kind)"),
    (b'{"certificates": "yes"}', "`certificates` is a str"),
])
def test_unusable_input_is_one_clear_error(data, message):
    with pytest.raises(InvalidInputError) as exc:
        ztunneldump.parse(data, "dump.json")
    assert message in exc.value.one_line()
    assert "\n" not in exc.value.one_line()


# -- redaction ------------------------------------------------------------------------------


def test_private_keys_are_redacted_everywhere(golden):
    key = ds.private_key_pem().strip()
    doc = json.loads(json.dumps(golden))
    doc["workloads"] = [{"name": "w", "privateKey": key, "notes": f"oops {key} here",
                        "private_key": {"inline_bytes": base64.b64encode(key.encode()).decode()},
                        "bundle": base64.b64encode(key.encode()).decode(),
                        "wrapped": "\n".join(base64.b64encode(b"\n" + key.encode()).decode()[i:i + 64]
                                             for i in range(0, 400, 64))}]
    doc["certificates"][0]["rootCerts"][0]["pem"] = base64.b64encode(key.encode()).decode()
    dump = parse(doc)
    for indent in (None, 2):  # the whole document (zc all -o json|yaml), re-encoded item by item
        views = ztunneldump.read(json.dumps(doc, indent=indent).encode(), "dump.json", ztunneldump.Request())
        for fmt in ("json", "yaml"):
            out = io.StringIO()
            writer = ztunneldump.Writer(out)
            ztunneldump.write_whole(writer, views, fmt)
            writer.close()
            text = out.getvalue()
            assert "PRIVATE KEY" not in text
            assert base64.b64encode(key.encode()).decode()[:40] not in text
            whole = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    wl = whole["workloads"][0]
    assert wl["privateKey"] == "[redacted]"
    assert wl["private_key"] == {"inline_bytes": certs.REDACTED_B64}
    assert wl["notes"] == "oops [redacted] here"
    assert wl["bundle"] == certs.REDACTED_B64
    assert wl["wrapped"] == certs.REDACTED_B64
    assert "private key" in dump.identities[0].roots[0].error


@pytest.mark.parametrize("prefix", [b"", b"x", b"xy", b"\n"])
def test_fast_scan_finds_base64_keys_at_any_alignment(prefix):
    encoded = base64.b64encode(prefix + ds.private_key_pem().encode()).decode()
    assert redact.may_hold_private_keys(json.dumps({"pem": encoded}).encode())


def test_fast_scan_passes_a_clean_dump(golden):
    assert not redact.may_hold_private_keys(json.dumps(golden).encode())
    assert redact.may_hold_private_keys(b'{"a": "\\u0050RIVATE KEY"}')  # escapes: always walk


# -- documents ------------------------------------------------------------------------------


def test_secrets_document_is_envoy_shaped(golden):
    dump = parse(golden)
    decode.decode_all(dump)
    doc = documents.secrets_document(dump.identities)
    names = [s["name"] for s in doc["dynamicActiveSecrets"]]
    assert names == [i.name for i in dump.identities if i.available] + ["ROOTCA"]
    first = doc["dynamicActiveSecrets"][0]
    assert first["secret"]["@type"] == model.ENVOY_SECRET_TYPE
    assert first["secret"]["tlsCertificate"]["privateKey"] == {"inlineBytes": "W3JlZGFjdGVkXQ=="}
    chain = base64.b64decode(first["secret"]["tlsCertificate"]["certificateChain"]["inlineBytes"])
    assert certs.decode(certs.split_pem_chain(chain)[0]).san_uris == [first["name"]]
    httpbin = doc["dynamicActiveSecrets"][1]
    assert len(certs.split_pem_chain(base64.b64decode(
        httpbin["secret"]["tlsCertificate"]["certificateChain"]["inlineBytes"]))) == 2
    rootca = doc["dynamicActiveSecrets"][-1]["secret"]
    roots = base64.b64decode(rootca["validationContext"]["trustedCa"]["inlineBytes"])
    assert len(certs.split_pem_chain(roots)) == 1  # the same root for everyone, once
    warming = {s["name"]: s for s in doc["dynamicWarmingSecrets"]}
    assert set(warming) == {"spiffe://cluster.local/ns/istio-system/sa/ztunnel",
                            "spiffe://cluster.local/ns/prod/sa/gone"}
    assert warming["spiffe://cluster.local/ns/prod/sa/gone"]["errorState"] == {
        "details": "the identity is no longer needed"}


def test_secrets_document_round_trips_through_the_envoy_reader(golden):
    dump = parse(golden)
    decode.decode_all(dump)
    again = parse({"configs": [dict(documents.secrets_document(dump.identities), **{
        "@type": model.ENVOY_SECRETS_TYPE})]})
    assert [(n, c) for n, s, c, _ in summary(again) if s == "Available"] == \
        [(n, c) for n, s, c, _ in summary(dump) if s == "Available"]


def test_ztunnel_certificates_document_matches_the_current_shape(golden):
    dump = parse(ds.to_legacy(golden))
    decode.decode_all(dump)
    assert documents.ztunnel_certificates_document(dump.identities) == golden["certificates"]


# -- identity filters -----------------------------------------------------------------------


def test_identity_filter_forms(golden):
    dump = parse(golden)
    by_sa = identities.select(dump, identities.parse_identity_filter("default/sleep"))
    by_uri = identities.select(dump, identities.parse_identity_filter("spiffe://cluster.local/ns/default/sa/sleep"))
    assert [i.name for i in by_sa] == [i.name for i in by_uri] == ["spiffe://cluster.local/ns/default/sa/sleep"]
    assert identities.select(dump, identities.parse_identity_filter("spiffe://other.td/ns/default/sa/sleep")) == []


@pytest.mark.parametrize("text", ["sleep", "a/b/c", "/sa", "ns/", "spiffe://td/ns/x"])
def test_bad_identity_filter(text):
    with pytest.raises(UsageError) as exc:
        identities.parse_identity_filter(text)
    assert "NAMESPACE/SERVICEACCOUNT" in exc.value.one_line()


def test_envoy_filter_keeps_the_trust_bundle(golden):
    dump = parse(ds.to_envoy(golden, names="identity"))
    chosen = identities.select(dump, identities.parse_identity_filter("default/sleep"))
    assert [i.name for i in chosen] == ["spiffe://cluster.local/ns/default/sa/sleep", "ROOTCA"]


def test_fresh_dumpgen_dump_parses():
    dump = parse(dumpgen.generate_dump([("default", "sleep")], states={("x", "y"): "Initializing"}))
    decode.decode_all(dump)
    assert dump.identities[0].chain[0].info.issuer == "O=cluster.local"
