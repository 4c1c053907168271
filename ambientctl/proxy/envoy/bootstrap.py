"""`pc bootstrap`: the Bootstrap config (istioctl's default output is JSON) and its `-o short` version summary."""

from __future__ import annotations

from typing import Any

from ambientctl.proxy.envoy import dump as envoydump
from ambientctl.proxy.envoy.dump import EnvoyDump, dict_of, field_of
from ambientctl.proxy.envoy.protojson import resource_json
from ambientctl.proxy.envoy.tabwriter import tabwrite


def bootstrap_document(dump: EnvoyDump) -> dict[str, Any]:
    """The BootstrapConfigDump (`bootstrap`, `lastUpdated`), in istioctl's JSON names."""
    envoydump.require(dump, envoydump.BOOTSTRAP)
    return resource_json(dump.section(envoydump.BOOTSTRAP))


def _string(struct: dict[str, Any], key: str) -> str | None:
    value = struct.get(key)
    return None if value is None else value if isinstance(value, str) else ""


def envoy_version(node: dict[str, Any]) -> str:
    """`MAJOR.MINOR.PATCH[-label][/status][/type][/ssl]` from the node's user-agent build version."""
    build = dict_of(node, "user_agent_build_version")
    version = dict_of(build, "version")
    metadata = dict_of(build, "metadata")
    text = "{}.{}.{}".format(*(int(field_of(version, k, 0) or 0) for k in ("major_number", "minor_number", "patch")))
    for key, sep in (("build.label", "-"), ("revision.status", "/"), ("build.type", "/"), ("ssl.version", "/")):
        value = _string(metadata, key)
        if value is not None:
            text += sep + value
    return text


def summary_rows(dump: EnvoyDump) -> list[list[str]]:
    envoydump.require(dump, envoydump.BOOTSTRAP)
    node = dict_of(dump.bootstrap(), "node")
    metadata = dict_of(node, "metadata")
    rows = []
    istio = _string(metadata, "ISTIO_VERSION")
    if istio:
        rows.append(["Istio Version:", istio])
    sha = _string(metadata, "ISTIO_PROXY_SHA")
    if sha is not None and ":" in sha:
        sha = sha.split(":")[1]
    if sha:
        rows.append(["Istio Proxy Version:", sha])
    envoy = envoy_version(node)
    if envoy:
        rows.append(["Envoy Version:", envoy])
    return rows


def format_summary(dump: EnvoyDump) -> str:
    rows = summary_rows(dump)
    return tabwrite(rows, padding=1) if rows else ""
