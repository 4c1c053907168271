"""`ambientctl ztunnel-config` (alias `zc`): ztunnel's workloads, services, policies, certificates, connections."""

# No `from __future__ import annotations`: typer would eval every annotation string at every start.
from enum import Enum
from typing import Callable, Optional

import typer

from ambientctl.cli.aliases import AliasedGroup, alias_group
from ambientctl.cli.common import cli_context
from ambientctl.cli.options import DumpSource, IdentityOption, dump_source_options, output_option
from ambientctl.errors import UsageError
from ambientctl.proxy.target import LoadedDump


class ZtunnelConfigGroup(AliasedGroup):
    aliases = {"workloads": "workload", "w": "workload", "services": "service", "svc": "service", "s": "service",
               "policies": "policy", "pol": "policy", "p": "policy", "certificates": "certificate",
               "certs": "certificate", "cert": "certificate", "cons": "connections"}  # istioctl's


app = typer.Typer(
    cls=ZtunnelConfigGroup,
    help="Inspect a ztunnel's configuration from its admin /config_dump (istioctl ztunnel-config; alias: zc).\n\n"
         "Every subcommand reads POD_REF (default ds/ztunnel in -n or the Istio namespace; pod/NAME, "
         "NAME[.NAMESPACE]; a workload pod means the ztunnel on its node), --node NODE, or --file DUMP.",
    no_args_is_help=True,
)


class ZcFormat(str, Enum):
    short = "short"
    json = "json"
    yaml = "yaml"


_OUTPUT_HELP = "short (istioctl's table), json or yaml."


def _load(ctx: typer.Context, source: DumpSource, request: object = None) -> LoadedDump:
    """The dump, read once, with the views `request` (a ztunneldump.Request) names."""
    from ambientctl.proxy.model import require_ztunnel

    loaded = source.load(cli_context(ctx), request)
    require_ztunnel(loaded.dump, loaded.source)
    return loaded


def _emit_records(fmt: ZcFormat, loaded: LoadedDump, records: list, headers: list, rows: Callable) -> None:
    """The selected items (-o json/yaml: their own text) or istioctl's table, written in batches."""
    from ambientctl.proxy import ztunneldump as zd

    out = zd.Writer()
    if fmt in (ZcFormat.json, ZcFormat.yaml):
        zd.write_items(out, loaded.views, zd.spans(records), fmt.value)
    else:
        zd.write_table(out, headers, rows(loaded.views), zd.TABLE_GAP)
    out.close()


def _emit(fmt: ZcFormat, document: object, table: Callable[[], str]) -> None:
    from ambientctl.output import print_document, write_stdout

    if fmt in (ZcFormat.json, ZcFormat.yaml):
        print_document(document, fmt.value)
    else:
        write_stdout(table())


@app.command("workload")
@dump_source_options
def workload(
    ctx: typer.Context,
    source: DumpSource,
    output: ZcFormat = output_option(ZcFormat.short, _OUTPUT_HELP),
    workload_namespace: str = typer.Option("", "--workload-namespace", help="Only workloads in this namespace."),
    workload_node: str = typer.Option("", "--workload-node", help="Only workloads on this node."),
    address: str = typer.Option("", "--address", help="Only the workload with this IP address."),
) -> None:
    """Workloads ztunnel knows (the whole mesh): namespace, pod, address, node, waypoint, protocol.

    \b
    Examples:
      ambientctl zc workload
      ambientctl zc workload --workload-namespace default --workload-node ambient-worker
      ambientctl zc workload --file config_dump.json --address 10.244.1.5 -o json
    """
    from ambientctl.proxy import ztunneldump as zd

    def request(loaded: LoadedDump) -> zd.Request:
        flt = zd.WorkloadFilter(namespace=workload_namespace, node=workload_node, address=address,
                                name=_target_pod_name(ctx, source.pod_ref, loaded))
        return zd.Request(workloads=flt, spans=output != ZcFormat.short)

    loaded = _load(ctx, source, request)
    _emit_records(output, loaded, loaded.views.workloads, zd.WORKLOAD_HEADERS, zd.workload_rows)


def _target_pod_name(ctx: typer.Context, pod_ref: Optional[str], loaded: LoadedDump) -> str:
    """The workload pod's name when POD_REF named a workload (not a proxy)."""
    if not loaded.workload_identity or not pod_ref:
        return ""
    from ambientctl.kube.pods import parse_pod_ref

    _, name, _ = parse_pod_ref(pod_ref, cli_context(ctx).namespace)
    return name


