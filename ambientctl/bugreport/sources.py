"""Where each part of a bug report comes from: the one place bug-report reaches into the rest of ambientctl.

Everything here returns text (or raises an AmbientctlError): pod logs, an HTTP
GET through a port-forward, a config dump redacted, a certificate summary, the
`analyze` lines. Keeping these adapters together keeps bug-report's collector
independent of where those modules live.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from ambientctl.bugreport.redact import redact_document

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient


def pod_log(kube: KubeClient, namespace: str, pod: str, container: str, *, since_seconds: int | None,
            limit_bytes: int, timeout: float, tail_lines: int | None = None) -> bytes:
    """A container's log with the API server's timestamps (so --end-time can cut it), at most `limit_bytes`."""
    import urllib3
    from kubernetes import client as k8s_client
    from kubernetes.client.exceptions import ApiException

    path = f"/api/v1/namespaces/{namespace}/pods/{pod}/log"
    kwargs: dict[str, Any] = {"container": container, "timestamps": True, "limit_bytes": limit_bytes,
                              "_preload_content": False, "_request_timeout": timeout}
    if since_seconds:
        kwargs["since_seconds"] = since_seconds
    if tail_lines:
        kwargs["tail_lines"] = tail_lines
    kube.request_count += 1
    try:
        response = k8s_client.CoreV1Api(kube.api).read_namespaced_pod_log(pod, namespace, **kwargs)
        return bytes(response.data)
    except ApiException as exc:
        body = exc.body.encode() if isinstance(exc.body, str) else (exc.body or b"")
        if not exc.status:
            raise kube._transport_error(exc) from None
        raise kube._http_error("GET", path, exc.status, body, f"log of {namespace}/{pod} ({container})") from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise kube._transport_error(exc) from None


def http_get(kube: KubeClient, namespace: str, pod: str, port: int, path: str, timeout: float) -> bytes:
    """GET through the API server's port-forward (no local listener)."""
    from ambientctl.kube.portforward import http_get as forward_get

    return forward_get(kube, pod, namespace, port, path, timeout)


def redacted_dump(data: bytes) -> str:
    """A config dump (ztunnel or Envoy) with every private key and secret-named value removed, pretty-printed."""
    from ambientctl.proxy.redact import redact

    try:
        doc = json.loads(data)
    except ValueError:
        return data.decode("utf-8", "replace")  # not JSON: the text pass in the archive still redacts it
    return json.dumps(redact_document(redact(doc)), indent=1, sort_keys=True) + "\n"


def certificate_summary(data: bytes, source: str, now: dt.datetime) -> str:
    """`pc secret`'s table for the identities in a ztunnel dump (serials, validity, status; no key material)."""
    from ambientctl.proxy.decode import decode_all
    from ambientctl.proxy.printers.secret import format_short
    from ambientctl.proxy.ztunneldump import parse

    dump = parse(data, source)
    decode_all(dump)
    if not dump.identities:
        return "no certificates in the config dump\n"
    return format_short(dump.identities, now)


def analyze_lines(kube: KubeClient, istio_namespace: str) -> str:
    """`ambientctl analyze -A` in istioctl's log format."""
    from ambientctl import analyze as an

    state, messages = an.analyze(kube=kube, namespace=None, istio_namespace=istio_namespace, files=[],
                                 default_namespace="default")
    lines = [m.line_text() for m in messages]
    lines += [f"Note: {note}: the checks that need them saw none" for note in state.unreadable]
    return "\n".join(lines) + "\n" if lines else "No validation issues found when analyzing all namespaces.\n"


def waypoint_gateways(kube: KubeClient) -> set[tuple[str, str]]:
    """(namespace, name) of every waypoint Gateway (none without the Gateway API or the right to list them)."""
    from ambientctl.errors import CRDMissingError, ForbiddenError
    from ambientctl.gateways import is_waypoint

    try:
        gateways = kube.list("gateway.networking.k8s.io/v1", "Gateway", all_namespaces=True)
    except (CRDMissingError, ForbiddenError):
        return set()
    return {(g["metadata"]["namespace"], g["metadata"]["name"]) for g in gateways if is_waypoint(g)}
