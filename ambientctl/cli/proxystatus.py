"""`ambientctl proxy-status` (alias `ps`): istiod's xDS sync state of every connected proxy.

istiod is read over HTTP on its monitoring port (15014): `/debug/syncz` for
the list, `/debug/config_dump?proxyID=POD.NS` for one proxy's diff. In a
cluster that goes through the API server's port-forward to each running
istiod pod (istiod serves its debug endpoints to localhost, which a
port-forward is); `--istiod-address HOST:PORT` reads one istiod directly
(an istiod run out of cluster, or a `kubectl port-forward` you keep open).
istioctl asks the same data over XDS on port 15012 instead.
"""

# No `from __future__ import annotations`: typer would eval every annotation string at every start.
from enum import Enum
from typing import Any, Optional

import typer

from ambientctl.cli.common import cli_context
from ambientctl.cli.options import DEFAULT_PROXY_ADMIN_PORT, FileOption, ProxyAdminPortOption
from ambientctl.cli.completion import complete_pod_refs, complete_revisions
from ambientctl.context import CliContext
from ambientctl.errors import ApiServerError, ClusterUnreachableError, NotFoundError, UsageError



class StatusFormat(str, Enum):
    table = "table"
    short = "short"
    json = "json"
    yaml = "yaml"


def _istiod_pods(cli: CliContext, revision: Optional[str]) -> list[dict[str, Any]]:
    from ambientctl.meshparts import istiod_pod_selector

    selector = istiod_pod_selector(revision)
    pods = [p for p in cli.kube.list("v1", "Pod", cli.istio_namespace, label_selector=selector)
            if (p.get("status") or {}).get("phase") == "Running"]
    if not pods:
        raise NotFoundError(f"no running istiod pod ({selector}) in namespace {cli.istio_namespace}",
                            "check the Istio namespace (-i) and --revision")
    return sorted(pods, key=lambda p: p["metadata"]["name"])


def _direct_get(address: str, path: str, timeout: float) -> tuple[int, bytes]:
    """GET http://ADDRESS/PATH on an istiod reached without the API server; (status, body)."""
    import urllib.error
    import urllib.request

    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or "/" in address:
        raise UsageError(f"invalid --istiod-address {address!r}", "use HOST:PORT, e.g. localhost:15014")
    try:
        with urllib.request.urlopen(f"http://{address}{path}", timeout=timeout) as answer:  # noqa: S310 - http only
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ClusterUnreachableError(f"cannot reach istiod at {address}: {reason}",
                                      "check the address, or drop --istiod-address to go through the cluster") from None


class Istiod:
    """One istiod and how to GET from its debug port: through a port-forward, or directly."""

    def __init__(self, cli: CliContext, name: str, pod: Optional[dict[str, Any]], address: Optional[str]) -> None:
        self.cli, self.name, self.pod, self.address = cli, name, pod, address

    def get(self, path: str) -> tuple[int, bytes]:
        if self.address:
            return _direct_get(self.address, path, self.cli.options.request_timeout)
        from ambientctl.kube.portforward import HttpAnswerError, http_get
        from ambientctl.proxy.envoy.status import MONITORING_PORT

        meta = (self.pod or {})["metadata"]
        try:
            return 200, http_get(self.cli.kube, meta["name"], meta["namespace"], MONITORING_PORT, path)
        except HttpAnswerError as exc:
            return exc.status, exc.body


def istiods(cli: CliContext, address: Optional[str], revision: Optional[str]) -> list[Istiod]:
    if address:
        return [Istiod(cli, address, None, address)]
    return [Istiod(cli, p["metadata"]["name"], p, None) for p in _istiod_pods(cli, revision)]


def _read_syncz(cli: CliContext, found: list[Istiod], namespace: Optional[str]) -> list[Any]:
    from urllib.parse import quote

    from ambientctl.output import progress
    from ambientctl.proxy.envoy import status

    proxies = []
    query = f"?namespace={quote(namespace, safe='')}" if namespace else ""
    for istiod in found:
        with progress(cli, f"Reading {status.SYNCZ_PATH} of istiod {istiod.name}"):
            code, body = istiod.get(status.SYNCZ_PATH + query)
        if code != 200:
            raise ApiServerError(f"istiod {istiod.name} answered HTTP {code} on {status.SYNCZ_PATH}",
                                 "check that its debug endpoints are enabled (ENABLE_DEBUG_ON_HTTP)")
        proxies.extend(status.parse_syncz(body, istiod.name, f"istiod {istiod.name}"))
    return status.in_namespace(proxies, namespace)


def _proxy_dump(cli: CliContext, pod: dict[str, Any], port: int, file: Optional[str]) -> bytes:
    from ambientctl.proxy import sources
    from ambientctl.kube.portforward import http_get
    from ambientctl.output import progress

    if file:
        return sources.read_dump_file(file)
    meta = pod["metadata"]
    with progress(cli, f"Reading /config_dump of pod {meta['namespace']}/{meta['name']}"):
        return http_get(cli.kube, meta["name"], meta["namespace"], port, sources.CONFIG_DUMP_PATH)


