"""`pc rootca-compare POD1 POD2`: do two proxies trust a common root CA?

istioctl reads the `ROOTCA` secret of two Envoy proxies and says whether any
certificate of one equals one of the other (same DER). Here a ztunnel works as
well: its roots are the `rootCerts` of the identities it holds (istioctl cannot
read a ztunnel's dump for this). Pure: no I/O.
"""

from __future__ import annotations

import base64
import binascii
import re

from ambientctl.lazyre import LazyPattern

_CERT_BLOCK = LazyPattern(rb"-----BEGIN CERTIFICATE-----\s*(.*?)\s*-----END CERTIFICATE-----", re.S)


def certificates_der(pem: bytes) -> list[bytes]:
    """The DER of every CERTIFICATE block; ValueError when there is none or one is not base64."""
    out = []
    for match in _CERT_BLOCK.finditer(pem):
        try:
            out.append(base64.b64decode(b"".join(match.group(1).split()), validate=True))
        except (binascii.Error, ValueError):
            raise ValueError("a ROOTCA certificate block is not base64") from None
    if not out:
        raise ValueError("the ROOTCA holds no PEM certificate")
    return out


def share_a_root(first: bytes, second: bytes) -> bool:
    """istioctl's test: at least one certificate of one bundle is byte-for-byte in the other."""
    return bool(set(certificates_der(first)) & set(certificates_der(second)))


def verdict(pod1: str, pod2: str, same: bool) -> str:
    """istioctl's sentence (`POD.NS` names); printed on success, the error message otherwise."""
    if same:
        return (f"Both [{pod1}] and [{pod2}] have the identical ROOTCA, "
                "theoretically the connectivity between them is available")
    return (f"Both [{pod1}] and [{pod2}] have the non identical ROOTCA, "
            "theoretically the connectivity between them is unavailable")
