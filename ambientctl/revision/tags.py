"""Revision tags (istioctl's `tag set|generate|list|remove`): a stable name that points at a revision.

A tag is a MutatingWebhookConfiguration `istio-revision-tag-TAG` (labels
`istio.io/tag=TAG`, `istio.io/rev=REV`) whose injector hooks match
`istio.io/rev=TAG`, plus a Service `istiod-revision-tag-TAG` in the Istio
namespace that selects the revision's istiod. The webhook's client settings
(service, path, caBundle, reinvocation policy) and common labels are copied
from the revision's own injector webhook, as istioctl does. istiod watches the
tag webhooks to learn which tags are its own, so `istio.io/rev=TAG` on a
namespace also picks the control plane of its ambient pods and waypoints.

Tags are never given ambientctl's owner labels (they are the user's, as
istioctl marks them "user managed"): install does not prune them and
`uninstall -r REV` does not remove them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ambientctl.errors import ConflictError, InvalidInputError, NotFoundError
from ambientctl.labels import DEFAULT_REVISION, REVISION_LABEL, TAG_LABEL, annotations_of, labels_of, name_of
from ambientctl.names import is_dns1035_label, is_dns_label
from ambientctl.revision.lookup import ISTIOD_APP, require_control_plane, revision_of
from ambientctl.versions import ISTIO_VERSION

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient

MWC_VERSION = "admissionregistration.k8s.io/v1"
TAG_WEBHOOK_PREFIX = "istio-revision-tag-"
TAG_SERVICE_PREFIX = "istiod-revision-tag-"
DEFAULT_VALIDATOR = "istiod-default-validator"
INJECTOR_SUFFIX = "sidecar-injector.istio.io"
# What istioctl sets on the default revision's own injector hooks when `default` becomes a tag.
NEVER_MATCH = {"matchLabels": {"istio.io/deactivated": "never-match"}}
# Label prefixes a user-managed tag must not inherit from its revision's webhook: the installers' owner labels.
_INSTALLER_LABEL_MARKS = ("operator.istio.io", "ambientctl.dev/")
_MAX_TAG_LENGTH = 63 - len(TAG_SERVICE_PREFIX)  # the Service name must stay a DNS-1035 label
_SYSTEM_NAMESPACES = ["kube-system", "kube-public", "kube-node-lease", "local-path-storage"]


@dataclass(frozen=True)
class TagOptions:
    """istioctl's tag flags."""

    tag: str
    revision: str
    istio_namespace: str
    webhook_name: str | None = None
    auto_inject_namespaces: bool = False
    overwrite: bool = False


@dataclass
class Tag:
    """One row of `tag list`: istioctl's document keys."""

    tag: str
    revision: str
    namespaces: list[str] = field(default_factory=list)
    control_plane: bool = True  # not printed; `tag list` warns on stderr about a tag without one

    def as_dict(self) -> dict[str, Any]:
        return {"tag": self.tag, "revision": self.revision, "namespaces": self.namespaces}


def validate_tag(tag: str) -> str:
    """A tag becomes a label value and part of a Service name: a DNS-1035 label of at most 43 characters."""
    if not is_dns1035_label(tag) or len(tag) > _MAX_TAG_LENGTH:
        raise InvalidInputError(
            f"invalid revision tag {tag[:80]!r}: use at most {_MAX_TAG_LENGTH} lowercase letters, digits and '-', "
            "starting with a letter", "a tag looks like prod or stable")
    return tag


def validate_revision(revision: str) -> str:
    """A revision is a label value and part of object names: a DNS-1123 label (1-31-0 is one)."""
    if not is_dns_label(revision):
        raise InvalidInputError(f"invalid revision {revision[:80]!r}",
                                "a revision is lowercase letters, digits and '-', like canary or 1-31-0")
    return revision


# ------------------------------------------------------------------ pure: the tag's objects


@dataclass(frozen=True)
class InjectorSettings:
    """What a tag copies from its revision's injector webhook."""

    service: dict[str, Any] | None
    url: str | None
    ca_bundle: str | None
    reinvocation_policy: str
    labels: dict[str, str]
    annotations: dict[str, str]


