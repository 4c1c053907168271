"""HTTP GET or POST to a pod's port through the API server's port-forward (no local listener)."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

from kubernetes import client as k8s_client
from kubernetes.client.exceptions import ApiException
from kubernetes.stream import portforward

from ambientctl.errors import AmbientctlError, ApiServerError, InvalidInputError

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient

MAX_RESPONSE_BYTES = 256 * 1024 * 1024


class HttpAnswerError(ApiServerError):
    """The pod's server answered, but not 200 (`status`, and the answer's first line in the message)."""

    def __init__(self, message: str, hint: str, status: int, body: bytes) -> None:
        super().__init__(message, hint)
        self.status = status
        self.body = body


def open_forward(kube: KubeClient, pod: str, namespace: str, port: int, timeout: float | None = None) -> Any:
    """One port-forward stream to the pod's `port` (the client's PortForward); errors are typed.

    Each stream connects through an ApiClient of its own (same configuration): the official
    client's `portforward` swaps `call_api` on the ApiClient it is given while it connects, so on
    the shared one, requests other threads make meanwhile (bug-report fetches in parallel,
    dashboard serves several connections) would go down the websocket path, or stay there.
    """
    core = k8s_client.CoreV1Api(k8s_client.ApiClient(kube.api.configuration))
    kube.request_count += 1
    try:
        return portforward(
            core.connect_get_namespaced_pod_portforward, pod, namespace, ports=str(port),
            _request_timeout=timeout or kube.timeout,
        )
    except ApiException as exc:
        raise _as_error(kube, exc, pod, namespace) from None
    except (OSError, Exception) as exc:  # websocket-client raises its own types
        if isinstance(exc, AmbientctlError):
            raise
        status = getattr(exc, "status_code", None)
        if status:
            raise kube._http_error("POST", f"/api/v1/namespaces/{namespace}/pods/{pod}/portforward", status,
                                   b"", f"port-forward to pod {namespace}/{pod}") from None
        raise kube._transport_error(exc) from None


def http_get(kube: KubeClient, pod: str, namespace: str, port: int, path: str, timeout: float | None = None) -> bytes:
    """GET `path` on the pod's `port`; returns the body of a 200 answer."""
    return http_request(kube, pod, namespace, port, path, method="GET", timeout=timeout)


def http_request(kube: KubeClient, pod: str, namespace: str, port: int, path: str, *, method: str = "GET",
                 timeout: float | None = None) -> bytes:
    """`method` `path` (no body) on the pod's `port`; returns the body of a 200 answer.

    POST is for admin endpoints that change state (Envoy's and ztunnel's `/logging`).
    """
    if method not in ("GET", "POST"):
        raise ValueError(f"unsupported method {method}")
    timeout = timeout or kube.timeout
    forward = open_forward(kube, pod, namespace, port, timeout)
    try:
        sock = forward.socket(port)
        sock.settimeout(timeout)
        length = "Content-Length: 0\r\n" if method == "POST" else ""
        request = f"{method} {path} HTTP/1.1\r\nHost: localhost:{port}\r\n{length}Connection: close\r\n\r\n"
        sock.sendall(request.encode("ascii"))
        raw = _read_all(sock)
        error = forward.error(port)
    finally:
        forward.close()
    if error:
        raise ApiServerError(
            f"port-forward to {namespace}/{pod}:{port} failed: {error.strip()}",
            f"check that the pod listens on port {port}",
        )
    return _parse_http_response(raw, f"{namespace}/{pod}:{port}{path}")


def _as_error(kube: KubeClient, exc: ApiException, pod: str, namespace: str) -> AmbientctlError:
    body = exc.body.encode() if isinstance(exc.body, str) else (exc.body or b"")
    status = exc.status or 0
    if not status:
        status, body = _handshake_failure(str(exc.reason or ""))
    if not status:
        return kube._transport_error(exc)
    return kube._http_error("POST", f"/api/v1/namespaces/{namespace}/pods/{pod}/portforward", status, body,
                            f"port-forward to pod {namespace}/{pod}")


def _handshake_failure(reason: str) -> tuple[int, bytes]:
    """(HTTP status, Status JSON) from the websocket client's `Handshake status 403 Forbidden -+-+- … {json}`."""
    marker = "Handshake status "
    if marker not in reason:
        return 0, b""
    code = reason.split(marker, 1)[1][:3]
    if not code.isdigit():
        return 0, b""
    start = reason.find("{")
    body = reason[start:].encode() if start >= 0 else b""
    return int(code), body


def _read_all(sock: socket.socket) -> bytes:
    """Read one HTTP response: up to Content-Length, the last chunk, or EOF.

    The port-forward stream stays open after the server has answered, so
    waiting for EOF alone would cost the whole socket timeout.
    """
    data = bytearray()
    while not _response_complete(data):
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        data += chunk
        if len(data) > MAX_RESPONSE_BYTES:
            raise InvalidInputError(f"response larger than {MAX_RESPONSE_BYTES // (1024 * 1024)} MiB")
    return bytes(data)


def _response_complete(data: bytearray) -> bool:
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0:
        return False
    headers = _headers(bytes(data[:head_end]))
    body_len = len(data) - head_end - 4
    if b"content-length" in headers:
        length = headers[b"content-length"]
        return length.isdigit() and body_len >= int(length)
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        return data.endswith(b"0\r\n\r\n")
    return False  # no length given: the server closes when done


def _headers(head: bytes) -> dict[bytes, bytes]:
    return {k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in head.split(b"\r\n")[1:])}


def _parse_http_response(raw: bytes, where: str) -> bytes:
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        raise ApiServerError(f"no HTTP answer from {where}", "check that the pod's admin server is running")
    parts = head.split(b"\r\n", 1)[0].split(b" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    headers = _headers(head)
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        body = _dechunk(body)
    if status != 200:
        first = body.decode("utf-8", "replace").strip().splitlines()[:1]
        said = f": {first[0][:200]}" if first else ""
        raise HttpAnswerError(f"{where} answered HTTP {status}{said}", "check the pod's admin server", status, body)
    return body


def _dechunk(data: bytes) -> bytes:
    out = bytearray()
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2:]
    return bytes(out)
