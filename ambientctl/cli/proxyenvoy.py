"""`pc cluster|listener|route|endpoint|bootstrap|ecds|all`: istioctl's Envoy views of a waypoint, gateway or sidecar.

Thin: read the dump (a saved file, `-` for stdin, or the pod's admin port through
the API server), hand it to `ambientctl.proxy.envoy`, print.  `register(root)`
attaches the commands (and istioctl's short names) to the proxy-config group.
"""

# No `from __future__ import annotations`: typer would eval every annotation string at every start.
import inspect
from dataclasses import dataclass
from typing import Annotated, Any, Callable, Optional

import click
import typer
from typer.core import TyperCommand

from ambientctl.cli.common import cli_context
from ambientctl.cli.options import (DEFAULT_PROXY_ADMIN_PORT, FileOption, ProxyAdminPortOption, ProxyFormat,
                                    output_option, shared_parameters)
from ambientctl.cli.completion import complete_pod_refs
from ambientctl.context import CliContext
from ambientctl.errors import UsageError

_REF_HELP = ("The Envoy proxy: NAME[.NAMESPACE], pod/NAME, deploy/NAME, ds/NAME, sts/NAME, svc/NAME, or the name of "
             "a waypoint or gateway. Omit it with --file.")
_VERBOSE_HELP = "One row per filter chain / route (default true; --verbose=false: one row per listener / route config)."
ALIASES = {"clusters": "cluster", "c": "cluster", "listeners": "listener", "l": "listener", "routes": "route",
           "r": "route", "endpoints": "endpoint", "ep": "endpoint", "b": "bootstrap", "ec": "ecds", "a": "all"}


# The filters, declared once for the views that take them (`pc all` takes them all).
VerboseOption = Annotated[str, typer.Option("--verbose", metavar="BOOL", help=_VERBOSE_HELP)]
FqdnOption = Annotated[str, typer.Option("--fqdn", help="Clusters whose name contains this (the service FQDN).")]
SubsetOption = Annotated[str, typer.Option("--subset", help="Clusters whose name contains this subset.")]
DirectionOption = Annotated[str, typer.Option("--direction", help="Clusters whose name contains this direction "
                                                                   "(inbound also matches a waypoint's inbound-vip).")]
TypeOption = Annotated[str, typer.Option("--type", help="Listeners of this type: HTTP, TCP, HTTP+TCP or UNKNOWN.")]
RouteNameOption = Annotated[str, typer.Option("--name", help="Only the route config of this name.")]


def _port_option(help_text: str) -> Any:
    """`--port` (0: any), with what it selects in this view."""
    return typer.Option(0, "--port", help=help_text)


def _address_option(help_text: str) -> Any:
    """`--address` (empty: any), with what it selects in this view."""
    return typer.Option("", "--address", help=help_text)


