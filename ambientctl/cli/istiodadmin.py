"""`admin log` (alias `istiod log`), `remote-clusters` and `x internal-debug`: istiod's own admin surfaces.

The rules (scope grammar, plans, tables, endpoint names) live in
`ambientctl.istiod`; this module reads flags, finds the pods and prints.
"""

# No `from __future__ import annotations`: typer would eval every annotation string at every start.
from enum import Enum
from typing import Any, Optional

import typer

from ambientctl.cli.common import cli_context, refused_option
from ambientctl.cli.options import output_option
from ambientctl.context import CliContext
from ambientctl.errors import AmbientctlError, UsageError, raise_first
from ambientctl.istiod.pods import ISTIOD_SELECTOR  # the one definition (meshparts)

_SELECTOR_KEY = "ambientctl.istiod_selector"

admin_app = typer.Typer(help="Manage istiod: its logging scopes (istioctl's `admin`, alias `istiod`).",
                        no_args_is_help=True)


class ScopeFormat(str, Enum):
    short = "short"
    json = "json"
    yaml = "yaml"


class TableFormat(str, Enum):
    table = "table"
    json = "json"
    yaml = "yaml"


@admin_app.callback()
def admin_group(
    ctx: typer.Context,
    selector: Optional[str] = typer.Option(None, "--selector", "-l",
                                           help="istiod pods by label (default app=istiod)."),
) -> None:
    """istioctl's `admin -l`: the selector also applies to the subcommands."""
    if selector:
        ctx.meta[_SELECTOR_KEY] = selector


def _where(pod: dict[str, Any]) -> str:
    return f"{pod['metadata']['name']}.{pod['metadata']['namespace']}"


def _istiods_for_log(cli: CliContext, pod_name: Optional[str], selector: str,
                     revision: Optional[str]) -> list[dict[str, Any]]:
    """The named pod (in the Istio namespace unless NAME.NS), or every running istiod of one revision."""
    from ambientctl.errors import NotFoundError
    from ambientctl.istiod import pods

    if pod_name:
        name, _, namespace = pod_name.partition(".")
        namespace = namespace or cli.istio_namespace
        pod = cli.kube.get_or_none("v1", "Pod", name, namespace)
        if pod is None:
            raise NotFoundError(f"no pod {name} in namespace {namespace}",
                                "name an istiod pod (`kubectl get pods -l app=istiod -n istio-system`)")
        return [pod]
    found = pods.running_istiods(cli.kube, cli.istio_namespace, selector, revision)
    if revision:
        return found
    found, note = pods.one_revision(found)
    if note:
        cli.info(note)
    return found


def admin_log(
    ctx: typer.Context,
    pod_name: Optional[str] = typer.Argument(None, metavar="[<pod-name>[.<namespace>]]",
                                             help="One istiod pod; default: every running istiod of the revision."),
    level: Optional[str] = typer.Option(
        None, "--level", help="SCOPE:LEVEL[,SCOPE:LEVEL...]; levels: none, error, warn, info, debug."),
    stack_trace_level: Optional[str] = typer.Option(
        None, "--stack-trace-level", help="SCOPE:LEVEL[,...]: from which level a log line carries a stack trace."),
    reset: bool = typer.Option(False, "--reset", help="Every scope to log level info and stack trace level none."),
    log_reset: bool = typer.Option(False, "--log-reset", help="Every scope's log level to info."),
    stack_trace_reset: bool = typer.Option(False, "--stack-trace-reset", help="Every scope's stack trace level to none."),
    output: ScopeFormat = output_option(ScopeFormat.short, "short (istioctl's table), json or yaml."),
    revision: Optional[str] = typer.Option(None, "--revision", "-r", help="Only the istiod of this revision."),
    selector: Optional[str] = typer.Option(None, "--selector", "-l", help="istiod pods by label (default app=istiod)."),
    ctrlz_port: int = typer.Option(9876, "--ctrlz_port", "--ctrlz-port", min=1, max=65535, help="ControlZ port."),
) -> None:
    """Show or change istiod's logging scopes (through ControlZ), on every istiod pod of the revision.

    \b
    Examples:
      ambientctl admin log
      ambientctl admin log --level ads:debug,authorization:debug --stack-trace-level ads:error
      ambientctl admin log istiod-5c868d8bdd-pmvgg -o json
      ambientctl admin log --reset
    """
    from ambientctl.istiod import controlz

    controlz.check_flags(level, stack_trace_level, reset, log_reset, stack_trace_reset)
    levels = controlz.parse_pairs(level, "--level") if level else {}
    traces = controlz.parse_pairs(stack_trace_level, "--stack-trace-level") if stack_trace_level else {}
    if pod_name and (selector or revision):
        raise UsageError("give either an istiod pod or --selector/--revision, not both", "drop one of them")
    cli = cli_context(ctx)
    chosen = selector or ctx.meta.get(_SELECTOR_KEY) or ISTIOD_SELECTOR
    istiods = _istiods_for_log(cli, pod_name, chosen, revision)
    if levels or traces or reset or log_reset or stack_trace_reset:
        _change(cli, istiods, ctrlz_port, levels, traces, reset=reset, log_reset=log_reset,
                stack_trace_reset=stack_trace_reset)
    else:
        _list(cli, istiods, ctrlz_port, output.value)


