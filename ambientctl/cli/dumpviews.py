"""What `zc` and `pc secret` do once their flags are parsed, free of Typer.

cli/ztunnelconfig.py and cli/proxyconfig.py declare the flags and call these
functions; cli/fastpath.py calls the same functions for `--file` reads without
importing Typer at all. Each function's defaults are its command's flag
defaults (tests/unit/test_fastpath.py checks both paths print the same bytes).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Optional

from ambientctl.context import CliContext
from ambientctl.proxy.target import LoadedDump

DEFAULT_PROXY_ADMIN_PORT = 15000

# istioctl's short names of the subcommands (the groups resolve them, cli/aliases.py).
ZTUNNEL_CONFIG_ALIASES = {
    "workloads": "workload", "w": "workload", "services": "service", "svc": "service", "s": "service",
    "policies": "policy", "pol": "policy", "p": "policy", "certificates": "certificate", "certs": "certificate",
    "cert": "certificate", "cons": "connections",
}
PROXY_CONFIG_ALIASES = {"secrets": "secret", "s": "secret", "rc": "rootca-compare"}

TABLE_OR_DOCUMENT = ("short", "json", "yaml")  # zc's -o
SECRET_FORMATS = ("short", "json", "yaml", "detail")  # pc secret's -o


def load_dump(cli: CliContext, ref: Optional[str], node: Optional[str], file: Optional[str],
              admin_port: int = DEFAULT_PROXY_ADMIN_PORT, request: Any = None) -> LoadedDump:
    """Read the dump from `--file` (no cluster) or from a pod's admin port through the API server.

    `request` names the zc views to build while reading (`proxy.target._read`)."""
    from ambientctl.proxy import target

    target.check_source_flags(ref, node, file)
    if file:
        return target.read_file(file, request)
    from ambientctl.output import progress

    namespace = cli.namespace if ref else (cli.options.namespace or cli.istio_namespace)
    pod, workload = target.resolve_proxy_pod(cli.kube, ref, namespace, cli.istio_namespace, node, cli.info)
    where = f"pod {pod['metadata']['namespace']}/{pod['metadata']['name']}"
    pod_node = pod.get("spec", {}).get("nodeName")
    with progress(cli, f"Reading /config_dump of {where}" + (f" on node {pod_node}" if pod_node else "")):
        return target.read_pod(cli.kube, pod, admin_port, workload, request)


class DumpSource(NamedTuple):
    """Where a pc/zc command reads its dump: a pod (POD_REF, --node) on --proxy-admin-port, or --file."""

    pod_ref: Optional[str] = None
    node: Optional[str] = None
    file: Optional[str] = None
    admin_port: int = DEFAULT_PROXY_ADMIN_PORT

    def load(self, cli: CliContext, request: Any = None) -> LoadedDump:
        return load_dump(cli, self.pod_ref, self.node, self.file, self.admin_port, request)


def _load_ztunnel(cli: CliContext, source: DumpSource, request: Any = None) -> LoadedDump:
    """The dump, read once, with the views `request` (a ztunneldump.Request) names; refused unless ztunnel's."""
    from ambientctl.proxy.model import require_ztunnel

    loaded = source.load(cli, request)
    require_ztunnel(loaded.dump, loaded.source)
    return loaded


def _emit_records(output: str, loaded: LoadedDump, records: list, headers: list, rows: Callable) -> None:
    """The selected items (-o json/yaml: their own text) or istioctl's table, written in batches."""
    from ambientctl.proxy import ztunneldump as zd

    out = zd.Writer()
    if output in ("json", "yaml"):
        zd.write_items(out, loaded.views, zd.spans(records), output)
    else:
        zd.write_table(out, headers, rows(loaded.views), zd.TABLE_GAP)
    out.close()


def _target_pod_name(cli: CliContext, pod_ref: Optional[str], loaded: LoadedDump) -> str:
    """The workload pod's name when POD_REF named a workload (not a proxy)."""
    if not loaded.workload_identity or not pod_ref:
        return ""
    from ambientctl.kube.pods import parse_pod_ref

    _, name, _ = parse_pod_ref(pod_ref, cli.namespace)
    return name


