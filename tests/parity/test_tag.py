"""`tag generate|set|list|remove` beside istioctl's on the same (private) test cluster.

The cluster gets ambientctl's default revision and a `canary` next to it. Both tools then generate the
same tags (`prod` → canary, `default` → canary): the objects must match facet by facet (every field of
the webhooks, deep), except the differences listed under area ``tag`` in known_differences.yaml. A tag
set by one tool is listed and removed by the other. Where ambientctl is stricter (a revision without
istiod, a tag still in use removed without a terminal), both behaviours are asserted.
"""

from __future__ import annotations

import json

import pytest

from tests.parity.compare import classify, diff_objects, load_known_differences, parse_manifest
from tests.parity.controlplane import remove_istio
from tests.parity.tools import ambientctl, ambientctl_subprocess, istioctl

pytestmark = pytest.mark.e2e

AREA = "tag"
ADMISSION = "admissionregistration.k8s.io/v1"


@pytest.fixture(scope="module")
def two_revisions(istioctl_bin, parity_cluster):
    kubeconfig = parity_cluster.kubeconfig
    remove_istio(istioctl_bin, kubeconfig)
    for extra in ((), ("-r", "canary")):
        result = ambientctl_subprocess("install", "--set", "profile=ambient", *extra, "-y", "--skip-wait",
                                       kubeconfig=kubeconfig, timeout=900)
        assert result.ok, result
    yield kubeconfig
    for tag in ("prod", "stable"):
        istioctl(istioctl_bin, "tag", "remove", tag, "-y", kubeconfig=kubeconfig)
    remove_istio(istioctl_bin, kubeconfig)


def _both(istioctl_bin, kubeconfig, *args):
    return ambientctl(*args, kubeconfig=kubeconfig), istioctl(istioctl_bin, *args, kubeconfig=kubeconfig, stdin="")


@pytest.mark.parametrize("tag", ["prod", "default"])
def test_tag_generate_makes_istioctls_objects(two_revisions, istioctl_bin, tag):
    ours, theirs = _both(istioctl_bin, two_revisions, "tag", "generate", tag, "--revision", "canary")
    assert ours.ok, ours
    assert theirs.ok, theirs
    differences = diff_objects(parse_manifest(ours.stdout), parse_manifest(theirs.stdout), deep=True)
    verdict = classify(differences, load_known_differences(AREA))
    assert verdict.ok, verdict.report()


def test_a_tag_set_by_either_tool_is_listed_and_removed_by_the_other(two_revisions, istioctl_bin):
    kubeconfig = two_revisions
    theirs = istioctl(istioctl_bin, "tag", "set", "prod", "--revision", "canary", kubeconfig=kubeconfig)
    assert theirs.ok, theirs
    ours = ambientctl("tag", "set", "stable", "--revision", "default", kubeconfig=kubeconfig)
    assert ours.ok, ours
    listed = _both(istioctl_bin, kubeconfig, "tag", "list", "-o", "json")
    documents = [json.loads(outcome.stdout) for outcome in listed]
    assert documents[0] == documents[1], documents
    assert {(t["tag"], t["revision"]) for t in documents[0]} == {("prod", "canary"), ("stable", "default")}
    assert ambientctl("tag", "remove", "prod", kubeconfig=kubeconfig).ok
    assert istioctl(istioctl_bin, "tag", "remove", "stable", kubeconfig=kubeconfig, stdin="").ok
    ours_after, theirs_after = _both(istioctl_bin, kubeconfig, "tag", "list", "-o", "json")
    # istioctl lists each revision that has no tag as a row with an empty tag; ambientctl lists tags only
    assert json.loads(ours_after.stdout) == [], ours_after
    assert sorted((t["tag"], t["revision"]) for t in json.loads(theirs_after.stdout)) == [("", "canary"),
                                                                                            ("", "default")]


def test_a_revision_without_a_control_plane(two_revisions, istioctl_bin):
    """Both refuse a revision with no objects at all; only ambientctl refuses one whose istiod is gone."""
    ours, theirs = _both(istioctl_bin, two_revisions, "tag", "generate", "prod", "--revision", "nope")
    assert not theirs.ok and "cannot find MutatingWebhookConfiguration or Service" in theirs.stderr
    assert ours.exit_code == 8 and "revision 'nope' has no control plane" in ours.stderr


def test_removing_a_tag_in_use_without_a_terminal(two_revisions, istioctl_bin):
    """istioctl asks, reads no answer from an empty stdin, exits 0 and keeps the tag; ambientctl says why (9)."""
    from kubernetes import client, config

    kubeconfig = two_revisions
    core = client.CoreV1Api(config.new_client_from_config(config_file=kubeconfig))
    name = "parity-tag-user"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name, labels={"istio.io/rev": "prod"})))
    try:
        assert istioctl(istioctl_bin, "tag", "set", "prod", "--revision", "canary", kubeconfig=kubeconfig).ok
        theirs = istioctl(istioctl_bin, "tag", "remove", "prod", kubeconfig=kubeconfig, stdin="")
        ours = ambientctl("tag", "remove", "prod", kubeconfig=kubeconfig)
        assert theirs.exit_code == 0 and "Aborting" in theirs.stdout, theirs
        assert ours.exit_code == 9 and name in ours.stderr, ours
        assert ambientctl("tag", "remove", "prod", "-y", kubeconfig=kubeconfig).ok
    finally:
        core.delete_namespace(name)
