"""`pc log`, `zc log` and `pc rootca-compare`: commands that talk to a proxy's admin port.

`register(root)` attaches them to the proxy-config and ztunnel-config groups. The rules (level grammar, the requests each proxy
understands, the ROOTCA comparison) live in `ambientctl.proxy.envoy`; this
module only finds the pods, sends the requests and prints.
"""

# No `from __future__ import annotations`: typer would eval every annotation string at every start.
from typing import Any, Callable, Optional

import typer

from ambientctl.cli.common import cli_context
from ambientctl.cli.options import DEFAULT_PROXY_ADMIN_PORT, ProxyAdminPortOption
from ambientctl.cli.completion import complete_pod_refs
from ambientctl.context import CliContext
from ambientctl.errors import (AmbientctlError, ChecksFailedError, InvalidInputError, NotFoundError, UsageError,
                               raise_first)

_LEVEL_HELP = ("Comma-separated [<logger>:]<level> (level alone: every logger); levels: trace, debug, info, "
               "warning, error, critical, off. Without --level, the current levels are shown.")
_RESET_HELP = "Reset every logger to the default level (Envoy: the mesh's proxy log level, else warning; ztunnel: info)."


def is_ztunnel(pod: dict[str, Any]) -> bool:
    """istioctl's test: the label app=ztunnel (the one rule, in `meshparts`)."""
    from ambientctl.meshparts import is_ztunnel_pod

    return is_ztunnel_pod(pod)


def every_ztunnel(cli: CliContext, namespace: str) -> list[dict[str, Any]]:
    """Every running ztunnel pod of the namespace, by the label every installer gives them (`meshparts`)."""
    from ambientctl.meshparts import ZTUNNEL_POD_SELECTOR, ztunnel_pods

    pods = [p for p in ztunnel_pods(cli.kube, namespace) if (p.get("status") or {}).get("phase") == "Running"]
    if not pods:
        raise NotFoundError(f"no running ztunnel pod ({ZTUNNEL_POD_SELECTOR}) in namespace {namespace}",
                            "check the Istio namespace (-i or -n) and that ztunnel runs there")
    return sorted(pods, key=lambda p: p["metadata"]["name"])


def target_pods(cli: CliContext, ref: Optional[str], selector: Optional[str]) -> list[dict[str, Any]]:
    """Every pod the reference names (`ds/ztunnel`: one per node; a waypoint or gateway name: its pods;
    `svc/NAME`: one pod behind the Service), or the pods matching -l."""
    from ambientctl.kube.pods import is_service_ref, parse_pod_ref, pods_of

    if ref and selector:
        raise UsageError(f"give either a pod ({ref}) or --selector, not both", "drop one of them")
    if selector:
        pods = cli.kube.list("v1", "Pod", cli.namespace, label_selector=selector)
        if not pods:
            raise NotFoundError(f"no pods match selector {selector!r} in namespace {cli.namespace}",
                                "check the labels and the namespace (-n)")
        return sorted(pods, key=lambda p: p["metadata"]["name"])
    if ref and is_service_ref(ref):
        from ambientctl.proxy.envoy.target import resolve_envoy_pod

        return [resolve_envoy_pod(cli.kube, ref, cli.namespace)]
    if ref:
        kind, name, namespace = parse_pod_ref(ref, cli.namespace)
    else:
        raise UsageError("a pod or --selector is required", "e.g. `ambientctl pc log deploy/waypoint`")
    if kind in ("pod", "pods", "po"):
        pod = cli.kube.get_or_none("v1", "Pod", name, namespace)
        if pod is not None:
            return [pod]
        return _gateway_pods(cli, name, namespace, ref or "")
    pods = [p for p in pods_of(cli.kube, kind, name, namespace) if (p.get("status") or {}).get("phase") == "Running"]
    if not pods:
        raise NotFoundError(f"no running pods for {kind}/{name} in namespace {namespace}",
                            "check the name and namespace (-n)")
    return pods


def _gateway_pods(cli: CliContext, name: str, namespace: str, ref: str) -> list[dict[str, Any]]:
    """Every pod of the waypoint or gateway of that name (no pod has the name)."""
    from ambientctl.proxy.envoy.target import GATEWAY_NAME_LABEL

    pods = cli.kube.list("v1", "Pod", namespace, label_selector=f"{GATEWAY_NAME_LABEL}={name}")
    if not pods or "/" in ref:
        raise NotFoundError(f"no pod, waypoint or gateway named {name} in namespace {namespace}",
                            "check the name and the namespace (-n)")
    return sorted(pods, key=lambda p: p["metadata"]["name"])


