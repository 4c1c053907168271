"""Read a proxy's `/config_dump` (ztunnel or Envoy), whatever its shape, into one model.

Three shapes exist in the wild and the dump's SHAPE decides how it is read,
never the pod's name:

* current ztunnel: `certificates[]` of `{identity, state, certChain[], rootCerts[]}`,
  each certificate `{pem: base64(PEM), serialNumber: decimal, validFrom, expirationTime}`;
* older ztunnel: the same, but `pem` is the PEM text and the root is the last
  element of `certChain` (no `rootCerts`);
* Envoy (waypoints, gateways, sidecars): `configs[]` with a
  `type.googleapis.com/envoy.admin.v3.SecretsConfigDump` entry.

Everything key-like is redacted as soon as the JSON is parsed, so no printer
can ever show a private key.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import gc
import json
import os
import re
import stat
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO, Iterable, Iterator

from ambientctl import certs
from ambientctl.errors import InvalidInputError, NotFoundError, UsageError
from ambientctl.lazyre import LazyPattern

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient

ADMIN_PORT = 15000
CONFIG_DUMP_PATH = "/config_dump"
MAX_DUMP_BYTES = 64 * 1024 * 1024
ENVOY_SECRETS_TYPE = "type.googleapis.com/envoy.admin.v3.SecretsConfigDump"
ENVOY_SECRET_TYPE = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"
ROOTCA = "ROOTCA"

SHAPE_ZTUNNEL = "ztunnel"
SHAPE_ZTUNNEL_LEGACY = "ztunnel (older: PEM text, root at the end of certChain)"
SHAPE_ENVOY = "envoy"
_ZTUNNEL_KEYS = ("certificates", "workloads", "services", "policies", "workloadState", "workloadstate")

AVAILABLE, INITIALIZING, UNAVAILABLE = "Available", "Initializing", "Unavailable"


# -- the model -------------------------------------------------------------------------------


@dataclass(slots=True)
class CertEntry:
    """One certificate as the dump gives it; `pem` is None when it could not be decoded."""

    where: str                    # e.g. "spiffe://…/sa/sleep certChain[0]", for error messages
    pem: bytes | None
    serial: str | None = None     # decimal, as the dump gives it
    valid_from: str | None = None
    expiration: str | None = None
    error: str | None = None      # why `pem` could not be decoded (never contains key material)
    info: certs.CertInfo | None = field(default=None, repr=False)


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
    """A parsed dump: its shape, its identities, and (ztunnel) the other sections as they came."""

    shape: str
    identities: list[Identity]
    raw: dict[str, Any]
    workloads: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    policies: list[dict[str, Any]] = field(default_factory=list)
    workload_state: list[dict[str, Any]] = field(default_factory=list)
    raw_certificates: list[Any] = field(default_factory=list)

    @property
    def is_ztunnel(self) -> bool:
        return self.shape != SHAPE_ENVOY

    def bad_entries(self) -> list[CertEntry]:
        return [e for ident in self.identities for e in ident.entries() if e.error]


# -- reading bytes ---------------------------------------------------------------------------


def read_dump_file(path: str, stdin: Any = None, limit: int = MAX_DUMP_BYTES) -> bytes:
    """The bytes of a saved dump (`-` is stdin); refuses what cannot be a dump, before reading it all."""
    if path == "-":
        return _read_limited(_binary(stdin if stdin is not None else sys.stdin), "stdin", limit)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InvalidInputError(f"dump file {path} does not exist", "check the path given to --file") from None
    except OSError as exc:
        raise InvalidInputError(f"cannot read dump file {path}: {exc.strerror}",
                                "check the path given to --file") from None
    if stat.S_ISDIR(st.st_mode):
        raise InvalidInputError(f"{path} is a directory, not a dump file",
                                "pass the JSON file saved from `curl localhost:15000/config_dump`")
    if stat.S_ISREG(st.st_mode) and st.st_size > limit:
        raise InvalidInputError(_too_big(path, st.st_size, limit), _TOO_BIG_HINT)
    try:
        with open(path, "rb") as handle:
            if not stat.S_ISREG(st.st_mode):
                return _read_limited(handle, path, limit)
            data = handle.read(st.st_size + 1)  # one read of the size stat gave
            if len(data) <= st.st_size:
                return data
            data += _read_limited(handle, path, limit)  # the file grew since: still capped
            if len(data) > limit:
                raise InvalidInputError(_too_big(path, len(data), limit), _TOO_BIG_HINT)
            return data
    except OSError as exc:
        raise InvalidInputError(f"cannot read dump file {path}: {exc.strerror}",
                                "check the file's permissions") from None


_TOO_BIG_HINT = "keep only the certificates with `jq '{certificates}' dump.json > certs.json` and pass that"


def _too_big(where: str, size: int, limit: int) -> str:
    return f"{where} is {size / 1048576:.0f} MiB, over the {limit // 1048576} MiB limit for a config dump"


def _binary(stream: Any) -> Any:
    return getattr(stream, "buffer", stream)


def _read_limited(handle: BinaryIO, where: str, limit: int) -> bytes:
    """Read at most `limit` bytes, in chunks, so a huge pipe never fills memory."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = handle.read(1 << 20)
        if not chunk:
            break
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8")
        size += len(chunk)
        if size > limit:
            raise InvalidInputError(f"{where} holds more than {limit // 1048576} MiB, over the limit for a config dump",
                                    _TOO_BIG_HINT)
        chunks.append(chunk)
    return b"".join(chunks)