@app.command("service")
@dump_source_options
def service(
    ctx: typer.Context,
    source: DumpSource,
    output: ZcFormat = output_option(ZcFormat.short, _OUTPUT_HELP),
    service_namespace: str = typer.Option("", "--service-namespace", help="Only services in this namespace."),
) -> None:
    """Services ztunnel knows: VIPs, waypoint, healthy/total endpoints."""
    from ambientctl.proxy import ztunneldump as zd

    loaded = _load(ctx, source, zd.Request(services=service_namespace, spans=output != ZcFormat.short))
    _emit_records(output, loaded, loaded.views.services, zd.SERVICE_HEADERS, zd.service_rows)


@app.command("policy")
@dump_source_options
def policy(
    ctx: typer.Context,
    source: DumpSource,
    output: ZcFormat = output_option(ZcFormat.short, _OUTPUT_HELP),
    policy_namespace: str = typer.Option("", "--policy-namespace", help="Only policies in this namespace."),
) -> None:
    """Authorization policies ztunnel enforces: namespace, name, action, scope."""
    from ambientctl.proxy import ztunneldump as zd

    loaded = _load(ctx, source, zd.Request(policies=policy_namespace, spans=output != ZcFormat.short))
    _emit_records(output, loaded, loaded.views.policies, zd.POLICY_HEADERS, zd.policy_rows)


@app.command("certificate")
@dump_source_options
def certificate(
    ctx: typer.Context,
    source: DumpSource,
    output: ZcFormat = output_option(ZcFormat.short, _OUTPUT_HELP),
    identity: IdentityOption = None,
) -> None:
    """Certificates of the workloads on this ztunnel's node (same table as `pc secret`).

    -o json/yaml print ztunnel's own certificate list, as istioctl does; `pc secret -o json`
    prints the Envoy-style document instead.
    """
    loaded = _load(ctx, source)
    from ambientctl.proxy.certificates import print_certificates

    cli = cli_context(ctx)
    print_certificates(loaded, identity, output.value, kube=cli.kube if loaded.pod is not None else None,
                       istio_namespace=cli.istio_namespace, ztunnel_json=True,
                       warn=cli.warn)


@app.command("connections")
@dump_source_options
def connections(
    ctx: typer.Context,
    source: DumpSource,
    output: ZcFormat = output_option(ZcFormat.short, _OUTPUT_HELP),
    workload_namespace: str = typer.Option("", "--workload-namespace", help="Only workloads in this namespace."),
    direction: str = typer.Option("", "--direction", help="inbound or outbound only."),
    raw: bool = typer.Option(False, "--raw", help="Show IP addresses instead of names."),
) -> None:
    """Open connections of the workloads on this ztunnel's node."""
    from ambientctl.proxy import ztunneldump as zd

    if direction not in ("", "inbound", "outbound"):
        raise UsageError(f"invalid --direction {direction!r}", "use inbound or outbound")
    loaded = _load(ctx, source, zd.Request(connections=True))
    flt = zd.ConnectionFilter(namespace=workload_namespace, direction=direction, raw=raw,
                              workload=_target_pod_name(ctx, source.pod_ref, loaded))
    _emit(output, zd.select_connections(loaded.views, flt),
          lambda: zd.table_text(zd.CONNECTION_HEADERS, zd.connection_rows(loaded.views, flt)))


@app.command("all")
@dump_source_options
def all_config(
    ctx: typer.Context,
    source: DumpSource,
    output: ZcFormat = output_option(ZcFormat.short, _OUTPUT_HELP),
    with_headers: bool = typer.Option(False, "--with-headers", help="Title each section."),
) -> None:
    """Every summary (workloads, services, policies, certificates, connections), or the whole dump."""
    from ambientctl.proxy import ztunneldump as zd
    from ambientctl.proxy.certificates import now_utc, raise_for_bad_certificates
    from ambientctl.proxy.decode import decode_all

    whole = output in (ZcFormat.json, ZcFormat.yaml)
    loaded = _load(ctx, source, zd.Request() if whole else zd.Request.everything())
    out = zd.Writer()
    if whole:
        zd.write_whole(out, loaded.views, output.value)
        out.close()
        return
    decode_all(loaded.dump)
    zd.write_all(out, loaded.views, now_utc(), with_headers)
    out.close()
    raise_for_bad_certificates(loaded.dump.identities, loaded.source)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="ztunnel-config")
    root.add_typer(alias_group("ztunnel-config", "Alias of ztunnel-config."), name="zc", hidden=True)