def _post(cli: CliContext, pod: dict[str, Any], port: int, path: str) -> str:
    from ambientctl.kube.portforward import http_request

    meta = pod["metadata"]
    return http_request(cli.kube, meta["name"], meta["namespace"], port, path, method="POST").decode("utf-8", "replace")


def _for_each(pods: list[dict[str, Any]], action: Callable[[dict[str, Any]], str]) -> None:
    """Run `action` on every pod, print what each answered; one failing pod does not stop the others."""
    from ambientctl.output import write_stdout

    failed: list[tuple[str, AmbientctlError]] = []
    for pod in pods:
        where = f"{pod['metadata']['name']}.{pod['metadata']['namespace']}"
        try:
            write_stdout(action(pod))
        except AmbientctlError as exc:
            failed.append((where, exc))
    raise_first(failed)


def _envoy_log(cli: CliContext, pod: dict[str, Any], port: int, changes: list[Any]) -> str:
    from ambientctl.proxy.envoy import loglevels

    meta = pod["metadata"]
    answer = _post(cli, pod, port, loglevels.LOGGING_PATH)
    for path in loglevels.envoy_paths(changes, loglevels.parse_envoy_loggers(answer)) if changes else ():
        answer = _post(cli, pod, port, path)
    return loglevels.format_answer(meta["name"], meta["namespace"], answer, ztunnel=False)


def _ztunnel_log(cli: CliContext, pod: dict[str, Any], port: int, changes: list[Any], reset: bool) -> str:
    from ambientctl.proxy.envoy import loglevels

    meta = pod["metadata"]
    answer = _post(cli, pod, port, loglevels.ztunnel_path(changes, reset))
    return loglevels.format_answer(meta["name"], meta["namespace"], answer, ztunnel=True)


def _injector_values(cli: CliContext) -> Optional[str]:
    """The injector ConfigMap's `values` (where the mesh's proxy log level is), if there is one."""
    cm = cli.kube.get_or_none("v1", "ConfigMap", "istio-sidecar-injector", cli.istio_namespace)
    return ((cm or {}).get("data") or {}).get("values")


def pc_log(
    ctx: typer.Context,
    pod_ref: Optional[str] = typer.Argument(None, metavar="[<type>/]<name>[.<namespace>]",
                                            help="pod/NAME, NAME[.NS], deploy/NAME, ds/NAME, sts/NAME: every pod.",
                                            autocompletion=complete_pod_refs),
    selector: Optional[str] = typer.Option(None, "--selector", "-l", help="Every pod matching this label selector."),
    level: Optional[str] = typer.Option(None, "--level", help=_LEVEL_HELP),
    reset: bool = typer.Option(False, "--reset", "-r", help=_RESET_HELP),
    proxy_admin_port: ProxyAdminPortOption = DEFAULT_PROXY_ADMIN_PORT,
) -> None:
    """Show or set the log levels of Envoy proxies (waypoints, gateways); ztunnel pods are handled too.

    \b
    Examples:
      ambientctl pc log deploy/waypoint
      ambientctl pc log deploy/waypoint --level http:debug,router:debug
      ambientctl pc log bookinfo-gateway-istio-6b8d4c7f9-p5m2n.default --level info
      ambientctl pc log deploy/waypoint -r
    """
    from ambientctl.proxy.envoy import loglevels

    loglevels.check_reset(level, reset)
    changes = loglevels.parse_levels(level) if level else []
    port = proxy_admin_port
    cli = cli_context(ctx)
    pods = target_pods(cli, pod_ref, selector)
    envoy_reset = loglevels.envoy_reset_changes(_injector_values(cli)) if reset and not all(map(is_ztunnel, pods)) \
        else []
    _for_each(pods, lambda pod: _ztunnel_log(cli, pod, port, changes, reset) if is_ztunnel(pod)
              else _envoy_log(cli, pod, port, envoy_reset or changes))


