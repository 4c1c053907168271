"""Options shared by the proxy commands, declared once (istioctl's `commonFlags.attach()`).

`pc` and `zc` subcommands take the same pod reference, `--node`, `--file`,
`--proxy-admin-port` and `-o`; each is declared here as an `Annotated` type
and used as a parameter's type (`node: NodeOption = None`), so help text and
flag names cannot drift apart. `load_dump` turns them into a parsed dump.
"""

# No `from __future__ import annotations` here: typer would eval every annotation string at every start.
from typing import Annotated, Any, Optional

import typer


from ambientctl.context import CliContext
from ambientctl.proxy.target import LoadedDump

DEFAULT_PROXY_ADMIN_PORT = 15000

POD_REF_HELP = ("ds/ztunnel (default, in -n or the Istio namespace), pod/NAME, NAME[.NAMESPACE], deploy/NAME; "
                "a plain workload pod means the ztunnel on its node, showing that pod's identity.")

PodRefArgument = Annotated[Optional[str], typer.Argument(metavar="[POD_REF]", help=POD_REF_HELP)]
NodeOption = Annotated[Optional[str], typer.Option("--node", help="Read the pod of the ztunnel DaemonSet on this node.")]
FileOption = Annotated[Optional[str], typer.Option(
    "--file", "-f", help="Read a saved /config_dump instead of a pod ('-' for stdin); no cluster.")]
ProxyAdminPortOption = Annotated[int, typer.Option(
    "--proxy-admin-port", min=1, max=65535, help="The proxy's admin port, where /config_dump is read.")]
IdentityOption = Annotated[Optional[str], typer.Option(
    "--identity", "--service-account",
    help="Only this identity: NAMESPACE/SERVICEACCOUNT or spiffe://TRUST_DOMAIN/ns/NS/sa/SA.")]


def output_option(default: Any, help_text: str) -> Any:
    """`-o/--output` with the command's own formats (each command has its own enum of them)."""
    return typer.Option(default, "--output", "-o", help=help_text)


def load_dump(cli: CliContext, ref: Optional[str], node: Optional[str], file: Optional[str],
              admin_port: int = DEFAULT_PROXY_ADMIN_PORT) -> LoadedDump:
    """Read the dump from `--file` (no cluster) or from a pod's admin port through the API server."""
    from ambientctl.output import progress
    from ambientctl.proxy import target

    target.check_source_flags(ref, node, file)
    if file:
        return target.read_file(file)
    namespace = cli.namespace if ref else (cli.options.namespace or cli.istio_namespace)
    pod, workload = target.resolve_proxy_pod(cli.kube, ref, namespace, cli.istio_namespace, node, cli.info)
    where = f"pod {pod['metadata']['namespace']}/{pod['metadata']['name']}"
    pod_node = pod.get("spec", {}).get("nodeName")
    with progress(cli, f"Reading /config_dump of {where}" + (f" on node {pod_node}" if pod_node else "")):
        return target.read_pod(cli.kube, pod, admin_port, workload)