def injector_settings(canonical: dict[str, Any]) -> InjectorSettings:
    """Client settings of the first `*sidecar-injector.istio.io` hook, and the webhook's labels minus `app`."""
    for hook in canonical.get("webhooks") or []:
        if str(hook.get("name", "")).endswith(INJECTOR_SUFFIX):
            client = hook.get("clientConfig") or {}
            labels = {k: v for k, v in labels_of(canonical).items() if k != "app"}
            return InjectorSettings(
                service=copy.deepcopy(client.get("service")), url=client.get("url"),
                ca_bundle=client.get("caBundle"), reinvocation_policy=hook.get("reinvocationPolicy") or "Never",
                labels=labels, annotations=dict(annotations_of(canonical)))
    raise NotFoundError(f"webhook {name_of(canonical)} has no {INJECTOR_SUFFIX} hook to copy",
                        "repair the revision's install (ambientctl install -r REV)")


def _user_labels(*sources: dict[str, str]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for source in sources:
        merged.update(source)
    return {k: v for k, v in merged.items() if not any(mark in k for mark in _INSTALLER_LABEL_MARKS)}


def _client_config(settings: InjectorSettings, revision: str, namespace: str) -> dict[str, Any]:
    if settings.url:
        config: dict[str, Any] = {"url": settings.url}
    else:
        service = settings.service or {}
        default_name = ISTIOD_APP if revision == DEFAULT_REVISION else f"{ISTIOD_APP}-{revision}"
        config = {"service": {"name": service.get("name") or default_name,
                              "namespace": service.get("namespace") or namespace,
                              "path": service.get("path") or "/inject", "port": service.get("port") or 443}}
    if settings.ca_bundle:
        config["caBundle"] = settings.ca_bundle
    return config


def _hook(prefix: str, client: dict[str, Any], reinvocation: str, namespace_selector: list[dict[str, Any]],
          object_selector: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": f"{prefix}{INJECTOR_SUFFIX}",
        "clientConfig": copy.deepcopy(client),
        "sideEffects": "None",
        "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}],
        "failurePolicy": "Fail",
        "reinvocationPolicy": reinvocation,
        "admissionReviewVersions": ["v1"],
        "namespaceSelector": {"matchExpressions": namespace_selector},
        "objectSelector": {"matchExpressions": object_selector},
    }


def _hooks(tag: str, client: dict[str, Any], reinvocation: str, auto_inject: bool) -> list[dict[str, Any]]:
    """The injector hooks of a tag: by namespace and by pod label; for `default`, also the unrevisioned ones."""
    not_disabled = {"key": "sidecar.istio.io/inject", "operator": "NotIn", "values": ["false"]}
    tag_in = {"key": REVISION_LABEL, "operator": "In", "values": [tag]}
    no_rev = {"key": REVISION_LABEL, "operator": "DoesNotExist"}
    no_injection = {"key": "istio-injection", "operator": "DoesNotExist"}
    hooks = [
        _hook("rev.namespace.", client, reinvocation, [tag_in, no_injection], [not_disabled]),
        _hook("rev.object.", client, reinvocation, [no_rev, no_injection], [not_disabled, tag_in]),
    ]
    if tag == DEFAULT_REVISION:
        hooks += [
            _hook("namespace.", client, reinvocation,
                  [{"key": "istio-injection", "operator": "In", "values": ["enabled"]}], [not_disabled]),
            _hook("object.", client, reinvocation, [no_injection, no_rev],
                  [{"key": "sidecar.istio.io/inject", "operator": "In", "values": ["true"]}, no_rev]),
        ]
        if auto_inject:
            hooks.append(_hook("auto.", client, reinvocation,
                               [no_injection, no_rev, {"key": "kubernetes.io/metadata.name", "operator": "NotIn",
                                                       "values": _SYSTEM_NAMESPACES}],
                               [{"key": "sidecar.istio.io/inject", "operator": "DoesNotExist"}, no_rev]))
    return hooks


def tag_webhook_name(tag: str, istio_namespace: str) -> str:
    """`istio-revision-tag-TAG`, with `-NAMESPACE` when the control plane is not in istio-system (as the charts)."""
    base = f"{TAG_WEBHOOK_PREFIX}{tag}"
    return base if istio_namespace == "istio-system" else f"{base}-{istio_namespace}"


def tag_objects(canonical: dict[str, Any], options: TagOptions,
                validator_policy: str | None = "Ignore") -> list[dict[str, Any]]:
    """The tag's objects, built from its revision's injector webhook: webhook, [default validator], Service.

    `validator_policy`: the default validator's failurePolicy; None leaves it out (istiod already
    switched the live one to Fail, and an apply must not switch it back, as istioctl does).
    """
    settings = injector_settings(canonical)
    revision = revision_of(canonical)
    client = _client_config(settings, revision, options.istio_namespace)
    common = {"app.kubernetes.io/name": "istiod", "app.kubernetes.io/part-of": "istio",
              "app.kubernetes.io/version": ISTIO_VERSION}
    webhook_meta: dict[str, Any] = {
        "name": options.webhook_name or tag_webhook_name(options.tag, options.istio_namespace),
        "labels": _user_labels(common, settings.labels, {TAG_LABEL: options.tag, REVISION_LABEL: revision,
                                                          "app": "sidecar-injector"}),
    }
    if settings.annotations:
        webhook_meta["annotations"] = settings.annotations
    objects = [{
        "apiVersion": MWC_VERSION, "kind": "MutatingWebhookConfiguration", "metadata": webhook_meta,
        "webhooks": _hooks(options.tag, client, settings.reinvocation_policy, options.auto_inject_namespaces),
    }]
    if options.tag == DEFAULT_REVISION:
        objects.append(default_validator(client, revision, settings, common, validator_policy))
    objects.append(tag_service(options.tag, revision, options.istio_namespace, common))
    return objects


def default_validator(client: dict[str, Any], revision: str, settings: InjectorSettings,
                      common: dict[str, str], policy: str | None = "Ignore") -> dict[str, Any]:
    """`istiod-default-validator` pointed at the tagged revision: `default` also moves cluster-wide validation."""
    validate = copy.deepcopy(client)
    if "url" in validate:
        validate["url"] = validate["url"].rsplit("/", 1)[0] + "/validate" if "/" in validate["url"] else validate["url"]
    else:
        validate["service"].pop("port", None)
        validate["service"]["path"] = "/validate"
    hook: dict[str, Any] = {
        "name": "validation.istio.io", "clientConfig": validate,
        "rules": [{"operations": ["CREATE", "UPDATE"],
                   "apiGroups": ["security.istio.io", "networking.istio.io", "telemetry.istio.io",
                                 "extensions.istio.io"],
                   "apiVersions": ["*"], "resources": ["*"]}],
        "sideEffects": "None", "admissionReviewVersions": ["v1"],
        # objects labelled with a revision are validated by that revision's own validator
        "objectSelector": {"matchExpressions": [{"key": REVISION_LABEL, "operator": "DoesNotExist"}]},
    }
    if policy:
        hook["failurePolicy"] = policy
    return {
        "apiVersion": MWC_VERSION, "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": DEFAULT_VALIDATOR,
                     "labels": _user_labels(common, settings.labels, {"app": "istiod", "istio": "istiod",
                                                                       REVISION_LABEL: revision,
                                                                       TAG_LABEL: DEFAULT_REVISION})},
        "webhooks": [hook],
    }


