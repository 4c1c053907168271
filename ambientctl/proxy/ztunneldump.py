"""A ztunnel `/config_dump` read in one pass into compact records, and `zc`'s views of them, streamed.

Every ztunnel holds every workload and service of the mesh: at 100,000 pods
its dump is ~100 MB. Decoding it whole (`json.loads`) cost ~6x its size in
memory. Here the dump's bytes are kept once (`jsonscan.Document`), each item
is decoded on its own, filtered, and reduced to a tuple of the few strings a
view shows plus its byte span; `-o json` writes the selected items' own bytes,
`-o yaml` decodes them again one at a time, tables are written in batches.

Columns, row order and filters are istioctl's ztunnel config writer's (see
docs/pc-secret.md and the golden files in tests/golden/zc); joins between
sections (a workload's waypoint, a service's healthy endpoints) go through
dictionaries built once, never a scan per row.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import TYPE_CHECKING, Any, Callable, Iterator, NamedTuple, Sequence

from ambientctl.errors import InvalidInputError
from ambientctl.proxy.identities import needs_certificate, workload_spiffe_id
from ambientctl.proxy.jsonscan import Buffer, Document

if TYPE_CHECKING:
    from ambientctl.proxy.model import ConfigDump, Identity

TABLE_GAP = 1  # istioctl's tabwriter padding for the ztunnel-config tables
WORKLOAD_HEADERS = ["NAMESPACE", "POD NAME", "ADDRESS", "NODE", "WAYPOINT", "PROTOCOL"]
SERVICE_HEADERS = ["NAMESPACE", "SERVICE NAME", "SERVICE VIP", "WAYPOINT", "ENDPOINTS"]
POLICY_HEADERS = ["NAMESPACE", "POLICY NAME", "ACTION", "SCOPE"]
CONNECTION_HEADERS = ["WORKLOAD", "DIRECTION", "LOCAL", "REMOTE", "REMOTE TARGET", "PROTOCOL"]
BATCH = 2000  # rows or items per write

_SECTION_NAMES = {"workloads": "workloads", "services": "services", "policies": "policies",
                  "certificates": "certificates", "workloadState": "workloadState", "workloadstate": "workloadState"}
_NO_WAYPOINT = None  # a workload/service without a waypoint reference: istioctl prints "None"


def _s(value: Any) -> str:
    """A JSON value as Go's %v prints a string field: null becomes empty."""
    return "" if value is None else str(value)


def _eq(a: Any, b: str) -> bool:
    return _s(a).casefold() == b.casefold()


# -- what the caller wants ---------------------------------------------------------------------


class WorkloadFilter(NamedTuple):
    namespace: str = ""
    node: str = ""
    address: str = ""
    name: str = ""

    @property
    def active(self) -> bool:
        return bool(self.namespace or self.node or self.address or self.name)

    def matches(self, wl: dict[str, Any]) -> bool:
        if self.name and not _eq(wl.get("name"), self.name):
            return False
        if self.namespace and not _eq(wl.get("namespace"), self.namespace):
            return False
        if self.address:
            ips = wl.get("workloadIps")
            if not any(_eq(ip, self.address) for ip in (ips if isinstance(ips, list) else ())):
                return False
        return not (self.node and not _eq(wl.get("node"), self.node))


class ConnectionFilter(NamedTuple):
    namespace: str = ""
    direction: str = ""  # "", "inbound" or "outbound"
    raw: bool = False
    workload: str = ""   # pod name, or NAME.NAMESPACE

    def normalized(self) -> ConnectionFilter:
        if self.workload and not self.namespace and "." in self.workload:
            name, _, namespace = self.workload.partition(".")
            return ConnectionFilter(namespace, self.direction, self.raw, name)
        return self


class Request(NamedTuple):
    """The views to build while reading; None means that section is not wanted (its items are only checked)."""

    workloads: WorkloadFilter | None = None
    services: str | None = None       # the namespace filter ("" for all)
    policies: str | None = None
    connections: bool = False
    spans: bool = False               # -o json/yaml: keep the selected items' spans, not table cells

    @classmethod
    def everything(cls) -> Request:
        return cls(WorkloadFilter(), "", "", True)


# -- the records ---------------------------------------------------------------------------------

# A workload: (sort key, node, namespace, name, address, waypoint destination, protocol) for a table,
# (sort key, node, start, end) for -o json/yaml. Services and policies likewise.


