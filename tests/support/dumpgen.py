"""Generate ztunnel-shaped admin config dumps (``/config_dump``) for tests.

Certificates are created fresh with ``cryptography``: one root CA (subject
``O=cluster.local``) and, per identity, a leaf with URI SAN
``spiffe://cluster.local/ns/<ns>/sa/<sa>`` valid for 24 h.  Private keys never
leave this module (they are not part of the dump and are never printed).

Shape (matching current ztunnel's ``/config_dump``)::

    {"certificates": [{"identity": "spiffe://cluster.local/ns/default/sa/sleep",
                       "state": "Available",
                       "certChain": [{"pem": <base64 of PEM text>, "serialNumber": "<decimal>",
                                      "validFrom": "<RFC3339 Z>", "expirationTime": "<RFC3339 Z>"}],
                       "rootCerts": [<same shape, for the root>]}],
     "workloads": [...], "services": [], "policies": []}
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import ipaddress
import uuid
from dataclasses import dataclass
from typing import Iterable

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TRUST_DOMAIN = "cluster.local"


@dataclass
class Issued:
    """A certificate plus the key that signed/owns it (key kept for signing leaves only)."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    def __repr__(self) -> str:  # never show key material
        return f"Issued(subject={self.cert.subject.rfc4514_string()!r}, serial={self.cert.serial_number})"


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)


def spiffe_id(ns: str, sa: str, trust_domain: str = TRUST_DOMAIN) -> str:
    return f"spiffe://{trust_domain}/ns/{ns}/sa/{sa}"


def make_root(org: str = TRUST_DOMAIN, valid_for: _dt.timedelta = _dt.timedelta(days=3650),
              not_before: _dt.datetime | None = None) -> Issued:
    """Self-signed root CA with subject ``O=<org>`` (Istio's default root looks like this)."""
    key = ec.generate_private_key(ec.SECP256R1())
    start = not_before or _now() - _dt.timedelta(minutes=1)
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + valid_for)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          encipher_only=False, decipher_only=False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert, key)


def make_leaf(root: Issued, ns: str, sa: str, valid_for: _dt.timedelta = _dt.timedelta(hours=24),
              not_before: _dt.datetime | None = None, trust_domain: str = TRUST_DOMAIN) -> Issued:
    """Workload leaf like istiod issues: empty subject, URI SAN = SPIFFE id, signed by ``root``."""
    key = ec.generate_private_key(ec.SECP256R1())
    start = not_before or _now() - _dt.timedelta(minutes=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([]))
        .issuer_name(root.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + valid_for)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, key_encipherment=True, content_commitment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                          encipher_only=False, decipher_only=False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root.key.public_key()), critical=False)
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(spiffe_id(ns, sa, trust_domain))]),
            critical=True,
        )
        .sign(root.key, hashes.SHA256())
    )
    return Issued(cert, key)


def _rfc3339(t: _dt.datetime) -> str:
    return t.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def cert_entry(cert: x509.Certificate) -> dict:
    """One ``certChain``/``rootCerts`` element as ztunnel renders it."""
    pem = cert.public_bytes(serialization.Encoding.PEM)
    return {
        "pem": base64.b64encode(pem).decode(),
        "serialNumber": str(cert.serial_number),
        "validFrom": _rfc3339(cert.not_valid_before_utc),
        "expirationTime": _rfc3339(cert.not_valid_after_utc),
    }


def _ip_for(ns: str, sa: str) -> str:
    h = hashlib.sha256(f"{ns}/{sa}".encode()).digest()
    return str(ipaddress.ip_address("10.244.0.0") + (int.from_bytes(h[:2], "big") % 65000) + 2)


def workload_entry(ns: str, sa: str, node: str = "ambient-worker", name: str | None = None,
                   waypoint: dict | None = None) -> dict:
    """A plausible ztunnel workload entry for a pod running as ``ns/sa``."""
    pod = name or f"{sa}-{uuid.uuid5(uuid.NAMESPACE_DNS, ns + sa).hex[:10]}-{uuid.uuid5(uuid.NAMESPACE_URL, sa).hex[:5]}"
    return {
        "uid": f"Kubernetes//Pod/{ns}/{pod}",
        "workloadIps": [_ip_for(ns, sa)],
        "protocol": "HBONE",
        "name": pod,
        "namespace": ns,
        "serviceAccount": sa,
        "node": node,
        "status": "Healthy",
        "workloadName": sa,
        "workloadType": "deployment",
        "canonicalName": sa,
        "canonicalRevision": "latest",
        "trustDomain": TRUST_DOMAIN,
        "clusterId": "Kubernetes",
        "capacity": 1,
        "waypoint": waypoint,
    }


def generate_dump(identities: Iterable[tuple[str, str]], states: dict | None = None, *,
                  root: Issued | None = None, node: str = "ambient-worker", with_workloads: bool = True,
                  leaf_validity: _dt.timedelta = _dt.timedelta(hours=24)) -> dict:
    """Build a ztunnel ``/config_dump`` for ``identities`` (``[(namespace, serviceaccount), ...]``).

    ``states`` maps an identity (either the SPIFFE URI or the ``(ns, sa)`` tuple) to a state
    string: ``"Available"`` (default, real certs), ``"Initializing"`` or ``"Unavailable: <reason>"``
    (both rendered with empty ``certChain``/``rootCerts``, as ztunnel does).
    """
    states = states or {}
    root = root or make_root()
    certs = []
    workloads = []
    for ns, sa in identities:
        ident = spiffe_id(ns, sa)
        state = states.get(ident, states.get((ns, sa), "Available"))
        if state == "Available":
            leaf = make_leaf(root, ns, sa, valid_for=leaf_validity)
            chain, roots = [cert_entry(leaf.cert)], [cert_entry(root.cert)]
        else:
            chain, roots = [], []
        certs.append({"identity": ident, "state": state, "certChain": chain, "rootCerts": roots})
        if with_workloads:
            workloads.append(workload_entry(ns, sa, node=node))
    return {"certificates": certs, "workloads": workloads, "services": [], "policies": []}


def decode_pem(entry: dict) -> x509.Certificate:
    """Inverse of :func:`cert_entry` (handy in tests)."""
    return x509.load_pem_x509_certificate(base64.b64decode(entry["pem"]))
