"""`ambientctl ztunnel-config` (alias `zc`): ztunnel's workloads, services, policies, certificates, connections.

Flags only: what each subcommand does is in cli/dumpviews.py (which cli/fastpath.py also runs).
"""

# No `from __future__ import annotations`: typer would eval every annotation string at every start.
import typer

from ambientctl.cli import dumpviews
from ambientctl.cli.aliases import AliasedGroup, alias_group
from ambientctl.cli.common import cli_context
from ambientctl.cli.options import DumpSource, IdentityOption, ProxyFormat, dump_source_options, output_option


class ZtunnelConfigGroup(AliasedGroup):
    aliases = dumpviews.ZTUNNEL_CONFIG_ALIASES


app = typer.Typer(
    cls=ZtunnelConfigGroup,
    help="Inspect a ztunnel's configuration from its admin /config_dump (istioctl ztunnel-config; alias: zc).\n\n"
         "Every subcommand reads POD_REF (default ds/ztunnel in -n or the Istio namespace; pod/NAME, "
         "NAME[.NAMESPACE]; a workload pod means the ztunnel on its node), --node NODE, or --file DUMP.",
    no_args_is_help=True,
)

_OUTPUT_HELP = "short (istioctl's table), json or yaml."


@app.command("workload")
@dump_source_options
def workload(
    ctx: typer.Context,
    source: DumpSource,
    output: ProxyFormat = output_option(ProxyFormat.short, _OUTPUT_HELP),
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
    dumpviews.workload(cli_context(ctx), source, output.value, workload_namespace, workload_node, address)


@app.command("service")
@dump_source_options
def service(
    ctx: typer.Context,
    source: DumpSource,
    output: ProxyFormat = output_option(ProxyFormat.short, _OUTPUT_HELP),
    service_namespace: str = typer.Option("", "--service-namespace", help="Only services in this namespace."),
) -> None:
    """Services ztunnel knows: VIPs, waypoint, healthy/total endpoints."""
    dumpviews.service(cli_context(ctx), source, output.value, service_namespace)


@app.command("policy")
@dump_source_options
def policy(
    ctx: typer.Context,
    source: DumpSource,
    output: ProxyFormat = output_option(ProxyFormat.short, _OUTPUT_HELP),
    policy_namespace: str = typer.Option("", "--policy-namespace", help="Only policies in this namespace."),
) -> None:
    """Authorization policies ztunnel enforces: namespace, name, action, scope."""
    dumpviews.policy(cli_context(ctx), source, output.value, policy_namespace)


@app.command("certificate")
@dump_source_options
def certificate(
    ctx: typer.Context,
    source: DumpSource,
    output: ProxyFormat = output_option(ProxyFormat.short, _OUTPUT_HELP),
    identity: IdentityOption = None,
) -> None:
    """Certificates of the workloads on this ztunnel's node (same table as `pc secret`).

    -o json/yaml print ztunnel's own certificate list, as istioctl does; `pc secret -o json`
    prints the Envoy-style document instead.
    """
    dumpviews.certificate(cli_context(ctx), source, output.value, identity)


@app.command("connections")
@dump_source_options
def connections(
    ctx: typer.Context,
    source: DumpSource,
    output: ProxyFormat = output_option(ProxyFormat.short, _OUTPUT_HELP),
    workload_namespace: str = typer.Option("", "--workload-namespace", help="Only workloads in this namespace."),
    direction: str = typer.Option("", "--direction", help="inbound or outbound only."),
    raw: bool = typer.Option(False, "--raw", help="Show IP addresses instead of names."),
) -> None:
    """Open connections of the workloads on this ztunnel's node."""
    dumpviews.connections(cli_context(ctx), source, output.value, workload_namespace, direction, raw)


@app.command("all")
@dump_source_options
def all_config(
    ctx: typer.Context,
    source: DumpSource,
    output: ProxyFormat = output_option(ProxyFormat.short, _OUTPUT_HELP),
    with_headers: bool = typer.Option(False, "--with-headers", help="Title each section."),
) -> None:
    """Every summary (workloads, services, policies, certificates, connections), or the whole dump."""
    dumpviews.all_config(cli_context(ctx), source, output.value, with_headers)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="ztunnel-config")
    root.add_typer(alias_group("ztunnel-config", "Alias of ztunnel-config."), name="zc", hidden=True)
