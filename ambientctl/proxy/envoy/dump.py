"""An Envoy `/config_dump` read into its sections, the way every `pc` subcommand needs it.

Envoy's dump is `{"configs": [ {"@type": "type.googleapis.com/envoy.admin.v3.XConfigDump", ...}, ... ]}`.
Real dumps vary: sections are missing (no secrets on a fresh proxy, no ECDS
without Wasm), some types appear more than once (one ECDS section per filter
kind), types this code does not know appear (new Envoy releases), resources are
static, dynamic-active or dynamic-warming (listeners also draining), and field
names are snake_case from Envoy but camelCase in dumps re-encoded by protobuf
tooling (those are rewritten to snake_case once, on reading).  This module reads all of that into one model and never fails on
something it does not know: unknown sections are kept, not interpreted.

Nothing here imports `kubernetes` or `cryptography`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from ambientctl.lazyre import LazyPattern

ADMIN_TYPE = "type.googleapis.com/envoy.admin.v3."
BOOTSTRAP = ADMIN_TYPE + "BootstrapConfigDump"
CLUSTERS = ADMIN_TYPE + "ClustersConfigDump"
ENDPOINTS = ADMIN_TYPE + "EndpointsConfigDump"
ECDS = ADMIN_TYPE + "EcdsConfigDump"
LISTENERS = ADMIN_TYPE + "ListenersConfigDump"
SCOPED_ROUTES = ADMIN_TYPE + "ScopedRoutesConfigDump"
ROUTES = ADMIN_TYPE + "RoutesConfigDump"
SECRETS = ADMIN_TYPE + "SecretsConfigDump"
KNOWN_SECTIONS = (BOOTSTRAP, CLUSTERS, ENDPOINTS, ECDS, LISTENERS, SCOPED_ROUTES, ROUTES, SECRETS)

# Resource states, as istioctl prints them (`pc secret` STATUS) plus the static kind.
STATIC, ACTIVE, WARMING, DRAINING = "STATIC", "ACTIVE", "WARMING", "DRAINING"


def field_of(obj: Any, snake: str, default: Any = None) -> Any:
    """`obj[snake]` when `obj` is an object and the field is set (JSON null counts as unset)."""
    if obj.__class__ is not dict:
        return default
    value = obj.get(snake)
    return default if value is None else value


def list_of(obj: Any, snake: str) -> list[Any]:
    """A list field; anything that is not a list (absent, null, damaged) reads as empty."""
    value = obj.get(snake) if obj.__class__ is dict else None
    return value if value.__class__ is list else []


def dict_of(obj: Any, snake: str) -> dict[str, Any]:
    """A message field; anything that is not an object reads as empty."""
    value = obj.get(snake) if obj.__class__ is dict else None
    return value if value.__class__ is dict else {}


# -- camelCase dumps ------------------------------------------------------------------------------------

_CAMEL_WORD = LazyPattern(r"^[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)+$")
_CAMEL_PART = LazyPattern(r"[A-Z]")
# Fields whose value is a Struct or a map: their own keys are data, not field names.
_DATA_KEYED = frozenset({"filter_metadata", "typed_filter_metadata", "typed_per_filter_config",
                         "typed_extension_protocol_options", "map", "json_format", "static_layer", "fields"})


def _is_camel_dump(doc: dict[str, Any]) -> bool:
    """Envoy writes snake_case; a dump re-encoded by protobuf tooling has `dynamicActiveClusters` & co."""
    for config in doc.get("configs") or []:
        if isinstance(config, dict) and any(_CAMEL_WORD.match(key) for key in config if key != "@type"):
            return True
    return False


def _snake(name: str) -> str:
    return _CAMEL_PART.sub(lambda m: "_" + m.group().lower(), name)


def snake_keys(node: Any, parent: str = "") -> Any:
    """A camelCase dump in Envoy's own spelling (map and Struct keys, and node metadata, kept)."""
    if isinstance(node, dict):
        if parent in _DATA_KEYED or (parent == "metadata" and not {"filter_metadata", "filterMetadata",
                                                                   "typed_filter_metadata", "typedFilterMetadata"}
                                     >= set(node)):
            if parent in ("map", "typed_per_filter_config", "typed_extension_protocol_options"):
                return {key: snake_keys(value) for key, value in node.items()}
            return node
        out = {}
        for key, value in node.items():
            name = _snake(key) if isinstance(key, str) and _CAMEL_WORD.match(key) else key
            out[name] = snake_keys(value, name)
        return out
    if isinstance(node, list):
        return [snake_keys(item, parent) for item in node]
    return node


