"""The `-o json|yaml` documents of `pc secret` and `zc certificate`, as istioctl prints them."""

from __future__ import annotations

import base64
from typing import Any

from ambientctl.proxy import certs
from ambientctl.proxy.model import ENVOY_SECRET_TYPE, ROOTCA, UNAVAILABLE, CertEntry, Identity


def secrets_document(identities: list[Identity]) -> dict[str, Any]:
    """An Envoy SecretsConfigDump, as istioctl prints it: workload certificates, then ROOTCA.

    The guide's `jq '.dynamicActiveSecrets[0].secret.tlsCertificate.certificateChain.inlineBytes'`
    works on it unchanged. Private keys are never in a dump's certificates; the
    `privateKey` field says `[redacted]` (base64) as istioctl does.
    """
    active: list[dict[str, Any]] = []
    warming: list[dict[str, Any]] = []
    roots: list[bytes] = []
    root_times: list[CertEntry] = []
    for ident in identities:
        for entry in ident.roots:
            if entry.pem is not None and entry.error is None and entry.pem not in roots:
                roots.append(entry.pem)
                root_times.append(entry)
        if ident.trust_bundle:
            continue
        good = [e for e in ident.chain if e.pem is not None and e.error is None]
        if ident.available and good:
            leaf = good[0]
            stamp = ident.last_updated or _entry_time(leaf, "from")
            active.append({
                "name": ident.name,
                "versionInfo": ident.version_info or stamp or "",
                "lastUpdated": stamp or "",
                "secret": {
                    "@type": ENVOY_SECRET_TYPE,
                    "name": ident.name,
                    "tlsCertificate": {
                        "certificateChain": {"inlineBytes": base64.b64encode(b"".join(e.pem for e in good)).decode()},
                        "privateKey": {"inlineBytes": certs.REDACTED_B64},
                    },
                },
            })
        else:
            pending: dict[str, Any] = {"name": ident.name, "versionInfo": ident.version_info or "",
                                       "secret": {"@type": ENVOY_SECRET_TYPE, "name": ident.name}}
            if ident.status == UNAVAILABLE or (ident.available and not good):
                pending["errorState"] = {"details": ident.reason or ident.state or "no usable certificate"}
            warming.append(pending)
    if roots:
        stamp = _entry_time(root_times[0], "from") or ""
        active.append({
            "name": ROOTCA,
            "versionInfo": stamp,
            "lastUpdated": stamp,
            "secret": {
                "@type": ENVOY_SECRET_TYPE,
                "name": ROOTCA,
                "validationContext": {"trustedCa": {"inlineBytes": base64.b64encode(b"".join(roots)).decode()}},
            },
        })
    document: dict[str, Any] = {"dynamicActiveSecrets": active}
    if warming:
        document["dynamicWarmingSecrets"] = warming
    return document


def _entry_time(entry: CertEntry, which: str) -> str | None:
    value = entry.valid_from if which == "from" else entry.expiration
    if value:
        return value
    if entry.info is not None:
        return certs.rfc3339(entry.info.not_before if which == "from" else entry.info.not_after)
    return None


def ztunnel_certificates_document(identities: list[Identity]) -> list[dict[str, Any]]:
    """istioctl's `zc certificate -o json`: ztunnel's own list, every `pem` as base64 of PEM."""
    def cert(entry: CertEntry) -> dict[str, Any]:
        pem = base64.b64encode(entry.pem).decode() if entry.pem is not None else None
        return {"pem": pem, "serialNumber": entry.serial or (str(entry.info.serial) if entry.info else ""),
                "validFrom": _entry_time(entry, "from") or "", "expirationTime": _entry_time(entry, "to") or ""}

    return [{"identity": ident.name, "state": ident.state, "certChain": [cert(e) for e in ident.chain],
             "rootCerts": [cert(e) for e in ident.roots]} for ident in identities]
