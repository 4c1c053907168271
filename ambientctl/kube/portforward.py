"""HTTP GET or POST to a pod's port through the API server's port-forward (no local listener)."""

from __future__ import annotations

import functools
import socket
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import parse_qsl, urlparse

from kubernetes import client as k8s_client
from kubernetes.client.exceptions import ApiException
from kubernetes.stream import portforward, ws_client

from ambientctl.errors import AmbientctlError, ApiServerError, InvalidInputError

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient

MAX_RESPONSE_BYTES = 4 << 30  # a guard against an endless stream; no real dump comes near it (issue 17)
RECV_BYTES = 1 << 20


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
    return _connect(portforward, kube, pod, namespace, port, timeout)


def _connect(opener: Callable[..., Any], kube: KubeClient, pod: str, namespace: str, port: int,
             timeout: float | None) -> Any:
    """Open the port-forward websocket with `opener` on an ApiClient of its own; errors are typed."""
    core = k8s_client.CoreV1Api(k8s_client.ApiClient(kube.api.configuration))
    kube.request_count += 1
    try:
        return opener(
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
                 timeout: float | None = None, body: bytes = b"", ok: tuple[int, ...] = (200,)) -> bytes:
    """`method` `path` on the pod's `port`; returns the body of an answer whose status is in `ok`.

    POST is for admin endpoints that change state (Envoy's and ztunnel's `/logging`);
    PUT with a JSON `body` for istiod's ControlZ (`/scopej/NAME`, which answers 202).
    """
    if method not in ("GET", "POST", "PUT"):
        raise ValueError(f"unsupported method {method}")
    timeout = timeout or kube.timeout
    websocket = _connect(_open_websocket, kube, pod, namespace, port, timeout)
    try:
        websocket.settimeout(timeout)
        length = f"Content-Length: {len(body)}\r\n" if method != "GET" else ""
        kind = "Content-Type: application/json\r\n" if body else ""
        request = f"{method} {path} HTTP/1.1\r\nHost: localhost:{port}\r\n{length}{kind}Connection: close\r\n\r\n"
        raw, error = _exchange(websocket, request.encode("ascii") + body)
    except socket.timeout:
        raise kube._transport_error(TimeoutError(), f"port-forward to pod {namespace}/{pod}") from None
    finally:
        websocket.close()
    if error:
        raise ApiServerError(
            f"port-forward to {namespace}/{pod}:{port} failed: {error.strip()}",
            f"check that the pod listens on port {port}",
        )
    return _parse_http_response(raw, f"{namespace}/{pod}:{port}{path}", ok)


def _raw_websocket(configuration: Any, _method: str, url: str, **kwargs: Any) -> Any:
    """The port-forward websocket itself, without the client library's proxy thread.

    Why: `kubernetes.stream.portforward` relays frames to a local socket through a thread
    that appends each frame to a bytes buffer (`data += frame`) and re-slices it after each
    send: a 10 MB dump cost ~100 MB there. Reading the frames here puts each payload straight
    into the one response buffer.
    """
    query = kwargs.get("query_params") or parse_qsl(urlparse(url).query, keep_blank_values=True)
    return ws_client.create_websocket(configuration, ws_client.get_websocket_url(url, query), kwargs.get("headers"))


# The library's own request path (authentication, TLS, the generated URL), ending in our websocket.
_open_websocket = functools.partial(portforward.func, _raw_websocket, {"_preload_content": False})


def _exchange(websocket: Any, request: bytes) -> tuple[bytearray, str]:
    """Send `request` on the port's data channel; (the response read into one buffer, the error channel's text).

    The port-forward protocol: two channels per port, data (0) and error (1); the first
    frame on each carries the port number; the stream stays open after the answer.
    """
    websocket.send_binary(b"\x00" + request)
    response = _ResponseBuffer()
    error = ""
    seen: set[int] = set()
    while not response.complete:
        try:
            opcode, frame = websocket.recv_data_frame(True)
        except ws_client.WebSocketConnectionClosedException:
            break
        if opcode == ws_client.ABNF.OPCODE_CLOSE:
            break
        if opcode != ws_client.ABNF.OPCODE_BINARY or not frame.data:
            continue
        channel = frame.data[0]
        if channel not in seen:  # the channel's first frame: the port number, no data
            seen.add(channel)
            continue
        if channel == 0:
            response.feed(memoryview(frame.data)[1:])
        elif channel == 1:
            error += bytes(frame.data[1:]).decode("utf-8", "replace")
            break
    return response.take(), error


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