def fetch_dump(kube: KubeClient, pod: str, namespace: str) -> bytes:
    """GET /config_dump from the pod's admin port through the API server (no local listener)."""
    from ambientctl.kube.portforward import http_get

    return http_get(kube, pod, namespace, ADMIN_PORT, CONFIG_DUMP_PATH)


# -- parsing -----------------------------------------------------------------------------------


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


def parse(data: bytes, source: str) -> ConfigDump:
    """Parse, redact and normalise a dump; a one-line InvalidInputError for anything unusable."""
    doc = load_json(data, source)
    if may_hold_private_keys(data):
        redact(doc)
    if isinstance(doc.get("configs"), list):
        return _parse_envoy(doc, source)
    if any(key in doc for key in _ZTUNNEL_KEYS):
        return _parse_ztunnel(doc, source)
    keys = ", ".join(sorted(doc)[:6]) or "none"
    raise InvalidInputError(
        f"{source} is not a ztunnel or Envoy config dump (top-level keys: {keys})",
        "pass the JSON from a proxy's admin endpoint: `kubectl exec POD -- curl -s localhost:15000/config_dump`",
    )


def load_json(data: bytes, source: str) -> dict[str, Any]:
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


def _list_or_map(value: Any, what: str, source: str) -> list[Any]:
    """ztunnel has printed some sections as lists and others as maps keyed by address or uid."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return list(value.values())
    raise InvalidInputError(f"{source}: `{what}` is a {type(value).__name__}, expected a list",
                            "the dump is damaged; fetch it again")


def _parse_ztunnel(doc: dict[str, Any], source: str) -> ConfigDump:
    raw_certs = _list_or_map(doc.get("certificates"), "certificates", source)
    identities = []
    legacy_seen = False
    for index, item in enumerate(raw_certs):
        if not isinstance(item, dict):
            raise InvalidInputError(f"{source}: certificates[{index}] is not an object", "the dump is damaged")
        ident, legacy = _ztunnel_identity(item, index)
        legacy_seen |= legacy
        identities.append(ident)
    state = doc.get("workloadState", doc.get("workloadstate"))
    return ConfigDump(
        shape=SHAPE_ZTUNNEL_LEGACY if legacy_seen else SHAPE_ZTUNNEL,
        identities=identities,
        raw=doc,
        workloads=[w for w in _list_or_map(doc.get("workloads"), "workloads", source) if isinstance(w, dict)],
        services=[s for s in _list_or_map(doc.get("services"), "services", source) if isinstance(s, dict)],
        policies=[p for p in _list_or_map(doc.get("policies"), "policies", source) if isinstance(p, dict)],
        workload_state=[w for w in _list_or_map(state, "workloadState", source) if isinstance(w, dict)],
        raw_certificates=raw_certs,
    )


def _ztunnel_identity(item: dict[str, Any], index: int) -> tuple[Identity, bool]:
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


def _field(obj: dict[str, Any], snake: str) -> Any:
    """Envoy's admin API prints snake_case; istioctl's protojson prints camelCase: accept both."""
    if snake in obj:
        return obj[snake]
    head, *rest = snake.split("_")
    return obj.get(head + "".join(part.title() for part in rest))


def _parse_envoy(doc: dict[str, Any], source: str) -> ConfigDump:
    identities: list[Identity] = []
    for config in doc["configs"]:
        if not isinstance(config, dict) or config.get("@type") != ENVOY_SECRETS_TYPE:
            continue
        for kind, state in (("static_secrets", AVAILABLE), ("dynamic_active_secrets", AVAILABLE),
                            ("dynamic_warming_secrets", INITIALIZING)):
            secrets = _field(config, kind) or []
            for index, secret in enumerate(secrets if isinstance(secrets, list) else []):
                if isinstance(secret, dict):
                    identities.append(_envoy_identity(secret, state, f"{kind}[{index}]"))
    return ConfigDump(shape=SHAPE_ENVOY, identities=identities, raw=doc)


def _envoy_identity(item: dict[str, Any], state: str, where: str) -> Identity:
    secret = item.get("secret") if isinstance(item.get("secret"), dict) else {}
    name = str(item.get("name") or secret.get("name") or where)
    error_state = _field(item, "error_state")
    if isinstance(error_state, dict) and state != AVAILABLE:
        details = error_state.get("details")
        state = f"{UNAVAILABLE}: {details}" if details else state
    ident = Identity(name=name, state=state, version_info=_str_or_none(_field(item, "version_info")),
                     last_updated=_str_or_none(_field(item, "last_updated")))
    tls = _field(secret, "tls_certificate")
    validation = _field(secret, "validation_context")
    if isinstance(tls, dict):
        ident.chain = _envoy_certs(_field(tls, "certificate_chain"), f"{name} tlsCertificate")
    elif isinstance(validation, dict):
        ident.trust_bundle = True
        ident.roots = _envoy_certs(_field(validation, "trusted_ca"), f"{name} trustedCa")
    return ident


def _envoy_certs(data_source: Any, where: str) -> list[CertEntry]:
    try:
        blocks = certs.split_pem_chain(certs.pem_from_inline(data_source))
    except certs.CertificateError as exc:
        return [CertEntry(where=where, pem=None, error=str(exc))]
    return [CertEntry(where=f"{where}[{i}]", pem=block) for i, block in enumerate(blocks)]


# -- decoding every certificate once ----------------------------------------------------------------


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


# -- selecting identities -------------------------------------------------------------------------

_SPIFFE_RE = LazyPattern(r"^spiffe://[^/]+/ns/([^/]+)/sa/([^/]+)$")


@dataclass(frozen=True)
class IdentityFilter:
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


# -- redaction ---------------------------------------------------------------------------------------

_PRIVATE_KEY_NAME = LazyPattern(r"private[_\-]?key", re.I)
_PEM_KEY_BLOCK = LazyPattern(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.S)


def redact(node: Any) -> Any:
    """Replace, in place, every private key a dump could carry; returns the node.

    Fields named like `privateKey`/`private_key` lose their value; PEM private
    key blocks are cut out of any string; base64-wrapped PEM that holds a key
    becomes base64 of `[redacted]`.
    """
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str) and _PRIVATE_KEY_NAME.search(key):
                node[key] = _redacted_value(value)
            elif isinstance(value, str):
                node[key] = redact_string(value)
            elif isinstance(value, (dict, list)):
                redact(value)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if isinstance(value, str):
                node[index] = redact_string(value)
            elif isinstance(value, (dict, list)):
                redact(value)
    return node


def _redacted_value(value: Any) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, inner in value.items():
            if key in ("inlineBytes", "inline_bytes"):
                out[key] = certs.REDACTED_B64
            elif key in ("inlineString", "inline_string"):
                out[key] = certs.REDACTED
            elif isinstance(inner, (dict, list)):
                out[key] = _redacted_value(inner)
            else:
                out[key] = certs.REDACTED
        return out
    if isinstance(value, list):
        return [_redacted_value(v) for v in value]
    return certs.REDACTED


_KEY_NAMES = (b"privatekey", b"private_key", b"private-key")


def _aligned_b64(pattern: bytes) -> tuple[bytes, ...]:
    """The base64 characters `pattern` always encodes to, at each of the three byte alignments."""
    out = []
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + pattern)
        first = -(-8 * shift // 6)                      # first char made only of pattern bits
        last = (8 * (shift + len(pattern))) // 6        # chars before this are complete
        out.append(encoded[first:last])
    return tuple(out)


_KEY_IN_B64 = _aligned_b64(b"PRIVATE KEY")
_B64_JSON_STRING = LazyPattern(rb'"([A-Za-z0-9+/=\\]{64,})"')
_B64_TEXT = LazyPattern(r"[A-Za-z0-9+/=\s]{64,}")
_JSON_ESCAPE = LazyPattern(rb"\\.")
_NOT_B64 = LazyPattern(rb"[^A-Za-z0-9+/]")


def _b64_holds_key(text: bytes) -> bool:
    """Decode leniently (wrapped, unpadded, truncated): a damaged encoding must not hide a key."""
    clean = _NOT_B64.sub(b"", text)
    clean = clean[: len(clean) // 4 * 4]
    try:
        return b"PRIVATE KEY" in base64.b64decode(clean)
    except (binascii.Error, ValueError):
        return False


def may_hold_private_keys(data: bytes) -> bool:
    """A fast scan of the raw JSON: False only when no string could hold a key, so the walk can be skipped.

    Escapes that could hide a key from a byte scan (\\u, \\/, \\") always mean True.
    """
    escaped = b"\\" in data
    if escaped and (b"\\u" in data or b"\\/" in data or b'\\"' in data):
        return True
    lowered = data.lower()
    if b"ivate" in lowered:  # "PRIVATE KEY" and every key field name contain it: one scan rules all out
        if b"PRIVATE KEY" in data or any(name in lowered for name in _KEY_NAMES):
            return True
    # Unwrapped base64 anywhere: "PRIVATE KEY" encodes to one of three fixed strings.
    if any(encoded in data for encoded in _KEY_IN_B64):
        return True
    if not escaped or (b"\\n" not in data and b"\\r" not in data):
        return False
    # Wrapped base64 (\\n escapes inside) can split those strings: decode such strings.
    for match in _B64_JSON_STRING.finditer(data):
        text = match.group(1)
        if b"\\" in text and _b64_holds_key(_JSON_ESCAPE.sub(b"", text)):
            return True
    return False


def redact_string(text: str) -> str:
    if "PRIVATE KEY" in text:
        return _PEM_KEY_BLOCK.sub(certs.REDACTED, text)
    if len(text) >= 64 and _B64_TEXT.fullmatch(text) and _b64_holds_key(text.encode("ascii")):
        return certs.REDACTED_B64
    return text


# -- the Envoy-style secrets document (-o json / -o yaml) ---------------------------------------------


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


# -- where the certificate the user wants would be ---------------------------------------------------


def nothing_found_error(pod: dict[str, Any] | None, source: str, wanted: IdentityFilter | None,
                        dump: ConfigDump, kube: KubeClient | None, istio_namespace: str) -> NotFoundError:
    """Not an empty table: say which ztunnel would hold the certificate (ztunnel only holds its node's)."""
    node = (pod or {}).get("spec", {}).get("nodeName") if pod else None
    where = f"{source} (node {node})" if node else source
    if wanted is not None:
        message = f"{where} holds no certificate for {wanted.text}"
        held = len(dump.identities)
        if held:
            message += f" ({held} other identit{'y' if held == 1 else 'ies'})"
    else:
        message = f"{where} holds no certificates"
    if kube is None or pod is None:
        hint = ("ztunnel holds certificates only for workloads on its own node: dump the ztunnel on the node where "
                f"the workload runs (`ambientctl pc secret ds/ztunnel -n {istio_namespace} --node NODE`)")
        return NotFoundError(message, hint)
    try:
        hint = _suggest(kube, pod, wanted, node)
    except Exception as exc:  # noqa: BLE001 - a hint must never hide the real answer
        hint = f"ztunnel holds certificates only for workloads on its own node (could not look further: {exc})"
    return NotFoundError(message, hint)


def _suggest(kube: KubeClient, pod: dict[str, Any], wanted: IdentityFilter | None, node: str | None) -> str:
    from ambientctl.labels import REDIRECTION_ANNOTATION

    ztunnels = _sibling_pods_by_node(kube, pod)
    namespace = pod["metadata"]["namespace"]
    if wanted is not None:
        pods = kube.list("v1", "Pod", wanted.namespace,
                         field_selector=f"spec.serviceAccountName={wanted.service_account}")
        running = [p for p in pods if p.get("status", {}).get("phase") in ("Running", "Pending")]
        if not running:
            return (f"no pod runs as service account {wanted.namespace}/{wanted.service_account}: check the name, "
                    "and that the workload runs in an ambient namespace")
        flag = f" --identity {wanted.text}"
    else:
        running = [p for p in kube.list("v1", "Pod", all_namespaces=True)
                   if (p["metadata"].get("annotations") or {}).get(REDIRECTION_ANNOTATION) == "enabled"]
        if not running:
            return ("no pod is captured by ztunnel yet (annotation ambient.istio.io/redirection=enabled): "
                    "enrol a namespace with `ambientctl dataplane enroll NAMESPACE`")
        flag = ""
    by_node: dict[str, list[str]] = {}
    for p in running:
        by_node.setdefault(p.get("spec", {}).get("nodeName") or "(unscheduled)", []).append(
            f"{p['metadata']['namespace']}/{p['metadata']['name']}" if wanted is None else p["metadata"]["name"])
    parts = []
    for other, names in sorted(by_node.items()):
        shown = ", ".join(sorted(names)[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        ztunnel = ztunnels.get(other)
        parts.append(f"{other}: {shown}" + (f" (ztunnel {ztunnel})" if ztunnel else " (no ztunnel pod there)"))
    who = f"pods running as {wanted.namespace}/{wanted.service_account}" if wanted else "meshed pods"
    target = next((n for n in sorted(by_node) if n != node and n in ztunnels), None)
    hint = f"ztunnel holds certificates only for workloads on its own node; {who} by node: {'; '.join(parts)}"
    if target:
        hint += f"; try `ambientctl pc secret pod/{ztunnels[target]} -n {namespace}{flag}`"
    elif node in by_node:
        hint += "; the workload runs on this node but ztunnel has no certificate yet: check ztunnel's logs"
    return hint


def _sibling_pods_by_node(kube: KubeClient, pod: dict[str, Any]) -> dict[str, str]:
    """node -> name of the pod of the same DaemonSet there (the ztunnel on each node)."""
    owners = pod["metadata"].get("ownerReferences") or []
    daemonset = next((o["name"] for o in owners if o.get("kind") == "DaemonSet"), None)
    if daemonset is None:
        return {}
    from ambientctl.kube.pods import pods_of

    siblings = pods_of(kube, "ds", daemonset, pod["metadata"]["namespace"])
    result: dict[str, str] = {}
    for sibling in siblings:
        node = sibling.get("spec", {}).get("nodeName")
        if node and node not in result:
            result[node] = sibling["metadata"]["name"]
    return result


def require_ztunnel(dump: ConfigDump, source: str) -> None:
    if not dump.is_ztunnel:
        raise InvalidInputError(f"{source} is an Envoy config dump, not ztunnel's",
                                "use `ambientctl pc secret` for Envoy-based proxies (waypoints, gateways)")


def check_node_flag(file: str | None, node: str | None) -> None:
    if file and node:
        raise UsageError("--node picks a live ztunnel pod and cannot be used with --file",
                         "drop --node, or drop --file to read the ztunnel on that node")