class ZtunnelDump:
    """What one pass over a dump kept: the certificates (as `ConfigDump`), and each wanted view's records.

    (Named tuples and plain classes here, not dataclasses: see proxy/model.py.)
    """

    def __init__(self, dump: ConfigDump, document: Document | None, redact: bool, request: Request) -> None:
        self.dump = dump
        self.document = document
        self.redact = redact
        self.request = request
        self.workloads: list[tuple] = []
        self.services: list[tuple] = []
        self.policies: list[tuple] = []
        self.workload_state: list[dict[str, Any]] = []
        self.waypoints = WaypointIndex()
        self.healthy: set[str] = set()
        self.service_names: dict[str, str] = {}
        self.workload_names: dict[str, str] = {}
        self.local_node: str | None = None     # the dump's config.localNode: the node this ztunnel serves
        self.certificate_users: set[str] | None = None  # SPIFFE IDs its node's workloads need; None: node unknown


class WaypointIndex:
    """istioctl's waypoint name of a reference: the first service (in dump order) whose
    `namespace/hostname` or one of whose VIPs is the destination; "NA" if none; "None" without a reference."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.first: dict[str, int] = {}

    def add(self, svc: dict[str, Any]) -> None:
        index = len(self.names)
        self.names.append(_s(svc.get("name")))
        self.first.setdefault(f"{_s(svc.get('namespace'))}/{_s(svc.get('hostname'))}", index)
        vips = svc.get("vips")
        for vip in vips if isinstance(vips, list) else ():
            if isinstance(vip, str):
                self.first.setdefault(vip, index)

    def name(self, destination: str | None) -> str:
        if destination is None:
            return "None"
        index = self.first.get(destination)
        return "NA" if index is None else self.names[index]


_INTERNED: dict[str, str] = {}


def _intern(text: str) -> str:
    """One copy of each repeated cell (namespaces, nodes, waypoints, protocols) however many rows show it."""
    return _INTERNED.setdefault(text, text)


def _address(ips: Any, hostname: Any) -> str:
    """The IPs joined by commas, or the hostname when there is none (a VM, a ServiceEntry)."""
    if type(ips) is list and ips:  # noqa: E721
        try:
            joined = ",".join(ips)
        except TypeError:
            joined = ",".join(map(_s, ips))
        if joined:
            return joined
    return _s(hostname)


def _destination(ref: Any) -> str | None:
    return _intern(_s(ref.get("destination"))) if isinstance(ref, dict) else _NO_WAYPOINT


# -- reading -------------------------------------------------------------------------------------


def parse(data: Buffer, source: str) -> ConfigDump:
    """A dump's certificates (`pc secret`), whatever its shape; a one-line InvalidInputError for anything unusable."""
    return read(data, source).dump


def read(data: Buffer, source: str, request: Request | None = None) -> ZtunnelDump:
    """One pass over the dump: certificates into a `ConfigDump`, the wanted views into records.

    An Envoy dump (a `configs` list) comes back as an Envoy `ConfigDump` with no records.
    """
    from ambientctl.proxy.redact import may_hold_private_keys, redact as redact_item
    from ambientctl.proxy.shapes import ZTUNNEL_KEYS, parse_envoy

    request = request or Request()
    redact = may_hold_private_keys(data)
    doc = Document(data, source)
    kind = doc.top_level()
    if kind != "{":
        raise InvalidInputError(f"{source} is JSON but not a config dump (top level is a {kind})",
                                "pass the object returned by /config_dump")
    reader = _Reader(doc, source, request, redact)
    keys: list[str] = []
    configs: Any = None
    for key in doc.members():
        keys.append(key)
        if key == "configs":
            configs = doc.value()
            if redact:
                redact_item(configs)
        elif key in _SECTION_NAMES:
            reader.section(key)
        elif key == "config":
            reader.config(doc.value())
    doc.end()
    if isinstance(configs, list):
        return ZtunnelDump(parse_envoy({"configs": configs}, source), None, redact, request)
    if not any(key in keys for key in ZTUNNEL_KEYS):
        shown = ", ".join(sorted(set(keys))[:6]) or "none"
        raise InvalidInputError(
            f"{source} is not a ztunnel or Envoy config dump (top-level keys: {shown})",
            "pass the JSON from a proxy's admin endpoint: `kubectl exec POD -- curl -s localhost:15000/config_dump`",
        )
    return reader.finish()


