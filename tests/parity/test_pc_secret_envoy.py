"""`pc secret --file` on Envoy dumps beside the reference istioctl: the same rows, the same
layout (Go tabwriter, byte for byte), the same `-o json` document.

Dumps: a waypoint, an ingress gateway (with Kubernetes TLS credentials, a warming one and a
file-based one), a sidecar, a SPIRE-federated proxy whose ROOTCA is a SPIFFE trust bundle per
trust domain, and secrets whose data is not a certificate.  Every difference must be listed in
known_differences.yaml (area `envoy-proxy-config`, objects `pc secret <dump>/...`)."""

from __future__ import annotations

import json

import pytest

from tests.parity.compare import Difference, _glob, classify, diff_tables, load_known_differences
from tests.parity.tools import ambientctl, istioctl, parse_table
from tests.support import envoydump
from tests.support import envoysecrets as es

AREA = "envoy-proxy-config"
DUMPS = {
    "waypoint": envoydump.waypoint_dump,
    "gateway": envoydump.gateway_dump,
    "sidecar": envoydump.sidecar_dump,
    "spiffe": envoydump.spiffe_dump,
    "gateway-credentials": es.gateway_dump,
    "damaged": es.damaged_dump,
}
KEY = ("RESOURCE NAME", "TRUST DOMAIN")


@pytest.fixture(scope="module")
def dump_files(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("envoy-secrets")
    paths = {}
    for name, make in DUMPS.items():
        path = folder / f"{name}.json"
        path.write_text(json.dumps(make()))
        paths[name] = str(path)
    return paths


def _known(command: str) -> list:
    """The entries for this command (its rows `COMMAND/...`, or the command itself; `*` patterns allowed)."""
    return [k for k in load_known_differences(AREA)
            if _glob(k.object, command) or k.object.startswith(command + "/")]


@pytest.mark.parametrize("name", sorted(DUMPS))
def test_same_rows_and_layout(istioctl_bin, dump_files, name):
    theirs = istioctl(istioctl_bin, "pc", "secret", "--file", dump_files[name])
    ours = ambientctl("pc", "secret", "--file", dump_files[name])
    assert theirs.ok, theirs
    command = f"pc secret {name}"
    differences = diff_tables(command, parse_table(ours.stdout), parse_table(theirs.stdout), KEY)
    if ours.exit_code != theirs.exit_code:
        differences.append(Difference(command, "exit", str(ours.exit_code), str(theirs.exit_code)))
    if not differences and ours.stdout != theirs.stdout:
        differences.append(Difference(command, "layout", ours.stdout, theirs.stdout))
    verdict = classify(differences, _known(command))
    assert verdict.ok, verdict.report()


@pytest.mark.parametrize("name", sorted(DUMPS))
@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_same_document(istioctl_bin, dump_files, name, fmt):
    import yaml

    theirs = istioctl(istioctl_bin, "pc", "secret", "--file", dump_files[name], "-o", fmt)
    ours = ambientctl("pc", "secret", "--file", dump_files[name], "-o", fmt)
    assert theirs.ok, theirs
    assert ours.ok, ours
    load = json.loads if fmt == "json" else yaml.safe_load
    command = f"pc secret -o {fmt} {name}"
    differences = [] if load(ours.stdout) == load(theirs.stdout) else [
        Difference(command, "document", ours.stdout[:400], theirs.stdout[:400])]
    verdict = classify(differences, _known(command))
    assert verdict.ok, verdict.report()


def test_guide_pipeline_reads_the_same_certificate(istioctl_bin, dump_files):
    """`-o json | jq -r '.dynamicActiveSecrets[0]...inlineBytes'`: the same bytes from both tools."""
    path = '["dynamicActiveSecrets"][0]["secret"]["tlsCertificate"]["certificateChain"]["inlineBytes"]'

    def pick(text: str) -> str:
        doc = json.loads(text)
        return doc["dynamicActiveSecrets"][0]["secret"]["tlsCertificate"]["certificateChain"]["inlineBytes"]

    for name in ("waypoint", "gateway", "spiffe"):
        theirs = istioctl(istioctl_bin, "pc", "secret", "--file", dump_files[name], "-o", "json")
        ours = ambientctl("pc", "secret", "--file", dump_files[name], "-o", "json")
        assert pick(ours.stdout) == pick(theirs.stdout), f"{name}: {path} differs"
