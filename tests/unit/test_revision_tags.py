"""`tag set|generate|list|remove` against the in-memory API server, with installs rendered by ambientctl."""

from __future__ import annotations

import functools

import pytest
import yaml

from ambientctl.errors import ExitCode
from ambientctl.render import render
from tests.support.fakekube import FakeKube, invoke_with

WEBHOOK = "admissionregistration.k8s.io/v1"


@functools.lru_cache(maxsize=None)
def _installed(revision: str | None) -> tuple[dict, ...]:
    """The control-plane objects of a revision: istiod Deployment, Service, injector webhook."""
    keep = {"Deployment", "Service", "MutatingWebhookConfiguration", "Namespace"}
    objects = render(set_values=["profile=ambient"], revision=revision).all_objects()
    return tuple(o for o in objects if o["kind"] in keep and (o["kind"] != "Deployment" or "istiod" in o["metadata"]["name"]))


def cluster(*revisions: str | None, namespaces: dict[str, dict[str, str]] | None = None) -> FakeKube:
    objects = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "istio-system"}}]
    objects += [o for rev in revisions for o in _installed(rev)]
    seen, unique = set(), []
    for obj in objects:
        key = (obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"])
        if key not in seen:
            seen.add(key)
            unique.append(obj)
    kube = FakeKube(unique)
    for name, labels in (namespaces or {}).items():
        kube.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})
    return kube


def test_set_creates_istioctls_webhook_and_service_pointing_at_the_revision():
    kube = cluster(None, "canary")
    result = invoke_with(kube, "tag", "set", "prod", "--revision", "canary")
    assert result.exit_code == 0, result.stderr
    hook = kube.live(WEBHOOK, "MutatingWebhookConfiguration", "istio-revision-tag-prod")
    labels = hook["metadata"]["labels"]
    assert labels["istio.io/tag"] == "prod" and labels["istio.io/rev"] == "canary"
    assert labels["app"] == "sidecar-injector"
    # a user-managed tag: no installer's owner labels, so install never prunes it
    assert not [k for k in labels if k.startswith("ambientctl.dev/") or k.startswith("operator.istio.io")]
    assert [h["name"] for h in hook["webhooks"]] == ["rev.namespace.sidecar-injector.istio.io",
                                                     "rev.object.sidecar-injector.istio.io"]
    first = hook["webhooks"][0]
    assert first["clientConfig"]["service"] == {"name": "istiod-canary", "namespace": "istio-system",
                                                "path": "/inject", "port": 443}
    assert {"key": "istio.io/rev", "operator": "In", "values": ["prod"]} in \
        first["namespaceSelector"]["matchExpressions"]
    service = kube.live("v1", "Service", "istiod-revision-tag-prod", "istio-system")
    assert service["spec"]["selector"] == {"app": "istiod", "istio.io/rev": "canary"}
    assert "prod" in result.stdout and "canary" in result.stdout


def test_a_revision_without_a_control_plane_is_refused_with_exit_8_and_nothing_written():
    kube = cluster(None)
    result = invoke_with(kube, "tag", "set", "prod", "-r", "canary")
    assert result.exit_code == ExitCode.NOT_FOUND
    assert "revision 'canary' has no control plane" in result.stderr
    assert "installed revisions: default" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert kube.writes == []


def test_a_leftover_injector_webhook_without_istiod_does_not_count_as_a_control_plane():
    kube = cluster(None, "canary")
    kube.delete("apps/v1", "Deployment", "istiod-canary", "istio-system")
    result = invoke_with(kube, "tag", "generate", "prod", "-r", "canary")
    assert result.exit_code == ExitCode.NOT_FOUND, result.stdout


def test_an_existing_tag_needs_overwrite_and_overwrite_moves_it():
    kube = cluster(None, "canary")
    assert invoke_with(kube, "tag", "set", "prod", "-r", "canary").exit_code == 0
    again = invoke_with(kube, "tag", "set", "prod", "-r", "default")
    assert again.exit_code == ExitCode.CONFLICT and "--overwrite" in again.stderr
    moved = invoke_with(kube, "tag", "set", "prod", "-r", "default", "--overwrite")
    assert moved.exit_code == 0, moved.stderr
    hook = kube.live(WEBHOOK, "MutatingWebhookConfiguration", "istio-revision-tag-prod")
    assert hook["metadata"]["labels"]["istio.io/rev"] == "default"
    assert hook["webhooks"][0]["clientConfig"]["service"]["name"] == "istiod"
    service = kube.live("v1", "Service", "istiod-revision-tag-prod", "istio-system")
    assert service["spec"]["selector"] == {"app": "istiod", "istio": "pilot"}


def test_a_tag_named_like_a_revision_is_refused():
    kube = cluster(None, "canary")
    result = invoke_with(kube, "tag", "set", "canary", "-r", "default")
    assert result.exit_code == ExitCode.CONFLICT and "revision has that name" in result.stderr


