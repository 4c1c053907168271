"""Property tests: the overlay reader/merge and the dump parsers raise nothing but ambientctl's typed errors.

(The --set parser has its own property tests in tests/unit/test_setflags.py.)
Whatever a user feeds `-f` or `--file`, the worst outcome must be an
`AmbientctlError` (one line, an exit code), never a KeyError/TypeError that
`cli.run` can only report as an internal error.
"""

from __future__ import annotations

import copy
import io
import datetime as dt
import json

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ambientctl.errors import AmbientctlError
from ambientctl.proxy import decode, documents, identities, model
from ambientctl.proxy.printers import secret as secret_printer
from ambientctl.proxy import ztunneldump
from ambientctl.render.overlay import parse_overlay
from ambientctl.render.tree import deep_merge

NOW = dt.datetime(2026, 9, 1, tzinfo=dt.timezone.utc)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False),
                    st.text(max_size=20))
# Keys drawn from both the IstioOperator and the dump vocabularies, so the readers see familiar shapes.
VOCABULARY = [
    "apiVersion", "kind", "metadata", "spec", "profile", "hub", "tag", "revision", "namespace", "components",
    "values", "meshConfig", "pilot", "cni", "ztunnel", "base", "ingressGateways", "egressGateways", "enabled",
    "k8s", "replicaCount", "label", "name", "certificates", "identity", "state", "certChain", "rootCerts", "pem",
    "serialNumber", "validFrom", "expirationTime", "configs", "@type", "dynamic_active_secrets",
    "dynamicActiveSecrets", "secret", "tls_certificate", "certificate_chain", "inline_bytes", "private_key",
    "validation_context", "trusted_ca", "workloads", "services", "policies", "workloadState", "connections",
    "info", "workloadIps", "node", "waypoint", "vips", "endpoints", "hostname", "rules", "action", "scope",
    "type.googleapis.com/envoy.admin.v3.SecretsConfigDump", "ROOTCA", "default", "Available", "src", "dst",
]
keys = st.one_of(st.sampled_from(VOCABULARY), st.text(max_size=8))
trees = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)),
    max_leaves=30,
)
IOP = {"apiVersion": "install.istio.io/v1alpha1", "kind": "IstioOperator"}


@SETTINGS
@given(st.text(max_size=300))
def test_overlay_text_only_raises_typed_errors(text: str) -> None:
    try:
        parse_overlay(text, "fuzz.yaml")
    except AmbientctlError as exc:
        assert "\n" not in exc.one_line()


@SETTINGS
@given(trees)
def test_overlay_spec_of_any_shape_only_raises_typed_errors(spec: object) -> None:
    text = yaml.safe_dump({**IOP, "spec": spec})
    try:
        parse_overlay(text, "fuzz.yaml")
    except AmbientctlError as exc:
        assert "\n" not in exc.one_line()


@SETTINGS
@given(trees, trees)
def test_deep_merge_never_raises_nor_mutates(base: object, overlay: object) -> None:
    before = (copy.deepcopy(base), copy.deepcopy(overlay))
    merged = deep_merge(base, overlay)
    assert (base, overlay) == before
    if isinstance(base, dict) and isinstance(overlay, dict):
        assert set(merged) == set(base) | set(overlay)
        for key, value in overlay.items():
            if not isinstance(value, dict) or not isinstance(base.get(key), dict):
                assert merged[key] == value
    else:
        assert merged == overlay
    assert deep_merge(merged, overlay) == merged  # applying the same overlay twice changes nothing more


def _exercise_dump(data: bytes) -> None:
    """Everything `pc secret` and `zc` do with a dump, without a cluster."""
    views = ztunneldump.read(data, "fuzz.json", ztunneldump.Request.everything())
    dump = views.dump
    decode.decode_all(dump)
    chosen = identities.select(dump, None)
    secret_printer.format_short(chosen, NOW)
    secret_printer.format_detail(chosen, NOW)
    json.dumps(documents.secrets_document(chosen))
    if dump.is_ztunnel:
        sink = ztunneldump.Writer(io.StringIO())
        ztunneldump.write_all(sink, views, NOW, with_headers=True)
        for fmt in ("json", "yaml"):
            ztunneldump.write_whole(sink, views, fmt)
        sink.close()
        json.dumps(documents.ztunnel_certificates_document(chosen))


@SETTINGS
@given(st.binary(max_size=300))
def test_dump_bytes_only_raise_typed_errors(data: bytes) -> None:
    try:
        _exercise_dump(data)
    except AmbientctlError as exc:
        assert "\n" not in exc.one_line()


@SETTINGS
@given(st.dictionaries(keys, trees, max_size=6))
def test_dump_of_any_shape_only_raises_typed_errors(doc: dict) -> None:
    try:
        _exercise_dump(json.dumps(doc).encode())
    except AmbientctlError as exc:
        assert "\n" not in exc.one_line()


certificate = st.fixed_dictionaries({}, optional={
    "identity": st.one_of(st.text(max_size=30), trees), "state": st.one_of(st.sampled_from(["Available",
    "Initializing", "Unavailable: boom"]), trees), "certChain": trees, "rootCerts": trees})
envoy_secret = st.fixed_dictionaries({}, optional={"name": trees, "secret": trees, "version_info": trees,
                                                    "last_updated": trees})


@SETTINGS
@given(st.lists(st.one_of(certificate, trees), max_size=4), st.lists(envoy_secret, max_size=3))
def test_near_miss_dumps_only_raise_typed_errors(certificates: list, secrets: list) -> None:
    ztunnel = {"certificates": certificates, "workloads": [{"name": 1, "workloadIps": [None]}]}
    envoy = {"configs": [{"@type": model.ENVOY_SECRETS_TYPE, "dynamic_active_secrets": secrets}]}
    for doc in (ztunnel, envoy):
        try:
            _exercise_dump(json.dumps(doc).encode())
        except AmbientctlError as exc:
            assert "\n" not in exc.one_line()
