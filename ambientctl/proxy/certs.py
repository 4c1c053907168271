"""Decode the X.509 certificates ztunnel and Envoy hold, without openssl.

Only `pc secret`, `zc certificate` and friends use this module, so it may
import `cryptography` inside functions: `--help` never pays for it. Every
decoding failure becomes a `CertificateError` with a short, key-free reason,
so one bad certificate never hides the others.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

from ambientctl.lazyre import LazyPattern

if TYPE_CHECKING:
    from cryptography import x509

REDACTED = "[redacted]"
REDACTED_B64 = base64.b64encode(REDACTED.encode()).decode()  # "W3JlZGFjdGVkXQ=="

_PEM_CERT_RE = LazyPattern(rb"-----BEGIN CERTIFICATE-----\s.*?-----END CERTIFICATE-----\s*", re.S)
_PEM_BEGIN = b"-----BEGIN"
_PEM_CERT_HEADER = b"-----BEGIN CERTIFICATE-----"
_PEM_CERT_FOOTER = b"-----END CERTIFICATE-----"
CLOSE_TO_EXPIRY_ABSOLUTE = dt.timedelta(hours=1)
CLOSE_TO_EXPIRY_FRACTION = 0.10


class CertificateError(ValueError):
    """A certificate field that cannot be decoded; the message never contains key material."""


# -- from dump fields to PEM bytes ----------------------------------------------------------


def pem_from_field(value: Any) -> bytes:
    """The PEM text of a dump's `pem` field: base64 of PEM (current ztunnel) or PEM itself (older)."""
    if not isinstance(value, str) or not value.strip():
        raise CertificateError("pem is empty" if isinstance(value, str) or value is None else "pem is not a string")
    text = value.strip()
    if REDACTED in text or REDACTED_B64 in text:
        raise CertificateError("pem holds private key material (redacted), not a certificate")
    if text.startswith("-----BEGIN"):
        data = text.encode("utf-8", "replace") + b"\n"
    else:
        try:
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise CertificateError("pem is neither PEM text nor base64") from None
    return _only_certificates(data)


def single_certificate_pem(value: str) -> bytes | None:
    """Current ztunnel's `pem` field, when it is strict base64 of exactly one CERTIFICATE block; else None.

    The common case, decided with a handful of C-level scans instead of the
    general path (`pem_from_field` + `split_pem_chain`), which gives the same
    bytes for it and handles (and explains) everything else.
    """
    try:
        data = binascii.a2b_base64(value, strict_mode=True)
    except (binascii.Error, ValueError):
        return None
    if (data.startswith(_PEM_CERT_HEADER) and data.endswith(_PEM_CERT_FOOTER + b"\n")
            and data.count(b"-----") == 4 and b"PRIVATE KEY" not in data):
        return data
    return None


def pem_from_inline(data_source: Any) -> bytes:
    """The PEM text of an Envoy DataSource (`inlineBytes` base64, or `inlineString`)."""
    if not isinstance(data_source, dict):
        raise CertificateError("no inline certificate data")
    raw_b64 = data_source.get("inlineBytes", data_source.get("inline_bytes"))
    text = data_source.get("inlineString", data_source.get("inline_string"))
    if isinstance(raw_b64, str):
        try:
            data = base64.b64decode(raw_b64, validate=True)
        except (binascii.Error, ValueError):
            raise CertificateError("inlineBytes is not base64") from None
    elif isinstance(text, str):
        data = text.encode("utf-8", "replace")
    elif data_source.get("filename"):
        raise CertificateError(f"certificate is in file {data_source['filename']!r} on the proxy, not in the dump")
    else:
        raise CertificateError("no inline certificate data")
    return _only_certificates(data)


def _only_certificates(data: bytes) -> bytes:
    if data.strip() == REDACTED.encode() or b"PRIVATE KEY" in data:
        raise CertificateError("holds private key material (redacted), not a certificate")
    if _PEM_BEGIN not in data:
        raise CertificateError("is not PEM (no -----BEGIN line)")
    if b"-----BEGIN CERTIFICATE-----" not in data:
        label = data[data.index(_PEM_BEGIN) + 11:].split(b"-----", 1)[0].decode("ascii", "replace")[:40]
        raise CertificateError(f"holds a PEM {label!r} block, not a CERTIFICATE")
    return data


