"""`ambientctl x describe pod|service`: a pod's or Service's place in the ambient mesh."""

# No `from __future__ import annotations`: typer would eval every annotation string at every start.
import typer

from ambientctl.cli.common import cli_context
from ambientctl.cli.completion import complete_pod_refs, complete_services
from ambientctl.cli.options import DEFAULT_PROXY_ADMIN_PORT, ProxyAdminPortOption, table_output_option
from ambientctl.output import OutputFormat, print_document, write_stdout

app = typer.Typer(help="Describe a pod or Service and its ambient configuration (data plane, ztunnel, "
                  "waypoints, policies).", no_args_is_help=True)

_OUTPUT = table_output_option()


@app.command("pod")
def pod(
    ctx: typer.Context,
    ref: str = typer.Argument(..., metavar="<pod>", help="NAME, NAME.NAMESPACE, pod/NAME or deploy/NAME.",
                              autocompletion=complete_pod_refs),
    output: OutputFormat = _OUTPUT,
    ztunnel: bool = typer.Option(True, "--ztunnel/--no-ztunnel",
                                 help="Read the ztunnel on the pod's node (workload protocol, certificate)."),
    proxy_admin_port: ProxyAdminPortOption = DEFAULT_PROXY_ADMIN_PORT,
) -> None:
    """Which data plane carries the pod, the ztunnel that serves it and the certificate it holds for it,
    the waypoints its traffic goes through, the policies that apply (and who enforces them), and what to fix.

    \b
    Examples:
      ambientctl x describe pod deploy/productpage-v1 -n default
      ambientctl x describe pod sleep-7656cf8794-lxcmx.default -o json
    """
    from ambientctl.describe import fetch, model, printer

    cli = cli_context(ctx)
    state, target = fetch.load_pod(cli.kube, ref, cli.namespace, cli.istio_namespace)
    view = fetch.ztunnel_view(cli.kube, target, cli.istio_namespace, proxy_admin_port) if ztunnel else None
    document = model.describe_pod(state, target, view)
    if output == OutputFormat.table:
        write_stdout(printer.format_pod(document))
    else:
        print_document(document, output.value)


@app.command("service")
def service(
    ctx: typer.Context,
    name: str = typer.Argument(..., metavar="<service>", help="NAME, NAME.NAMESPACE or svc/NAME.",
                               autocompletion=complete_services),
    output: OutputFormat = _OUTPUT,
) -> None:
    """The Service's ports and pods (and their data plane), its waypoint, and the policies that target it.

    \b
    Example:
      ambientctl x describe service productpage -n default
    """
    from ambientctl.describe import fetch, model, printer

    cli = cli_context(ctx)
    state, target = fetch.load_service(cli.kube, name, cli.namespace, cli.istio_namespace)
    document = model.describe_service(state, target)
    if output == OutputFormat.table:
        write_stdout(printer.format_service(document))
    else:
        print_document(document, output.value)


def register(root: typer.Typer) -> None:
    """Attach to the experimental group: `ambientctl x describe ...`."""
    from ambientctl.cli.experimental import x_app

    x_app.add_typer(app, name="describe")
