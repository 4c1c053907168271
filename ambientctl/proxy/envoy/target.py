"""Which pod `pc cluster|listener|…` reads: istioctl's target forms for Envoy-based proxies.

`NAME[.NAMESPACE]`, `pod/NAME`, `deploy/NAME`, `ds/NAME`, `sts/NAME` as for every
proxy command, plus `svc/NAME` (a pod the Service selects) and the name of a
waypoint or gateway (its pods carry `gateway.networking.k8s.io/gateway-name`),
so `ambientctl pc listener waypoint -n bookinfo` needs no pod name.  Ready pods
are preferred, then by name, so the choice is stable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ambientctl.errors import InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient

GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"
_SERVICE_KINDS = {"svc", "service", "services"}


def _name_and_namespace(text: str, default_namespace: str, ref: str) -> tuple[str, str]:
    name, namespace = text, default_namespace
    if "." in text:
        name, _, namespace = text.rpartition(".")
    if not name or not namespace:
        raise InvalidInputError(f"invalid proxy reference {ref!r}",
                                "use NAME[.NAMESPACE], pod/NAME, deploy/NAME, svc/NAME or a waypoint/gateway name")
    return name, namespace


def _first(pods: list[dict[str, Any]]) -> dict[str, Any]:
    from ambientctl.kube.pods import _is_ready

    return sorted(pods, key=lambda p: (not _is_ready(p), p["metadata"]["name"]))[0]


def resolve_envoy_pod(kube: KubeClient, ref: str, default_namespace: str) -> dict[str, Any]:
    """One pod for the reference (see the module docstring); NotFoundError naming what was tried."""
    from ambientctl.kube.pods import resolve_pod, selector_string

    kind, sep, rest = ref.partition("/")
    if sep and kind.lower() in _SERVICE_KINDS:
        name, namespace = _name_and_namespace(rest, default_namespace, ref)
        service = kube.get("v1", "Service", name, namespace)
        selector = (service.get("spec") or {}).get("selector") or {}
        if not selector:
            raise InvalidInputError(f"service {namespace}/{name} has no selector, so no pods",
                                    "name the proxy's pod or deployment instead")
        pods = kube.list("v1", "Pod", namespace, label_selector=selector_string(selector))
        if not pods:
            raise NotFoundError(f"no pods behind service {namespace}/{name}", "check that its pods are running")
        return _first(pods)
    try:
        return resolve_pod(kube, ref, default_namespace)
    except NotFoundError:
        if sep:
            raise
        name, namespace = _name_and_namespace(ref, default_namespace, ref)
        pods = kube.list("v1", "Pod", namespace, label_selector=f"{GATEWAY_NAME_LABEL}={name}")
        if not pods:
            raise NotFoundError(f"no pod, waypoint or gateway named {name} in namespace {namespace}",
                                "check the name and the namespace (-n); `kubectl get pods,gateways -n NS`") from None
        return _first(pods)
