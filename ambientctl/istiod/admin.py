"""The requests to one istiod pod through the API server's port-forward: ControlZ scopes, debug endpoints."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ambientctl.istiod import controlz

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient


def where(pod: dict[str, Any]) -> str:
    return f"{pod['metadata']['name']}.{pod['metadata']['namespace']}"


def read_scopes(kube: KubeClient, pod: dict[str, Any], port: int) -> list[controlz.Scope]:
    """Every logging scope of the pod, from ControlZ's `GET /scopej/`."""
    from ambientctl.kube.portforward import http_get

    meta = pod["metadata"]
    body = http_get(kube, meta["name"], meta["namespace"], port, controlz.SCOPES_PATH)
    return controlz.parse_scopes(bytes(body), f"istiod {where(pod)}")


def put_scopes(kube: KubeClient, pod: dict[str, Any], port: int, scopes: list[controlz.Scope]) -> None:
    """PUT each scope whole (ControlZ answers 202); the first failure stops, naming the scope."""
    from ambientctl.kube.portforward import http_request

    meta = pod["metadata"]
    for scope in scopes:
        http_request(kube, meta["name"], meta["namespace"], port, controlz.scope_path(scope.name), method="PUT",
                     body=controlz.put_body(scope), ok=(200, 202))


def debug_get(kube: KubeClient, pod: dict[str, Any], path: str, timeout: float | None = None) -> bytes:
    """GET an HTTP debug endpoint of istiod on its monitoring port (istiod serves them to localhost)."""
    from ambientctl.kube.portforward import http_get
    from ambientctl.workloads import monitoring_port

    meta = pod["metadata"]
    return bytes(http_get(kube, meta["name"], meta["namespace"], monitoring_port(pod), path, timeout))