class _Reader:
    """The per-section handlers of one pass."""

    def __init__(self, doc: Document, source: str, request: Request, redact: bool) -> None:
        from ambientctl.proxy.model import SHAPE_ZTUNNEL, ConfigDump

        self.doc, self.source, self.request, self.redact = doc, source, request, redact
        self.identities: list[Identity] = []
        self.legacy = False
        self.states: dict[str, list[dict[str, Any]]] = {}
        self.key = ""
        self.out = ZtunnelDump(ConfigDump(SHAPE_ZTUNNEL, []), doc, redact, request)
        self.certificate_users: dict[str, set[str]] = {}  # node -> SPIFFE IDs its workloads need

    def config(self, value: Any) -> None:
        """ztunnel's own settings: only the node it serves is kept."""
        node = value.get("localNode") if isinstance(value, dict) else None
        self.out.local_node = node if isinstance(node, str) and node else None

    def section(self, key: str) -> None:
        what = _SECTION_NAMES[key]
        kind = self.doc.kind()
        if kind not in ("[", "{"):
            value = self.doc.value()
            if value is None:
                return
            raise InvalidInputError(f"{self.source}: `{what}` is a {type(value).__name__}, expected a list",
                                    "the dump is damaged; fetch it again")
        handle = getattr(self, f"_{what}")
        self.key = key
        for index, (_, item, start, end) in enumerate(self.doc.items()):
            if self.redact:
                from ambientctl.proxy.redact import redact

                redact(item)
            handle(index, item, start, end)

    def _certificates(self, index: int, item: Any, start: int, end: int) -> None:
        from ambientctl.proxy.shapes import ztunnel_identity

        if not isinstance(item, dict):
            raise InvalidInputError(f"{self.source}: certificates[{index}] is not an object", "the dump is damaged")
        ident, legacy = ztunnel_identity(item, index)
        self.legacy |= legacy
        self.identities.append(ident)

    def _workloads(self, index: int, wl: Any, start: int, end: int) -> None:
        if not isinstance(wl, dict):
            return
        request, out, get = self.request, self.out, wl.get
        if needs_certificate(wl):
            self.certificate_users.setdefault(_s(get("node")), set()).add(workload_spiffe_id(wl))
        if request.services is not None:
            uid = _s(get("uid"))
            if get("status") == "Healthy":
                out.healthy.add(uid)
            else:
                out.healthy.discard(uid)
        if request.connections:
            ips = get("workloadIps") or []
            first = _s(ips[0]) if isinstance(ips, list) and ips else "None"
            out.workload_names[first] = f"{_s(get('name'))}.{_s(get('namespace'))}"
        flt = request.workloads
        if flt is None or (flt.active and not flt.matches(wl)):
            return
        namespace, name, node = get("namespace"), get("name"), get("node")
        if not (type(namespace) is str and type(name) is str and type(node) is str):  # noqa: E721 - the fast path
            namespace, name, node = _s(namespace), _s(name), _s(node)
        node = _INTERNED.setdefault(node, node)
        if request.spans:
            out.workloads.append((f"{namespace}.{name}", node, start, end))
            return
        out.workloads.append((f"{namespace}.{name}", node, _INTERNED.setdefault(namespace, namespace), name,
                              _address(get("workloadIps"), get("hostname")), _destination(get("waypoint")),
                              _intern(_s(get("protocol")))))

    def _services(self, index: int, svc: Any, start: int, end: int) -> None:
        if not isinstance(svc, dict):
            return
        request, out = self.request, self.out
        if request.workloads is not None or request.services is not None:
            out.waypoints.add(svc)
        vips = svc.get("vips")
        vips = vips if isinstance(vips, list) else []
        if request.connections:
            ip = _s(vips[0]).partition("/")[2] if vips else ""
            out.service_names[ip or "None"] = _s(svc.get("hostname"))
        if request.services is None or (request.services and not _eq(svc.get("namespace"), request.services)):
            return
        key = (_s(svc.get("namespace")), _s(svc.get("name")), _s(svc.get("hostname")))
        if request.spans:
            out.services.append((key, start, end))
            return
        endpoints = svc.get("endpoints") or {}
        listed = list(endpoints.values()) if isinstance(endpoints, dict) else \
            list(endpoints) if isinstance(endpoints, list) else []
        uids = tuple(_s(ep.get("workloadUid")) for ep in listed if isinstance(ep, dict))
        ips = ",".join(_s(vip).partition("/")[2] for vip in vips)
        out.services.append((key, ips, _destination(svc.get("waypoint")), uids, len(listed)))

    def _policies(self, index: int, policy: Any, start: int, end: int) -> None:
        namespace = self.request.policies
        if namespace is None or not isinstance(policy, dict):
            return
        if namespace and not _eq(policy.get("namespace"), namespace):
            return
        key = (_s(policy.get("namespace")), _s(policy.get("name")))
        if self.request.spans:
            self.out.policies.append((key, start, end))
        else:
            self.out.policies.append((key, _s(policy.get("action")), _s(policy.get("scope"))))

    def _workloadState(self, index: int, state: Any, start: int, end: int) -> None:  # noqa: N802 - the dump's name
        if self.request.connections and isinstance(state, dict):
            self.states.setdefault(self.key, []).append(state)

    def finish(self) -> ZtunnelDump:
        from ambientctl.proxy.model import SHAPE_ZTUNNEL, SHAPE_ZTUNNEL_LEGACY

        out = self.out
        out.dump.identities = self.identities
        if out.local_node is not None:
            out.certificate_users = self.certificate_users.get(out.local_node, set())
        out.dump.shape = SHAPE_ZTUNNEL_LEGACY if self.legacy else SHAPE_ZTUNNEL
        out.workload_state = self.states.get("workloadState", self.states.get("workloadstate", []))
        out.workloads.sort(key=lambda w: (w[0], w[1]))
        out.services.sort(key=lambda s: s[0])
        out.policies.sort(key=lambda p: p[0])
        return out


