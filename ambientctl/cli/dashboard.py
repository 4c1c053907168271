"""`ambientctl dashboard` (aliases `dash`, `d`): open a web UI through a port-forward (istioctl dashboard)."""

# No `from __future__ import annotations` here: typer would eval every annotation string at every start.
from typing import TYPE_CHECKING, Any, Callable, Optional

import typer

from ambientctl.cli.common import BoolValuesCommand, cli_context
from ambientctl.cli.options import DEFAULT_PROXY_ADMIN_PORT
from ambientctl.cli.completion import complete_pod_refs
from ambientctl.context import CliContext
from ambientctl.output import write_stdout

if TYPE_CHECKING:
    from ambientctl.dashboard import Target

app = typer.Typer(
    help="Open a web UI through a port-forward: a proxy's admin, ControlZ, istiod's debug page, or an addon "
    "(Kiali, Prometheus, Grafana, Jaeger, Zipkin, SkyWalking). Prints the URL and forwards until Ctrl-C.",
    no_args_is_help=True,
)

_PORT_HELP = "Local port (default: the remote port if free, else a free one)."
_ADDRESS_HELP = "Address to listen on: an IP, or localhost (127.0.0.1 and ::1)."
_BROWSER_HELP = "Open a browser (--browser=false or --no-browser: only print the URL)."


def _port_option() -> int:
    return typer.Option(0, "--port", "-p", min=0, max=65535, help=_PORT_HELP)


def _address_option() -> str:
    return typer.Option("localhost", "--address", help=_ADDRESS_HELP)


def _browser_option() -> bool:
    return typer.Option(True, "--browser/--no-browser", help=_BROWSER_HELP)


def _selector_option() -> Optional[str]:
    return typer.Option(None, "--selector", "-l", help="Label selector picking the pod (instead of a name).")


def _istiod_pod_argument() -> Optional[str]:
    return typer.Argument(None, metavar="[<type>/]<name>[.<namespace>]", help="An istiod pod, or deploy/istiod.")


def _check_flags(address: str, browser: bool) -> bool:
    """--address is checked before any cluster call; returns whether to open a browser."""
    from ambientctl.kube.forward import listen_addresses

    listen_addresses(address)
    return browser


def _find_pod(ctx: typer.Context, pod: Optional[str], selector: Optional[str], address: str, browser: bool,
              in_istio_namespace: bool) -> tuple[CliContext, dict, bool]:
    """The checks and pod lookup every pod-based target shares: (context, pod, open a browser?).

    istiod's targets look in the Istio namespace unless -n was given; a proxy in the namespace.
    """
    from ambientctl.dashboard import check_pod_args, pod_from_args

    cli = cli_context(ctx)
    check_pod_args(pod, selector)
    want_browser = _check_flags(address, browser)
    namespace = cli.istio_namespace if in_istio_namespace and not cli.options.namespace else cli.namespace
    return cli, pod_from_args(cli.kube, pod, selector, namespace, cli.warn), want_browser


def _open_pod_page(ctx: typer.Context, pod: Optional[str], selector: Optional[str], port: int, address: str,
                   browser: bool, title: str, remote_port: Callable[[dict[str, Any]], int], path: str = "",
                   in_istio_namespace: bool = True) -> None:
    """Find the pod, then serve `remote_port(pod)` and `path` of it: the body of every pod-based target."""
    from ambientctl.dashboard import Target

    cli, found, want_browser = _find_pod(ctx, pod, selector, address, browser, in_istio_namespace)
    meta = found["metadata"]
    target = Target(f"{title} {meta['name']}", meta["name"], meta["namespace"], remote_port(found), path)
    _serve(cli, target, address, port, want_browser)


def _serve(cli: CliContext, target: "Target", address: str, port: int, want_browser: bool) -> None:
    """Listen, check the pod answers port-forwards, print the URL, forward until Ctrl-C (exit 0)."""
    from ambientctl.dashboard import open_browser, url_for
    from ambientctl.kube.forward import PortForwarder, bind_listeners

    listeners = bind_listeners(address, [port] if port else [target.port, 0])
    forwarder = PortForwarder(cli.kube, target.pod, target.namespace, target.port, listeners, on_error=cli.warn)
    try:
        forwarder.check()
    except BaseException:
        forwarder.close()
        raise
    url = url_for(address, forwarder.port, target.path)
    write_stdout(url + "\n")
    cli.info(f"Forwarding {url} -> {target.title} {target.namespace}/{target.pod}:{target.port} (Ctrl-C to stop)")
    if want_browser:
        problem = open_browser(url)
        if problem:
            cli.info(problem)
    try:
        forwarder.serve()
    except KeyboardInterrupt:
        cli.info("Stopped forwarding.")
    finally:
        forwarder.close()