def _list(cli: CliContext, istiods: list[dict[str, Any]], port: int, fmt: str) -> None:
    """The first pod's scopes (istioctl's output); a stderr line names other pods whose levels differ."""
    from ambientctl.istiod import admin, controlz
    from ambientctl.output import print_document, write_stdout

    first = admin.read_scopes(cli.kube, istiods[0], port)
    for other in istiods[1:]:
        differ = controlz.differences(first, admin.read_scopes(cli.kube, other, port))
        if differ:
            cli.info(f"{admin.where(other)} has other levels than {admin.where(istiods[0])} for: {', '.join(differ)}")
    if fmt == "short":
        write_stdout(controlz.format_short(first))
    else:
        print_document(controlz.document(first), fmt)


def _change(cli: CliContext, istiods: list[dict[str, Any]], port: int, levels: dict[str, str],
            traces: dict[str, str], **resets: bool) -> None:
    """Plan every pod's changes first (unknown scopes refused before any PUT), then PUT them pod by pod."""
    from ambientctl.istiod import admin, controlz

    plans = [(pod, controlz.plan(admin.read_scopes(cli.kube, pod, port), levels, traces, **resets))
             for pod in istiods]
    for pod, scopes in plans:
        admin.put_scopes(cli.kube, pod, port, scopes)
        cli.info(f"{admin.where(pod)}: {len(scopes)} scope(s) changed")


# -- remote-clusters -----------------------------------------------------------------------------------


def remote_clusters(
    ctx: typer.Context,
    revision: Optional[str] = typer.Option(None, "--revision", "-r", help="Only the istiod of this revision."),
    output: TableFormat = output_option(TableFormat.table, "table (istioctl's), json or yaml."),
) -> None:
    """The clusters each istiod reads (its /debug/clusterz): NAME, SECRET, STATUS, ISTIOD, REVISION.

    \b
    Examples:
      ambientctl remote-clusters
      ambientctl remote-clusters -r canary -o yaml
    """
    from ambientctl.istiod import admin, debug, pods
    from ambientctl.output import print_document, write_stdout

    cli = cli_context(ctx)
    istiods = pods.running_istiods(cli.kube, cli.istio_namespace, ISTIOD_SELECTOR, revision)
    rows: list[debug.RemoteCluster] = []
    failed: list[tuple[str, AmbientctlError]] = []
    for pod in istiods:
        try:
            body = admin.debug_get(cli.kube, pod, debug.CLUSTERZ_PATH)
            rows += debug.parse_clusterz(body, pod["metadata"]["name"], pods.revision_of(pod))
        except AmbientctlError as exc:
            failed.append((f"istiod {admin.where(pod)}", exc))
    if output.value == "table":
        write_stdout(debug.format_remote_clusters(rows))
    else:
        print_document(debug.remote_clusters_document(rows), output.value)
    raise_first(failed, "istiod")


# -- x internal-debug ------------------------------------------------------------------------------------

_XDS_REASON = "ambientctl reads istiod's HTTP debug port (15014) through a port-forward, not XDS"
_XDS_USE = "drop it; the API server's port-forward reaches istiod"