def workload(cli: CliContext, source: DumpSource, output: str = "short", workload_namespace: str = "",
             workload_node: str = "", address: str = "") -> None:
    """`zc workload`: the workloads ztunnel knows, filtered."""
    from ambientctl.proxy import ztunneldump as zd

    def request(loaded: LoadedDump) -> zd.Request:
        flt = zd.WorkloadFilter(namespace=workload_namespace, node=workload_node, address=address,
                                name=_target_pod_name(cli, source.pod_ref, loaded))
        return zd.Request(workloads=flt, spans=output != "short")

    loaded = _load_ztunnel(cli, source, request)
    _emit_records(output, loaded, loaded.views.workloads, zd.WORKLOAD_HEADERS, zd.workload_rows)


def service(cli: CliContext, source: DumpSource, output: str = "short", service_namespace: str = "") -> None:
    """`zc service`: the services ztunnel knows."""
    from ambientctl.proxy import ztunneldump as zd

    loaded = _load_ztunnel(cli, source, zd.Request(services=service_namespace, spans=output != "short"))
    _emit_records(output, loaded, loaded.views.services, zd.SERVICE_HEADERS, zd.service_rows)


def policy(cli: CliContext, source: DumpSource, output: str = "short", policy_namespace: str = "") -> None:
    """`zc policy`: the authorization policies ztunnel enforces."""
    from ambientctl.proxy import ztunneldump as zd

    loaded = _load_ztunnel(cli, source, zd.Request(policies=policy_namespace, spans=output != "short"))
    _emit_records(output, loaded, loaded.views.policies, zd.POLICY_HEADERS, zd.policy_rows)


def certificate(cli: CliContext, source: DumpSource, output: str = "short", identity: Optional[str] = None) -> None:
    """`zc certificate`: the certificates of this ztunnel's node, as ztunnel lists them for -o json/yaml."""
    from ambientctl.proxy.certificates import print_certificates

    loaded = _load_ztunnel(cli, source)
    print_certificates(loaded, identity, output, kube=cli.kube if loaded.pod is not None else None,
                       istio_namespace=cli.istio_namespace, ztunnel_json=True, warn=cli.warn)


def connections(cli: CliContext, source: DumpSource, output: str = "short", workload_namespace: str = "",
                direction: str = "", raw: bool = False) -> None:
    """`zc connections`: open connections of the workloads on this ztunnel's node."""
    from ambientctl.errors import UsageError
    from ambientctl.output import print_document, write_stdout
    from ambientctl.proxy import ztunneldump as zd

    if direction not in ("", "inbound", "outbound"):
        raise UsageError(f"invalid --direction {direction!r}", "use inbound or outbound")
    loaded = _load_ztunnel(cli, source, zd.Request(connections=True))
    flt = zd.ConnectionFilter(namespace=workload_namespace, direction=direction, raw=raw,
                              workload=_target_pod_name(cli, source.pod_ref, loaded))
    if output in ("json", "yaml"):
        print_document(zd.select_connections(loaded.views, flt), output)
    else:
        write_stdout(zd.table_text(zd.CONNECTION_HEADERS, zd.connection_rows(loaded.views, flt)))


def all_config(cli: CliContext, source: DumpSource, output: str = "short", with_headers: bool = False) -> None:
    """`zc all`: every summary, or (-o json/yaml) the whole dump."""
    from ambientctl.proxy import ztunneldump as zd
    from ambientctl.proxy.certificates import now_utc, raise_for_bad_certificates
    from ambientctl.proxy.decode import decode_all

    whole = output in ("json", "yaml")
    loaded = _load_ztunnel(cli, source, zd.Request() if whole else zd.Request.everything())
    out = zd.Writer()
    if whole:
        zd.write_whole(out, loaded.views, output)
        out.close()
        return
    decode_all(loaded.dump)
    zd.write_all(out, loaded.views, now_utc(), with_headers)
    out.close()
    raise_for_bad_certificates(loaded.dump.identities, loaded.source)


def secret(cli: CliContext, source: DumpSource, output: str = "short", identity: Optional[str] = None) -> None:
    """`pc secret`: the certificates a ztunnel (or Envoy) proxy holds."""
    from ambientctl.proxy.certificates import print_certificates
    from ambientctl.proxy.shapes import gc_paused

    with gc_paused():
        loaded = source.load(cli)
        if not loaded.dump.is_ztunnel and identity is None and output != "detail":
            from ambientctl.proxy.envoy.secrets import print_secrets

            print_secrets(loaded.dump.raw, loaded.source, output)
            return
        print_certificates(loaded, identity, output, kube=cli.kube if loaded.pod is not None else None,
                           istio_namespace=cli.istio_namespace, warn=cli.warn)
