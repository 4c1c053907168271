"""`pc ecds`: extension configs delivered by ECDS (Wasm and other filters), from every ECDS section."""

from __future__ import annotations

from typing import Any

from ambientctl.proxy.envoy import dump as envoydump
from ambientctl.proxy.envoy.dump import EnvoyDump, dict_of, field_of
from ambientctl.proxy.envoy.gosort import sort_by_key
from ambientctl.proxy.envoy.protojson import to_proto_json
from ambientctl.proxy.envoy.tabwriter import tabwrite

TYPE_PREFIX = "type.googleapis.com/"


def _type_url(config: dict[str, Any]) -> str:
    value = dict_of(config, "typed_config").get("@type")
    return value if isinstance(value, str) else ""


def sorted_filters(dump: EnvoyDump) -> list[dict[str, Any]]:
    envoydump.require(dump, envoydump.ECDS)
    return sort_by_key([r.config for r in dump.ecds_filters()],
                       lambda c: (_type_url(c), str(field_of(c, "name", ""))))


def ecds_rows(dump: EnvoyDump) -> list[list[str]]:
    return [[str(field_of(c, "name", "")), _type_url(c).removeprefix(TYPE_PREFIX)] for c in sorted_filters(dump)]


def format_ecds(dump: EnvoyDump) -> str:
    return tabwrite([["ECDS NAME", "TYPE"], *ecds_rows(dump)], padding=5)


def ecds_document(dump: EnvoyDump) -> dict[str, Any]:
    """istioctl merges every ECDS section into one EcdsConfigDump: `{"ecdsFilters": [...]}` in dump order."""
    envoydump.require(dump, envoydump.ECDS)
    filters = [item for section in dump.all_sections(envoydump.ECDS)
               for item in envoydump.list_of(section, "ecds_filters")]
    return {"ecdsFilters": [to_proto_json(item) for item in filters]} if filters else {}