def split_pem_chain(data: bytes) -> list[bytes]:
    """Each `CERTIFICATE` block of a PEM bundle, in order (Envoy puts a whole chain in one field)."""
    if data.count(b"-----BEGIN CERTIFICATE-----") == 1 and data.count(b"-----END CERTIFICATE-----") == 1 \
            and data.index(b"-----BEGIN CERTIFICATE-----") < data.index(b"-----END CERTIFICATE-----"):
        start = data.index(b"-----BEGIN CERTIFICATE-----")
        end = data.index(b"-----END CERTIFICATE-----") + len(b"-----END CERTIFICATE-----")
        return [data[start:end] + b"\n"]
    blocks = [m.group(0).strip() + b"\n" for m in _PEM_CERT_RE.finditer(data)]
    if not blocks:
        raise CertificateError("no complete PEM CERTIFICATE block")
    return blocks


# -- a cheap structural check (no X.509 parsing) -----------------------------------------------

_DER_SEQUENCE, _DER_BIT_STRING = 0x30, 0x03


def check_certificate_structure(pem: bytes) -> None:
    """Raise CertificateError unless the PEM block's body is the DER skeleton of a certificate.

    Why: the table and JSON views print the serial and dates the dump itself
    gives (as istioctl does) and must not pay for loading `cryptography` and
    parsing every certificate. This check still catches what is not a
    certificate at all (damaged base64, text, a cut or padded block) in a few
    microseconds: the body must be one DER SEQUENCE holding exactly a
    SEQUENCE (tbsCertificate), a SEQUENCE (signature algorithm) and a BIT
    STRING (signature). A certificate well-formed at that level but corrupt
    inside is reported by `-o detail`, which parses it.
    """
    start = pem.find(_PEM_CERT_HEADER)
    end = pem.find(_PEM_CERT_FOOTER, start + 1)
    if start < 0 or end < 0:
        raise CertificateError("no complete PEM CERTIFICATE block")
    try:
        der = binascii.a2b_base64(pem[start + len(_PEM_CERT_HEADER):end])  # skips the line breaks
    except (binascii.Error, ValueError):
        raise CertificateError("is not a valid X.509 certificate (its PEM body is not base64)") from None
    problem = _certificate_der_problem(der)
    if problem:
        raise CertificateError(f"is not a valid X.509 certificate ({problem})")


def _certificate_der_problem(der: bytes) -> str | None:
    """Why `der` is not Certificate ::= SEQUENCE { SEQUENCE, SEQUENCE, BIT STRING }; None if it is."""
    outer = _der_element(der, 0)
    if outer is None or outer[0] != _DER_SEQUENCE or outer[2] != len(der):
        return "not a DER SEQUENCE spanning the whole block"
    position = outer[1]
    for expected in (_DER_SEQUENCE, _DER_SEQUENCE, _DER_BIT_STRING):
        element = _der_element(der, position)
        if element is None or element[0] != expected:
            return "DER content is not tbsCertificate, signatureAlgorithm, signature"
        position = element[2]
    return None if position == len(der) else "trailing data inside the certificate"


def _der_element(der: bytes, offset: int) -> tuple[int, int, int] | None:
    """(tag, content start, end) of the DER element at `offset`, or None if its header does not fit."""
    if offset + 2 > len(der):
        return None
    tag, first = der[offset], der[offset + 1]
    if first < 0x80:
        start, length = offset + 2, first
    else:
        size = first & 0x7F
        if not 1 <= size <= 4 or offset + 2 + size > len(der):
            return None
        start, length = offset + 2 + size, int.from_bytes(der[offset + 2:offset + 2 + size], "big")
    end = start + length
    return (tag, start, end) if end <= len(der) else None


# -- decoding ------------------------------------------------------------------------------