# -- writing ---------------------------------------------------------------------------------------


class Writer:
    """stdout in batches of about a megabyte; the dump's own bytes go to the binary layer as they are."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stdout
        self.binary = getattr(self.stream, "buffer", None)
        if self.binary is not None:
            self.stream.flush()
        self.parts: list[Any] = []
        self.size = 0

    def write(self, chunk: str | bytes) -> None:
        if self.binary is not None:
            if isinstance(chunk, str):
                chunk = chunk.encode("utf-8")
        elif not isinstance(chunk, str):
            chunk = str(chunk, "utf-8")
        self.parts.append(chunk)
        self.size += len(chunk)
        if self.size >= 1 << 20:
            self.flush()

    def write_buffer(self, data: Buffer) -> None:
        """A whole buffer, without copying it first."""
        self.flush()
        if self.binary is None:
            self.stream.write(str(data, "utf-8"))
            return
        view = memoryview(data)
        for start in range(0, len(view), 1 << 20):
            self.binary.write(view[start:start + (1 << 20)])

    def flush(self) -> None:
        if self.parts:
            joined = (b"" if self.binary is not None else "").join(self.parts)
            (self.binary if self.binary is not None else self.stream).write(joined)
            self.parts, self.size = [], 0

    def close(self) -> None:
        self.flush()
        (self.binary if self.binary is not None else self.stream).flush()


def write_table(out: Writer, headers: Sequence[str], rows: list[Sequence[str]], gap: int) -> None:
    """`output.format_table`'s exact layout, written a batch of rows at a time."""
    widths = [max(map(len, column)) for column in zip(headers, *rows)] if rows else [len(h) for h in headers]
    line = (" " * gap).join(f"{{:<{width}}}" for width in widths)
    out.write(line.format(*headers).rstrip() + "\n")
    for start in range(0, len(rows), BATCH):
        out.write("".join(line.format(*row).rstrip() + "\n" for row in rows[start:start + BATCH]))


def table_text(headers: Sequence[str], rows: list[Sequence[str]], gap: int = TABLE_GAP) -> str:
    """The same table as one string (for tests and for `zc all`'s small sections)."""
    import io

    buffer = io.StringIO()
    out = Writer(buffer)
    write_table(out, headers, rows, gap)
    out.close()
    return buffer.getvalue()


# -- rows ----------------------------------------------------------------------------------------------


def workload_rows(zd: ZtunnelDump) -> list[tuple[str, ...]]:
    name = zd.waypoints.name
    return [(ns, pod, address, node, name(dest), protocol)
            for _, node, ns, pod, address, dest, protocol in zd.workloads]


def service_rows(zd: ZtunnelDump) -> list[tuple[str, ...]]:
    healthy, name = zd.healthy, zd.waypoints.name
    return [(ns, svc, ips, name(dest), f"{sum(1 for uid in uids if uid in healthy)}/{total}")
            for (ns, svc, _), ips, dest, uids, total in zd.services]


