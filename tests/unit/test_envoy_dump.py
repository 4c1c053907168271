"""The shared Envoy dump reader: sections by @type, states, unknown types and spellings tolerated."""

from __future__ import annotations

import json

import pytest

from ambientctl.errors import InvalidInputError
from ambientctl.proxy.envoy import dump as envoydump


def _doc() -> dict:
    return {"configs": [
        {"@type": envoydump.BOOTSTRAP, "bootstrap": {"node": {"id": "router~10.244.0.5~gw.default~default.svc"}}},
        {"@type": "type.googleapis.com/envoy.admin.v3.SomethingNew", "whatever": [1, 2]},
        {"@type": envoydump.CLUSTERS,
         "static_clusters": [{"cluster": {"name": "prometheus_stats"}}],
         "dynamic_active_clusters": [{"version_info": "v1", "cluster": {"name": "outbound|80||a.default.svc"}}],
         "dynamic_warming_clusters": [{"cluster": {"name": "outbound|80||b.default.svc"}}, {"bogus": 1}]},
        {"@type": envoydump.LISTENERS,
         "dynamic_listeners": [
             {"name": "main_internal", "active_state": {"listener": {"name": "main_internal"}},
              "warming_state": {"listener": {"name": "main_internal"}}},
             {"name": "broken", "error_state": {"details": "bad"}}]},
        {"@type": envoydump.ECDS, "ecds_filters": [{"ecds_filter": {"name": "a"}}]},
        {"@type": envoydump.ECDS, "ecdsFilters": [{"ecdsFilter": {"name": "b"}}]},
        {"no type": True},
    ]}


def test_sections_states_and_order():
    dump = envoydump.from_document(_doc())
    assert [(c.name, c.state) for c in dump.clusters()] == [
        ("prometheus_stats", "STATIC"), ("outbound|80||a.default.svc", "ACTIVE"),
        ("outbound|80||b.default.svc", "WARMING")]
    assert dump.clusters()[1].version_info == "v1"
    assert [(x.name, x.state) for x in dump.listeners()] == [("main_internal", "ACTIVE"), ("main_internal", "WARMING")]
    assert [f.name for f in dump.ecds_filters()] == ["a", "b"]  # both ECDS sections, both spellings
    assert dump.bootstrap()["node"]["id"].startswith("router~")
    assert dump.unknown_types == ["type.googleapis.com/envoy.admin.v3.SomethingNew"]


def test_missing_sections_read_as_empty():
    dump = envoydump.from_document({"configs": []})
    assert dump.clusters() == dump.listeners() == dump.route_configs() == dump.secrets() == []
    assert dump.endpoint_configs() == dump.ecds_filters() == [] and dump.bootstrap() == {}


def test_parse_rejects_a_ztunnel_dump_with_a_hint():
    with pytest.raises(InvalidInputError) as caught:
        envoydump.parse(json.dumps({"certificates": []}).encode(), "z.json")
    assert "not an Envoy config dump" in caught.value.message and "zc" in caught.value.hint


def test_parse_redacts_private_keys():
    doc = {"configs": [{"@type": envoydump.SECRETS, "static_secrets": [{"name": "x", "secret": {
        "name": "x", "tls_certificate": {"private_key": {"inline_string": "-----BEGIN PRIVATE KEY-----abc"}}}}]}]}
    dump = envoydump.parse(json.dumps(doc).encode(), "d.json")
    assert "BEGIN PRIVATE KEY" not in json.dumps(dump.raw)


def test_views_read_active_configs_then_static_ones_never_warming_or_draining():
    def res(name, state):
        return envoydump.Resource(name, state, {"name": name}, {})

    resources = [res("s1", envoydump.STATIC), res("a1", envoydump.ACTIVE), res("w", envoydump.WARMING),
                 res("d", envoydump.DRAINING), res("s2", envoydump.STATIC), res("a2", envoydump.ACTIVE)]
    assert [c["name"] for c in envoydump.active_then_static(resources)] == ["a1", "a2", "s1", "s2"]
