"""`ambientctl waypoint generate|apply|list|status|delete`: istioctl's waypoint commands, plus per-service-account waypoints."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, List, Optional

import typer

from ambientctl.cli.common import BoolValuesCommand, cli_context
from ambientctl.cli.options import table_output_option
from ambientctl.cli.completion import complete_revisions, complete_waypoints
from ambientctl.context import CliContext
from ambientctl.durations import parse_duration
from ambientctl.errors import KubeTimeoutError, NotFoundError, UsageError
from ambientctl.gateways import WAYPOINT_CLASS
from ambientctl.labels import USE_WAYPOINT_LABEL
from ambientctl.output import OutputFormat, check_line, print_records, write_stdout

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient
    from ambientctl.waypoint.attach import LabelChange
    from ambientctl.waypoint.manifest import WaypointSpec

# The domain modules (ambientctl.waypoint.*) are imported inside each command, so
# loading the CLI for any other command does not pay for it.

app = typer.Typer(help="Manage waypoints: the L7 proxies of the ambient mesh.", no_args_is_help=True)

_NAME_HELP = "Name of the waypoint (default: waypoint, or <service account>-waypoint with --service-account)."
_FOR_HELP = "Traffic the waypoint handles: all, none, service, workload (label istio.io/waypoint-for; default: istiod's, service)."
_REVISION_HELP = "Control-plane revision to label the waypoint with (istio.io/rev)."
_SA_HELP = "Make this the waypoint of one service account (the guide's per-account waypoint)."
_CLASS_HELP = f"GatewayClass of the waypoint (default {WAYPOINT_CLASS})."

# The options `generate` and `apply` share, declared once.
NameOption = Annotated[Optional[str], typer.Option("--name", help=_NAME_HELP)]
ForOption = Annotated[Optional[str], typer.Option("--for", help=_FOR_HELP)]
RevisionOption = Annotated[Optional[str], typer.Option("--revision", "-r", help=_REVISION_HELP,
                                                       autocompletion=complete_revisions)]
ClassOption = Annotated[Optional[str], typer.Option("--gateway-class", help=_CLASS_HELP)]
TimeoutOption = Annotated[str, typer.Option("--waypoint-timeout", help="How long --wait waits (e.g. 90s, 2m).")]
# istioctl's `waypoint --name` (a flag of the group) on the commands that read or delete waypoints.
SelectNameOption = Annotated[Optional[str], typer.Option(
    "--name", help="Only this waypoint (istioctl's --name; same as giving NAME).", autocompletion=complete_waypoints)]


def _spec(
    cli: CliContext, *, name: Optional[str], traffic_type: Optional[str], revision: Optional[str],
    gateway_class: Optional[str], service_account: Optional[str], namespace: Optional[str],
) -> WaypointSpec:
    from ambientctl.waypoint import manifest

    spec, warnings = manifest.make_spec(
        name=name, namespace=namespace, traffic_type=traffic_type, revision=revision,
        gateway_class=gateway_class, service_account=service_account,
    )
    for warning in warnings:
        cli.warn(warning)
    return spec


@app.command("generate", cls=BoolValuesCommand)
def generate(
    ctx: typer.Context,
    name: NameOption = None,
    traffic_type: ForOption = None,
    revision: RevisionOption = None,
    service_account: Optional[str] = typer.Option(None, "--service-account", help=_SA_HELP),
    gateway_class: ClassOption = None,
) -> None:
    """Print the waypoint Gateway as YAML (needs no cluster).

    \b
    Examples:
      ambientctl waypoint generate -n default
      ambientctl waypoint generate --service-account bookinfo-productpage -n default | kubectl apply -f -
    """
    from ambientctl.waypoint import manifest
    from ambientctl.output import format_yaml

    cli = cli_context(ctx)
    spec = _spec(cli, name=name, traffic_type=traffic_type, revision=revision, gateway_class=gateway_class,
                 service_account=service_account, namespace=cli.options.namespace)
    write_stdout(format_yaml(manifest.gateway_manifest(spec)))


@app.command("apply", cls=BoolValuesCommand)
def apply(
    ctx: typer.Context,
    name: NameOption = None,
    traffic_type: ForOption = None,
    revision: RevisionOption = None,
    service_account: Optional[str] = typer.Option(None, "--service-account", help=_SA_HELP + " Labels the Services "
                                                  "that front its pods with istio.io/use-waypoint."),
    gateway_class: ClassOption = None,
    enroll_namespace: bool = typer.Option(False, "--enroll-namespace", help="Label the namespace istio.io/use-waypoint=NAME."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Repoint a namespace or Service that uses another waypoint."),
    wait: bool = typer.Option(False, "--wait", "-w", help="Wait until the waypoint is Programmed."),
    waypoint_timeout: TimeoutOption = "90s",
) -> None:
    """Apply a waypoint to the namespace (server-side apply), and attach it if asked.

    With --service-account the waypoint is named <account>-waypoint and the
    Services fronting its pods get istio.io/use-waypoint (current Istio
    attaches waypoints with that label, not by service account).

    \b
    Examples:
      ambientctl waypoint apply -n default --enroll-namespace --wait
      ambientctl waypoint apply -n default --service-account bookinfo-productpage
    """
    from ambientctl.waypoint import attach, cluster, manifest

    cli = cli_context(ctx)
    spec = _spec(cli, name=name, traffic_type=traffic_type, revision=revision, gateway_class=gateway_class,
                 service_account=service_account, namespace=None)
    timeout = parse_duration(waypoint_timeout, "--waypoint-timeout")
    namespace = cli.namespace  # validated by CliContext
    spec = manifest.WaypointSpec(spec.name, namespace, spec.traffic_type, spec.revision, spec.gateway_class,
                           spec.service_account)
    kube = cli.kube
    _require_waypoint_permissions(kube, namespace, ["create", "patch"], enroll_namespace, bool(service_account))
    if spec.revision:
        _warn_without_control_plane(cli, spec.revision)
    if enroll_namespace:
        for warning in attach.check_namespace_enrollment(kube, namespace, spec.name, overwrite):
            cli.warn(warning)
    elif service_account:
        for warning in attach.namespace_ambient_warnings(kube, namespace):
            cli.warn(warning)
    _, warnings = cluster.apply_gateway(kube, spec)
    for warning in warnings:
        cli.warn(warning)
    _say(cli, check_line(True, f"waypoint {namespace}/{spec.name} applied"))
    if wait:
        _wait(cli, spec.name, namespace, timeout)
    if service_account:
        result = attach.attach_service_account(kube, namespace, service_account, spec.name, overwrite=overwrite,
                                           traffic_type=spec.traffic_type)
        _report_labels(cli, namespace, spec.name, result.changes)
        for warning in result.warnings:
            cli.warn(warning)
    if enroll_namespace:
        _report_labels(cli, namespace, spec.name, [attach.enroll_namespace(kube, namespace, spec.name, overwrite=overwrite)])


def _warn_without_control_plane(cli: CliContext, revision: str) -> None:
    """A waypoint of a revision (or tag) that no istiod answers to is never programmed: say so before waiting."""
    from ambientctl.revision.lookup import RevisionNotFoundError, resolve

    try:
        resolve(cli.kube, cli.istio_namespace, revision, "waypoint apply -r")
    except RevisionNotFoundError as exc:
        cli.warn(f"{exc.message}: no istiod will program this waypoint until it is installed")


def _require_waypoint_permissions(kube: KubeClient, namespace: str, gateway_verbs: List[str], label_namespace: bool,
                                  label_services: bool) -> None:
    """Refuse before the first write when RBAC would stop us half-way (issue 8)."""
    from ambientctl.kube import permissions

    needed = [permissions.Permission(verb, "gateway.networking.k8s.io", "gateways", namespace) for verb in gateway_verbs]
    if label_namespace:
        needed.append(permissions.Permission("patch", "", "namespaces"))
    if label_services:
        needed.append(permissions.Permission("patch", "", "services", namespace))
    permissions.require(kube, needed, f"waypoint {'delete' if 'delete' in gateway_verbs else 'apply'}")


def _wait(cli: CliContext, name: str, namespace: str, timeout: float) -> None:
    from ambientctl.waypoint import cluster
    from ambientctl.output import progress

    with progress(cli, f"waiting up to {timeout:g}s for waypoint {namespace}/{name} to be programmed") as update:
        cluster.wait_programmed(cli.kube, name, namespace, timeout, on_progress=update)
    _say(cli, check_line(True, f"waypoint {namespace}/{name} is ready"))


def _report_labels(cli: CliContext, namespace: str, waypoint: str, changes: List[LabelChange]) -> None:
    label = f'"{USE_WAYPOINT_LABEL}: {waypoint}"'
    for change in changes:
        target = f"namespace {change.name}" if change.kind == "namespace" else f"{change.kind} {namespace}/{change.name}"
        if change.outcome == "labeled":
            _say(cli, check_line(True, f"{target} labeled with {label}"))
        elif change.outcome == "unchanged":
            _say(cli, check_line(True, f"{target} already labeled with {label}"))


def _say(cli: CliContext, text: str) -> None:
    write_stdout(text + "\n")


@app.command("list", cls=BoolValuesCommand)
def list_(
    ctx: typer.Context,
    all_namespaces: bool = typer.Option(False, "--all-namespaces", "-A", help="Waypoints of every namespace."),
    output: OutputFormat = table_output_option(),
    name: SelectNameOption = None,
) -> None:
    """List the waypoints of the namespace: revision, traffic type, programmed."""
    from ambientctl.waypoint import cluster, report

    cli = cli_context(ctx)
    if name is not None:
        _validate_gateway_name(name)
    namespace = None if all_namespaces else cli.namespace
    gateways = cluster.list_waypoints(cli.kube, namespace)
    records = report.list_rows([g for g in gateways if name is None or g["metadata"]["name"] == name])
    if not records and output is OutputFormat.table:
        cli.info(_none_found(namespace))
        return
    headers = ["NAME", "REVISION", "TRAFFIC TYPE", "PROGRAMMED"]
    table = [[r["name"], r["revision"], r["trafficType"], r["programmed"]] for r in records]
    if all_namespaces:
        headers = ["NAMESPACE", *headers]
        table = [[r["namespace"], *t] for r, t in zip(records, table)]
    print_records(cli, output.value, headers, table, {"waypoints": records})


@app.command("status", cls=BoolValuesCommand)
def status(
    ctx: typer.Context,
    name: Optional[str] = typer.Argument(None, help="One waypoint (default: every waypoint of the namespace).",
                                         autocompletion=complete_waypoints),
    all_namespaces: bool = typer.Option(False, "--all-namespaces", "-A", help="Waypoints of every namespace."),
    wait: bool = typer.Option(False, "--wait", "-w", help="Wait until the waypoints are Programmed first."),
    waypoint_timeout: TimeoutOption = "90s",
    output: OutputFormat = table_output_option(),
    name_option: SelectNameOption = None,
) -> None:
    """Show the waypoints' conditions now (no waiting unless --wait, unlike istioctl; --wait=false is accepted)."""
    from ambientctl.waypoint import cluster, report

    cli = cli_context(ctx)
    if name and name_option and name != name_option:
        raise UsageError(f"two waypoint names given: {name} and --name {name_option}", "give one of them")
    name = name or name_option
    timeout = parse_duration(waypoint_timeout, "--waypoint-timeout")
    if name and all_namespaces:
        raise UsageError("a waypoint name cannot be combined with --all-namespaces", "drop one of them")
    if name is not None:
        _validate_gateway_name(name)
    namespace = None if all_namespaces else cli.namespace
    gateways = cluster.list_waypoints(cli.kube, namespace)
    if name:
        gateways = [g for g in gateways if g["metadata"]["name"] == name]
        if not gateways:
            raise NotFoundError(f"waypoint {namespace}/{name} not found", "list them with `ambientctl waypoint list`")
    timeout_error = None
    if wait:
        try:
            for gw in gateways:
                cluster.wait_programmed(cli.kube, gw["metadata"]["name"], gw["metadata"]["namespace"], timeout)
        except KubeTimeoutError as exc:
            timeout_error = exc
        gateways = cluster.list_waypoints(cli.kube, namespace)
        if name:
            gateways = [g for g in gateways if g["metadata"]["name"] == name]
    records = report.status_rows(gateways)
    if not records and output is OutputFormat.table:
        cli.info(_none_found(namespace))
    else:
        headers = ["NAME", "STATUS", "TYPE", "REASON", "MESSAGE"]
        table = [[r["name"], r["status"], r["type"], r["reason"], r["message"]] for r in records]
        if all_namespaces:
            headers = ["NAMESPACE", *headers]
            table = [[r["namespace"], *t] for r, t in zip(records, table)]
        print_records(cli, output.value, headers, table, {"conditions": records})
    if timeout_error is not None:
        raise timeout_error