def tag_service(tag: str, revision: str, istio_namespace: str, common: dict[str, str]) -> dict[str, Any]:
    """`istiod-revision-tag-TAG`: the revision's istiod under the tag's name (ports as istiod's Service)."""
    selector = {"app": ISTIOD_APP, REVISION_LABEL: revision} if revision != DEFAULT_REVISION else \
        {"app": ISTIOD_APP, "istio": "pilot"}
    return {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": f"{TAG_SERVICE_PREFIX}{tag}", "namespace": istio_namespace,
                     "labels": {**common, REVISION_LABEL: revision, TAG_LABEL: tag, "app": ISTIOD_APP,
                                "istio": "pilot"}},
        "spec": {
            "ports": [
                {"port": 15010, "name": "grpc-xds", "protocol": "TCP"},
                {"port": 15012, "name": "https-dns", "protocol": "TCP"},
                {"port": 443, "name": "https-webhook", "targetPort": 15017, "protocol": "TCP"},
                {"port": 15014, "name": "http-monitoring", "protocol": "TCP"},
            ],
            "selector": selector,
        },
    }


def format_tags(tags: list[Tag]) -> str:
    """istioctl's table: TAG, REVISION, NAMESPACES (comma-separated), columns one space apart."""
    from ambientctl.output import format_table

    if not tags:
        return "No Istio revision tags found.\n"
    return format_table(["TAG", "REVISION", "NAMESPACES"], [[t.tag, t.revision, ",".join(t.namespaces)] for t in tags],
                        gap=1)