class _ResponseBuffer:
    """One HTTP response read into ONE buffer: up to Content-Length, the last chunk, or the end of the stream.

    With a Content-Length (ztunnel's admin server gives one) the buffer is sized once and
    filled in place: a 100 MB dump costs 100 MB here, not a list of chunks plus their join
    plus a copy of the body.
    """

    def __init__(self) -> None:
        self.data = bytearray()
        self.filled = 0
        self.expected: int | None = None   # the whole response's size, once the headers give it
        self.chunked = False

    @property
    def complete(self) -> bool:
        if self.expected is not None:
            return self.filled >= self.expected
        return self.chunked and self.data.endswith(b"0\r\n\r\n")

    def room(self, size: int) -> memoryview:
        """A writable view of `size` bytes (fewer once the length is known) after the data received."""
        if self.expected is None and len(self.data) - self.filled < size:
            self.data.extend(bytes(size))
        end = self.filled + size if self.expected is None else min(self.expected, self.filled + size)
        return memoryview(self.data)[self.filled:max(end, self.filled)]

    def advance(self, count: int) -> None:
        self.filled += count
        if self.expected is None:
            del self.data[self.filled:]  # keep `endswith` and `find` on the data received
            self._read_head()
        if self.filled > MAX_RESPONSE_BYTES:
            raise InvalidInputError(f"response larger than {MAX_RESPONSE_BYTES >> 20} MiB")

    def feed(self, chunk: Any) -> None:
        size = len(chunk)
        if self.expected is not None and self.filled + size > len(self.data):
            self.data.extend(bytes(self.filled + size - len(self.data)))  # more than announced: keep it
        view = self.room(size) if self.expected is None else memoryview(self.data)[self.filled:self.filled + size]
        view[:size] = chunk
        self.advance(size)

    def _read_head(self) -> None:
        if self.chunked:
            return
        head_end = self.data.find(b"\r\n\r\n", 0, self.filled)
        if head_end < 0:
            return
        headers = _headers(bytes(self.data[:head_end]))
        length = headers.get(b"content-length", b"")
        if length.isdigit():
            self.expected = head_end + 4 + int(length)
            if self.expected > MAX_RESPONSE_BYTES:
                raise InvalidInputError(f"response larger than {MAX_RESPONSE_BYTES >> 20} MiB")
            sized = bytearray(self.expected)  # zeroed lazily by the OS: no copy of the data to come
            sized[:self.filled] = self.data[:self.filled]
            self.data = sized
        self.chunked = headers.get(b"transfer-encoding", b"").lower() == b"chunked"

    def take(self) -> bytearray:
        del self.data[self.filled:]
        return self.data


def _read_all(sock: socket.socket) -> bytearray:
    """Read one HTTP response from a socket into one buffer (the stream may stay open after it)."""
    response = _ResponseBuffer()
    while not response.complete:
        try:
            count = sock.recv_into(response.room(RECV_BYTES))
        except socket.timeout:
            break
        if not count:
            break
        response.advance(count)
    return response.take()


def _headers(head: bytes) -> dict[bytes, bytes]:
    return {k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in head.split(b"\r\n")[1:])}


def _parse_http_response(raw: bytes | bytearray, where: str, ok: tuple[int, ...] = (200,)) -> bytearray:
    """The body of a 200 (or `ok`) answer, cut out of `raw` in place (no second copy of a 100 MB body)."""
    head_end = raw.find(b"\r\n\r\n")
    if head_end < 0:
        raise ApiServerError(f"no HTTP answer from {where}", "check that the pod's admin server is running")
    head = bytes(raw[:head_end])
    parts = head.split(b"\r\n", 1)[0].split(b" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    body = raw if isinstance(raw, bytearray) else bytearray(raw)
    del body[:head_end + 4]
    if _headers(head).get(b"transfer-encoding", b"").lower() == b"chunked":
        _dechunk(body)
    if status not in ok:
        first = body[:4096].decode("utf-8", "replace").strip().splitlines()[:1]
        said = f": {first[0][:200]}" if first else ""
        raise HttpAnswerError(f"{where} answered HTTP {status}{said}", "check the pod's admin server", status,
                              bytes(body))
    return body


def _dechunk(data: bytearray) -> None:
    """Remove the chunk framing, in place."""
    read = write = 0
    while read < len(data):
        line_end = data.find(b"\r\n", read)
        if line_end < 0:
            break
        size = int(bytes(data[read:line_end]).split(b";")[0].strip() or b"0", 16)
        if size == 0:
            break
        read = line_end + 2
        data[write:write + size] = data[read:read + size]
        write += size
        read += size + 2
    del data[write:]