class CertInfo:
    """What users read off `openssl x509 -text`; each field decoded only when a printer asks for it.

    The table view needs the validity dates and the serial; only `-o detail`
    pays for names, SANs, key and fingerprint.
    """

    def __init__(self, cert: x509.Certificate, pem: bytes) -> None:
        self.cert = cert
        self.pem = pem

    def __repr__(self) -> str:
        return f"CertInfo(serial={self.serial_hex})"

    @cached_property
    def serial(self) -> int:
        return self.cert.serial_number

    @property
    def serial_hex(self) -> str:
        return format(self.serial, "x")

    @cached_property
    def not_before(self) -> dt.datetime:
        return self.cert.not_valid_before_utc

    @cached_property
    def not_after(self) -> dt.datetime:
        return self.cert.not_valid_after_utc

    @property
    def lifetime(self) -> dt.timedelta:
        return self.not_after - self.not_before

    @cached_property
    def subject(self) -> str:
        return _name(self.cert.subject)

    @cached_property
    def issuer(self) -> str:
        return _name(self.cert.issuer)

    @cached_property
    def _sans(self) -> tuple[list[str], list[str]]:
        from cryptography import x509

        try:
            sans = self.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except x509.ExtensionNotFound:
            return [], []
        except ValueError:
            return [], []
        return (list(sans.get_values_for_type(x509.UniformResourceIdentifier)),
                list(sans.get_values_for_type(x509.DNSName)))

    @property
    def san_uris(self) -> list[str]:
        return self._sans[0]

    @property
    def san_dns(self) -> list[str]:
        return self._sans[1]

    @cached_property
    def is_ca(self) -> bool:
        from cryptography import x509

        try:
            return bool(self.cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
        except x509.ExtensionNotFound:
            return self.cert.issuer == self.cert.subject
        except ValueError:
            return False

    @cached_property
    def _key(self) -> tuple[str, int]:
        return _key_description(self.cert)

    @property
    def key_type(self) -> str:
        return self._key[0]

    @property
    def key_bits(self) -> int:
        return self._key[1]

    @cached_property
    def signature_algorithm(self) -> str:
        oid = self.cert.signature_algorithm_oid
        name = getattr(oid, "_name", None)
        return name if name and name != "Unknown OID" else oid.dotted_string

    @cached_property
    def fingerprint_sha256(self) -> str:
        from cryptography.hazmat.primitives import hashes

        return self.cert.fingerprint(hashes.SHA256()).hex(":").upper()


def load_certificate(pem: bytes) -> x509.Certificate:
    """Parse one PEM certificate; raise CertificateError (never a library exception)."""
    from cryptography import x509

    try:
        cert = x509.load_pem_x509_certificate(pem)
        cert.not_valid_after_utc  # noqa: B018 - reject undecodable validity now, not while printing
    except ValueError as exc:
        raise CertificateError(f"is not a valid X.509 certificate ({_short(exc)})") from None
    return cert


def decode(pem: bytes) -> CertInfo:
    """Parse a single-certificate PEM; the fields the printers show are decoded on demand."""
    return CertInfo(load_certificate(pem), pem)


def _name(name: Any) -> str:
    return name.rfc4514_string() or "(empty)"


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]


def _key_description(cert: x509.Certificate) -> tuple[str, int]:
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

    try:
        key = cert.public_key()
    except (ValueError, TypeError) as exc:
        return f"unreadable ({_short(exc)})", 0
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        curve = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}.get(key.curve.name, key.curve.name)
        return f"EC {curve}", key.curve.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size
    return type(key).__name__, 0


# -- validity and chain checks ------------------------------------------------------------------


def verify_issued_by(child: CertInfo, issuer: CertInfo) -> str | None:
    """None if `issuer` signed `child` (names and signature); else why not."""
    try:
        child.cert.verify_directly_issued_by(issuer.cert)
    except ValueError as exc:
        return _short(exc)
    except TypeError as exc:
        return f"unsupported key or signature ({_short(exc)})"
    except Exception as exc:  # noqa: BLE001 - InvalidSignature and friends
        return "signature does not verify" if type(exc).__name__ == "InvalidSignature" else _short(exc)
    return None


