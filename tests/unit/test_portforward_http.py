"""Reading an HTTP answer from a port-forward stream that stays open after the answer."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from ambientctl.errors import ApiServerError
from ambientctl.kube.portforward import _parse_http_response, _read_all


def _serve_then_hang(payload: bytes) -> socket.socket:
    """A socket pair whose far end sends `payload` and then keeps the stream open."""
    ours, theirs = socket.socketpair()

    def send():
        theirs.sendall(payload)
        time.sleep(3)
        theirs.close()

    threading.Thread(target=send, daemon=True).start()
    ours.settimeout(5)
    return ours


@pytest.mark.parametrize(
    "payload",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n",
    ],
)
def test_stops_at_end_of_response_not_at_timeout(payload):
    sock = _serve_then_hang(payload)
    started = time.monotonic()
    raw = _read_all(sock)
    assert time.monotonic() - started < 1.0
    assert _parse_http_response(raw, "pod:15000/x") == b"hello"


def test_reads_until_close_without_length():
    ours, theirs = socket.socketpair()
    theirs.sendall(b"HTTP/1.0 200 OK\r\n\r\nall of it")
    theirs.close()
    ours.settimeout(5)
    assert _parse_http_response(_read_all(ours), "x") == b"all of it"


def test_non_200_and_garbage_are_errors():
    with pytest.raises(ApiServerError):
        _parse_http_response(b"HTTP/1.1 503 Unavailable\r\nContent-Length: 0\r\n\r\n", "x")
    with pytest.raises(ApiServerError):
        _parse_http_response(b"not http", "x")


@pytest.mark.parametrize("chunked", [False, True])
def test_a_large_body_is_read_into_one_buffer(chunked):
    """Issue 17: a multi-megabyte dump arrives whole, in one bytearray cut in place (no ceiling at 256 MiB)."""
    body = b"".join(b'{"n": %d},' % i for i in range(300_000))
    if chunked:
        framed = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 70_000]), body[i:i + 70_000])
                          for i in range(0, len(body), 70_000))
        payload = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + framed + b"0\r\n\r\n"
    else:
        payload = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    raw = _read_all(_serve_then_hang(payload))
    assert isinstance(raw, bytearray)
    result = _parse_http_response(raw, "pod:15000/config_dump")
    assert result is raw and result == body


def test_an_accepted_status_other_than_200_gives_the_body():
    raw = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"
    assert _parse_http_response(raw, "istiod:9876/scopej/ads", (200, 202)) == b""
    with pytest.raises(ApiServerError, match="answered HTTP 202"):
        _parse_http_response(raw, "istiod:9876/scopej/ads")