@dataclass(slots=True)
class Resource:
    """One cluster / listener / route config / secret / endpoint config / ECDS filter, and its state.

    `config` is the resource as the dump holds it (the Cluster, the Listener, ...).
    `holder` is the wrapper around it (`version_info`, `last_updated`, ...)."""

    name: str
    state: str
    config: dict[str, Any]
    holder: dict[str, Any] = field(repr=False)

    @property
    def dynamic(self) -> bool:
        return self.state != STATIC

    @property
    def version_info(self) -> str | None:
        return field_of(self.holder, "version_info")

    @property
    def last_updated(self) -> str | None:
        return field_of(self.holder, "last_updated")


@dataclass
class EnvoyDump:
    """The dump's sections by `@type`, in the dump's order; unknown types are kept as they are."""

    raw: dict[str, Any]
    sections: dict[str, list[dict[str, Any]]]
    source: str = "dump"

    @property
    def unknown_types(self) -> list[str]:
        return [t for t in self.sections if t not in KNOWN_SECTIONS]

    def section(self, type_url: str) -> dict[str, Any]:
        """The section of that type (the last one if repeated, as istioctl reads it); empty if missing."""
        found = self.sections.get(type_url)
        return found[-1] if found else {}

    def all_sections(self, type_url: str) -> list[dict[str, Any]]:
        return self.sections.get(type_url, [])

    def has(self, type_url: str) -> bool:
        return type_url in self.sections

    # -- resources -------------------------------------------------------------------------------

    def bootstrap(self) -> dict[str, Any]:
        """The Bootstrap message (empty when the dump has none)."""
        return dict_of(self.section(BOOTSTRAP), "bootstrap")

    def clusters(self) -> list[Resource]:
        """Static, then dynamic active, then dynamic warming clusters, each in the dump's order."""
        section = self.section(CLUSTERS)
        return list(_wrapped(section, (("static_clusters", STATIC), ("dynamic_active_clusters", ACTIVE),
                                       ("dynamic_warming_clusters", WARMING)), "cluster"))

    def listeners(self) -> list[Resource]:
        """Static listeners, then each dynamic listener's active, warming and draining state."""
        section = self.section(LISTENERS)
        out = list(_wrapped(section, (("static_listeners", STATIC),), "listener"))
        for item in list_of(section, "dynamic_listeners"):
            for state_field, state in (("active_state", ACTIVE), ("warming_state", WARMING),
                                       ("draining_state", DRAINING)):
                holder = dict_of(item, state_field)
                listener = dict_of(holder, "listener")
                if listener:
                    out.append(Resource(_name(listener, item), state, listener, holder))
        return out

    def route_configs(self) -> list[Resource]:
        """Static, then dynamic RouteConfigurations (RDS has no warming state)."""
        section = self.section(ROUTES)
        return list(_wrapped(section, (("static_route_configs", STATIC), ("dynamic_route_configs", ACTIVE)),
                             "route_config"))

    def scoped_route_configs(self) -> list[Resource]:
        section = self.section(SCOPED_ROUTES)
        out = []
        for kind, state in (("inline_scoped_route_configs", STATIC), ("dynamic_scoped_route_configs", ACTIVE)):
            for item in list_of(section, kind):
                for config in list_of(item, "scoped_route_configs"):
                    if isinstance(config, dict):
                        out.append(Resource(_name(config, item), state, config, item))
        return out

    def secrets(self) -> list[Resource]:
        """Static, dynamic active and dynamic warming secrets."""
        section = self.section(SECRETS)
        return list(_wrapped(section, (("static_secrets", STATIC), ("dynamic_active_secrets", ACTIVE),
                                       ("dynamic_warming_secrets", WARMING)), "secret"))

    def endpoint_configs(self) -> list[Resource]:
        """ClusterLoadAssignments, present only in a dump taken with `?include_eds`."""
        section = self.section(ENDPOINTS)
        return list(_wrapped(section, (("static_endpoint_configs", STATIC), ("dynamic_endpoint_configs", ACTIVE)),
                             "endpoint_config", name_field="cluster_name"))

    def ecds_filters(self) -> list[Resource]:
        """Extension configs of every ECDS section (Envoy writes one section per filter kind)."""
        out: list[Resource] = []
        for section in self.all_sections(ECDS):
            out.extend(_wrapped(section, (("ecds_filters", ACTIVE),), "ecds_filter"))
        return out