# ------------------------------------------------------------------ cluster


def _webhooks(kube: KubeClient, selector: str) -> list[dict[str, Any]]:
    return kube.list(MWC_VERSION, "MutatingWebhookConfiguration", label_selector=selector)


def canonical_webhook(kube: KubeClient, revision: str) -> dict[str, Any]:
    """The revision's own injector webhook (`istio.io/rev=REV` and no tag label)."""
    found = _webhooks(kube, f"{REVISION_LABEL}={revision},!{TAG_LABEL}")
    if not found:
        raise NotFoundError(f"revision {revision!r} has a control plane but no sidecar-injector webhook "
                            f"({REVISION_LABEL}={revision})",
                            f"repair its install (ambientctl install --revision {revision})")
    if len(found) > 1:
        raise ConflictError(f"revision {revision!r} has {len(found)} injector webhooks: "
                            f"{', '.join(sorted(name_of(h) for h in found))}", "remove the stale one, then retry")
    return found[0]


def existing_tag_objects(kube: KubeClient, tag: str, istio_namespace: str) -> list[dict[str, Any]]:
    """The tag's webhooks (mutating and validating) and Services, as istioctl finds them (by `istio.io/tag`)."""
    selector = f"{TAG_LABEL}={tag}"
    return (_webhooks(kube, selector)
            + kube.list(MWC_VERSION, "ValidatingWebhookConfiguration", label_selector=selector)
            + kube.list("v1", "Service", istio_namespace, label_selector=selector))


def plan_tag(kube: KubeClient, options: TagOptions, *, generate: bool = False) -> list[dict[str, Any]]:
    """The objects `tag set`/`tag generate` write, after istioctl's refusals and ours.

    Refused: a tag named like an installed revision (it would shadow it), an
    existing tag without --overwrite (set only), and, unlike istioctl, a
    revision without a running control plane (its injector would fail every pod).
    """
    validate_tag(options.tag)
    validate_revision(options.revision)
    require_control_plane(kube, options.istio_namespace, options.revision, f"cannot point tag {options.tag!r}")
    if not generate and not options.overwrite and options.tag != DEFAULT_REVISION:
        if _webhooks(kube, f"{REVISION_LABEL}={options.tag},!{TAG_LABEL}"):
            raise ConflictError(f"cannot create revision tag {options.tag!r}: a control plane revision has that name",
                                "pick another tag name")
    if not generate and not options.overwrite and existing_tag_objects(kube, options.tag, options.istio_namespace):
        current = next((revision_of(h) for h in _webhooks(kube, f"{TAG_LABEL}={options.tag}")), "?")
        raise ConflictError(f"revision tag {options.tag!r} already exists (revision {current})",
                            "pass --overwrite to point it elsewhere")
    return tag_objects(canonical_webhook(kube, options.revision), options,
                       _validator_policy(kube) if options.tag == DEFAULT_REVISION else "Ignore")


def _validator_policy(kube: KubeClient) -> str | None:
    """Ignore, unless the live default validator is already Fail (istiod switched it): then left out."""
    live = kube.get_or_none(MWC_VERSION, "ValidatingWebhookConfiguration", DEFAULT_VALIDATOR)
    policies = [h.get("failurePolicy") for h in (live or {}).get("webhooks") or []]
    return None if "Fail" in policies else "Ignore"


