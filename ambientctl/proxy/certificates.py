"""`pc secret` and `zc certificate`: select the identities asked for, ready their certificates, print them.

One body for both commands: the table (istioctl's), `-o detail` (decoded),
or the `-o json|yaml` document (Envoy's SecretsConfigDump for pc, ztunnel's
own list for zc); then a non-zero exit naming any certificate that did not
decode, after everything else was printed.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from ambientctl.errors import InvalidInputError

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient
    from ambientctl.proxy.model import Identity
    from ambientctl.proxy.target import LoadedDump


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def print_certificates(loaded: LoadedDump, identity: str | None, fmt: str, *, kube: KubeClient | None,
                       istio_namespace: str, ztunnel_json: bool = False) -> None:
    """Select, check or decode, print, then report bad rows; `kube` (None for files) only feeds the not-found hint."""
    from ambientctl.output import print_document, write_stdout
    from ambientctl.proxy import decode, documents, hints
    from ambientctl.proxy.identities import parse_identity_filter, select
    from ambientctl.proxy.printers import secret as printer

    requested = identity or loaded.workload_identity
    wanted = parse_identity_filter(requested) if requested else None
    chosen = select(loaded.dump, wanted)
    if not chosen:
        raise hints.nothing_found_error(loaded.pod, loaded.source, wanted, loaded.dump, kube, istio_namespace)
    if fmt == "detail":
        decode.decode_all(loaded.dump, chosen)
    else:  # istioctl's way: the dump's own serials and dates; cryptography only where they are missing
        decode.check_all(loaded.dump, chosen)
    now = now_utc()
    if fmt in ("json", "yaml"):
        document = documents.ztunnel_certificates_document(chosen) if ztunnel_json \
            else documents.secrets_document(chosen)
        print_document(document, fmt)
    elif fmt == "detail":
        write_stdout(printer.format_detail(chosen, now))
    else:
        write_stdout(printer.format_short(chosen, now))
    raise_for_bad_certificates(chosen, loaded.source)


def raise_for_bad_certificates(identities: list[Identity], source: str) -> None:
    """After printing everything: a non-zero exit that names the certificates that did not decode."""
    bad = [e for ident in identities for e in ident.entries() if e.error]
    if bad:
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise InvalidInputError(
            f"{len(bad)} certificate(s) in {source} could not be decoded: {bad[0].where} {bad[0].error}{more}",
            "their rows show VALID CERT false; the other certificates are shown as they are",
        )