def _name(resource: dict[str, Any], holder: dict[str, Any], name_field: str = "name") -> str:
    name = field_of(resource, name_field) or field_of(holder, "name")
    return name if isinstance(name, str) else ""


def _wrapped(section: dict[str, Any], kinds: Iterable[tuple[str, str]], inner: str,
             name_field: str = "name") -> Iterator[Resource]:
    """Resources of the `kinds` lists of a section; each item holds the resource under `inner`."""
    for kind, state in kinds:
        for holder in list_of(section, kind):
            resource = dict_of(holder, inner)
            if resource:
                yield Resource(_name(resource, holder, name_field), state, resource, holder)


def is_envoy_dump(doc: Any) -> bool:
    return isinstance(doc, dict) and isinstance(doc.get("configs"), list)


def from_document(doc: dict[str, Any], source: str = "dump") -> EnvoyDump:
    """Index an already-parsed (and redacted) dump by section type; entries without a type are skipped.

    A camelCase dump is first rewritten in Envoy's snake_case, so every reader needs one spelling."""
    if _is_camel_dump(doc):
        doc = snake_keys(doc)
    sections: dict[str, list[dict[str, Any]]] = {}
    for config in doc.get("configs") or []:
        if isinstance(config, dict) and isinstance(config.get("@type"), str):
            sections.setdefault(config["@type"], []).append(config)
    return EnvoyDump(raw=doc, sections=sections, source=source)


def parse(data: bytes, source: str, redact: bool = True) -> EnvoyDump:
    """Parse (and, unless told not to, redact) a saved or fetched Envoy dump; a one-line error if it is not one.

    `redact=False` is for views that print only tables (names, addresses, matches): a
    20 MB dump's redaction walk costs more than the parse, and Envoy has already
    replaced its private keys with `[redacted]`.  Whoever prints parts of such a dump
    as a document passes them through `redacted()` first."""
    from ambientctl.errors import InvalidInputError
    from ambientctl.proxy import redact as redaction
    from ambientctl.proxy.shapes import load_json

    doc = load_json(data, source)
    if redact and redaction.may_hold_private_keys(data):
        redaction.redact(doc)
    if not is_envoy_dump(doc):
        keys = ", ".join(sorted(doc)[:6]) or "none"
        hint = ("this is a ztunnel dump: use `ambientctl zc` (or `pc secret`)"
                if any(k in doc for k in ("certificates", "workloads", "services")) else
                "pass the JSON from an Envoy admin endpoint: `kubectl exec POD -c istio-proxy -- "
                "curl -s localhost:15000/config_dump`")
        raise InvalidInputError(f"{source} is not an Envoy config dump (top-level keys: {keys})", hint)
    return from_document(doc, source)


def redacted(document: Any) -> Any:
    """`document` (a fresh copy the caller owns) with every private key it could hold replaced."""
    from ambientctl.proxy.redact import redact

    return redact(document)


SECTION_NOUNS = {CLUSTERS: "clusters", LISTENERS: "listeners", ROUTES: "routes", SECRETS: "secrets",
                 BOOTSTRAP: "bootstrap", ECDS: "ECDS filters", ENDPOINTS: "endpoints"}


def require(dump: EnvoyDump, type_url: str) -> None:
    """istioctl fails on a dump without the section a view needs; so do we, with a hint."""
    from ambientctl.errors import InvalidInputError

    if not dump.has(type_url):
        noun = SECTION_NOUNS.get(type_url, type_url)
        raise InvalidInputError(
            f"{dump.source} has no {noun} section ({type_url.removeprefix(ADMIN_TYPE)})",
            "save the whole dump: `curl -s localhost:15000/config_dump` (no ?mask= or ?resource=)")


def active_then_static(resources: list[Resource]) -> list[dict[str, Any]]:
    """The configs istioctl's listener, route and endpoint views read, in its order before sorting: the dynamic
    active ones, then the static ones (warming and draining ones are not shown)."""
    return [r.config for r in resources if r.state == ACTIVE] + [r.config for r in resources if r.state == STATIC]


def nothing_found(dump: EnvoyDump, noun: str) -> Exception:
    """istioctl's `no clusters found` (and listeners, routes): the section is there but empty."""
    from ambientctl.errors import NotFoundError

    return NotFoundError(f"no {noun} found in {dump.source}",
                         "the proxy has not received its configuration from istiod yet, or the dump was filtered")
