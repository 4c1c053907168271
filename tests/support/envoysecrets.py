"""Envoy secrets sections shaped like real ones, with fixed certificates (byte-stable golden files).

* `waypoint_dump()`: a waypoint's SDS: the `default` workload chain (leaf + intermediate) and
  `ROOTCA`, as Envoy's admin API prints it (snake_case); the root's serial starts with a zero
  nibble, so its 32-digit hex starts with `0` (istioctl prints `0193a543…`, never `193a543…`);
* `gateway_dump()`: an ingress gateway's SDS: `default`, `ROOTCA`, a TLS credential from a
  Kubernetes Secret (no SPIFFE SAN, not a CA), a warming credential and one whose chain is
  only a file path on the proxy;
* `spiffe_bundle_dump()`: a SPIRE-federated proxy: `default` and a `ROOTCA` whose validation
  context is a SPIFFE validator with one trust bundle per trust domain (no `trusted_ca`);
* `damaged_dump()`: secrets whose data is not a certificate (not PEM, a PEM key block, bad DER).

`GOLDEN_NOW` (from dumpshapes) lies inside every fixed certificate's validity, except the
`expired` credential of the gateway.
"""

from __future__ import annotations

import base64
import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from tests.support.dumpgen import Issued
from tests.support.dumpshapes import GOLDEN_NOW, _sign, fixed_intermediate, fixed_key, fixed_leaf, fixed_root

SECRET_TYPE = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"
SECRETS_DUMP_TYPE = "type.googleapis.com/envoy.admin.v3.SecretsConfigDump"
SPIFFE_TYPE = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.SPIFFECertValidatorConfig"
ROOT_SERIAL = 0x0193A543FE2B0D9CD4847675394DFC54   # 31 significant hex digits: the padded form starts with 0
ISSUED_AT = dt.datetime(2026, 9, 1, 1, 30, 52, tzinfo=dt.timezone.utc)
NOW = GOLDEN_NOW


def pem(*certs: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def root_with_serial(serial: int, org: str, label: str, *, spiffe_san: bool = False) -> Issued:
    """A CA certificate with a chosen serial (the fixed roots of dumpshapes derive theirs from the label)."""
    key = fixed_key(label)
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)])
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
               .serial_number(serial).not_valid_before(start).not_valid_after(start + dt.timedelta(days=3650))
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True))
    if spiffe_san:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(f"spiffe://{org}")]), critical=False)
    return Issued(_sign(builder, key), key)


def server_cert(issuer: Issued, host: str, *, not_before: dt.datetime, days: float, label: str) -> Issued:
    """A gateway's TLS serving certificate: a DNS SAN only, no basic constraints (Go: not a CA)."""
    key = fixed_key(label)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
               .issuer_name(issuer.cert.subject).public_key(key.public_key())
               .serial_number(int.from_bytes(label.encode().ljust(8, b"\0")[:8], "big"))
               .not_valid_before(not_before).not_valid_after(not_before + dt.timedelta(days=days))
               .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False))
    return Issued(_sign(builder, issuer.key), key)


def tls_secret(name: str, chain: bytes | None, *, version: str = "2026-09-01T01:30:52Z",
               chain_source: dict | None = None) -> dict:
    """A dynamic secret holding a certificate chain (`chain=None`: the secret was not sent yet)."""
    holder: dict = {"name": name, "version_info": version, "last_updated": "2026-09-01T01:30:53.102Z"}
    secret: dict = {"@type": SECRET_TYPE, "name": name}
    if chain is not None or chain_source is not None:
        secret["tls_certificate"] = {
            "certificate_chain": chain_source if chain_source is not None else {"inline_bytes": b64(chain or b"")},
            "private_key": {"inline_bytes": b64(b"[redacted]")},
        }
    holder["secret"] = secret
    return holder


def ca_secret(name: str, roots: bytes) -> dict:
    return {"name": name, "version_info": "2026-09-01T01:30:52Z", "last_updated": "2026-09-01T01:30:53.200Z",
            "secret": {"@type": SECRET_TYPE, "name": name,
                       "validation_context": {"trusted_ca": {"inline_bytes": b64(roots)}}}}


