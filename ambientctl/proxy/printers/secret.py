"""`pc secret` / `zc certificate` text: istioctl's certificate table, and a decoded detail view."""

from __future__ import annotations

import datetime as dt
from typing import Iterable

from ambientctl.proxy import certs
from ambientctl.proxy.model import CertEntry, Identity

SHORT_HEADERS = ["CERTIFICATE NAME", "TYPE", "STATUS", "VALID CERT", "SERIAL NUMBER", "NOT AFTER", "NOT BEFORE"]
SHORT_GAP = 5  # istioctl's tabwriter padding for this table
NA = "NA"


# -- -o short ---------------------------------------------------------------------------------


def short_rows(identities: Iterable[Identity], now: dt.datetime) -> list[list[str]]:
    """istioctl's rows: one per certificate of each chain, then per root; one NA row per identity without one."""
    rows: list[list[str]] = []
    for ident in identities:
        status = ident.status
        if not ident.chain and not (ident.trust_bundle and ident.roots):
            rows.append([ident.name, NA, status, "false", NA, NA, NA])
            continue
        for index, entry in enumerate(ident.chain):
            rows.append(_row(ident.name, "Leaf" if index == 0 else "Intermediate", status, entry, now))
        for entry in ident.roots:
            rows.append(_row(ident.name, "Root", status, entry, now))
    return rows


def format_short(identities: Iterable[Identity], now: dt.datetime) -> str:
    return format_string_table(SHORT_HEADERS, short_rows(identities, now), gap=SHORT_GAP)


def format_string_table(headers: list[str], rows: list[list[str]], gap: int) -> str:
    """`output.format_table`'s exact layout for cells that are all strings, one C-level format per row.

    Why: a 1,000-identity dump has 2,000 rows; padding cell by cell in Python
    was a sixth of `pc secret --file`'s own time.
    """
    table = [headers, *rows]
    widths = [max(map(len, column)) for column in zip(*table)]
    line = (" " * gap).join(f"{{:<{width}}}" for width in widths)
    return "\n".join(line.format(*row).rstrip() for row in table) + "\n"


def _row(name: str, kind: str, status: str, entry: CertEntry, now: dt.datetime) -> list[str]:
    return [name, kind, status, "true" if cert_valid(entry, now) else "false", serial_hex(entry),
            entry.expiration or _info_time(entry, "after"), entry.valid_from or _info_time(entry, "before")]


def cert_valid(entry: CertEntry, now: dt.datetime) -> bool:
    """istioctl's VALID CERT (now strictly inside the dump's validity), and false if the PEM does not decode."""
    if entry.error:
        return False
    start = certs.parse_rfc3339(entry.valid_from) if entry.valid_from else None
    end = certs.parse_rfc3339(entry.expiration) if entry.expiration else None
    if entry.valid_from is None and entry.expiration is None and entry.info is not None:
        start, end = entry.info.not_before, entry.info.not_after
    if start is None or end is None:
        return False
    return start < now < end


def serial_hex(entry: CertEntry) -> str:
    """The dump's decimal serial in lowercase hex (istioctl's %x); the certificate's when the dump has none."""
    if entry.serial is not None:
        try:
            return format(int(entry.serial, 10), "x")
        except ValueError:
            pass
    if entry.info is not None:
        return entry.info.serial_hex
    return NA


def _info_time(entry: CertEntry, which: str) -> str:
    if entry.info is None:
        return NA
    return certs.rfc3339(entry.info.not_after if which == "after" else entry.info.not_before)


# -- -o detail --------------------------------------------------------------------------------


def format_detail(identities: Iterable[Identity], now: dt.datetime) -> str:
    """Everything `openssl x509 -text` would tell, per identity, plus what is wrong with it."""
    identities = list(identities)
    # Envoy keeps the roots in a separate ROOTCA secret: chains verify against it.
    bundle = [e.info for ident in identities if ident.trust_bundle for e in ident.roots if e.info is not None]
    return "\n".join(_identity_detail(ident, now, bundle) for ident in identities)