def verify_chain(chain: list[CertInfo], roots: list[CertInfo]) -> tuple[bool, str]:
    """Whether each certificate is signed by the next, the last by one of `roots`, and the root by itself.

    Returns (ok, explanation). Validity dates are not part of this: the printers report them apart.
    """
    if not chain:
        return False, "no certificate chain"
    path = [chain[0].subject if chain[0].subject != "(empty)" else "leaf"]
    for child, parent in zip(chain, chain[1:]):
        problem = verify_issued_by(child, parent)
        if problem:
            return False, f"{_label(child)} is not signed by the next certificate in the chain ({problem})"
        path.append(parent.subject)
    last = chain[-1]
    if last.is_ca and last.subject == last.issuer and verify_issued_by(last, last) is None:
        return True, "self-signed chain: " + " -> ".join(path)
    if not roots:
        return False, "no root certificate to verify against"
    reasons = []
    for root in roots:
        problem = verify_issued_by(last, root)
        if problem is None:
            self_problem = verify_issued_by(root, root)
            if self_problem:
                return False, f"root {root.subject} is not self-signed ({self_problem})"
            return True, " -> ".join(path + [f"root {root.subject}"])
        reasons.append(problem)
    return False, f"{_label(last)} (issuer {last.issuer}) is not signed by the root it came with ({reasons[0]})"


def _label(info: CertInfo) -> str:
    return f"certificate {info.serial_hex}"


def time_left(info: CertInfo, now: dt.datetime) -> str:
    """`23h59m left`, `expired 2h3m ago`, `not valid for another 5m`."""
    if now < info.not_before:
        return f"not valid for another {human_duration(info.not_before - now)}"
    if now >= info.not_after:
        return f"expired {human_duration(now - info.not_after)} ago"
    return f"{human_duration(info.not_after - now)} left"


def human_duration(delta: dt.timedelta) -> str:
    """Compact duration like kubectl's ages: 3650d, 23h59m, 59m30s, 12s."""
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days >= 2:
        return f"{days}d" if days >= 30 or not hours else f"{days}d{hours}h"
    hours += days * 24
    if hours:
        return f"{hours}h{minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m{secs}s" if secs else f"{minutes}m"
    return f"{secs}s"


def validity_warnings(info: CertInfo, now: dt.datetime, what: str) -> list[str]:
    """Expired, not yet valid, or close to expiry (< 1 h left, or < 10% of its lifetime left)."""
    if now >= info.not_after:
        return [f"{what} expired {human_duration(now - info.not_after)} ago ({rfc3339(info.not_after)})"]
    if now < info.not_before:
        return [f"{what} is not valid yet: valid from {rfc3339(info.not_before)} "
                f"(in {human_duration(info.not_before - now)}; check clock skew)"]
    left = info.not_after - now
    lifetime = info.lifetime
    if left < CLOSE_TO_EXPIRY_ABSOLUTE or (lifetime.total_seconds() > 0 and left < lifetime * CLOSE_TO_EXPIRY_FRACTION):
        share = 100 * left / lifetime if lifetime.total_seconds() > 0 else 0
        return [f"{what} expires in {human_duration(left)} ({share:.0f}% of its {human_duration(lifetime)} lifetime "
                f"left); ztunnel should have rotated it by now"]
    return []


def san_warning(info: CertInfo, identity: str) -> str | None:
    """A warning when the leaf's SAN URIs do not include the SPIFFE identity it is served for."""
    if not identity.startswith("spiffe://") or identity in info.san_uris:
        return None
    have = ", ".join(info.san_uris) or "none"
    return f"leaf SAN URIs ({have}) do not include the identity {identity}: peers will reject it"


def rfc3339(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=4096)
def parse_rfc3339(value: Any) -> dt.datetime | None:
    """A dump timestamp (`2026-09-01T12:00:00Z`, fractions or offsets allowed); None if unusable."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None  # RFC 3339 requires an offset, as Go's time.Parse does
    return parsed.astimezone(dt.timezone.utc)
