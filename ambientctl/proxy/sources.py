"""Where a config dump's bytes come from: a saved file, stdin, or a pod's admin port through the API server.

Size-capped before anything is parsed, so a wrong path or a huge pipe fails
fast with a one-line error. The live read is an HTTP GET through the API
server's port-forward (no local listener).
"""

from __future__ import annotations

import os
import stat
import sys
from typing import TYPE_CHECKING, Any, BinaryIO

from ambientctl.errors import InvalidInputError

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient

ADMIN_PORT = 15000

CONFIG_DUMP_PATH = "/config_dump"

MAX_DUMP_BYTES = 64 * 1024 * 1024


def read_dump_file(path: str, stdin: Any = None, limit: int = MAX_DUMP_BYTES) -> bytes:
    """The bytes of a saved dump (`-` is stdin); refuses what cannot be a dump, before reading it all."""
    if path == "-":
        return _read_limited(_binary(stdin if stdin is not None else sys.stdin), "stdin", limit)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InvalidInputError(f"dump file {path} does not exist", "check the path given to --file") from None
    except OSError as exc:
        raise InvalidInputError(f"cannot read dump file {path}: {exc.strerror}",
                                "check the path given to --file") from None
    if stat.S_ISDIR(st.st_mode):
        raise InvalidInputError(f"{path} is a directory, not a dump file",
                                "pass the JSON file saved from `curl localhost:15000/config_dump`")
    if stat.S_ISREG(st.st_mode) and st.st_size > limit:
        raise InvalidInputError(_too_big(path, st.st_size, limit), _TOO_BIG_HINT)
    try:
        with open(path, "rb") as handle:
            if not stat.S_ISREG(st.st_mode):
                return _read_limited(handle, path, limit)
            data = handle.read(st.st_size + 1)  # one read of the size stat gave
            if len(data) <= st.st_size:
                return data
            data += _read_limited(handle, path, limit)  # the file grew since: still capped
            if len(data) > limit:
                raise InvalidInputError(_too_big(path, len(data), limit), _TOO_BIG_HINT)
            return data
    except OSError as exc:
        raise InvalidInputError(f"cannot read dump file {path}: {exc.strerror}",
                                "check the file's permissions") from None


_TOO_BIG_HINT = "keep only the certificates with `jq '{certificates}' dump.json > certs.json` and pass that"


def _too_big(where: str, size: int, limit: int) -> str:
    return f"{where} is {size / 1048576:.0f} MiB, over the {limit // 1048576} MiB limit for a config dump"


def _binary(stream: Any) -> Any:
    return getattr(stream, "buffer", stream)


def _read_limited(handle: BinaryIO, where: str, limit: int) -> bytes:
    """Read at most `limit` bytes, in chunks, so a huge pipe never fills memory."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = handle.read(1 << 20)
        if not chunk:
            break
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8")
        size += len(chunk)
        if size > limit:
            raise InvalidInputError(f"{where} holds more than {limit // 1048576} MiB, over the limit for a config dump",
                                    _TOO_BIG_HINT)
        chunks.append(chunk)
    return b"".join(chunks)


def fetch_dump(kube: KubeClient, pod: str, namespace: str, port: int = ADMIN_PORT) -> bytes:
    """GET /config_dump from the pod's admin port (--proxy-admin-port) through the API server (no local listener)."""
    from ambientctl.kube.portforward import http_get

    return http_get(kube, pod, namespace, port, CONFIG_DUMP_PATH)