def _identity_detail(ident: Identity, now: dt.datetime, bundle: list[certs.CertInfo]) -> str:
    lines = [f"IDENTITY  {ident.name}", f"STATE     {ident.state or '(none)'}"]
    warnings: list[str] = []
    if not ident.chain and not ident.roots:
        lines.append(f"CHAIN     {_no_chain_text(ident)}")
        return "\n".join(lines) + "\n"
    decoded_chain = [e.info for e in ident.chain if e.info is not None]
    decoded_roots = [e.info for e in ident.roots if e.info is not None]
    if ident.trust_bundle:
        lines.append(f"CHAIN     trust bundle of {len(ident.roots)} root certificate(s)")
    elif len(decoded_chain) != len(ident.chain):
        lines.append("CHAIN     ✘ cannot verify: a certificate of the chain does not decode")
    else:
        ok, why = certs.verify_chain(decoded_chain, decoded_roots or bundle)
        lines.append(f"CHAIN     {'✔ verifies' if ok else '✘ does not verify'}: {why}")
        if not ok:
            warnings.append(f"chain does not verify: {why}")
    for index, entry in enumerate(ident.chain):
        kind = "Leaf" if index == 0 else "Intermediate"
        lines.extend(_cert_lines(kind, entry, now))
        warnings.extend(_entry_warnings(kind.lower(), entry, now))
        if index == 0 and entry.info is not None:
            mismatch = certs.san_warning(entry.info, ident.name)
            if mismatch:
                warnings.append(mismatch)
    for entry in ident.roots:
        lines.extend(_cert_lines("Root", entry, now))
        warnings.extend(_entry_warnings("root", entry, now))
    if warnings:
        lines.append("  Warnings:")
        lines.extend(f"    ! {w}" for w in warnings)
    return "\n".join(lines) + "\n"


def _no_chain_text(ident: Identity) -> str:
    status = ident.status
    if status == "Initializing":
        return "no certificate yet: ztunnel is still fetching it from istiod"
    if status == "Unavailable":
        return f"no certificate: {ident.reason or 'unavailable'}"
    return "no certificate in the dump"


def _entry_warnings(what: str, entry: CertEntry, now: dt.datetime) -> list[str]:
    if entry.error:
        return [f"{what} certificate ({entry.where}) {entry.error}"]
    if entry.info is None:
        return []
    return certs.validity_warnings(entry.info, now, what)


_LABEL_WIDTH = 22


def _field(label: str, value: str) -> str:
    return f"    {(label + ':').ljust(_LABEL_WIDTH)}{value}"


def _cert_lines(kind: str, entry: CertEntry, now: dt.datetime) -> list[str]:
    lines = ["", f"  {kind} certificate"]
    info = entry.info
    if info is None:
        lines.append(_field("Error", f"✘ cannot decode: {entry.error or 'not decoded'}"))
        return lines
    lines.extend([
        _field("Subject", info.subject),
        _field("Issuer", info.issuer),
        _field("SAN URIs", ", ".join(info.san_uris) or "(none)"),
    ])
    if info.san_dns:
        lines.append(_field("SAN DNS names", ", ".join(info.san_dns)))
    lines.extend([
        _field("Serial", f"{info.serial_hex} ({info.serial})"),
        _field("Not before", certs.rfc3339(info.not_before)),
        _field("Not after", f"{certs.rfc3339(info.not_after)} ({certs.time_left(info, now)})"),
        _field("Lifetime", certs.human_duration(info.lifetime)),
        _field("CA", "yes" if info.is_ca else "no"),
        _field("Public key", f"{info.key_type} ({info.key_bits} bit)" if info.key_bits else info.key_type),
        _field("Signature algorithm", info.signature_algorithm),
        _field("SHA-256 fingerprint", info.fingerprint_sha256),
    ])
    return lines