def _addon_command(name: str):  # noqa: ANN202 - a typer command function
    def command(
        ctx: typer.Context,
        port: int = _port_option(),
        address: str = _address_option(),
        browser: bool = _browser_option(),
        ui_port: Optional[int] = typer.Option(None, "--ui-port", min=1, max=65535,
                                              help="The addon's UI port in its pod (default: its usual port)."),
    ) -> None:
        from ambientctl.dashboard import ADDONS, find_addon

        cli = cli_context(ctx)
        want_browser = _check_flags(address, browser)
        target = find_addon(cli.kube, ADDONS[name], [cli.istio_namespace, cli.namespace], ui_port)
        _serve(cli, target, address, port, want_browser)

    from ambientctl.dashboard import ADDONS

    addon = ADDONS[name]
    command.__doc__ = (f"Open {addon.title}'s web UI (pod {addon.selector}, port {addon.port}{addon.path}), "
                       f"found in the Istio namespace or -n.")
    command.__name__ = name
    return command


def proxy(
    ctx: typer.Context,
    pod: Optional[str] = typer.Argument(None, metavar="[<type>/]<name>[.<namespace>]",
                                        help="The proxy's pod: NAME, ds/ztunnel, deploy/NAME (waypoint).",
                                        autocompletion=complete_pod_refs),
    selector: Optional[str] = _selector_option(),
    port: int = _port_option(),
    address: str = _address_option(),
    browser: bool = _browser_option(),
    ui_port: int = typer.Option(DEFAULT_PROXY_ADMIN_PORT, "--ui-port", "--proxy-admin-port", min=1, max=65535,
                                help="The proxy's admin port."),
) -> None:
    """Open the admin page of a proxy: a ztunnel, a waypoint or a sidecar (port 15000).

    \b
    Examples:
      ambientctl dashboard proxy ds/ztunnel -n istio-system --browser=false
      ambientctl dashboard proxy deploy/waypoint -n bookinfo
      ambientctl d proxy -l gateway.networking.k8s.io/gateway-name=waypoint -n bookinfo
    """
    _open_pod_page(ctx, pod, selector, port, address, browser, "proxy admin of", lambda _: ui_port,
                   in_istio_namespace=False)


def controlz(
    ctx: typer.Context,
    pod: Optional[str] = _istiod_pod_argument(),
    selector: Optional[str] = _selector_option(),
    port: int = _port_option(),
    address: str = _address_option(),
    browser: bool = _browser_option(),
    ctrlz_port: int = typer.Option(9876, "--ctrlz_port", "--ctrlz-port", min=1, max=65535, help="ControlZ port."),
) -> None:
    """Open istiod's ControlZ page (port 9876); the pod is looked up in the Istio namespace unless -n is given.

    \b
    Examples:
      ambientctl dashboard controlz deploy/istiod
      ambientctl dashboard controlz -l app=istiod --browser=false
    """
    _open_pod_page(ctx, pod, selector, port, address, browser, "ControlZ", lambda _: ctrlz_port)


def istiod_debug(
    ctx: typer.Context,
    pod: Optional[str] = _istiod_pod_argument(),
    selector: Optional[str] = _selector_option(),
    port: int = _port_option(),
    address: str = _address_option(),
    browser: bool = _browser_option(),
) -> None:
    """Open istiod's debug page (/debug on its monitoring port, 15014); Istio namespace unless -n is given.

    \b
    Examples:
      ambientctl dashboard istiod-debug deploy/istiod --browser=false
    """
    from ambientctl.workloads import monitoring_port

    _open_pod_page(ctx, pod, selector, port, address, browser, "Istio debug", monitoring_port, "/debug")


app.command("proxy", cls=BoolValuesCommand)(proxy)
app.command("envoy", cls=BoolValuesCommand, help="Alias of `dashboard proxy` (istioctl's older name).")(proxy)
app.command("controlz", cls=BoolValuesCommand)(controlz)
app.command("istiod-debug", cls=BoolValuesCommand)(istiod_debug)
for _name in ("kiali", "prometheus", "grafana", "jaeger", "zipkin", "skywalking"):
    app.command(_name, cls=BoolValuesCommand)(_addon_command(_name))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="dashboard")
    root.add_typer(app, name="dash", hidden=True)
    root.add_typer(app, name="d", hidden=True)
