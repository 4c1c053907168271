"""Ready a dump's certificates for printing: the cheap structural check, or a full decode, each PEM once.

ztunnel repeats the same root for every identity, so every distinct PEM is
checked or decoded once. Only entries the dump gives no serial and dates for
(and `-o detail`) load `cryptography`.
"""

from __future__ import annotations

from typing import Iterable

from ambientctl.proxy import certs
from ambientctl.proxy.model import CertEntry, ConfigDump, Identity


def decode_all(dump: ConfigDump, identities: Iterable[Identity] | None = None) -> None:
    """Parse every certificate (for `-o detail`: names, SANs, keys, chain checks)."""
    _decode_entries(e for ident in _chosen(dump, identities) for e in ident.entries())


def check_all(dump: ConfigDump, identities: Iterable[Identity] | None = None) -> None:
    """Ready the certificates for the table and JSON views without parsing X.509 where the dump suffices.

    istioctl prints the dump's own serialNumber, validFrom and expirationTime;
    so do we, and an entry that has all three only gets the cheap structural
    check (`certs.check_certificate_structure`) so a damaged one is still
    flagged. Entries lacking them (older ztunnel, Envoy) are parsed, which is
    the only case that loads `cryptography`.
    """
    checked: dict[bytes, str | None] = {}
    to_decode: list[CertEntry] = []
    for ident in _chosen(dump, identities):
        for entry in ident.entries():
            if entry.pem is None or entry.info is not None or entry.error is not None:
                continue
            if not has_own_fields(entry):
                to_decode.append(entry)
                continue
            if entry.pem not in checked:
                try:
                    certs.check_certificate_structure(entry.pem)
                    checked[entry.pem] = None
                except certs.CertificateError as exc:
                    checked[entry.pem] = str(exc)
            entry.error = checked[entry.pem]
    if to_decode:
        _decode_entries(to_decode)


def has_own_fields(entry: CertEntry) -> bool:
    """The dump gives this certificate's decimal serial and both validity dates (current ztunnel does)."""
    return bool(entry.serial and entry.serial.isascii() and entry.serial.isdigit() and entry.valid_from and entry.expiration)


def _chosen(dump: ConfigDump, identities: Iterable[Identity] | None) -> Iterable[Identity]:
    return identities if identities is not None else dump.identities


def _decode_entries(entries: Iterable[CertEntry]) -> None:
    """Decode each distinct PEM once (ztunnel repeats the same root for every identity)."""
    cache: dict[bytes, certs.CertInfo | str] = {}
    for entry in entries:
        if entry.pem is None or entry.info is not None:
            continue
        found = cache.get(entry.pem)
        if found is None:
            try:
                found = certs.decode(entry.pem)
            except certs.CertificateError as exc:
                found = str(exc)
            cache[entry.pem] = found
        if isinstance(found, str):
            entry.error = found
        else:
            entry.info = found
