"""istiod's HTTP debug endpoints (`/debug/NAME` on its monitoring port, 15014 by default).

istiod serves them to localhost without authentication, and a port-forward
arrives from localhost. istioctl's `x internal-debug` asks the same handlers
over XDS (port 15012, type `istio.io/debug/NAME`, with a token); the answers
are the same JSON. `/debug/list` names the endpoints; `/debug/clusterz` lists
the clusters an istiod reads (`[{id, secretName, syncStatus}]`), which
`remote-clusters` prints as istioctl's table. Pure: no I/O.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ambientctl.errors import InvalidInputError, UsageError

DEBUG_PREFIX = "/debug/"
LIST_PATH = "/debug/list"
CLUSTERZ_PATH = "/debug/clusterz"
TABLE_PADDING = 5
_ENDPOINT = re.compile(r"^[A-Za-z_]+$")
_QUERY = re.compile(r"^[A-Za-z0-9_.=&%:/-]*$")


@dataclass(frozen=True)
class RemoteCluster:
    """One row of remote-clusters: a cluster one istiod reads."""

    id: str
    secret: str
    status: str
    istiod: str
    revision: str


def endpoint_path(endpoint: str, proxy: str | None = None) -> str:
    """`syncz`, `debug/syncz`, `/debug/syncz`, `cachez?sizes=true` → the request path; PROXY adds ?proxyID=."""
    name, _, query = endpoint.strip().removeprefix("/").removeprefix("debug/").partition("?")
    if not _ENDPOINT.match(name) or not _QUERY.match(query):
        raise UsageError(f"invalid debug endpoint {endpoint!r}",
                         "name one, e.g. syncz, configz, registryz (`ambientctl x internal-debug --list`)")
    if name.startswith("pprof") or name == "list":
        raise UsageError(f"{name} is not a debug endpoint this command reads", "use --list to see the ones it reads")
    parts = [query] if query else []
    if proxy:
        parts.append("proxyID=" + quote(proxy, safe=".-_"))
    return DEBUG_PREFIX + name + ("?" + "&".join(parts) if parts else "")


def parse_clusterz(body: bytes, istiod: str, revision: str) -> list[RemoteCluster]:
    """istiod's `/debug/clusterz` as rows, in istiod's order."""
    try:
        items = json.loads(body) if body.strip() else []
        if not isinstance(items, list):
            raise ValueError("not a list")
        return [RemoteCluster(str(i.get("id", "")), str(i.get("secretName", "")), str(i.get("syncStatus", "")),
                              istiod, revision) for i in items]
    except (ValueError, AttributeError) as exc:
        raise InvalidInputError(f"istiod {istiod} answered {CLUSTERZ_PATH} with something else than a cluster "
                                f"list ({exc})", "check istiod's version and logs") from None


def format_remote_clusters(rows: list[RemoteCluster]) -> str:
    """istioctl's table: istiods by name, each one's clusters in its order (Go tabwriter, padding 5)."""
    from ambientctl.proxy.envoy.tabwriter import tabwrite

    ordered = sorted(rows, key=lambda r: r.istiod)  # stable: keeps istiod's order within one istiod
    lines = [["NAME", "SECRET", "STATUS", "ISTIOD", "REVISION"]]
    lines += [[r.id, r.secret, r.status, r.istiod, r.revision] for r in ordered]
    return tabwrite(lines, padding=TABLE_PADDING)


def remote_clusters_document(rows: list[RemoteCluster]) -> list[dict[str, str]]:
    return [{"name": r.id, "secret": r.secret, "status": r.status, "istiod": r.istiod, "revision": r.revision}
            for r in sorted(rows, key=lambda r: r.istiod)]


def _decoded(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def format_answers(answers: dict[str, bytes], keyed: bool) -> str:
    """One istiod: its answer as it came (newline-terminated). Several (--all): one JSON object keyed by
    POD.NAMESPACE when every answer is JSON, else each answer under a `# POD.NAMESPACE` line."""
    if not keyed:
        text = next(iter(answers.values())).decode("utf-8", "replace")
        return text if text.endswith("\n") or not text else text + "\n"
    decoded = {where: _decoded(body) for where, body in answers.items()}
    if all(value is not None for value in decoded.values()):
        return json.dumps(decoded, indent=2, ensure_ascii=False) + "\n"
    blocks = []
    for where, body in answers.items():
        text = body.decode("utf-8", "replace")
        blocks.append(f"# {where}\n{text}" + ("" if text.endswith("\n") else "\n"))
    return "".join(blocks)


def format_list(answers: dict[str, bytes]) -> str:
    """`/debug/list` (a JSON list of names) as one name per line."""
    where, body = next(iter(answers.items()))
    names = _decoded(body)
    if not isinstance(names, list):
        raise InvalidInputError(f"istiod {where} answered {LIST_PATH} with something else than a list",
                                "check istiod's version")
    return "".join(f"{name}\n" for name in names)
