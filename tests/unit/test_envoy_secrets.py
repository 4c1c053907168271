"""The Envoy side of `pc secret`: istioctl's rows and layout, serials with their leading zeros,
SPIFFE trust bundles, damaged data, the camelCase JSON document, ROOTCA extraction; and Go's
tabwriter layout that every istioctl table needs."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest

from ambientctl.proxy.envoy import dump as envoydump
from ambientctl.proxy.envoy import rootca, secrets
from ambientctl.proxy.envoy.protojson import to_proto_json
from ambientctl.proxy.envoy.tabwriter import tabwrite
from tests.support import envoysecrets as es
from tests.support.golden import assert_golden



def parsed(doc: dict) -> envoydump.EnvoyDump:
    return envoydump.parse(json.dumps(doc).encode(), "dump.json")


SHAPES = {"waypoint": es.waypoint_dump, "gateway": es.gateway_dump, "spiffe": es.spiffe_bundle_dump,
          "damaged": es.damaged_dump}


# -- Go's tabwriter ------------------------------------------------------------------------------


def test_tabwriter_pads_tab_terminated_cells_and_leaves_the_last_cell_alone():
    assert tabwrite([["a", "bb", ""], ["ccc", "d", "x"]]) == "a   bb \nccc d  x\n"


def test_tabwriter_sizes_columns_per_block_of_consecutive_lines():
    # A line without the column ends the block: the lines after it are sized on their own.
    assert tabwrite([["a", "b"], ["only"], ["cc", "d"]], padding=2) == "a  b\nonly\ncc  d\n"


def test_tabwriter_nested_blocks():
    lines = [["x", "yy", "z"], ["xxxx", "w"], ["x", "y", "zzz"]]
    # column 0 spans all three lines; column 1 exists (tab-terminated) only in lines 1 and 3,
    # which are not consecutive, so each is its own block.
    assert tabwrite(lines) == "x    yy z\nxxxx w\nx    y zzz\n"


# -- rows and golden tables ----------------------------------------------------------------------


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_secret_table_golden(shape):
    assert_golden(f"envoy/secret_{shape}.txt", secrets.format_summary(parsed(SHAPES[shape]()), es.NOW))


def test_serial_keeps_its_leading_zero_as_istioctl_prints_it():
    rows = secrets.secret_rows(parsed(es.waypoint_dump()), es.NOW)
    root = next(r for r in rows if r.name == "ROOTCA")
    assert root.serial == "0193a543fe2b0d9cd4847675394dfc54"
    assert secrets.serial_hex(1) == "0" * 31 + "1"
    assert secrets.serial_hex(2**160 + 5) == format(2**160 + 5, "x")  # longer than 32 digits: no cut


def test_rows_describe_the_first_certificate_of_each_secret():
    rows = secrets.secret_rows(parsed(es.waypoint_dump()), es.NOW)
    assert [(r.name, r.kind, r.state, r.valid) for r in rows] == [
        ("default", "Cert Chain", "ACTIVE", True), ("ROOTCA", "CA", "ACTIVE", True)]
    default = rows[0]
    assert (default.not_before, default.not_after) == ("2026-09-01T01:30:52Z", "2026-09-02T01:30:52Z")
    assert default.trust_domain == "cluster.local"
    assert rows[1].trust_domain == ""  # the mesh root has no SPIFFE URI: no TRUST DOMAIN column
    assert "TRUST DOMAIN" not in secrets.format_table(rows)


def test_warming_secrets_come_first_with_empty_certificate_cells():
    rows = secrets.secret_rows(parsed(es.gateway_dump()), es.NOW)
    assert rows[0] == secrets.SecretRow(name="kubernetes://missing-credential", state="WARMING")
    assert [r.state for r in rows[1:]] == ["ACTIVE"] * 5
    table = secrets.format_table(rows).splitlines()
    assert table[1].startswith("kubernetes://missing-credential")
    assert table[1].endswith(" ")  # istioctl's empty tab-terminated cells are padded, not stripped


def test_expired_and_file_based_credentials():
    rows = {r.name: r for r in secrets.secret_rows(parsed(es.gateway_dump()), es.NOW)}
    assert rows["kubernetes://old-credential"].valid is False
    assert rows["kubernetes://old-credential"].kind == "Cert Chain"
    assert rows["kubernetes://bookinfo-credential"].kind == "Cert Chain"   # no basic constraints: not a CA
    filed = rows["file-cert:/etc/certs/cert.pem"]
    assert (filed.kind, filed.valid, filed.serial, filed.error) == ("", False, "", "")  # no data, not damaged


def test_spiffe_bundle_gives_one_row_per_trust_domain_and_a_trust_domain_column():
    rows = secrets.secret_rows(parsed(es.spiffe_bundle_dump()), es.NOW)
    assert [(r.name, r.kind, r.trust_domain) for r in rows] == [
        ("default", "Cert Chain", "east.local"), ("ROOTCA", "CA", "east.local"), ("ROOTCA", "CA", "west.local")]
    header = secrets.format_table(rows).splitlines()[0]
    assert header.split()[-2:] == ["TRUST", "DOMAIN"]


def test_static_secrets_are_not_listed_and_an_empty_section_says_so():
    doc = es.envoy_dump([], static=[es.tls_secret("static-one", es.pem(es.mesh_ca()[0].cert))])
    assert secrets.format_summary(parsed(doc), es.NOW) == "No active or warming secrets found.\n"
    no_section = {"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump"}]}
    assert secrets.format_summary(parsed(no_section), es.NOW) == "No active or warming secrets found.\n"


def test_damaged_data_is_a_false_row_with_a_reason():
    rows = secrets.secret_rows(parsed(es.damaged_dump()), es.NOW)
    bad = secrets.undecodable(rows)
    assert [r.name for r in bad] == ["not-pem", "bad-der", "a-key"]
    assert all(not r.valid and not r.serial and not r.kind for r in bad)
    assert "not PEM" in bad[0].error and "not an X.509 certificate" in bad[1].error


def test_validity_is_strictly_between_the_dates():
    rows = secrets.secret_rows(parsed(es.waypoint_dump()), dt.datetime(2026, 9, 1, 1, 30, 52,
                                                                      tzinfo=dt.timezone.utc))
    assert rows[0].valid is False  # exactly NotBefore: not after it


def test_camel_case_dump_reads_the_same():
    snake = es.waypoint_dump()
    camel = to_proto_json(snake)
    assert "dynamicActiveSecrets" in json.dumps(camel)
    assert secrets.secret_rows(parsed(camel), es.NOW) == secrets.secret_rows(parsed(snake), es.NOW)


# -- JSON --------------------------------------------------------------------------------------------


def test_json_document_is_istioctls_camel_case_secrets_dump_and_feeds_the_guides_jq_path():
    from cryptography import x509

    document = secrets.secrets_document(parsed(es.waypoint_dump()))
    assert "@type" not in document
    inline = document["dynamicActiveSecrets"][0]["secret"]["tlsCertificate"]["certificateChain"]["inlineBytes"]
    cert = x509.load_pem_x509_certificate(base64.b64decode(inline))
    assert cert.serial_number == int(secrets.secret_rows(parsed(es.waypoint_dump()), es.NOW)[0].serial, 16)
    assert document["dynamicActiveSecrets"][0]["secret"]["@type"].endswith("tls.v3.Secret")
    assert base64.b64decode(
        document["dynamicActiveSecrets"][0]["secret"]["tlsCertificate"]["privateKey"]["inlineBytes"]) == b"[redacted]"


def test_private_keys_are_redacted_before_any_view():
    from tests.support.dumpshapes import private_key_pem

    doc = es.waypoint_dump()
    key = private_key_pem()
    doc["configs"][2]["dynamic_active_secrets"][0]["secret"]["tls_certificate"]["private_key"] = {
        "inline_bytes": base64.b64encode(key.encode()).decode()}
    text = json.dumps(secrets.secrets_document(parsed(doc)))
    assert "PRIVATE KEY" not in text and base64.b64encode(key.encode()).decode()[:40] not in text


# -- ROOTCA ------------------------------------------------------------------------------------------------


def test_root_ca_of_a_waypoint_and_of_a_spiffe_bundle():
    waypoint = secrets.root_ca_pem(parsed(es.waypoint_dump()))
    assert rootca.certificates_der(waypoint) and len(rootca.certificates_der(waypoint)) == 1
    bundle = secrets.root_ca_pem(parsed(es.spiffe_bundle_dump()))
    assert len(rootca.certificates_der(bundle)) == 2


def test_no_rootca_is_a_clear_error():
    with pytest.raises(ValueError, match="no active ROOTCA"):
        secrets.root_ca_pem(parsed(es.envoy_dump([])))


def test_rootca_compare_verdicts():
    mesh = secrets.root_ca_pem(parsed(es.waypoint_dump()))
    gateway = secrets.root_ca_pem(parsed(es.gateway_dump()))
    federated = secrets.root_ca_pem(parsed(es.spiffe_bundle_dump()))
    assert rootca.share_a_root(mesh, gateway)
    assert not rootca.share_a_root(mesh, federated)
    assert rootca.share_a_root(mesh, federated + mesh)  # any common certificate is enough
    assert rootca.verdict("a.ns", "b.ns", True) == (
        "Both [a.ns] and [b.ns] have the identical ROOTCA, theoretically the connectivity between them is available")
    with pytest.raises(ValueError, match="no PEM certificate"):
        rootca.share_a_root(b"nothing", mesh)


def test_pc_all_names_rows_by_config_type():
    table = secrets.format_summary(parsed(es.waypoint_dump()), es.NOW, config_type=True).splitlines()
    assert [line.split()[0] for line in table] == ["RESOURCE", "secret/default", "secret/ROOTCA"]
