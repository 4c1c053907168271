"""Pre-flight RBAC checks: find a missing permission BEFORE the first change, not half-way through.

`install`, `uninstall`, `waypoint apply|delete` and `dataplane enroll|unenroll`
make many writes; a user allowed some of them but not all (a namespace
admin, a read-only user) would otherwise leave the cluster half-changed.
Each command lists what it will do as `Permission`s; `require()` asks the API
server (one SelfSubjectAccessReview for "everything", then, only if that is
denied, one per distinct permission) and refuses with every missing
permission named, having changed nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

from ambientctl.errors import CRDMissingError, ForbiddenError

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient

SHOWN_IN_MESSAGE = 4


@dataclass(frozen=True, order=True)
class Permission:
    """One RBAC question: may I `verb` `resource` of `group` (in `namespace`, or cluster-wide)?"""

    verb: str
    group: str
    resource: str
    namespace: str = ""

    def describe(self) -> str:
        resource = f"{self.resource}.{self.group}" if self.group else self.resource
        where = f'in namespace "{self.namespace}"' if self.namespace else "cluster-wide"
        return f"{self.verb} {resource} {where}"


def for_kind(kube: KubeClient, api_version: str, kind: str, verbs: Iterable[str],
             namespace: str | None = None) -> list[Permission]:
    """Permissions for `verbs` on a kind, resolved to its plural (namespaced kinds in `namespace`)."""
    rtype = kube.resource_type(api_version, kind)
    scope = (namespace or "") if rtype.namespaced else ""
    return [Permission(verb, rtype.group, rtype.plural, scope) for verb in verbs]


def for_objects(kube: KubeClient, objects: Iterable[dict[str, Any]], verbs: Iterable[str]) -> list[Permission]:
    """Permissions for `verbs` on each object's kind, in the object's namespace."""
    verbs = tuple(verbs)
    needed: set[Permission] = set()
    seen: set[tuple[str, str, str]] = set()
    for obj in objects:
        key = (obj.get("apiVersion", ""), obj.get("kind", ""), (obj.get("metadata") or {}).get("namespace") or "")
        if key in seen:
            continue
        seen.add(key)
        needed.update(for_kind(kube, key[0], key[1], verbs, key[2] or None))
    return sorted(needed)


def may_do_anything(kube: KubeClient) -> bool:
    """One review: is the user allowed every verb on every resource of every group (cluster-admin)?

    A yes answers any number of narrower questions, which is why callers ask it first."""
    return kube.can_i("*", "*", "*")


def missing(kube: KubeClient, permissions: Iterable[Permission]) -> list[Permission]:
    """The permissions the current user does not have (each distinct one asked once).

    A user allowed verb `*` on resource `*` of group `*` (cluster-admin, the
    usual installer) has them all: that one review replaces the others.

    When the API server will not answer access reviews (a proxy or an
    authorizer that forbids them), nothing is reported: the command's own
    requests then meet RBAC and name the permission themselves.
    """
    distinct = sorted(set(permissions))
    lacking = []
    if len(distinct) > 1:  # one review answers it for cluster admins (issue 7: install's API requests)
        try:
            if may_do_anything(kube):
                return []
        except (ForbiddenError, CRDMissingError):
            return []
    for permission in distinct:
        try:
            allowed = kube.can_i(permission.verb, permission.resource, permission.group, permission.namespace or None)
        except (ForbiddenError, CRDMissingError):
            return []
        if not allowed:
            lacking.append(permission)
    return lacking


def require(kube: KubeClient, permissions: Iterable[Permission], action: str,
            hint: str = "ask a cluster admin for them") -> None:
    """Raise ForbiddenError naming every missing permission; nothing has been changed yet."""
    lacking = missing(kube, permissions)
    if not lacking:
        return
    shown = "; ".join(p.describe() for p in lacking[:SHOWN_IN_MESSAGE])
    more = f" and {len(lacking) - SHOWN_IN_MESSAGE} more" if len(lacking) > SHOWN_IN_MESSAGE else ""
    raise ForbiddenError(
        f"{action} needs {len(lacking)} permission(s) you do not have: {shown}{more}; nothing was changed",
        hint,
    )
