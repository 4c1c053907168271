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


def _first(pods: list[dict[str, Any]]) -> dict[str, Any]:
    from ambientctl.kube.pods import _is_ready

    return sorted(pods, key=lambda p: (not _is_ready(p), p["metadata"]["name"]))[0]


def resolve_envoy_pod(kube: KubeClient, ref: str, default_namespace: str) -> dict[str, Any]:
    """One pod for the reference (see the module docstring); NotFoundError naming what was tried."""
    from ambientctl.kube.pods import is_service_ref, parse_pod_ref, parse_service_ref, resolve_pod, selector_string

    if is_service_ref(ref):
        name, namespace = parse_service_ref(ref, default_namespace)
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
        if "/" in ref:
            raise
        _, name, namespace = parse_pod_ref(ref, default_namespace)  # a bare NAME[.NAMESPACE]: a gateway's name?
        pods = kube.list("v1", "Pod", namespace, label_selector=f"{GATEWAY_NAME_LABEL}={name}")
        if not pods:
            raise NotFoundError(f"no pod, waypoint or gateway named {name} in namespace {namespace}",
                                "check the name and the namespace (-n); `kubectl get pods,gateways -n NS`") from None
        return _first(pods)
