"""Identities of a dump: which ones the user asked for (`--identity NS/SA` or `spiffe://...`),
and which ones a ztunnel holds a certificate for on behalf of its node's workloads."""

from __future__ import annotations

from typing import Any, NamedTuple

from ambientctl.errors import UsageError
from ambientctl.lazyre import LazyPattern
from ambientctl.proxy.model import ConfigDump, Identity
from ambientctl.workloads import TRUST_DOMAIN, spiffe_id

_SPIFFE_RE = LazyPattern(r"^spiffe://[^/]+/ns/([^/]+)/sa/([^/]+)$")


class IdentityFilter(NamedTuple):
    """`--identity NS/SA` (any trust domain) or a full `spiffe://TD/ns/NS/sa/SA`."""

    text: str
    namespace: str
    service_account: str
    exact: bool

    def matches(self, name: str) -> bool:
        if self.exact:
            return name == self.text
        return name.endswith(f"/ns/{self.namespace}/sa/{self.service_account}") and name.startswith("spiffe://")


def parse_identity_filter(text: str) -> IdentityFilter:
    match = _SPIFFE_RE.match(text)
    if match:
        return IdentityFilter(text, match.group(1), match.group(2), exact=True)
    ns, sep, sa = text.partition("/")
    if not sep or not ns or not sa or "/" in sa or ":" in text:
        raise UsageError(f"invalid identity {text!r}",
                         "use NAMESPACE/SERVICEACCOUNT (e.g. default/sleep) or spiffe://TRUST_DOMAIN/ns/NS/sa/SA")
    return IdentityFilter(text, ns, sa, exact=False)


def select(dump: ConfigDump, wanted: IdentityFilter | None) -> list[Identity]:
    """The identities the user asked for; an Envoy trust bundle (ROOTCA) stays with the chains it verifies."""
    if wanted is None:
        return list(dump.identities)
    chosen = [ident for ident in dump.identities if wanted.matches(ident.name)]
    if chosen:
        chosen += [ident for ident in dump.identities if ident.trust_bundle and ident not in chosen]
    return chosen


def workload_spiffe_id(workload: dict[str, Any]) -> str:
    """The SPIFFE ID ztunnel requests a certificate for on behalf of a workload of its dump."""
    return spiffe_id(workload.get("namespace") or "", workload.get("serviceAccount") or "default",
                     workload.get("trustDomain") or TRUST_DOMAIN)


def needs_certificate(workload: dict[str, Any]) -> bool:
    """ztunnel's own rule for fetching a certificate for a workload of its node: it speaks HBONE
    (an enrolled pod) or tunnels natively. A pod that leaves the mesh stops needing one."""
    return workload.get("protocol") == "HBONE" or workload.get("nativeTunnel") is True