def _istiod_view(cli: CliContext, found: list[Istiod], proxy_id: str) -> bytes:
    """istiod's config for the proxy, from the first istiod it is connected to."""
    from urllib.parse import quote

    from ambientctl.proxy.envoy import status

    path = f"{status.CONFIG_DUMP_PATH}?proxyID={quote(proxy_id, safe='')}"
    for istiod in found:
        code, body = istiod.get(path)
        if code == 200:
            return body
        if code != 404:
            raise ApiServerError(f"istiod {istiod.name} answered HTTP {code} on {status.CONFIG_DUMP_PATH}: "
                                 f"{body.decode('utf-8', 'replace').strip()[:200]}", "check istiod's logs")
    raise NotFoundError(f"proxy {proxy_id} is not connected to "
                        + (f"istiod {found[0].name}" if len(found) == 1 else f"any of {len(found)} istiods"),
                        "check `ambientctl proxy-status` for the proxies istiod knows")


def _diff(cli: CliContext, ref: str, found: list[Istiod], port: int, file: Optional[str]) -> None:
    from ambientctl.cli.proxyadmin import is_ztunnel
    from ambientctl.output import write_stdout
    from ambientctl.proxy.envoy import dump as envoydump
    from ambientctl.proxy.envoy import status
    from ambientctl.proxy.envoy.target import resolve_envoy_pod

    pod = resolve_envoy_pod(cli.kube, ref, cli.namespace)
    name, namespace = pod["metadata"]["name"], pod["metadata"]["namespace"]
    if is_ztunnel(pod):
        write_stdout(status.ztunnel_message(name, namespace))
        return
    proxy = envoydump.parse(_proxy_dump(cli, pod, port, file), file or f"pod {namespace}/{name}")
    theirs = envoydump.parse(_istiod_view(cli, found, f"{name}.{namespace}"), "istiod's config for the proxy")
    write_stdout(status.format_diff(theirs, proxy))


def proxy_status(
    ctx: typer.Context,
    pod_ref: Optional[str] = typer.Argument(
        None, metavar="[[<type>/]<name>[.<namespace>]]",
        help="One proxy: show the diff between istiod's config for it and its own (Envoy proxies).",
        autocompletion=complete_pod_refs),
    output: StatusFormat = typer.Option(StatusFormat.table, "--output", "-o",
                                        help="table (istioctl's), json or yaml (one list of proxies)."),
    verbosity: int = typer.Option(0, "--verbosity", "-v", min=0, max=1,
                                  help="1: one column per xDS type with its state and age."),
    revision: Optional[str] = typer.Option(None, "--revision", "-r", help="Only the istiod of this revision.",
                                            autocompletion=complete_revisions),
    istiod_address: Optional[str] = typer.Option(
        None, "--istiod-address",
        help="Read istiod's debug port (15014) at HOST:PORT directly instead of through the cluster."),
    file: FileOption = None,
    proxy_admin_port: ProxyAdminPortOption = DEFAULT_PROXY_ADMIN_PORT,
) -> None:
    """The xDS sync state istiod holds for every proxy connected to it (ztunnels, waypoints, gateways).

    NAME, CLUSTER, ISTIOD, VERSION and the xDS types each proxy subscribed to;
    `-v 1` shows each type's state (SYNCED, STALE, NOT SENT, ERROR) and age.
    With -n, only the proxies of that namespace.

    \b
    Examples:
      ambientctl proxy-status
      ambientctl ps -n istio-system -v 1
      ambientctl ps deploy/waypoint.default
      ambientctl ps --istiod-address localhost:15014 -o json
    """
    from ambientctl.output import print_document, write_stdout
    from ambientctl.proxy.envoy import status

    port = proxy_admin_port
    if file and not pod_ref:
        raise UsageError("--file is the saved dump of one proxy: give that proxy's pod too",
                         "e.g. `ambientctl ps waypoint-7d9c8b9f5-x2kq4.default --file dump.json`")
    cli = cli_context(ctx)
    found = istiods(cli, istiod_address, revision)
    if pod_ref:
        if output not in (StatusFormat.table, StatusFormat.short):
            raise UsageError("-o json|yaml lists proxies; the diff of one proxy is text", "drop -o")
        _diff(cli, pod_ref, found, port, file)
        return
    namespace = cli.options.namespace
    if namespace:
        from ambientctl.names import validate_namespace

        validate_namespace(namespace, "-n/--namespace")
    proxies = _read_syncz(cli, found, namespace)
    if output in (StatusFormat.json, StatusFormat.yaml):
        print_document(status.status_document(proxies), output.value)
    elif verbosity:
        import datetime as dt

        write_stdout(status.format_verbose(proxies, dt.datetime.now(dt.timezone.utc)))
    else:
        write_stdout(status.format_table(proxies))
    if not proxies:
        cli.info("no proxy is connected to istiod" + (f" in namespace {namespace}" if namespace else ""))


def register(root: typer.Typer) -> None:
    """`proxy-status`, its alias `ps`, and istioctl's hidden `x proxy-status`."""
    from ambientctl.cli.experimental import x_app

    root.command("proxy-status")(proxy_status)
    root.command("ps", hidden=True)(proxy_status)
    x_app.command("proxy-status", hidden=True)(proxy_status)