def policy_rows(zd: ZtunnelDump) -> list[tuple[str, ...]]:
    return [(ns, name, action, scope) for (ns, name), action, scope in zd.policies]


def _info(state: dict[str, Any]) -> dict[str, Any]:
    info = state.get("info")
    return info if isinstance(info, dict) else {}


def select_connections(zd: ZtunnelDump, flt: ConnectionFilter) -> list[dict[str, Any]]:
    flt = flt.normalized()
    states = sorted(zd.workload_state, key=lambda s: (_s(_info(s).get("namespace")), _s(_info(s).get("name"))))
    return [s for s in states
            if not (flt.namespace and flt.namespace != _s(_info(s).get("namespace")))
            and not (flt.workload and not _eq(_info(s).get("name"), flt.workload))]


def _split_host_port(addr: str) -> tuple[str, str] | None:
    if addr.startswith("["):
        host, sep, rest = addr[1:].partition("]")
        return (host, rest[1:]) if sep and rest.startswith(":") else None
    host, sep, port = addr.rpartition(":")
    if not sep or ":" in host:
        return None
    return host, port


def _join_host_port(host: str, port: str) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def connection_rows(zd: ZtunnelDump, flt: ConnectionFilter) -> list[tuple[str, ...]]:
    flt = flt.normalized()

    def lookup(addr: Any) -> str:
        text = _s(addr)
        if flt.raw:
            return text
        split = _split_host_port(text)
        if split is None:
            return text
        host, port = split
        if host in zd.service_names:
            return _join_host_port(zd.service_names[host], port)
        if host in zd.workload_names:
            return _join_host_port(zd.workload_names[host], port)
        return text

    rows = []
    for state in select_connections(zd, flt):
        info = _info(state)
        name = f"{_s(info.get('name'))}.{_s(info.get('namespace'))}"
        connections = state.get("connections") if isinstance(state.get("connections"), dict) else {}
        if flt.direction != "outbound":
            for c in _dicts(connections.get("inbound")):
                rows.append((name, "Inbound", lookup(c.get("actualDst")), lookup(c.get("src")),
                             _s(c.get("originalDst")), _s(c.get("protocol"))))
        if flt.direction != "inbound":
            for c in _dicts(connections.get("outbound")):
                rows.append((name, "Outbound", lookup(c.get("src")), lookup(c.get("actualDst")),
                             lookup(c.get("originalDst")), _s(c.get("protocol"))))
    return rows


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [c for c in value if isinstance(c, dict)] if isinstance(value, list) else []


# -- documents (-o json / -o yaml) ---------------------------------------------------------------------


def spans(records: list[tuple]) -> list[tuple[int, int]]:
    """The byte spans of `-o json/yaml` records (their last two fields), in their sorted order."""
    return [(record[-2], record[-1]) for record in records]


def _decoded(zd: ZtunnelDump, start: int, end: int) -> Any:
    from ambientctl.proxy.redact import redact

    assert zd.document is not None
    item = json.loads(zd.document.slice(start, end))
    return redact(item) if zd.redact else item


def write_items(out: Writer, zd: ZtunnelDump, items: list[tuple[int, int]], fmt: str) -> None:
    """The selected items as one JSON list (their own bytes, re-indented) or one YAML list."""
    if not items:
        out.write("[]\n")
        return
    if fmt == "yaml":
        from ambientctl.yamlout import dump_yaml

        for start, end in items:
            out.write(dump_yaml([_decoded(zd, start, end)]))
        return
    out.write("[")
    for index, (start, end) in enumerate(items):
        out.write(",\n  " if index else "\n  ")
        out.write(_item_json(zd, start, end, 2))
    out.write("\n]\n")


def _item_json(zd: ZtunnelDump, start: int, end: int, indent: int) -> str | bytes:
    """An item's JSON as `json.dumps(..., indent=2)` nested `indent` deep would print it.

    A dump pretty-printed like ztunnel's (items 4 deep) gives the same text by
    dropping two blanks after each line break: only whitespace between tokens
    changes (a JSON string cannot hold a raw line break), so the content is the
    dump's own, byte for byte.
    """
    if zd.redact:
        return json.dumps(_decoded(zd, start, end), indent=2, ensure_ascii=False).replace("\n", "\n" + " " * indent)
    assert zd.document is not None
    raw = zd.document.slice(start, end)
    drop = 4 - indent
    if isinstance(raw, bytes):
        return raw.replace(b"\n" + b" " * drop, b"\n") if drop > 0 else raw
    return raw.replace("\n" + " " * drop, "\n") if drop > 0 else raw


