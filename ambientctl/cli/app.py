"""The root Typer app: global flags, and one line per command group."""

from __future__ import annotations

import math
import os
from typing import Optional

import typer

from ambientctl.cli.common import GlobalFlagsGroup, complete_contexts
from ambientctl.context import DEFAULT_ISTIO_NAMESPACE, DEFAULT_REQUEST_TIMEOUT, CliContext, GlobalOptions

MAX_REQUEST_TIMEOUT = 86400.0  # a day; nan and inf reach the socket layer as errors

app = typer.Typer(
    cls=GlobalFlagsGroup,
    name="ambientctl",
    help="Install Istio's ambient mesh, inspect ztunnel certificates and manage waypoints.\n\n"
    "Global flags (-c, --context, -n, -i, --debug, --no-color, --request-timeout) work "
    "before or after the command.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def root(
    ctx: typer.Context,
    kubeconfig: Optional[str] = typer.Option(
        None, "--kubeconfig", "-c", help="Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)."
    ),
    context: Optional[str] = typer.Option(
        None, "--context", help="Kubeconfig context to use.", autocompletion=complete_contexts
    ),
    namespace: Optional[str] = typer.Option(
        None, "--namespace", "-n", help="Namespace (default: the context's, else `default`)."
    ),
    istio_namespace: str = typer.Option(
        DEFAULT_ISTIO_NAMESPACE, "--istio-namespace", "-i", help="Namespace of the Istio control plane."
    ),
    request_timeout: float = typer.Option(
        DEFAULT_REQUEST_TIMEOUT, "--request-timeout", min=0.1, help="Seconds to wait for each API request."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors."),
    no_color: bool = typer.Option(False, "--no-color", help="No colours in output."),
) -> None:
    """Read the global flags once into the context every command receives."""
    if not math.isfinite(request_timeout) or request_timeout > MAX_REQUEST_TIMEOUT:
        raise typer.BadParameter(f"{request_timeout} is not a number of seconds up to {MAX_REQUEST_TIMEOUT:g}",
                                 param_hint="'--request-timeout'")
    options = GlobalOptions(
        kubeconfig=kubeconfig,
        context=context,
        namespace=namespace,
        istio_namespace=istio_namespace,
        request_timeout=request_timeout,
        debug=debug,
        no_color=no_color or bool(os.environ.get("NO_COLOR")),
    )
    existing = ctx.obj if isinstance(ctx.obj, CliContext) else None
    if existing is not None and existing._kube is not None:
        existing.options = options  # tests may inject a client
    else:
        ctx.obj = CliContext(options=options)


def _register() -> None:
    from ambientctl.cli import dataplane, experimental, version

    version.register(app)
    dataplane.register(app)
    experimental.register(app)
    from ambientctl.cli import waypoint; waypoint.register(app)  # noqa: E702
    from ambientctl.cli import install; install.register(app)  # noqa: E702
    from ambientctl.cli import manifest; manifest.register(app)  # noqa: E702
    from ambientctl.cli import proxyconfig, ztunnelconfig; proxyconfig.register(app); ztunnelconfig.register(app)  # noqa: E702
    from ambientctl.cli import analyze, authz, graph, metrics, samples  # issue 9
    for module in (samples, authz, analyze, metrics, graph):
        module.register(app)


def _plain_help(typer_app: typer.Typer) -> None:
    """Click's plain help for every group: rich-formatted help costs ~0.1 s of imports at startup."""
    typer_app.rich_markup_mode = None
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _plain_help(group.typer_instance)


_register()
_plain_help(app)