def spiffe_secret(name: str, bundles: list[tuple[str, bytes]]) -> dict:
    domains = [{"name": domain, "trust_bundle": {"inline_bytes": b64(data)}} for domain, data in bundles]
    return {"name": name, "version_info": "2026-09-01T01:30:52Z", "last_updated": "2026-09-01T01:30:53.200Z",
            "secret": {"@type": SECRET_TYPE, "name": name, "validation_context": {
                "custom_validator_config": {
                    "name": "envoy.tls.cert_validator.spiffe",
                    "typed_config": {"@type": SPIFFE_TYPE, "trust_domains": domains}}}}}


def envoy_dump(active: list[dict], warming: list[dict] | None = None, static: list[dict] | None = None) -> dict:
    section: dict = {"@type": SECRETS_DUMP_TYPE}
    if static:
        section["static_secrets"] = static
    section["dynamic_active_secrets"] = active
    if warming:
        section["dynamic_warming_secrets"] = warming
    return {"configs": [
        {"@type": "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump",
         "bootstrap": {"node": {"id": "router~10.244.1.7~waypoint-7d9c8b9f5-x2kq4.default~default.svc.cluster.local"}}},
        {"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump", "version_info": "2026-09-01T01:30:52Z"},
        section,
    ]}


# -- the shapes -------------------------------------------------------------------------------


def mesh_ca() -> tuple[Issued, Issued]:
    root = root_with_serial(ROOT_SERIAL, "cluster.local", "envoy-root")
    return root, fixed_intermediate(root, label="envoy-intermediate")


def waypoint_dump() -> dict:
    root, intermediate = mesh_ca()
    leaf = fixed_leaf(intermediate, "default", "waypoint", not_before=ISSUED_AT, label="envoy-waypoint")
    return envoy_dump([tls_secret("default", pem(leaf.cert, intermediate.cert)), ca_secret("ROOTCA", pem(root.cert))])


def gateway_dump() -> dict:
    root, intermediate = mesh_ca()
    leaf = fixed_leaf(intermediate, "istio-ingress", "bookinfo-gateway-istio", not_before=ISSUED_AT,
                      label="envoy-gateway")
    credential_ca = fixed_root(org="example.com", label="credential-ca")
    serving = server_cert(credential_ca, "bookinfo.example.com", not_before=dt.datetime(2026, 3, 1,
                          tzinfo=dt.timezone.utc), days=365, label="bookinfo")
    expired = server_cert(credential_ca, "old.example.com", not_before=dt.datetime(2025, 1, 1,
                          tzinfo=dt.timezone.utc), days=90, label="expired")
    active = [
        tls_secret("default", pem(leaf.cert, intermediate.cert)),
        tls_secret("kubernetes://bookinfo-credential", pem(serving.cert, credential_ca.cert)),
        tls_secret("kubernetes://old-credential", pem(expired.cert)),
        tls_secret("file-cert:/etc/certs/cert.pem", None,
                   chain_source={"filename": "/etc/certs/cert.pem"}),
        ca_secret("ROOTCA", pem(root.cert)),
    ]
    warming = [{"name": "kubernetes://missing-credential",
                "secret": {"@type": SECRET_TYPE, "name": "kubernetes://missing-credential"}}]
    return envoy_dump(active, warming)


def spiffe_bundle_dump() -> dict:
    east = root_with_serial(0x529CBBAF623611D057B517D4FFE341E4E8035037, "east.local", "spiffe-east", spiffe_san=True)
    west = root_with_serial(0x06726E5FAD145F8CA9A711F0550297CED839EE37, "west.local", "spiffe-west", spiffe_san=True)
    leaf = fixed_leaf(east, "default", "sleep", not_before=ISSUED_AT, label="spiffe-leaf",
                      san="spiffe://east.local/ns/default/sa/sleep")
    return envoy_dump([tls_secret("default", pem(leaf.cert)),
                       spiffe_secret("ROOTCA", [("east.local", pem(east.cert)), ("west.local", pem(west.cert))])])


def damaged_dump() -> dict:
    root, _ = mesh_ca()
    key_pem = fixed_key("damaged").private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption())
    return envoy_dump([
        tls_secret("not-pem", b"hello, this is not a certificate\n"),
        tls_secret("bad-der", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
        tls_secret("a-key", key_pem),
        ca_secret("ROOTCA", pem(root.cert)),
    ])
