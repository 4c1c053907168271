"""`pc secret` on an Envoy dump (waypoints, gateways, sidecars): istioctl's secret table and JSON.

istioctl's rules, which this module follows so the rows are the same:

* one row per dynamic secret, warming ones first, then active ones (static
  secrets are not listed);
* a secret's row describes the FIRST certificate of its data: the
  `tlsCertificate.certificateChain` if it has inline bytes, else the
  `validationContext.trustedCa`; a SPIFFE validator (`customValidatorConfig`
  holding a `SPIFFECertValidatorConfig`, what SPIRE federation sends) gives one
  row per trust domain instead;
* TYPE is `CA` when the certificate's basic constraints say so, else `Cert Chain`;
* SERIAL NUMBER is the serial in lowercase hex zero-padded to 32 digits
  (`0193a543…`), NOT AFTER / NOT BEFORE are RFC 3339 in UTC, VALID CERT is
  whether now lies strictly between them;
* a TRUST DOMAIN column appears only when every row has one (a SPIFFE URI in
  the certificate, or the bundle's trust domain);
* data that does not decode gives a row with VALID CERT false and empty cells.

Private keys never reach this module's output: the dump is redacted when it
is parsed (`proxy.redact`).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

from ambientctl.lazyre import LazyPattern
from ambientctl.proxy.envoy.dump import ACTIVE, SECRETS, WARMING, EnvoyDump, dict_of, field_of, list_of
from ambientctl.proxy.envoy.protojson import to_proto_json
from ambientctl.proxy.envoy.tabwriter import tabwrite

if TYPE_CHECKING:
    from cryptography import x509

HEADERS = ["RESOURCE NAME", "TYPE", "STATUS", "VALID CERT", "SERIAL NUMBER", "NOT AFTER", "NOT BEFORE"]
TRUST_DOMAIN_HEADER = "TRUST DOMAIN"
TABLE_PADDING = 5  # istioctl's tabwriter for this table: minwidth 0, tabwidth 5, padding 5
NO_SECRETS = "No active or warming secrets found."
SPIFFE_VALIDATOR_TYPE = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.SPIFFECertValidatorConfig"
ROOTCA = "ROOTCA"
CERT_CHAIN, CA = "Cert Chain", "CA"


@dataclass(frozen=True, slots=True)
class SecretRow:
    """One line of the table; the certificate fields are empty when there is no decodable certificate."""

    name: str
    state: str
    kind: str = ""
    valid: bool = False
    serial: str = ""
    not_after: str = ""
    not_before: str = ""
    trust_domain: str = ""
    error: str = ""          # why present data did not decode (not shown in the table; reported after it)

    def cells(self, with_trust_domain: bool) -> list[str]:
        cells = [self.name, self.kind, self.state, "true" if self.valid else "false", self.serial,
                 self.not_after, self.not_before]
        return cells + [self.trust_domain] if with_trust_domain else cells


# -- rows --------------------------------------------------------------------------------------


def secret_rows(dump: EnvoyDump, now: dt.datetime) -> list[SecretRow]:
    """istioctl's rows for the dump's dynamic secrets: warming, then active."""
    resources = dump.secrets()
    rows: list[SecretRow] = []
    for state in (WARMING, ACTIVE):
        for resource in resources:
            if resource.state == state:
                rows.extend(_rows_of(resource.name, resource.config, state, now))
    return rows


def has_dynamic_secrets(dump: EnvoyDump) -> bool:
    return any(r.state in (ACTIVE, WARMING) for r in dump.secrets())


def _rows_of(name: str, secret: dict[str, Any], state: str, now: dt.datetime) -> list[SecretRow]:
    chain = _inline_bytes(field_of(dict_of(secret, "tls_certificate"), "certificate_chain"))
    validation = dict_of(secret, "validation_context")
    trusted = _inline_bytes(field_of(validation, "trusted_ca"))
    if chain:
        return [_row(name, state, chain, "", now)]
    if trusted:
        return [_row(name, state, trusted, "", now)]
    bundles = spiffe_trust_bundles(validation)
    if bundles is not None:
        # istioctl names these rows after the Secret message itself, not its wrapper.
        inner = field_of(secret, "name")
        label = inner if isinstance(inner, str) else ""
        return [_row(label, state, data, domain, now) for domain, data in bundles]
    return [SecretRow(name=name, state=state)]


def spiffe_trust_bundles(validation: dict[str, Any]) -> list[tuple[str, bytes]] | None:
    """(trust domain, bundle bytes) of a SPIFFE validator, in the dump's order; None when there is none."""
    custom = dict_of(validation, "custom_validator_config")
    typed = dict_of(custom, "typed_config")
    if typed.get("@type") != SPIFFE_VALIDATOR_TYPE:
        return None
    out = []
    for domain in list_of(typed, "trust_domains"):
        if isinstance(domain, dict):
            name = field_of(domain, "name")
            out.append((name if isinstance(name, str) else "", _inline_bytes(field_of(domain, "trust_bundle"))))
    return out


