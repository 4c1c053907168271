"""The root Typer app: global flags, and one line per command group."""

from __future__ import annotations

import importlib
import math
import os
from dataclasses import dataclass
from typing import Optional

from typing import List

import click
import typer

from ambientctl.cli.common import GlobalFlagsGroup, complete_contexts
from ambientctl.cli.completion import complete_namespaces
from ambientctl.context import DEFAULT_ISTIO_NAMESPACE, CliContext, GlobalOptions, no_color_requested
from ambientctl.kube import DEFAULT_TIMEOUT

MAX_REQUEST_TIMEOUT = 86400.0  # a day; nan and inf reach the socket layer as errors

app = typer.Typer(
    cls=GlobalFlagsGroup,
    name="ambientctl",
    help="Install Istio's ambient mesh, inspect ztunnel certificates and manage waypoints.\n\n"
    "Global flags (-c, --context, -n, -i, --as, --as-group, --as-uid, --debug, --no-color, "
    "--request-timeout) work before or after the command.",
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
        None, "--namespace", "-n", help="Namespace (default: the context's, else `default`).",
        autocompletion=complete_namespaces,
    ),
    istio_namespace: str = typer.Option(
        DEFAULT_ISTIO_NAMESPACE, "--istio-namespace", "--istioNamespace", "-i",
        help="Namespace of the Istio control plane.", autocompletion=complete_namespaces,
    ),
    request_timeout: float = typer.Option(
        DEFAULT_TIMEOUT, "--request-timeout", min=0.1, help="Seconds to wait for each API request."
    ),
    kubeclient_timeout: Optional[str] = typer.Option(
        None, "--kubeclient-timeout", help="istioctl's --request-timeout: a duration (e.g. 15s, 1m)."
    ),
    impersonate_user: Optional[str] = typer.Option(
        None, "--as", help="User to impersonate (a user or system:serviceaccount:NS:NAME), as kubectl."
    ),
    impersonate_groups: List[str] = typer.Option(
        [], "--as-group", help="Group to impersonate (repeatable); needs --as."
    ),
    impersonate_uid: Optional[str] = typer.Option(None, "--as-uid", help="UID to impersonate; needs --as."),
    vklog: Optional[int] = typer.Option(
        None, "--vklog", min=0, hidden=True, help="istioctl's client log level: accepted, no effect (use --debug)."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors."),
    no_color: bool = typer.Option(False, "--no-color", help="No colours in output."),
) -> None:
    """Read the global flags once into the context every command receives."""
    if kubeclient_timeout is not None:
        request_timeout = _kubeclient_timeout(ctx, kubeclient_timeout)
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
        no_color=no_color_requested(no_color),
        impersonate_user=impersonate_user or None,
        impersonate_groups=tuple(impersonate_groups),
        impersonate_uid=impersonate_uid or None,
    )
    existing = ctx.obj if isinstance(ctx.obj, CliContext) else None
    if existing is not None and existing._kube is not None:
        existing.options = options  # tests may inject a client
    else:
        ctx.obj = CliContext(options=options)


def _kubeclient_timeout(ctx: typer.Context, text: str) -> float:
    """istioctl's --kubeclient-timeout (a Go duration); refused next to --request-timeout (two answers to one question)."""
    from click.core import ParameterSource

    from ambientctl.durations import parse_duration
    from ambientctl.errors import UsageError

    if ctx.get_parameter_source("request_timeout") is ParameterSource.COMMANDLINE:
        raise UsageError("--kubeclient-timeout and --request-timeout set the same timeout", "give one of them")
    seconds = parse_duration(text, "--kubeclient-timeout")
    if seconds < 0.1:
        raise typer.BadParameter(f"{text} is below 0.1s", param_hint="'--kubeclient-timeout'")
    return seconds


@dataclass(frozen=True)
class LazyCommand:
    """A root command: the modules whose register() builds it, and its one-line help."""

    modules: tuple[str, ...]
    help: str
    hidden: bool = False