class BoolValueCommand(TyperCommand):
    """istioctl's Go bool flags: `--verbose` alone means true, `--verbose=false` sets it.

    Click options take a value or none, not either; a bare `--verbose` is given its value here."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        fixed = []
        for index, arg in enumerate(args):
            if arg == "--":
                fixed.extend(args[index:])
                break
            nxt = args[index + 1] if index + 1 < len(args) else None
            if arg == "--verbose" and (nxt is None or nxt.lower() not in _BOOL_WORDS):
                arg = "--verbose=true"
            fixed.append(arg)
        return super().parse_args(ctx, fixed)


_BOOL_WORDS = {"1", "0", "t", "f", "true", "false"}


def _bool(text: str, flag: str) -> bool:
    """Go's strconv.ParseBool spellings, as istioctl's flags accept them."""
    value = text.strip()
    if value in ("1", "t", "T", "true", "TRUE", "True"):
        return True
    if value in ("0", "f", "F", "false", "FALSE", "False"):
        return False
    raise UsageError(f"invalid value {text!r} for {flag}", f"use {flag}=true or {flag}=false")


def _emit(fmt: ProxyFormat, table: Callable[[], str], document: Callable[[], Any]) -> None:
    """The table, or the document with every private key it could hold redacted (one JSON/YAML document)."""
    from ambientctl.output import print_document, write_stdout
    from ambientctl.proxy.envoy.dump import redacted

    if fmt == ProxyFormat.short:
        write_stdout(table())
    else:
        print_document(redacted(document()), fmt.value)


@dataclass(frozen=True)
class EnvoyView:
    """What every Envoy view shares: the proxy it reads (POD_REF or --file, --proxy-admin-port) and -o."""

    pod_ref: Optional[str]
    output: ProxyFormat
    file: Optional[str]
    admin_port: int

    def load(self, cli: CliContext, what: str, path: str) -> tuple[bytes, str]:
        """The bytes and where they came from (a file, stdin, or the pod's admin `path`)."""
        from ambientctl.proxy.sources import read_dump_file

        ref, file = self.pod_ref, self.file
        if (ref is None) == (file is None):
            if ref:
                raise UsageError(f"give either a pod ({ref}) or --file, not both", "drop one of them")
            raise UsageError(f"{what} needs a pod or --file", f"e.g. `ambientctl pc {what} deploy/waypoint` "
                             f"or `ambientctl pc {what} --file config_dump.json`")
        if file is not None:
            return read_dump_file(file), "stdin" if file == "-" else file
        from ambientctl.kube.portforward import http_get
        from ambientctl.output import progress
        from ambientctl.proxy.envoy.target import resolve_envoy_pod

        pod = resolve_envoy_pod(cli.kube, ref, cli.namespace)
        name, namespace = pod["metadata"]["name"], pod["metadata"]["namespace"]
        where = f"pod {namespace}/{name}"
        with progress(cli, f"Reading {path.split('?')[0]} of {where}"):
            return http_get(cli.kube, name, namespace, self.admin_port, path), where

    def dump(self, cli: CliContext, what: str, include_eds: bool = False) -> Any:
        """The parsed /config_dump (unredacted: tables show no key material; documents go through emit)."""
        from ambientctl.proxy.envoy import dump as envoydump

        data, source = self.load(cli, what, "/config_dump" + ("?include_eds=true" if include_eds else ""))
        return envoydump.parse(data, source, redact=False)

    def emit(self, table: Callable[[], str], document: Callable[[], Any]) -> None:
        """Print in -o's format (see _emit)."""
        _emit(self.output, table, document)


def _view_parameters(default_output: ProxyFormat) -> tuple[inspect.Parameter, ...]:
    keyword = inspect.Parameter.KEYWORD_ONLY
    return (
        inspect.Parameter("pod_ref", keyword, annotation=Optional[str], default=typer.Argument(
            None, metavar="[<type>/]<name>[.<namespace>]", help=_REF_HELP, autocompletion=complete_pod_refs)),
        inspect.Parameter("output", keyword, annotation=ProxyFormat, default=output_option(
            default_output, "short (istioctl's table), json or yaml (the resources, in istioctl's field names).")),
        inspect.Parameter("file", keyword, annotation=FileOption, default=None),
        inspect.Parameter("proxy_admin_port", keyword, annotation=ProxyAdminPortOption,
                          default=DEFAULT_PROXY_ADMIN_PORT),
    )


def envoy_view_options(default_output: ProxyFormat = ProxyFormat.short) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Attach POD_REF, -o, --file and --proxy-admin-port to a command, which takes `view: EnvoyView`."""
    return shared_parameters("view", _view_parameters(default_output), EnvoyView)


@envoy_view_options()
def cluster(
    ctx: typer.Context, view: EnvoyView,
    fqdn: FqdnOption = "",
    port: int = _port_option("Clusters of this port."),
    subset: SubsetOption = "",
    direction: DirectionOption = "",
) -> None:
    """Envoy clusters: SERVICE FQDN, PORT, SUBSET, DIRECTION, TYPE, DESTINATION RULE (istioctl pc cluster).

    \b
    Examples:
      ambientctl pc cluster deploy/waypoint -n bookinfo
      ambientctl pc cluster deploy/waypoint --fqdn reviews --direction inbound-vip
      ambientctl pc cluster --file config_dump.json -o json
    """
    from ambientctl.proxy.shapes import gc_paused
    from ambientctl.proxy.envoy import clusters

    with gc_paused():
        dump = view.dump(cli_context(ctx), "cluster")
        flt = clusters.ClusterFilter(fqdn, port, subset, direction)
        view.emit(lambda: clusters.format_clusters(dump, flt), lambda: clusters.clusters_document(dump, flt))


@envoy_view_options()
def listener(
    ctx: typer.Context, view: EnvoyView,
    address: str = _address_option("Listeners on this address (additional addresses too)."),
    port: int = _port_option("Listeners on this port."),
    type_: TypeOption = "",
    verbose: VerboseOption = "true",
    waypoint: bool = typer.Option(False, "--waypoint", help="Show how each filter chain is reached through the "
                                                            "listener's matcher tree (a waypoint's main_internal)."),
) -> None:
    """Envoy listeners: ADDRESSES, PORT, MATCH, DESTINATION per filter chain (istioctl pc listener).

    \b
    Examples:
      ambientctl pc listener deploy/waypoint --waypoint
      ambientctl pc listener deploy/bookinfo-gateway-istio --port 80
      ambientctl pc listener POD.default --type HTTP --verbose=false
    """
    from ambientctl.proxy.shapes import gc_paused
    from ambientctl.proxy.envoy import listeners

    is_verbose = _bool(verbose, "--verbose")
    with gc_paused():
        dump = view.dump(cli_context(ctx), "listener")
        flt = listeners.ListenerFilter(address, port, type_)
        if waypoint:  # istioctl prints this table whatever -o says
            _emit(ProxyFormat.short, lambda: listeners.format_waypoint(dump), lambda: None)
            return
        view.emit(lambda: listeners.format_listeners(dump, flt, is_verbose),
              lambda: listeners.listeners_document(dump, flt))


@envoy_view_options()
def route(
    ctx: typer.Context, view: EnvoyView,
    name: RouteNameOption = "",
    verbose: VerboseOption = "true",
) -> None:
    """Envoy routes: NAME, VHOST NAME, DOMAINS, MATCH, VIRTUAL SERVICE (istioctl pc route).

    \b
    Examples:
      ambientctl pc route deploy/bookinfo-gateway-istio --name http.80
      ambientctl pc route --file config_dump.json -o yaml
    """
    from ambientctl.proxy.shapes import gc_paused
    from ambientctl.proxy.envoy import routes

    is_verbose = _bool(verbose, "--verbose")
    with gc_paused():
        dump = view.dump(cli_context(ctx), "route")
        flt = routes.RouteFilter(name)
        view.emit(lambda: routes.format_routes(dump, flt, is_verbose), lambda: routes.routes_document(dump, flt))


@envoy_view_options()
def endpoint(
    ctx: typer.Context, view: EnvoyView,
    address: str = _address_option("Endpoints of this address."),
    port: int = _port_option("Endpoints of this port."),
    cluster_name: str = typer.Option("", "--cluster", help="Endpoints of this cluster."),
    status: str = typer.Option("", "--status", help="HEALTHY, UNHEALTHY, DRAINING, TIMEOUT, DEGRADED or UNKNOWN."),
) -> None:
    """Envoy endpoints: ENDPOINT, STATUS, OUTLIER CHECK, CLUSTER from /clusters (istioctl pc endpoint).

    --file takes the JSON of `/clusters?format=json`, as istioctl's does; given a
    `/config_dump?include_eds` instead, it shows that dump's EDS table (as `pc all` does).

    \b
    Examples:
      ambientctl pc endpoint deploy/waypoint --status healthy
      ambientctl pc endpoint --file clusters.json --cluster 'outbound|9080||reviews.default.svc.cluster.local'
    """
    from ambientctl.proxy.envoy import dump as envoydump
    from ambientctl.proxy.envoy import endpoints
    from ambientctl.proxy.shapes import gc_paused, load_json

    cli = cli_context(ctx)
    flt = endpoints.EndpointFilter(address, port, cluster_name, status)
    with gc_paused():
        data, source = view.load(cli, "endpoint", "/clusters?format=json")
        doc = load_json(data, source)
        if "clusterStatuses" in doc:  # re-encoded by protobuf tooling: Envoy's own spelling first
            doc = envoydump.snake_keys(doc)
        if envoydump.is_envoy_dump(doc):
            dump = envoydump.from_document(doc, source)
            view.emit(lambda: endpoints.format_eds(dump, flt), lambda: endpoints.eds_document(dump, flt))
            return
        view.emit(lambda: endpoints.format_hosts(doc, flt), lambda: endpoints.hosts_document(doc, flt))


@envoy_view_options(ProxyFormat.json)
def bootstrap(
    ctx: typer.Context, view: EnvoyView,
) -> None:
    """The Envoy bootstrap (JSON by default, as istioctl); -o short: Istio and Envoy versions.

    \b
    Examples:
      ambientctl pc bootstrap deploy/waypoint -o short
      ambientctl pc bootstrap --file config_dump.json | jq .bootstrap.node.metadata
    """
    from ambientctl.proxy.shapes import gc_paused
    from ambientctl.proxy.envoy import bootstrap as views

    with gc_paused():
        dump = view.dump(cli_context(ctx), "bootstrap")
        view.emit(lambda: views.format_summary(dump), lambda: views.bootstrap_document(dump))


@envoy_view_options()
def ecds(
    ctx: typer.Context, view: EnvoyView,
) -> None:
    """Extension configs from ECDS (Wasm plugins and other filters): ECDS NAME, TYPE (istioctl pc ecds)."""
    from ambientctl.proxy.shapes import gc_paused
    from ambientctl.proxy.envoy import ecds as views

    with gc_paused():
        dump = view.dump(cli_context(ctx), "ecds")
        view.emit(lambda: views.format_ecds(dump), lambda: views.ecds_document(dump))


@envoy_view_options()
def all_config(
    ctx: typer.Context, view: EnvoyView,
    with_headers: bool = typer.Option(False, "--with-headers", help="A `------ CLUSTER INFO ------` line per section."),
    verbose: VerboseOption = "true",
    fqdn: FqdnOption = "",
    direction: DirectionOption = "",
    subset: SubsetOption = "",
    port: int = _port_option("Clusters, listeners and endpoints of this port."),
    address: str = _address_option("Listeners and endpoints of this address."),
    type_: TypeOption = "",
    name: RouteNameOption = "",
) -> None:
    """Everything: bootstrap, clusters, listeners, routes, secrets, endpoints (istioctl pc all).

    -o json|yaml prints the whole dump (with EDS), as istioctl does.

    \b
    Examples:
      ambientctl pc all deploy/waypoint --with-headers
      ambientctl pc all --file config_dump.json --port 9080
    """
    import datetime as dt

    from ambientctl.proxy.shapes import gc_paused
    from ambientctl.output import print_document, write_stdout
    from ambientctl.proxy.envoy import clusters, endpoints, listeners, routes, summary
    from ambientctl.proxy.envoy import dump as envoydump

    is_verbose = _bool(verbose, "--verbose")
    with gc_paused():
        dump = view.dump(cli_context(ctx), "all", include_eds=True)
        if view.output != ProxyFormat.short:
            print_document(envoydump.redacted(dump.raw), view.output.value)
            return
        filters = summary.AllFilters(clusters.ClusterFilter(fqdn, port, subset, direction),
                                     listeners.ListenerFilter(address, port, type_), routes.RouteFilter(name),
                                     endpoints.EndpointFilter(address, port), is_verbose)
        now = dt.datetime.now(dt.timezone.utc)
        for piece in summary.iter_summary(dump, filters, now, with_headers):
            write_stdout(piece)


def register(root: typer.Typer) -> None:
    """Attach to the proxy-config group (its module adds the group to the root), with istioctl's short names."""
    from ambientctl.cli import proxyconfig

    app = proxyconfig.app
    for name, function in (("cluster", cluster), ("listener", listener), ("route", route), ("endpoint", endpoint),
                           ("bootstrap", bootstrap), ("ecds", ecds), ("all", all_config)):
        app.command(name, cls=BoolValueCommand)(function)
    proxyconfig.ProxyConfigGroup.aliases = {**proxyconfig.ProxyConfigGroup.aliases, **ALIASES}