def apply_tag(kube: KubeClient, objects: list[dict[str, Any]], tag: str, istio_namespace: str) -> None:
    """Write the tag; for `default`, first switch off the default revision's own unrevisioned hooks (istioctl)."""
    if tag == DEFAULT_REVISION:
        deactivate_default_injector(kube)
    wanted = {(o["kind"], name_of(o)) for o in objects}
    for stale in existing_tag_objects(kube, tag, istio_namespace):  # --overwrite with another --webhook-name
        if (stale["kind"], name_of(stale)) not in wanted:
            _delete(kube, stale)
    for obj in objects:
        live = kube.apply(obj, force=True)
        _drop_stale_selector_keys(kube, obj, live)


def _drop_stale_selector_keys(kube: KubeClient, wanted: dict[str, Any], live: dict[str, Any]) -> None:
    """A tag Service moved between `default` and another revision selects by other keys; apply keeps old
    keys another manager (istioctl, an earlier kubectl apply) owns, so they are removed explicitly."""
    if wanted["kind"] != "Service":
        return
    stale = set(((live.get("spec") or {}).get("selector") or {})) - set(wanted["spec"]["selector"])
    if stale:
        kube.merge_patch("v1", "Service", name_of(wanted), wanted["metadata"]["namespace"],
                         {"spec": {"selector": {key: None for key in sorted(stale)}}})


def deactivate_default_injector(kube: KubeClient) -> None:
    """Make the `default` revision's own injector webhook match nothing (the `default` tag takes over)."""
    for hook in _webhooks(kube, f"{REVISION_LABEL}={DEFAULT_REVISION},!{TAG_LABEL}"):
        patch = {"webhooks": [{**h, "namespaceSelector": NEVER_MATCH, "objectSelector": NEVER_MATCH}
                              for h in hook.get("webhooks") or []]}
        kube.merge_patch(MWC_VERSION, "MutatingWebhookConfiguration", name_of(hook), None, patch)


def namespaces_using(kube: KubeClient, tag: str) -> list[str]:
    """Namespaces labelled `istio.io/rev=TAG`."""
    return sorted(name_of(ns) for ns in kube.list("v1", "Namespace", label_selector=f"{REVISION_LABEL}={tag}"))


def list_tags(kube: KubeClient, istio_namespace: str) -> list[Tag]:
    """Every tag (from webhooks and Services), its revision and the namespaces using it; istioctl's order."""
    from ambientctl.revision.lookup import control_planes

    pairs: dict[str, str] = {}
    for obj in (_webhooks(kube, TAG_LABEL)
                + kube.list("v1", "Service", istio_namespace, label_selector=f"{TAG_LABEL},{REVISION_LABEL}")):
        pairs.setdefault(labels_of(obj)[TAG_LABEL], revision_of(obj))
    installed = {p.revision for p in control_planes(kube, istio_namespace)}
    tags = [Tag(tag, rev, namespaces_using(kube, tag), rev in installed) for tag, rev in pairs.items()]
    return sorted(tags, key=lambda t: (t.revision, t.tag))


@dataclass
class TagRemoval:
    tag: str
    objects: list[dict[str, Any]]
    namespaces: list[str]


def plan_removal(kube: KubeClient, tag: str, istio_namespace: str) -> TagRemoval:
    validate_tag(tag)
    objects = existing_tag_objects(kube, tag, istio_namespace)
    if not objects:
        raise NotFoundError(f"revision tag {tag!r} not found (no webhook or Service labelled {TAG_LABEL}={tag})",
                            "`ambientctl tag list` shows the tags")
    return TagRemoval(tag, objects, namespaces_using(kube, tag))


def remove(kube: KubeClient, removal: TagRemoval) -> list[str]:
    """Delete the tag's objects (uid preconditions); returns `Kind/name` of each."""
    return [f"{o['kind']}/{name_of(o)}" for o in removal.objects if _delete(kube, o)]


def _delete(kube: KubeClient, obj: dict[str, Any]) -> bool:
    meta = obj["metadata"]
    return bool(kube.delete(obj.get("apiVersion") or ("v1" if obj["kind"] == "Service" else MWC_VERSION),
                            obj["kind"], meta["name"], meta.get("namespace"), uid=meta.get("uid")))
