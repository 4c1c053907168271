"""Where a config dump's bytes come from: a saved file, stdin, or a pod's admin port through the API server.

Read once into one buffer (no size limit for a file; a 4 GiB guard on stdin);
a wrong path fails fast with a one-line error. The live read is an HTTP GET through the API
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

MAX_STREAM_BYTES = 4 << 30  # stdin only: a guard against an endless pipe, not a dump size limit


def read_dump_file(path: str, stdin: Any = None, limit: int = MAX_STREAM_BYTES) -> bytes | bytearray:
    """The bytes of a saved dump (`-` is stdin), read once into one buffer.

    No size limit for a file (issue 17: a 250,000-workload mesh's dump is ~270 MB): its
    size is known and the memory a dump costs is bounded by the reader
    (`proxy.jsonscan`), not by refusing big meshes. A stream (stdin) is cut at
    `limit`, far above any real dump, so an endless pipe cannot fill memory.
    """
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
    try:
        with open(path, "rb") as handle:
            if not stat.S_ISREG(st.st_mode):
                return _read_limited(handle, path, limit)
            data = handle.read(st.st_size + 1)  # one read of the size stat gave
            if len(data) <= st.st_size:
                return data
            buffer = bytearray(data)  # the file grew since: read the rest, still one buffer
            del data
            buffer += _read_limited(handle, path, limit)
            return buffer
    except OSError as exc:
        raise InvalidInputError(f"cannot read dump file {path}: {exc.strerror}",
                                "check the file's permissions") from None


def _binary(stream: Any) -> Any:
    return getattr(stream, "buffer", stream)


def _read_limited(handle: BinaryIO, where: str, limit: int) -> bytearray:
    """Read a stream into one growing buffer (no list of chunks joined at the end), at most `limit` bytes."""
    buffer = bytearray()
    while True:
        chunk = handle.read(1 << 20)
        if not chunk:
            break
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8")
        buffer += chunk
        if len(buffer) > limit:
            raise InvalidInputError(f"{where} holds more than {limit // 1048576} MiB, more than any config dump",
                                    "save the dump to a file and pass it with --file")
    return buffer


def fetch_dump(kube: KubeClient, pod: str, namespace: str, port: int = ADMIN_PORT) -> bytearray:
    """GET /config_dump from the pod's admin port (--proxy-admin-port) through the API server (no local listener)."""
    from ambientctl.kube.portforward import http_get

    return http_get(kube, pod, namespace, port, CONFIG_DUMP_PATH)
