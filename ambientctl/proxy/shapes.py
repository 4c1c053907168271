"""Read a proxy's `/config_dump` (ztunnel or Envoy), whatever its shape, into the one model.

Three shapes exist in the wild and the dump's SHAPE decides how it is read,
never the pod's name:

* current ztunnel: `certificates[]` of `{identity, state, certChain[], rootCerts[]}`,
  each certificate `{pem: base64(PEM), serialNumber: decimal, validFrom, expirationTime}`;
* older ztunnel: the same, but `pem` is the PEM text and the root is the last
  element of `certChain` (no `rootCerts`);
* Envoy (waypoints, gateways, sidecars): `configs[]` with a
  `type.googleapis.com/envoy.admin.v3.SecretsConfigDump` entry.

The reading itself (item by item, redacting everything key-like as soon as each
item is decoded, so no printer can ever show a private key) is `ztunneldump.read`;
here are the shape-specific parts it calls.
"""

from __future__ import annotations

import contextlib
import gc
import json
from typing import Any, Iterator

from ambientctl.errors import InvalidInputError
from ambientctl.proxy import certs
from ambientctl.proxy.model import (
    AVAILABLE,
    ENVOY_SECRETS_TYPE,
    INITIALIZING,
    SHAPE_ENVOY,
    UNAVAILABLE,
    CertEntry,
    ConfigDump,
    Identity,
)

ZTUNNEL_KEYS = ("certificates", "workloads", "services", "policies", "workloadState", "workloadstate")


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a dump is read and printed.

    Why: parsing a 1,000-identity dump allocates ~100k objects, which
    triggers collections that walk every object of the process (the whole
    CLI framework included) over and over: ~15% of `pc secret --file`'s
    time. A dump holds no reference cycles; reference counting frees it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_json(data: bytes, source: str) -> dict[str, Any]:
    """A whole JSON document (Envoy's views need all of it; ztunnel dumps are read item by item instead)."""
    if not data.strip():
        raise InvalidInputError(f"{source} is empty", "the dump was not saved; fetch it again")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError(f"{source} is not text (binary data, not a JSON config dump)",
                                "pass the JSON file saved from /config_dump") from None
    try:
        doc = json.loads(text)
    except RecursionError:  # thousands of nested [ or {: no real dump nests that deep
        raise InvalidInputError(f"{source} is nested too deeply to be a config dump", "fetch the dump again") from None
    except json.JSONDecodeError as exc:
        truncated = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string")
        where = "ends early: the dump is truncated" if truncated else \
            f"line {exc.lineno} column {exc.colno}: {exc.msg}"
        raise InvalidInputError(f"{source} is not valid JSON ({where})", "fetch the dump again") from None
    if not isinstance(doc, dict):
        raise InvalidInputError(f"{source} is JSON but not a config dump (top level is a {type(doc).__name__})",
                                "pass the object returned by /config_dump")
    return doc


def ztunnel_identity(item: dict[str, Any], index: int) -> tuple[Identity, bool]:
    name = str(item.get("identity") or f"certificates[{index}]")
    state = str(item.get("state") or "")
    chain_raw = item.get("certChain") or []
    roots_raw = item.get("rootCerts")
    chain = [_ztunnel_cert(c, f"{name} certChain[{i}]")
             for i, c in enumerate(chain_raw if isinstance(chain_raw, list) else [])]
    roots = [_ztunnel_cert(c, f"{name} rootCerts[{i}]")
             for i, c in enumerate(roots_raw if isinstance(roots_raw, list) else [])]
    legacy = bool(chain) and not roots
    if legacy and len(chain) > 1:
        # Older ztunnel: the root is the last element of certChain (istioctl labels it Root).
        roots = [chain.pop()]
    return Identity(name=name, state=state, chain=chain, roots=roots), legacy


def _ztunnel_cert(raw: Any, where: str) -> CertEntry:
    if not isinstance(raw, dict):
        return CertEntry(where=where, pem=None, error="is not an object")
    pem, error = _pem_of(raw.get("pem"))
    return CertEntry(
        where=where,
        pem=pem,
        serial=_str_or_none(raw.get("serialNumber")),
        valid_from=_str_or_none(raw.get("validFrom")),
        expiration=_str_or_none(raw.get("expirationTime")),
        error=error,
    )


_PEM_FIELD_CACHE: dict[str, tuple[bytes | None, str | None]] = {}


def _pem_of(value: Any) -> tuple[bytes | None, str | None]:
    """(first certificate's PEM, None) or (None, why not); ztunnel repeats the root for every identity."""
    if isinstance(value, str):
        cached = _PEM_FIELD_CACHE.get(value)
        if cached is not None:
            return cached
        single = certs.single_certificate_pem(value)
        if single is not None:
            _PEM_FIELD_CACHE[value] = (single, None)
            return single, None
    try:
        result: tuple[bytes | None, str | None] = (certs.split_pem_chain(certs.pem_from_field(value))[0], None)
    except certs.CertificateError as exc:
        result = (None, str(exc) if str(exc).startswith("pem") else f"pem {exc}")
    if isinstance(value, str):
        _PEM_FIELD_CACHE[value] = result
    return result


def _str_or_none(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def field_of(obj: dict[str, Any], snake: str) -> Any:
    """Envoy's admin API prints snake_case; istioctl's protojson prints camelCase: accept both."""
    if snake in obj:
        return obj[snake]
    head, *rest = snake.split("_")
    return obj.get(head + "".join(part.title() for part in rest))


def parse_envoy(doc: dict[str, Any], source: str) -> ConfigDump:
    identities: list[Identity] = []
    for config in doc["configs"]:
        if not isinstance(config, dict) or config.get("@type") != ENVOY_SECRETS_TYPE:
            continue
        for kind, state in (("static_secrets", AVAILABLE), ("dynamic_active_secrets", AVAILABLE),
                            ("dynamic_warming_secrets", INITIALIZING)):
            secrets = field_of(config, kind) or []
            for index, secret in enumerate(secrets if isinstance(secrets, list) else []):
                if isinstance(secret, dict):
                    identities.append(_envoy_identity(secret, state, f"{kind}[{index}]"))
    return ConfigDump(shape=SHAPE_ENVOY, identities=identities, raw=doc)


def _envoy_identity(item: dict[str, Any], state: str, where: str) -> Identity:
    secret = item.get("secret") if isinstance(item.get("secret"), dict) else {}
    name = str(item.get("name") or secret.get("name") or where)
    error_state = field_of(item, "error_state")
    if isinstance(error_state, dict) and state != AVAILABLE:
        details = error_state.get("details")
        state = f"{UNAVAILABLE}: {details}" if details else state
    ident = Identity(name=name, state=state, version_info=_str_or_none(field_of(item, "version_info")),
                     last_updated=_str_or_none(field_of(item, "last_updated")))
    tls = field_of(secret, "tls_certificate")
    validation = field_of(secret, "validation_context")
    if isinstance(tls, dict):
        ident.chain = _envoy_certs(field_of(tls, "certificate_chain"), f"{name} tlsCertificate")
    elif isinstance(validation, dict):
        ident.trust_bundle = True
        ident.roots = _envoy_certs(field_of(validation, "trusted_ca"), f"{name} trustedCa")
    return ident


def _envoy_certs(data_source: Any, where: str) -> list[CertEntry]:
    try:
        blocks = certs.split_pem_chain(certs.pem_from_inline(data_source))
    except certs.CertificateError as exc:
        return [CertEntry(where=where, pem=None, error=str(exc))]
    return [CertEntry(where=f"{where}[{i}]", pem=block) for i, block in enumerate(blocks)]
