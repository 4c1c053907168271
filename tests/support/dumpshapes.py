"""The other two dump shapes, and deterministic certificates for golden files.

`tests/support/dumpgen.py` makes current-shape ztunnel dumps with fresh keys.
Here:

* `to_legacy(dump)`: older ztunnel (PEM text in `pem`, root appended to `certChain`, no `rootCerts`);
* `to_envoy(dump)`: an Envoy `/config_dump` with a SecretsConfigDump (`default` + `ROOTCA`, snake_case
  as Envoy's admin API prints it; `camel=True` for istioctl's protojson spelling);
* `golden_dump()`: a current-shape dump whose keys, serials, dates AND signatures are fixed
  (EC keys derived from fixed scalars, RFC 6979 deterministic ECDSA), so printed output is
  byte-for-byte stable; `GOLDEN_NOW` is the frozen clock to print it with.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support.dumpgen import Issued, spiffe_id

GOLDEN_NOW = dt.datetime(2026, 9, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
_ROOT_START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def fixed_key(label: str) -> ec.EllipticCurvePrivateKey:
    """A P-256 key derived from a label: the same key every run (tests only)."""
    scalar = int.from_bytes(hashlib.sha256(label.encode()).digest(), "big")
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    return ec.derive_private_key(scalar % (order - 1) + 1, ec.SECP256R1())


def _fixed_serial(label: str) -> int:
    return int.from_bytes(hashlib.sha256(b"serial:" + label.encode()).digest()[:16], "big") >> 1


def _sign(builder: x509.CertificateBuilder, key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    return builder.sign(key, hashes.SHA256(), ecdsa_deterministic=True)


def fixed_root(org: str = "cluster.local", label: str = "root") -> Issued:
    key = fixed_key(label)
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)])
    builder = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(_fixed_serial(label))
        .not_valid_before(_ROOT_START).not_valid_after(_ROOT_START + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    return Issued(_sign(builder, key), key)


def fixed_intermediate(root: Issued, label: str = "intermediate") -> Issued:
    key = fixed_key(label)
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cluster.local"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "Intermediate CA")])
    builder = (
        x509.CertificateBuilder().subject_name(name).issuer_name(root.cert.subject).public_key(key.public_key())
        .serial_number(_fixed_serial(label))
        .not_valid_before(_ROOT_START).not_valid_after(_ROOT_START + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
    )
    return Issued(_sign(builder, root.key), key)


def fixed_leaf(issuer: Issued, ns: str, sa: str, *, not_before: dt.datetime, hours: float = 24,
               label: str | None = None, san: str | None = None) -> Issued:
    label = label or f"leaf:{ns}/{sa}"
    key = fixed_key(label)
    builder = (
        x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(issuer.cert.subject)
        .public_key(key.public_key()).serial_number(_fixed_serial(label))
        .not_valid_before(not_before).not_valid_after(not_before + dt.timedelta(hours=hours))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                       critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(san or spiffe_id(ns, sa))]),
                       critical=True)
    )
    return Issued(_sign(builder, issuer.key), key)


def entry(cert: x509.Certificate) -> dict:
    """A current-shape certChain/rootCerts element."""
    pem = cert.public_bytes(serialization.Encoding.PEM)
    return {
        "pem": base64.b64encode(pem).decode(),
        "serialNumber": str(cert.serial_number),
        "validFrom": cert.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "expirationTime": cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def golden_dump() -> dict:
    """Every case the printers must handle, with fixed certificates (see GOLDEN_NOW).

    default/sleep       Available, 24 h leaf issued 1 h ago, signed by the root
    default/httpbin     Available, leaf -> intermediate -> root (a plug-in CA)
    prod/payments       Available, 30 minutes left
    prod/legacy         Available, expired 2 h ago
    prod/impostor       Available, leaf whose SAN is another identity
    istio-system/ztunnel Initializing
    prod/gone           Unavailable: the identity is no longer needed
    """
    root = fixed_root()
    inter = fixed_intermediate(root)
    now = GOLDEN_NOW
    leaves = {
        ("default", "sleep"): ([fixed_leaf(root, "default", "sleep", not_before=now - dt.timedelta(hours=1))], root),
        ("default", "httpbin"): ([fixed_leaf(inter, "default", "httpbin", not_before=now - dt.timedelta(hours=2)),
                                  inter], root),
        ("prod", "payments"): ([fixed_leaf(root, "prod", "payments",
                                           not_before=now - dt.timedelta(hours=23, minutes=30))], root),
        ("prod", "legacy"): ([fixed_leaf(root, "prod", "legacy", not_before=now - dt.timedelta(hours=26))], root),
        ("prod", "impostor"): ([fixed_leaf(root, "prod", "impostor", not_before=now - dt.timedelta(hours=3),
                                           san=spiffe_id("prod", "payments"))], root),
    }
    certificates = []
    for (ns, sa), (chain, chain_root) in leaves.items():
        certificates.append({"identity": spiffe_id(ns, sa), "state": "Available",
                             "certChain": [entry(c.cert) for c in chain], "rootCerts": [entry(chain_root.cert)]})
    certificates.append({"identity": spiffe_id("istio-system", "ztunnel"), "state": "Initializing",
                         "certChain": [], "rootCerts": []})
    certificates.append({"identity": spiffe_id("prod", "gone"),
                         "state": "Unavailable: the identity is no longer needed", "certChain": [], "rootCerts": []})
    return {"certificates": certificates, "workloads": [], "services": [], "policies": []}


# -- converters ------------------------------------------------------------------------------


def _pem_text(item: dict) -> str:
    return base64.b64decode(item["pem"]).decode()


def to_legacy(dump: dict) -> dict:
    """Older ztunnel: `pem` is PEM text, the root is the last element of certChain, no rootCerts."""
    out = copy.deepcopy(dump)
    for ident in out.get("certificates", []):
        chain = [dict(c, pem=_pem_text(c)) for c in ident.get("certChain", [])]
        roots = [dict(c, pem=_pem_text(c)) for c in ident.pop("rootCerts", []) or []]
        ident["certChain"] = chain + roots if chain else []
    return out


def to_envoy(dump: dict, *, camel: bool = False, names: str = "default") -> dict:
    """An Envoy /config_dump holding the dump's Available identities as SDS secrets.

    `names="default"`: the first Available identity becomes Envoy's `default` secret (a waypoint or
    gateway holds one); `names="identity"`: one secret per identity, named after it. The roots
    become one `ROOTCA` validation-context secret. Non-Available identities become warming secrets.
    """
    def k(snake: str) -> str:
        if not camel:
            return snake
        head, *rest = snake.split("_")
        return head + "".join(p.title() for p in rest)

    active, warming, roots = [], [], []
    for ident in dump.get("certificates", []):
        if ident["state"] != "Available" or not ident["certChain"]:
            warming.append({"name": ident["identity"], k("version_info"): "",
                            "secret": {"@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret",
                                       "name": ident["identity"]}})
            continue
        for root in ident.get("rootCerts", []):
            if _pem_text(root) not in roots:
                roots.append(_pem_text(root))
        if names == "default" and active:
            continue
        name = "default" if names == "default" else ident["identity"]
        chain_pem = "".join(_pem_text(c) for c in ident["certChain"])
        active.append({
            "name": name,
            k("version_info"): ident["certChain"][0]["validFrom"],
            k("last_updated"): ident["certChain"][0]["validFrom"],
            "secret": {
                "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret",
                "name": name,
                k("tls_certificate"): {
                    k("certificate_chain"): {k("inline_bytes"): base64.b64encode(chain_pem.encode()).decode()},
                    k("private_key"): {k("inline_string"): "[redacted]"},
                },
            },
        })
    if roots:
        active.append({
            "name": "ROOTCA",
            k("version_info"): "",
            "secret": {
                "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret",
                "name": "ROOTCA",
                k("validation_context"): {k("trusted_ca"): {k("inline_bytes"): base64.b64encode(
                    "".join(roots).encode()).decode()}},
            },
        })
    secrets = {"@type": "type.googleapis.com/envoy.admin.v3.SecretsConfigDump", k("dynamic_active_secrets"): active}
    if warming:
        secrets[k("dynamic_warming_secrets")] = warming
    return {"configs": [
        {"@type": "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump", "bootstrap": {"node": {"id": "waypoint"}}},
        secrets,
    ]}


def private_key_pem(label: str = "leaked") -> str:
    """PEM of a throwaway private key, to prove redaction (never a real key)."""
    return fixed_key(label).private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()).decode()
