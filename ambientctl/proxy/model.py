"""The one model every proxy dump is read into: identities (workload certificates or Envoy secrets) and their entries.

Plain data; `shapes` fills it from any of the three dump shapes, `decode` adds
decoded certificates, printers and `documents` read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

from ambientctl.errors import InvalidInputError

if TYPE_CHECKING:
    from ambientctl.proxy.certs import CertInfo

ENVOY_SECRETS_TYPE = "type.googleapis.com/envoy.admin.v3.SecretsConfigDump"

ENVOY_SECRET_TYPE = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"

ROOTCA = "ROOTCA"

SHAPE_ZTUNNEL = "ztunnel"

SHAPE_ZTUNNEL_LEGACY = "ztunnel (older: PEM text, root at the end of certChain)"

SHAPE_ENVOY = "envoy"

AVAILABLE, INITIALIZING, UNAVAILABLE = "Available", "Initializing", "Unavailable"


@dataclass(slots=True)
class CertEntry:
    """One certificate as the dump gives it; `pem` is None when it could not be decoded."""

    where: str                    # e.g. "spiffe://…/sa/sleep certChain[0]", for error messages
    pem: bytes | None
    serial: str | None = None     # decimal, as the dump gives it
    valid_from: str | None = None
    expiration: str | None = None
    error: str | None = None      # why `pem` could not be decoded (never contains key material)
    info: CertInfo | None = field(default=None, repr=False)


@dataclass(slots=True)
class Identity:
    """A workload identity (ztunnel) or a named secret (Envoy), with its state and certificates."""

    name: str
    state: str
    chain: list[CertEntry] = field(default_factory=list)
    roots: list[CertEntry] = field(default_factory=list)
    trust_bundle: bool = False    # an Envoy validation-context secret (ROOTCA): roots only
    version_info: str | None = None
    last_updated: str | None = None

    @property
    def status(self) -> str:
        """`Available`, `Initializing` or `Unavailable` (the reason dropped, as istioctl shows it)."""
        return UNAVAILABLE if UNAVAILABLE in self.state else self.state

    @property
    def reason(self) -> str:
        _, _, reason = self.state.partition(":")
        return reason.strip()

    @property
    def available(self) -> bool:
        return self.state == AVAILABLE

    def entries(self) -> Iterable[CertEntry]:
        yield from self.chain
        yield from self.roots


@dataclass
class ConfigDump:
    """A parsed dump's certificates: its shape and its identities (zc's views: `proxy.ztunneldump`).

    `raw`: an Envoy dump's document (`{"configs": [...]}`, redacted) for the Envoy views;
    None for ztunnel, whose dump is never held decoded."""

    shape: str
    identities: list[Identity]
    raw: dict[str, Any] | None = None

    @property
    def is_ztunnel(self) -> bool:
        return self.shape != SHAPE_ENVOY

    def bad_entries(self) -> list[CertEntry]:
        return [e for ident in self.identities for e in ident.entries() if e.error]


def require_ztunnel(dump: ConfigDump, source: str) -> None:
    if not dump.is_ztunnel:
        raise InvalidInputError(f"{source} is an Envoy config dump, not ztunnel's",
                                "use `ambientctl pc secret` for Envoy-based proxies (waypoints, gateways)")