@app.command("delete", cls=BoolValuesCommand)
def delete(
    ctx: typer.Context,
    names: Optional[List[str]] = typer.Argument(None, help="Waypoints to delete.", autocompletion=complete_waypoints),
    delete_all: bool = typer.Option(False, "--all", help="Every waypoint of the namespace."),
    revision: Optional[str] = typer.Option(None, "--revision", "-r", help="Only the waypoints of this revision.",
                                            autocompletion=complete_revisions),
    name_option: SelectNameOption = None,
) -> None:
    """Delete waypoints (never other Gateways), and the use-waypoint labels apply added for them.

    \b
    Examples:
      ambientctl waypoint delete waypoint -n default
      ambientctl waypoint delete --all -n default
    """
    from ambientctl.waypoint import cluster, manifest

    cli = cli_context(ctx)
    names = list(dict.fromkeys([*(names or []), *([name_option] if name_option else [])]))
    cluster.check_delete_args(names, delete_all, revision)
    for waypoint_name in names:
        _validate_gateway_name(waypoint_name)
    manifest.validate_revision(revision)
    namespace = cli.namespace
    _require_waypoint_permissions(cli.kube, namespace, ["delete"], False, False)
    result = cluster.delete_waypoints(cli.kube, namespace, names, delete_all=delete_all, revision=revision)
    for change in result.unlabeled:
        target = f"namespace {change.name}" if change.kind == "namespace" else f"{change.kind} {namespace}/{change.name}"
        if change.outcome == "restored":
            _say(cli, f"{target}: label {USE_WAYPOINT_LABEL} set back to {change.previous!r}")
        else:
            _say(cli, f"{target}: removed label {USE_WAYPOINT_LABEL}")
    for name in result.deleted:
        _say(cli, f"waypoint {namespace}/{name} deleted")
    for name in result.not_found:
        cli.warn(f"waypoint {namespace}/{name} not found")
    for description in result.not_waypoints:
        cli.warn(f"gateway {namespace}/{description} is not a waypoint; left alone")
    for item in result.still_attached:
        cli.warn(f"{item} (label not set by ambientctl; remove it with kubectl label ... {USE_WAYPOINT_LABEL}-)")
    if not names and not result.deleted:
        cli.info(_none_found(namespace))


def _validate_gateway_name(name: str) -> None:
    """A Gateway name (DNS-1123 subdomain), checked before any request (names go into API paths)."""
    from ambientctl.names import require_dns_subdomain

    require_dns_subdomain(name, "waypoint name", "list the waypoints with `ambientctl waypoint list`")


def _none_found(namespace: Optional[str]) -> str:
    return "No waypoints found." if namespace is None else f"No waypoints found in namespace {namespace}."


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="waypoint")
