"""The one model every proxy dump is read into: identities (workload certificates or Envoy secrets) and their entries.

Plain data; `shapes` fills it from any of the three dump shapes, `decode` adds
decoded certificates, printers and `documents` read it. Plain classes, not
dataclasses: defining a dataclass costs ~1 ms at import, and these load on
every read of a dump (docs/performance.md, "No Typer or Click for a file read").
"""

from __future__ import annotations

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


class CertEntry:
    """One certificate as the dump gives it; `pem` is None when it could not be decoded."""

    __slots__ = ("where", "pem", "serial", "valid_from", "expiration", "error", "info")

    def __init__(self, where: str, pem: bytes | None, serial: str | None = None, valid_from: str | None = None,
                 expiration: str | None = None, error: str | None = None, info: CertInfo | None = None) -> None:
        self.where = where            # e.g. "spiffe://…/sa/sleep certChain[0]", for error messages
        self.pem = pem
        self.serial = serial          # decimal, as the dump gives it
        self.valid_from = valid_from
        self.expiration = expiration
        self.error = error            # why `pem` could not be decoded (never contains key material)
        self.info = info              # the decoded certificate (proxy.decode), once asked for

    def __repr__(self) -> str:
        return f"CertEntry(where={self.where!r}, serial={self.serial!r}, error={self.error!r})"


class Identity:
    """A workload identity (ztunnel) or a named secret (Envoy), with its state and certificates."""

    __slots__ = ("name", "state", "chain", "roots", "trust_bundle", "version_info", "last_updated")

    def __init__(self, name: str, state: str, chain: list[CertEntry] | None = None,
                 roots: list[CertEntry] | None = None, trust_bundle: bool = False, version_info: str | None = None,
                 last_updated: str | None = None) -> None:
        self.name = name
        self.state = state
        self.chain = [] if chain is None else chain
        self.roots = [] if roots is None else roots
        self.trust_bundle = trust_bundle  # an Envoy validation-context secret (ROOTCA): roots only
        self.version_info = version_info
        self.last_updated = last_updated

    def __repr__(self) -> str:
        return f"Identity(name={self.name!r}, state={self.state!r}, chain={self.chain!r}, roots={self.roots!r})"

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


class ConfigDump:
    """A parsed dump's certificates: its shape and its identities (zc's views: `proxy.ztunneldump`).

    `raw`: an Envoy dump's document (`{"configs": [...]}`, redacted) for the Envoy views;
    None for ztunnel, whose dump is never held decoded."""

    def __init__(self, shape: str, identities: list[Identity], raw: dict[str, Any] | None = None) -> None:
        self.shape = shape
        self.identities = identities
        self.raw = raw

    @property
    def is_ztunnel(self) -> bool:
        return self.shape != SHAPE_ENVOY

    def bad_entries(self) -> list[CertEntry]:
        return [e for ident in self.identities for e in ident.entries() if e.error]


def require_ztunnel(dump: ConfigDump, source: str) -> None:
    if not dump.is_ztunnel:
        raise InvalidInputError(f"{source} is an Envoy config dump, not ztunnel's",
                                "use `ambientctl pc secret` for Envoy-based proxies (waypoints, gateways)")