@pytest.mark.parametrize("bad", ["Prod", "1prod", "a" * 44, "pr_od"])
def test_bad_tag_names_are_refused_before_any_request(bad):
    kube = cluster(None)
    result = invoke_with(kube, "tag", "set", bad, "-r", "default")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert kube.calls == []


def test_generate_prints_the_objects_and_writes_nothing():
    kube = cluster(None, "canary")
    result = invoke_with(kube, "tag", "generate", "prod", "-r", "canary")
    assert result.exit_code == 0, result.stderr
    docs = list(yaml.safe_load_all(result.stdout))
    assert [(d["kind"], d["metadata"]["name"]) for d in docs] == [
        ("MutatingWebhookConfiguration", "istio-revision-tag-prod"), ("Service", "istiod-revision-tag-prod")]
    assert kube.writes == []


def test_the_default_tag_moves_validation_and_switches_off_the_default_injector():
    kube = cluster(None, "canary")
    result = invoke_with(kube, "tag", "set", "default", "-r", "canary")
    assert result.exit_code == 0, result.stderr
    tag = kube.live(WEBHOOK, "MutatingWebhookConfiguration", "istio-revision-tag-default")
    assert [h["name"].split(".")[0] for h in tag["webhooks"]] == ["rev", "rev", "namespace", "object"]
    validator = kube.live(WEBHOOK, "ValidatingWebhookConfiguration", "istiod-default-validator")
    assert validator["webhooks"][0]["clientConfig"]["service"]["name"] == "istiod-canary"
    own = kube.live(WEBHOOK, "MutatingWebhookConfiguration", "istio-sidecar-injector")
    assert all(h["namespaceSelector"] == {"matchLabels": {"istio.io/deactivated": "never-match"}}
               for h in own["webhooks"])


def test_list_shows_tags_with_their_namespaces_in_istioctls_columns_and_documents():
    kube = cluster(None, "canary", namespaces={"shop": {"istio.io/rev": "prod"}, "blog": {"istio.io/rev": "prod"}})
    invoke_with(kube, "tag", "set", "prod", "-r", "canary")
    invoke_with(kube, "tag", "set", "stable", "-r", "default")
    table = invoke_with(kube, "tag", "list")
    assert table.exit_code == 0
    assert table.stdout.splitlines() == ["TAG    REVISION NAMESPACES", "prod   canary   blog,shop",
                                         "stable default"]
    doc = invoke_with(kube, "tag", "list", "-o", "json").json
    assert doc == [{"tag": "prod", "revision": "canary", "namespaces": ["blog", "shop"]},
                   {"tag": "stable", "revision": "default", "namespaces": []}]
    assert invoke_with(kube, "tag", "show", "-o", "yaml").yaml == doc


def test_list_without_tags_and_a_dangling_tag_warns():
    kube = cluster(None, "canary")
    assert invoke_with(kube, "tag", "list").stdout == "No Istio revision tags found.\n"
    invoke_with(kube, "tag", "set", "prod", "-r", "canary")
    kube.delete("apps/v1", "Deployment", "istiod-canary", "istio-system")
    result = invoke_with(kube, "tag", "list")
    assert "prod" in result.stdout and "has no control plane" in result.stderr


def test_remove_refuses_a_tag_in_use_without_y_and_removes_with_it():
    kube = cluster(None, "canary", namespaces={"shop": {"istio.io/rev": "prod"}})
    invoke_with(kube, "tag", "set", "prod", "-r", "canary")
    refused = invoke_with(kube, "tag", "remove", "prod")
    assert refused.exit_code == ExitCode.CONFLICT and "shop" in refused.stderr
    assert kube.live(WEBHOOK, "MutatingWebhookConfiguration", "istio-revision-tag-prod")
    removed = invoke_with(kube, "tag", "remove", "prod", "-y")
    assert removed.exit_code == 0 and removed.stdout == "Revision tag prod removed\n"
    assert kube.get_or_none(WEBHOOK, "MutatingWebhookConfiguration", "istio-revision-tag-prod") is None
    assert kube.get_or_none("v1", "Service", "istiod-revision-tag-prod", "istio-system") is None
    # the revision's own objects stay
    assert kube.live(WEBHOOK, "MutatingWebhookConfiguration", "istio-sidecar-injector-canary")


def test_remove_of_an_unused_tag_needs_no_flag_and_an_unknown_tag_is_exit_8():
    kube = cluster(None, "canary")
    invoke_with(kube, "tag", "set", "prod", "-r", "canary")
    assert invoke_with(kube, "tag", "delete", "prod").exit_code == 0
    missing = invoke_with(kube, "tag", "remove", "prod")
    assert missing.exit_code == ExitCode.NOT_FOUND and "not found" in missing.stderr