def internal_debug(
    ctx: typer.Context,
    endpoint: Optional[str] = typer.Argument(None, metavar="ENDPOINT",
                                             help="A debug endpoint: syncz, configz, registryz, ... (see --list)."),
    proxy: Optional[str] = typer.Argument(None, metavar="[PROXY]",
                                          help="POD.NAMESPACE of one proxy (sent as ?proxyID=)."),
    list_endpoints: bool = typer.Option(False, "--list", "-L", help="List istiod's debug endpoints."),
    all_istiods: bool = typer.Option(False, "--all", help="Ask every istiod, not only the first."),
    revision: Optional[str] = typer.Option(None, "--revision", "-r", help="Only the istiod of this revision."),
    xds_label: Optional[str] = typer.Option(None, "--xds-label", help="istiod pods by label (default app=istiod)."),
    xds_address: Optional[str] = refused_option("--xds-address", reason=_XDS_REASON, use=_XDS_USE),
    cert_dir: Optional[str] = refused_option("--cert-dir", reason=_XDS_REASON, use=_XDS_USE),
    authority: Optional[str] = refused_option("--authority", reason=_XDS_REASON, use=_XDS_USE),
    xds_port: Optional[str] = refused_option("--xds-port", reason=_XDS_REASON, use=_XDS_USE),
    insecure: bool = refused_option("--insecure", reason=_XDS_REASON, use=_XDS_USE, flag=True),
    plaintext: bool = refused_option("--plaintext", reason=_XDS_REASON, use=_XDS_USE, flag=True),
    timeout: Optional[str] = typer.Option(None, "--timeout", help="How long to wait for istiod (a duration, e.g. 30s)."),
) -> None:
    """istiod's debug endpoints (/debug/ENDPOINT on its monitoring port, through a port-forward).

    \b
    Examples:
      ambientctl x internal-debug --list
      ambientctl x internal-debug syncz
      ambientctl x internal-debug configz --all
      ambientctl x internal-debug config_dump waypoint-6b8d4c7f9-p5m2n.bookinfo
    """
    from ambientctl.istiod import admin, debug, pods
    from ambientctl.output import write_stdout

    if list_endpoints == bool(endpoint):
        raise UsageError("give one debug endpoint or --list", "e.g. `ambientctl x internal-debug syncz`")
    path = debug.LIST_PATH if list_endpoints else debug.endpoint_path(endpoint or "", proxy)
    seconds = _seconds(timeout)
    cli = cli_context(ctx)
    istiods = pods.running_istiods(cli.kube, cli.istio_namespace, xds_label or ISTIOD_SELECTOR, revision)
    if not all_istiods:
        istiods = istiods[:1]
    answers: dict[str, bytes] = {}
    failed: list[tuple[str, AmbientctlError]] = []
    for pod in istiods:
        try:
            answers[admin.where(pod)] = admin.debug_get(cli.kube, pod, path, seconds)
        except AmbientctlError as exc:
            failed.append((f"istiod {admin.where(pod)}", exc))
    if answers:
        write_stdout(debug.format_list(answers) if list_endpoints else debug.format_answers(answers, all_istiods))
    raise_first(failed, "istiod")


def _seconds(timeout: Optional[str]) -> Optional[float]:
    """istioctl's --timeout (a Go duration) in seconds; None keeps --request-timeout."""
    if timeout is None:
        return None
    from ambientctl.durations import parse_duration

    seconds = parse_duration(timeout, "--timeout")
    if seconds <= 0:
        raise UsageError(f"--timeout {timeout} is not positive", "e.g. --timeout 30s")
    return seconds


def register(root: typer.Typer) -> None:
    """`admin` (and its alias `istiod`), `remote-clusters`, and `internal-debug` on `x`."""
    from ambientctl.cli.experimental import x_app

    admin_app.command("log")(admin_log)
    admin_app.command("l", hidden=True, help="Alias of log.")(admin_log)
    root.add_typer(admin_app, name="admin")
    root.add_typer(admin_app, name="istiod", hidden=True)
    root.command("remote-clusters")(remote_clusters)
    x_app.command("internal-debug")(internal_debug)