def write_whole(out: Writer, zd: ZtunnelDump, fmt: str) -> None:
    """`zc all -o json|yaml`: the whole dump, read again one item at a time (it was checked by `read`)."""
    assert zd.document is not None
    data = zd.document.data
    if fmt == "json" and not zd.redact:
        out.write_buffer(data)
        if not data.rstrip().endswith(b"}") or not data.endswith(b"\n"):
            out.write("\n")
        return
    doc = Document(data, zd.document.source)
    doc.top_level()
    write = _whole_yaml if fmt == "yaml" else _whole_json
    write(out, doc, zd.redact)


def _member_items(doc: Document, redacting: bool) -> Iterator[tuple[str | None, Any]]:
    from ambientctl.proxy.redact import redact

    for key, item, _, _ in doc.items():
        yield key, (redact(item) if redacting else item)


def _whole_json(out: Writer, doc: Document, redacting: bool) -> None:
    from ambientctl.proxy.redact import redact

    def dumps(value: Any, indent: int) -> str:
        return json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n" + " " * indent)

    out.write("{")
    count = 0
    for key in doc.members():
        out.write(("," if count else "") + "\n  " + json.dumps(key, ensure_ascii=False) + ": ")
        count += 1
        kind = doc.kind()
        if kind not in ("[", "{"):
            value = doc.value()
            out.write(dumps(redact(value) if redacting else value, 2))
            continue
        close = "]" if kind == "[" else "}"
        empty = True
        for inner, item in _member_items(doc, redacting):
            out.write(("[" if close == "]" else "{") if empty else ",")
            label = json.dumps(inner, ensure_ascii=False) + ": " if inner is not None else ""
            out.write("\n    " + label + dumps(item, 4))
            empty = False
        out.write(("[" + close) if empty and close == "]" else "{}" if empty else "\n  " + close)
    out.write("\n}\n" if count else "}\n")


def _whole_yaml(out: Writer, doc: Document, redacting: bool) -> None:
    from ambientctl.proxy.redact import redact
    from ambientctl.yamlout import dump_yaml

    count = 0
    for key in doc.members():
        count += 1
        kind = doc.kind()
        if kind not in ("[", "{"):
            value = doc.value()
            out.write(dump_yaml({key: redact(value) if redacting else value}))
            continue
        head = dump_yaml({key: None}).rsplit(":", 1)[0] + ":\n"
        empty = True
        for inner, item in _member_items(doc, redacting):
            if empty:
                out.write(head)
                empty = False
            if inner is None:
                out.write(dump_yaml([item]))
            else:
                out.write("".join("  " + line if line.strip("\n") else line
                                  for line in dump_yaml({inner: item}).splitlines(keepends=True)))
        if empty:
            out.write(dump_yaml({key: [] if kind == "[" else {}}))
    if not count:
        out.write(dump_yaml({}))


def write_all(out: Writer, zd: ZtunnelDump, now: dt.datetime, with_headers: bool = False) -> None:
    """istioctl's `zc all`: every summary, each preceded by a blank line (and a title with --with-headers)."""
    from ambientctl.proxy.printers.secret import SHORT_GAP, SHORT_HEADERS, short_rows

    sections: list[tuple[str, Sequence[str], Callable[[], list[Sequence[str]]], int]] = [
        ("WORKLOAD INFO", WORKLOAD_HEADERS, lambda: workload_rows(zd), TABLE_GAP),
        ("SERVICE INFO", SERVICE_HEADERS, lambda: service_rows(zd), TABLE_GAP),
        ("POLICY INFO", POLICY_HEADERS, lambda: policy_rows(zd), TABLE_GAP),
        ("SECRET INFO", SHORT_HEADERS, lambda: short_rows(zd.dump.identities, now), SHORT_GAP),
        ("CONNECTIONS INFO", CONNECTION_HEADERS, lambda: connection_rows(zd, ConnectionFilter()), TABLE_GAP),
    ]
    for title, headers, rows, gap in sections:
        out.write("\n")
        if with_headers:
            out.write(f"------ {title} ------\n\n")
        write_table(out, headers, rows(), gap)
