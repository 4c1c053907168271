"""ambientctl.proxy.certs: PEM extraction, decoding, chain verification and validity warnings."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from cryptography.hazmat.primitives import serialization

from ambientctl.proxy import certs
from tests.support import dumpshapes as ds

NOW = ds.GOLDEN_NOW
PEM = serialization.Encoding.PEM


@pytest.fixture(scope="module")
def pki():
    root = ds.fixed_root()
    inter = ds.fixed_intermediate(root)
    leaf = ds.fixed_leaf(root, "default", "sleep", not_before=NOW - dt.timedelta(hours=1))
    inter_leaf = ds.fixed_leaf(inter, "default", "httpbin", not_before=NOW - dt.timedelta(hours=1))
    other_root = ds.fixed_root(label="another-root")
    return {"root": root, "inter": inter, "leaf": leaf, "inter_leaf": inter_leaf, "other_root": other_root}


def info(issued) -> certs.CertInfo:
    return certs.decode(issued.cert.public_bytes(PEM))


def test_pem_field_accepts_base64_of_pem_and_pem_text(pki):
    pem = pki["leaf"].cert.public_bytes(PEM)
    assert certs.pem_from_field(base64.b64encode(pem).decode()) == pem
    assert certs.pem_from_field(pem.decode()).strip() == pem.strip()


@pytest.mark.parametrize("value, reason", [
    ("", "empty"),
    (None, "empty"),
    (42, "not a string"),
    ("not base64 at all!", "neither PEM text nor base64"),
    (base64.b64encode(b"hello world").decode(), "not PEM"),
    (base64.b64encode(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").decode(), "'PUBLIC KEY'"),
    (base64.b64encode(ds.private_key_pem().encode()).decode(), "private key"),
    ("[redacted]", "private key"),
])
def test_pem_field_rejects_what_is_not_a_certificate(value, reason):
    with pytest.raises(certs.CertificateError) as exc:
        certs.pem_from_field(value)
    assert reason in str(exc.value)
    assert "PRIVATE KEY-----" not in str(exc.value)


def test_split_pem_chain_keeps_order(pki):
    bundle = b"".join(x.cert.public_bytes(PEM) for x in (pki["inter_leaf"], pki["inter"], pki["root"]))
    blocks = certs.split_pem_chain(bundle)
    assert [certs.decode(b).serial for b in blocks] == [
        pki["inter_leaf"].cert.serial_number, pki["inter"].cert.serial_number, pki["root"].cert.serial_number]


def test_split_pem_chain_rejects_a_cut_block(pki):
    pem = pki["leaf"].cert.public_bytes(PEM)
    with pytest.raises(certs.CertificateError, match="no complete PEM CERTIFICATE block"):
        certs.split_pem_chain(pem[: len(pem) // 2])


def test_decode_garbage_inside_a_pem_block_is_a_certificate_error():
    with pytest.raises(certs.CertificateError, match="not a valid X.509 certificate"):
        certs.decode(b"-----BEGIN CERTIFICATE-----\nAAAABBBB\n-----END CERTIFICATE-----\n")


def test_decoded_fields_match_the_certificate(pki):
    leaf = info(pki["leaf"])
    assert leaf.subject == "(empty)"
    assert leaf.issuer == "O=cluster.local"
    assert leaf.san_uris == ["spiffe://cluster.local/ns/default/sa/sleep"]
    assert leaf.serial == pki["leaf"].cert.serial_number
    assert leaf.serial_hex == format(pki["leaf"].cert.serial_number, "x")
    assert leaf.lifetime == dt.timedelta(hours=24)
    assert (leaf.key_type, leaf.key_bits) == ("EC P-256", 256)
    assert leaf.signature_algorithm == "ecdsa-with-SHA256"
    assert not leaf.is_ca
    assert info(pki["root"]).is_ca
    assert len(leaf.fingerprint_sha256.split(":")) == 32


def test_chain_verifies_to_its_root(pki):
    ok, why = certs.verify_chain([info(pki["leaf"])], [info(pki["root"])])
    assert ok, why
    ok, why = certs.verify_chain([info(pki["inter_leaf"]), info(pki["inter"])], [info(pki["root"])])
    assert ok, why
    assert "Intermediate CA" in why


def test_chain_does_not_verify_against_another_root(pki):
    ok, why = certs.verify_chain([info(pki["leaf"])], [info(pki["other_root"])])
    assert not ok
    assert "not signed by the root it came with" in why


def test_chain_with_missing_intermediate_does_not_verify(pki):
    ok, why = certs.verify_chain([info(pki["inter_leaf"])], [info(pki["root"])])
    assert not ok


def test_chain_out_of_order_does_not_verify(pki):
    ok, why = certs.verify_chain([info(pki["inter"]), info(pki["inter_leaf"])], [info(pki["root"])])
    assert not ok
    assert "not signed by the next certificate" in why


def test_chain_without_roots_says_so(pki):
    assert certs.verify_chain([info(pki["leaf"])], []) == (False, "no root certificate to verify against")


@pytest.mark.parametrize("start_offset, hours, expected", [
    (dt.timedelta(hours=-1), 24, None),                                # fresh
    (dt.timedelta(hours=-26), 24, "expired 2h ago"),                   # expired
    (dt.timedelta(hours=2), 24, "is not valid yet"),                   # clock skew
    (dt.timedelta(minutes=-(24 * 60 - 30)), 24, "expires in 30m"),     # < 1 h left
    (dt.timedelta(days=-9, hours=-1), 240, "expires in 23h"),          # 23 h left of 10 days: < 10%
])
def test_validity_warnings(pki, start_offset, hours, expected):
    leaf = info(ds.fixed_leaf(pki["root"], "ns", "sa", not_before=NOW + start_offset, hours=hours))
    warnings = certs.validity_warnings(leaf, NOW, "leaf")
    if expected is None:
        assert warnings == []
    else:
        assert len(warnings) == 1 and expected in warnings[0], warnings


def test_san_mismatch_is_reported(pki):
    leaf = info(pki["leaf"])
    assert certs.san_warning(leaf, "spiffe://cluster.local/ns/default/sa/sleep") is None
    warning = certs.san_warning(leaf, "spiffe://cluster.local/ns/prod/sa/payments")
    assert warning and "do not include the identity spiffe://cluster.local/ns/prod/sa/payments" in warning
    assert certs.san_warning(leaf, "default") is None  # Envoy secret names are not identities


@pytest.mark.parametrize("seconds, text", [
    (12, "12s"), (90, "1m30s"), (3600, "1h"), (86340, "23h59m"), (2 * 86400 + 3600, "2d1h"), (3650 * 86400, "3650d"),
])
def test_human_duration(seconds, text):
    assert certs.human_duration(dt.timedelta(seconds=seconds)) == text


@pytest.mark.parametrize("value, expected", [
    ("2026-09-01T12:00:00Z", dt.datetime(2026, 9, 1, 12, tzinfo=dt.timezone.utc)),
    ("2026-09-01T14:00:00+02:00", dt.datetime(2026, 9, 1, 12, tzinfo=dt.timezone.utc)),
    ("2026-09-01T12:00:00.123456789Z", dt.datetime(2026, 9, 1, 12, 0, 0, 123456, tzinfo=dt.timezone.utc)),
    ("2026-09-01T12:00:00", None),   # no offset: Go's RFC 3339 parse rejects it too
    ("yesterday", None),
    ("", None),
])
def test_parse_rfc3339(value, expected):
    assert certs.parse_rfc3339(value) == expected


# -- the structural check the table views use instead of parsing ----------------------------------


def _pem_of_der(der: bytes) -> bytes:
    body = base64.encodebytes(der)
    return b"-----BEGIN CERTIFICATE-----\n" + body + b"-----END CERTIFICATE-----\n"


def test_structure_check_accepts_real_certificates(pki):
    for issued in pki.values():
        certs.check_certificate_structure(issued.cert.public_bytes(PEM))


def test_structure_check_accepts_long_form_lengths_beyond_two_bytes():
    tbs = b"\x30\x82\x01\x00" + b"\x00" * 256
    algorithm = b"\x30\x03\x06\x01\x00"
    signature = b"\x03\x02\x00\x00"
    content = tbs + algorithm + signature
    der = b"\x30\x82" + len(content).to_bytes(2, "big") + content
    certs.check_certificate_structure(_pem_of_der(der))


@pytest.mark.parametrize("mangle, reason", [
    (lambda der: b"ABCDEFGH", "not a DER SEQUENCE"),
    (lambda der: der[:-1], "not a DER SEQUENCE"),                     # cut short
    (lambda der: der + b"\x00", "not a DER SEQUENCE"),                # trailing garbage
    (lambda der: der[:4] + b"\x04" + der[5:], "not tbsCertificate"),  # tbsCertificate is not a SEQUENCE
    (lambda der: b"", "not a DER SEQUENCE"),
])
def test_structure_check_rejects_what_is_not_a_certificate(pki, mangle, reason):
    der = pki["leaf"].cert.public_bytes(serialization.Encoding.DER)
    with pytest.raises(certs.CertificateError) as exc:
        certs.check_certificate_structure(_pem_of_der(mangle(der)))
    assert str(exc.value).startswith("is not a valid X.509 certificate") and reason in str(exc.value)


def test_structure_check_rejects_a_public_key_in_a_certificate_block(pki):
    spki = pki["leaf"].cert.public_key().public_bytes(serialization.Encoding.DER,
                                                       serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(certs.CertificateError, match="not tbsCertificate"):
        certs.check_certificate_structure(_pem_of_der(spki))


def test_structure_check_rejects_a_body_that_is_not_base64():
    with pytest.raises(certs.CertificateError, match="PEM body is not base64"):
        certs.check_certificate_structure(b"-----BEGIN CERTIFICATE-----\nQUJDR\n-----END CERTIFICATE-----\n")
