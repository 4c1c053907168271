"""Nothing secret leaves in a bug report: every file passes through here before it enters the archive.

Structured data (config dumps, objects) is redacted field by field first
(`redact_document`); then every text, whatever its origin, loses PEM private
keys, JWTs (service-account tokens), bearer tokens and `token`/`password`-like
values (`redact_text`). Secret objects are never collected: only their names,
types and key names (`secret_rows`).
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "[redacted]"

_PEM_PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.S)
# base64url header.payload.signature whose header starts `{"` (eyJ): JWTs, e.g. service-account tokens
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/-]{8,}=*")
# `"token": "x"`, `password=x`, `client_secret: x` (the key ends the name: secretName stays)
_SECRET_VALUE = re.compile(
    r"""(?ix)
    (["']?\b(?:[a-z0-9_-]*[_-])?(?:token|password|passwd|client[_-]?secret|api[_-]?key|private[_-]?key)["']?
     \s*[:=]\s*)
    (?!\[redacted\])(["']?)([^\s"',}]{4,})""")
_SECRET_KEY_NAME = re.compile(r"(?i)(token|password|passwd|secret|api[_-]?key|private[_-]?key|credential)")
# Fields of Kubernetes objects that can carry another object whole (a Secret's data in it, say).
_DROPPED_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)


def redact_text(text: str) -> str:
    """Cut private keys, JWTs, bearer tokens and token/password values out of any text."""
    if "PRIVATE KEY" in text:
        text = _PEM_PRIVATE_KEY.sub(REDACTED, text)
    if "eyJ" in text:
        text = _JWT.sub(REDACTED, text)
    text = _BEARER.sub(lambda m: m.group(1) + REDACTED, text)
    return _SECRET_VALUE.sub(lambda m: m.group(1) + m.group(2) + REDACTED, text)


def redact_document(node: Any) -> Any:
    """A config dump or object, in place: private-key fields emptied, secret-named string values cut,
    managedFields and last-applied annotations dropped (they repeat the object, secrets included)."""
    if isinstance(node, dict):
        node.pop("managedFields", None)
        annotations = node.get("annotations")
        if isinstance(annotations, dict):
            for name in _DROPPED_ANNOTATIONS:
                if name in annotations:
                    annotations[name] = REDACTED
        if isinstance(node.get("name"), str) and isinstance(node.get("value"), str) and _is_secret_key(node["name"]):
            node["value"] = REDACTED  # an env var such as {name: API_TOKEN, value: ...}
        for key, value in list(node.items()):
            if isinstance(value, str) and isinstance(key, str) and _is_secret_key(key):
                node[key] = REDACTED
            elif isinstance(value, (dict, list)):
                redact_document(value)
    elif isinstance(node, list):
        for value in node:
            if isinstance(value, (dict, list)):
                redact_document(value)
    return node


def _is_secret_key(key: str) -> bool:
    lowered = key.lower()
    if lowered.endswith(("name", "names", "ref", "path", "file", "mode", "type", "ttl", "seconds")):
        return False  # secretName, tokenPath, passwordFile: references, not values
    return bool(_SECRET_KEY_NAME.search(key))


def secret_rows(secrets: list[dict[str, Any]]) -> list[list[str]]:
    """NAMESPACE, NAME, TYPE, KEYS of each Secret: what a maintainer needs, never a value."""
    rows = []
    for secret in secrets:
        meta = secret.get("metadata") or {}
        keys = sorted(set(secret.get("data") or {}) | set(secret.get("stringData") or {}))
        rows.append([meta.get("namespace", ""), meta.get("name", ""), secret.get("type", ""),
                     ",".join(keys) or "-"])
    return rows
