"""Kubernetes name rules: which strings may name a namespace, a Service, a Gateway, or be a label value.

The one definition of each rule (pattern and length limit together), so a
namespace refused by one command is refused by all. Callers word their own
message (they know the flag), except for namespaces, which every command
checks the same way (`validate_namespace`) before a name reaches an API path.
"""

from __future__ import annotations

from ambientctl.errors import InvalidInputError
from ambientctl.lazyre import LazyPattern

# RFC 1123 label: namespaces, revisions, most object names.
_DNS_LABEL = LazyPattern(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
# RFC 1035 label: names that become a Service (so a waypoint name): starts with a letter.
_DNS1035_LABEL = LazyPattern(r"[a-z]([-a-z0-9]*[a-z0-9])?")
# RFC 1123 subdomain: dot-separated labels (service accounts, Gateway and GatewayClass names).
_DNS_SUBDOMAIN = LazyPattern(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
# Label value: empty, or alphanumerics at both ends with '-', '_', '.' between.
_LABEL_VALUE = LazyPattern(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")

MAX_LABEL_LENGTH = 63
MAX_SUBDOMAIN_LENGTH = 253


def is_dns_label(value: str) -> bool:
    """An RFC 1123 label of at most 63 characters (a namespace name)."""
    return len(value) <= MAX_LABEL_LENGTH and bool(_DNS_LABEL.fullmatch(value))


def is_dns1035_label(value: str) -> bool:
    """An RFC 1035 label of at most 63 characters: a Service name, so a waypoint's."""
    return len(value) <= MAX_LABEL_LENGTH and bool(_DNS1035_LABEL.fullmatch(value))


def is_dns_subdomain(value: str) -> bool:
    """An RFC 1123 subdomain of at most 253 characters (most object names)."""
    return len(value) <= MAX_SUBDOMAIN_LENGTH and bool(_DNS_SUBDOMAIN.fullmatch(value))


def is_label_value(value: str) -> bool:
    """A valid label value (the empty string is one)."""
    return len(value) <= MAX_LABEL_LENGTH and bool(_LABEL_VALUE.fullmatch(value))


def _shown(value: str) -> str:
    """A bad value as an error message quotes it: at most 80 characters."""
    return value if len(value) <= 80 else value[:80] + "..."


def require_dns_subdomain(value: str, what: str, hint: str) -> str:
    """`value` if it is a valid object name (DNS-1123 subdomain), else the one error naming `what`."""
    if not is_dns_subdomain(value):
        raise InvalidInputError(f"invalid {what} {_shown(value)!r}: use lowercase letters, digits, '-' and '.'", hint)
    return value


def validate_namespace(name: str, source: str) -> str:
    """A namespace name (DNS-1123 label); anything else would be spliced into API paths (`../`)."""
    if not is_dns_label(name or ""):
        shown = _shown(name)
        raise InvalidInputError(
            f"invalid namespace {shown!r} ({source}): use at most 63 lowercase letters, digits and '-'",
            "a namespace name looks like default or my-app",
        )
    return name
