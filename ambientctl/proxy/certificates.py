"""`pc secret` and `zc certificate`: select the identities asked for, ready their certificates, print them.

One body for both commands: the table (istioctl's), `-o detail` (decoded),
or the `-o json|yaml` document (Envoy's SecretsConfigDump for pc, ztunnel's
own list for zc); then a non-zero exit naming any certificate that did not
decode, after everything else was printed.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Callable

from ambientctl.errors import InvalidInputError

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient
    from ambientctl.proxy.model import Identity
    from ambientctl.proxy.target import LoadedDump


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def print_certificates(loaded: LoadedDump, identity: str | None, fmt: str, *, kube: KubeClient | None,
                       istio_namespace: str, ztunnel_json: bool = False,
                       warn: Callable[[str], None] | None = None) -> None:
    """Select, check or decode, print, then report bad rows; `kube` (None for files) only feeds the not-found hint;
    `warn` (stderr) names certificates that no workload of the ztunnel's node needs any more."""
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
    if warn is not None:
        note = unneeded_certificates_note(loaded, chosen)
        if note:
            warn(note)
    raise_for_bad_certificates(chosen, loaded.source)


def unneeded_identities(loaded: LoadedDump, chosen: list[Identity]) -> list[str]:
    """Workload identities the ztunnel holds a certificate for although no workload of its node needs one.

    ztunnel forgets a certificate only when the last workload with that identity leaves its node;
    a pod taken out of the mesh (`dataplane unenroll`) stays on the node, so its certificate stays
    until the pod is restarted or deleted. Empty when the dump does not say which node it serves."""
    users = getattr(loaded.views, "certificate_users", None)
    if users is None:
        return []
    return [ident.name for ident in chosen
            if ident.name.startswith("spiffe://") and not ident.trust_bundle and ident.name not in users]


def unneeded_certificates_note(loaded: LoadedDump, chosen: list[Identity]) -> str | None:
    names = unneeded_identities(loaded, chosen)
    if not names:
        return None
    node = getattr(loaded.views, "local_node", None)
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return (f"{len(names)} certificate(s) held for identities no workload in the mesh on node {node} needs "
            f"({shown}): ztunnel keeps a certificate until the last pod with its identity leaves the node, "
            "so after `dataplane unenroll` it stays until those pods are restarted")


def raise_for_bad_certificates(identities: list[Identity], source: str) -> None:
    """After printing everything: a non-zero exit that names the certificates that did not decode."""
    bad = [e for ident in identities for e in ident.entries() if e.error]
    if bad:
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise InvalidInputError(
            f"{len(bad)} certificate(s) in {source} could not be decoded: {bad[0].where} {bad[0].error}{more}",
            "their rows show VALID CERT false; the other certificates are shown as they are",
        )