def _inline_bytes(data_source: Any) -> bytes:
    """The decoded `inline_bytes` of a DataSource (istioctl reads no other kind); b"" if absent or damaged."""
    if not isinstance(data_source, dict):
        return b""
    value = field_of(data_source, "inline_bytes")
    if not isinstance(value, str) or not value:
        return b""
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return b"\0"  # present but not base64: a row that says the data is not a certificate


def _row(name: str, state: str, data: bytes, trust_domain: str, now: dt.datetime) -> SecretRow:
    try:
        cert = first_certificate(data)
    except ValueError as exc:
        return SecretRow(name=name, state=state, error=str(exc))
    not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    return SecretRow(
        name=name,
        state=state,
        kind=CA if _is_ca(cert) else CERT_CHAIN,
        valid=not_before < now < not_after,
        serial=serial_hex(cert.serial_number),
        not_after=_rfc3339(not_after),
        not_before=_rfc3339(not_before),
        trust_domain=trust_domain or _spiffe_trust_domain(cert),
    )


_PEM_BLOCK = LazyPattern(rb"-----BEGIN ([^\r\n]*?)-----\r?\n(.*?)\r?\n?-----END \1-----", re.S)


def first_certificate(data: bytes) -> x509.Certificate:
    """The first PEM block of `data`, parsed as a certificate (what Go's pem.Decode + ParseCertificate read)."""
    from cryptography import x509

    match = _PEM_BLOCK.search(data)
    if match is None:
        raise ValueError("is not PEM (no complete -----BEGIN/-----END block)")
    body = b"\n".join(line for line in match.group(2).splitlines() if b":" not in line)  # PEM headers
    try:
        der = base64.b64decode(b"".join(body.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"its PEM {match.group(1).decode('ascii', 'replace')!r} block is not base64") from None
    try:
        cert = x509.load_der_x509_certificate(der)
        cert.not_valid_after_utc  # noqa: B018 - reject undecodable validity here
    except ValueError as exc:
        label = match.group(1).decode("ascii", "replace")
        raise ValueError(f"its first PEM block ({label}) is not an X.509 certificate ({str(exc)[:80]})") from None
    return cert


def serial_hex(serial: int) -> str:
    """Go's `%032x` of the serial: lowercase hex, at least 32 digits (istioctl keeps the leading zeros)."""
    if serial < 0:
        return "-" + format(-serial, "x").rjust(31, "0")
    return format(serial, "032x")


def _is_ca(cert: x509.Certificate) -> bool:
    """Go's `IsCA`: true only with a basic-constraints extension that says CA."""
    from cryptography import x509

    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except (x509.ExtensionNotFound, ValueError):
        return False


def _spiffe_trust_domain(cert: x509.Certificate) -> str:
    """The host of the certificate's last `spiffe://` URI SAN (istioctl keeps the last one)."""
    from cryptography import x509

    try:
        uris = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value \
            .get_values_for_type(x509.UniformResourceIdentifier)
    except (x509.ExtensionNotFound, ValueError):
        return ""
    domain = ""
    for uri in uris:
        scheme, sep, rest = uri.partition("://")
        if sep and scheme.lower() == "spiffe":
            domain = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    return domain


def _rfc3339(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- the table ----------------------------------------------------------------------------------


def format_table(rows: Iterable[SecretRow], *, config_type: bool = False) -> str:
    """istioctl's table; the TRUST DOMAIN column only when every row has a trust domain.

    `config_type`: names read `secret/NAME`, as in `pc all`.
    """
    rows = list(rows)
    if not rows:
        return "No secret items to show.\n"
    with_domain = all(row.trust_domain for row in rows)
    headers = HEADERS + [TRUST_DOMAIN_HEADER] if with_domain else HEADERS
    lines = [row.cells(with_domain) for row in rows]
    if config_type:
        for cells in lines:
            cells[0] = f"secret/{cells[0]}"
    return tabwrite([headers, *lines], padding=TABLE_PADDING)


def format_summary(dump: EnvoyDump, now: dt.datetime, *, config_type: bool = False) -> str:
    """What `istioctl pc secret` prints for the dump (`config_type=True`: the SECRETS part of `pc all`)."""
    if not has_dynamic_secrets(dump):
        return NO_SECRETS + "\n"
    return format_table(secret_rows(dump, now), config_type=config_type)


def undecodable(rows: Iterable[SecretRow]) -> list[SecretRow]:
    return [row for row in rows if row.error]


# -- -o json / -o yaml ------------------------------------------------------------------------------


def secrets_document(dump: EnvoyDump) -> dict[str, Any]:
    """The SecretsConfigDump as istioctl prints it: protobuf JSON names, no section `@type`.

    Envoy's admin API writes snake_case (`dynamic_active_secrets`); istioctl
    re-encodes to camelCase, which is what the guide's
    `jq '.dynamicActiveSecrets[0].secret.tlsCertificate.certificateChain.inlineBytes'` reads.
    """
    converted = to_proto_json({k: v for k, v in dump.section(SECRETS).items() if k != "@type"})
    return converted if isinstance(converted, dict) else {}


# -- ROOTCA (rootca-compare) ---------------------------------------------------------------------------


def root_ca_pem(dump: EnvoyDump) -> bytes:
    """The PEM bytes of the active ROOTCA secret (its trustedCa, or every SPIFFE bundle); ValueError if none."""
    for resource in dump.secrets():
        if resource.state != ACTIVE or resource.name != ROOTCA:
            continue
        validation = dict_of(resource.config, "validation_context")
        trusted = _inline_bytes(field_of(validation, "trusted_ca"))
        if trusted:
            return trusted
        bundles = spiffe_trust_bundles(validation)
        if bundles:
            return b"".join(data for _, data in bundles if data)
        raise ValueError("its ROOTCA secret holds no trusted CA certificates")
    raise ValueError("it has no active ROOTCA secret")


# -- `pc secret` on an Envoy dump (called by cli/proxyconfig.py) ---------------------------------------


def print_secrets(raw: dict, source: str, fmt: str) -> None:
    """istioctl's Envoy secret table (or its camelCase SecretsConfigDump for -o json|yaml).

    Secrets whose data is not a certificate are shown (VALID CERT false) and then
    reported with exit code 11, as for ztunnel dumps.
    """
    import datetime as dt

    from ambientctl.errors import InvalidInputError
    from ambientctl.output import print_document, write_stdout
    from ambientctl.proxy.envoy import dump as envoydump

    dump = envoydump.from_document(raw, source)
    if fmt in ("json", "yaml"):
        print_document(secrets_document(dump), fmt)
        return
    if not has_dynamic_secrets(dump):
        write_stdout(NO_SECRETS + "\n")
        return
    rows = secret_rows(dump, dt.datetime.now(dt.timezone.utc))
    write_stdout(format_table(rows))
    bad = undecodable(rows)
    if bad:
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise InvalidInputError(f"secret {bad[0].name} in {source}: its data {bad[0].error}{more}",
                                "its row shows VALID CERT false; the other secrets are shown as they are")