def zc_log(
    ctx: typer.Context,
    pod_ref: Optional[str] = typer.Argument(None, metavar="[<type>/]<name>[.<namespace>]",
                                            help="A ztunnel pod; default: every ztunnel pod (app=ztunnel).",
                                            autocompletion=complete_pod_refs),
    level: Optional[str] = typer.Option(None, "--level", help=_LEVEL_HELP),
    reset: bool = typer.Option(False, "--reset", "-r", help=_RESET_HELP),
    proxy_admin_port: ProxyAdminPortOption = DEFAULT_PROXY_ADMIN_PORT,
) -> None:
    """Show or set ztunnel's log levels, on every ztunnel (default) or one.

    \b
    Examples:
      ambientctl zc log
      ambientctl zc log --level access:debug,info
      ambientctl zc log ztunnel-4kx9p.istio-system --level off
      ambientctl zc log -r
    """
    from ambientctl.proxy.envoy import loglevels

    loglevels.check_reset(level, reset)
    changes = loglevels.parse_levels(level) if level else []
    port = proxy_admin_port
    cli = cli_context(ctx)
    pods = target_pods(cli, pod_ref, None) if pod_ref else \
        every_ztunnel(cli, cli.options.namespace or cli.istio_namespace)
    for pod in pods:
        if not is_ztunnel(pod):
            raise InvalidInputError(f"pod {pod['metadata']['namespace']}/{pod['metadata']['name']} is not a ztunnel "
                                    "(no label app=ztunnel)", "use `ambientctl pc log` for Envoy-based proxies")
    if reset:
        cli.info(f"resetting to ztunnel's default filter plus {loglevels.ZTUNNEL_DEFAULT_LEVEL}")
    _for_each(pods, lambda pod: _ztunnel_log(cli, pod, port, changes, reset))


# -- rootca-compare -------------------------------------------------------------------------------


def _root_pem(cli: CliContext, pod: dict[str, Any], port: int) -> bytes:
    """The pod's trusted roots: Envoy's ROOTCA secret, or the rootCerts a ztunnel holds."""
    from ambientctl.proxy import sources, ztunneldump
    from ambientctl.kube.portforward import http_get
    from ambientctl.proxy.envoy import dump as envoydump
    from ambientctl.proxy.envoy import secrets

    meta = pod["metadata"]
    where = f"{meta['name']}.{meta['namespace']}"
    dump = ztunneldump.parse(http_get(cli.kube, meta["name"], meta["namespace"], port, sources.CONFIG_DUMP_PATH),
                                f"pod {meta['namespace']}/{meta['name']}")
    if not dump.is_ztunnel:
        try:
            return secrets.root_ca_pem(envoydump.from_document(dump.raw, where))
        except ValueError as exc:
            raise InvalidInputError(f"cannot read the ROOTCA of {where}: {exc}",
                                    "check that the proxy got its certificates (`ambientctl pc secret`)") from None
    roots = [e.pem for ident in dump.identities for e in ident.roots if e.pem is not None]
    if not roots:
        raise InvalidInputError(f"ztunnel {where} holds no root certificates yet",
                                "it gets them with its first workload certificate; check `ambientctl zc certificate`")
    return b"".join(dict.fromkeys(roots))


def rootca_compare(
    ctx: typer.Context,
    first: str = typer.Argument(..., metavar="POD1", help="[pod/]NAME[.NAMESPACE] (or deploy/, ds/, sts/).",
                         autocompletion=complete_pod_refs),
    second: str = typer.Argument(..., metavar="POD2", help="[pod/]NAME[.NAMESPACE] (or deploy/, ds/, sts/).",
                         autocompletion=complete_pod_refs),
    proxy_admin_port: ProxyAdminPortOption = DEFAULT_PROXY_ADMIN_PORT,
) -> None:
    """Do two proxies trust a common root CA? (Envoy proxies, and ztunnels too.)

    Exit code 0 when they share a root certificate, 3 when they do not.

    \b
    Examples:
      ambientctl pc rootca-compare deploy/waypoint.default bookinfo-gateway-istio-6b8d4c7f9-p5m2n.default
    """
    from ambientctl.output import write_stdout
    from ambientctl.proxy.envoy import rootca
    from ambientctl.proxy.envoy.target import resolve_envoy_pod

    port = proxy_admin_port
    cli = cli_context(ctx)
    pods = [resolve_envoy_pod(cli.kube, ref, cli.namespace) for ref in (first, second)]
    names = [f"{p['metadata']['name']}.{p['metadata']['namespace']}" for p in pods]
    pems = [_root_pem(cli, pod, port) for pod in pods]
    try:
        same = rootca.share_a_root(*pems)
    except ValueError as exc:
        raise InvalidInputError(f"cannot compare the ROOTCAs: {exc}", "check both proxies' certificates") from None
    if not same:
        raise ChecksFailedError(rootca.verdict(names[0], names[1], False),
                                "the proxies cannot verify each other's certificates: check the mesh's CA")
    write_stdout(rootca.verdict(names[0], names[1], True) + "\n")


def register(root: typer.Typer) -> None:
    """Attach to the proxy-config and ztunnel-config groups (their modules add the groups to the root)."""
    from ambientctl.cli import proxyconfig, ztunnelconfig

    proxyconfig.app.command("log")(pc_log)
    proxyconfig.app.command("rootca-compare")(rootca_compare)
    ztunnelconfig.app.command("log")(zc_log)
