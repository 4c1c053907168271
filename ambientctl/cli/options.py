"""Options shared by the proxy commands, declared once (istioctl's `commonFlags.attach()`).

`pc` and `zc` subcommands take the same pod reference, `--node`, `--file`
and `--proxy-admin-port`: `@dump_source_options` adds all four to a command,
which then receives them as one `DumpSource` (`source.load(cli)` reads the
dump; cli/dumpviews.py). `--identity` and `-o` (each command has its own formats) are declared
here too, so help text and flag names cannot drift apart.
"""

# No `from __future__ import annotations` here: typer would eval every annotation string at every start.
import functools
import inspect
from typing import Annotated, Any, Callable, Optional

import typer

from ambientctl.cli.completion import complete_pod_refs
from ambientctl.cli.dumpviews import DEFAULT_PROXY_ADMIN_PORT, DumpSource

POD_REF_HELP = ("ds/ztunnel (default, in -n or the Istio namespace), pod/NAME, NAME[.NAMESPACE], deploy/NAME; "
                "a plain workload pod means the ztunnel on its node, showing that pod's identity.")

PodRefArgument = Annotated[Optional[str], typer.Argument(metavar="[POD_REF]", help=POD_REF_HELP,
                                                          autocompletion=complete_pod_refs)]
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


_SOURCE_PARAMETERS = (
    inspect.Parameter("pod_ref", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=PodRefArgument),
    inspect.Parameter("node", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=NodeOption),
    inspect.Parameter("file", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=FileOption),
    inspect.Parameter("admin_port", inspect.Parameter.KEYWORD_ONLY, default=DEFAULT_PROXY_ADMIN_PORT,
                      annotation=ProxyAdminPortOption),
)


def dump_source_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Attach POD_REF, --node, --file and --proxy-admin-port to `command`, which takes `source: DumpSource`.

    Typer reads a command's parameters from its signature, so the wrapper
    shows the four shared ones (right after `ctx`) in place of `source`.
    """
    signature = inspect.signature(command)
    own = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in signature.parameters.values() if p.name != "source"]
    parameters = own[:1] + list(_SOURCE_PARAMETERS) + own[1:]

    @functools.wraps(command)
    def with_source(**kwargs: Any) -> Any:
        source = DumpSource(*(kwargs.pop(p.name) for p in _SOURCE_PARAMETERS))
        return command(source=source, **kwargs)

    with_source.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    with_source.__annotations__ = {p.name: p.annotation for p in parameters}
    return with_source