# Root commands in help order. A command's modules are imported only when it
# runs, so startup costs only the command in use (and `--help` none of them).
# Modules that attach to another group (metrics → waypoint and x) are listed
# with every group they attach to.
COMMANDS: dict[str, LazyCommand] = {
    "version": LazyCommand(("version",), "Print the client version, and the cluster's Kubernetes and Istio versions."),
    "precheck": LazyCommand(("install",), "Check that the cluster can take Istio's ambient mode."),
    "install": LazyCommand(("install",), "Install (or upgrade in place) Istio's ambient data plane."),
    "upgrade": LazyCommand(("upgrade",), "Upgrade a revision in place to the pinned Istio release (precheck, diff, "
                           "confirm)."),
    "verify-install": LazyCommand(("install",), "Check that the installation matches its render and is ready."),
    "uninstall": LazyCommand(("install",), "Remove what `ambientctl install` created (only objects it owns)."),
    "tag": LazyCommand(("tag",), "Revision tags: stable names that point at a control plane revision."),
    "manifest": LazyCommand(("manifest", "install"), "Render Istio's manifests without a cluster (istioctl manifest)."),
    "profile": LazyCommand(("manifest",), "List, show and compare configuration profiles."),
    "dataplane": LazyCommand(("dataplane",), "Enrol namespaces in the ambient data plane (no pod restarts)."),
    "proxy-config": LazyCommand(("proxyconfig", "proxyadmin", "proxyenvoy"), "Inspect a proxy's configuration: Envoy clusters, listeners, routes, endpoints, secrets, ..."),
    "pc": LazyCommand(("proxyconfig", "proxyadmin", "proxyenvoy"), "Alias of proxy-config.", hidden=True),
    "proxy-status": LazyCommand(("proxystatus",), "istiod's xDS sync state of every connected proxy (alias: ps)."),
    "ps": LazyCommand(("proxystatus",), "Alias of proxy-status.", hidden=True),
    "admin": LazyCommand(("istiodadmin",), "Manage istiod: show or change its logging scopes (ControlZ)."),
    "istiod": LazyCommand(("istiodadmin",), "Alias of admin.", hidden=True),
    "remote-clusters": LazyCommand(("istiodadmin",), "The clusters each istiod reads, and their sync status."),
    "ztunnel-config": LazyCommand(("ztunnelconfig", "proxyadmin"), "Inspect ztunnel's workloads, services, policies, certificates."),
    "zc": LazyCommand(("ztunnelconfig", "proxyadmin"), "Alias of ztunnel-config.", hidden=True),
    "waypoint": LazyCommand(("waypoint", "metrics"), "Manage waypoints: the L7 proxies of the ambient mesh."),
    "samples": LazyCommand(("samples",), "The guide's sample apps (bookinfo, sleep, notsleep)."),
    "validate": LazyCommand(("validate",), "Check Istio policy files offline (AuthorizationPolicy, Telemetry, ...)."),
    "v": LazyCommand(("validate",), "Alias of validate.", hidden=True),
    "analyze": LazyCommand(("analyze",), "Check ambient configuration for problems (L7 policy without waypoint, ...)."),
    "bug-report": LazyCommand(("bugreport",), "Collect versions, Istio objects, dumps, logs and analysis into "
                              "one archive for a maintainer."),
    "dashboard": LazyCommand(("dashboard",), "Open a web UI (proxy admin, ControlZ, istiod debug, Kiali, ...) "
                             "through a port-forward."),
    "dash": LazyCommand(("dashboard",), "Alias of dashboard.", hidden=True),
    "d": LazyCommand(("dashboard",), "Alias of dashboard.", hidden=True),
    "authz": LazyCommand(("experimental", "authz"), "istioctl's root alias of `x authz`.", hidden=True),
    "completion": LazyCommand(("completion",), "Print the shell completion script (bash, zsh, fish)."),
    "x": LazyCommand(("experimental", "install", "authz", "graph", "metrics", "describe", "envoystats", "istiodadmin",
                      "version", "proxystatus"),
                     "Experimental commands (istioctl's `x`)."),
}

_commands_app = typer.Typer(rich_markup_mode=None)
_registered: set[str] = set()


@_commands_app.callback()
def _commands_group() -> None:
    """Makes Typer build a group even when one command module is loaded."""


_built: dict[frozenset[str], click.Group] = {}


def _load(modules: tuple[str, ...]) -> click.Group:
    """Import command modules, register them once each onto the shared commands app, build it.

    The click group is built once per set of loaded modules (building inspects
    every command's signature: a few ms that click would otherwise pay per lookup).
    """
    for name in modules:
        if name not in _registered:
            _registered.add(name)
            importlib.import_module(f"ambientctl.cli.{name}").register(_commands_app)
    key = frozenset(_registered)
    if key not in _built:
        _plain_help(_commands_app)
        command = typer.main.get_command(_commands_app)
        assert isinstance(command, click.Group)
        _built[key] = command
    return _built[key]


def _plain_help(typer_app: typer.Typer) -> None:
    """Click's plain help for every group: rich-formatted help costs ~0.1 s of imports at startup."""
    typer_app.rich_markup_mode = None
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _plain_help(group.typer_instance)


class LazyRootGroup(GlobalFlagsGroup):
    """The root group: builds a command from its modules only when it is invoked."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> Optional[click.Command]:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        found = _load(entry.modules).get_command(ctx, cmd_name)
        if found is not None and entry.hidden:
            found.hidden = True
        return found

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, entry.help) for name, entry in COMMANDS.items() if not entry.hidden]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


app.info.cls = LazyRootGroup
