"""`ambientctl x authz allow|check`: write the guide's AuthorizationPolicies, and see which apply to a pod."""

from __future__ import annotations

from enum import Enum
from typing import List, Optional

import typer

from ambientctl.mesh import authz as az
from ambientctl.cli.common import cli_context
from ambientctl.cli.options import table_output_option
from ambientctl.cli.completion import complete_pod_refs
from ambientctl.context import CliContext
from ambientctl.errors import AmbientctlError, ConflictError
from ambientctl.output import OutputFormat, check_line, format_json, format_yaml, print_records, write_stdout
from ambientctl.ownership import COMPONENT_LABEL, is_owned, owner_labels

app = typer.Typer(help="AuthorizationPolicy helpers for ambient mode (who enforces what).", no_args_is_help=True)

COMPONENT = "authz"


class PolicyFormat(str, Enum):
    yaml = "yaml"
    json = "json"


def _mesh_state(cli: CliContext, namespace: str, *, quick: bool):
    """The namespace's mesh state, or None when the cluster cannot be read (generation still works)."""
    from ambientctl.mesh.load import load_cluster

    try:
        kube = cli.kube
        saved = kube.timeout
        if quick:
            kube.timeout = min(saved, 5.0)
        try:
            return load_cluster(kube, namespace, cli.istio_namespace)
        finally:
            kube.timeout = saved
    except AmbientctlError as exc:
        if not quick:
            raise
        cli.info(f"(could not read the cluster to check for waypoints: {exc.message})")
        return None


@app.command("allow")
def allow(
    ctx: typer.Context,
    to: str = typer.Option(..., "--to", help="Target: LABEL=VALUE[,...] (pods; ztunnel enforces), service/NAME or "
                           "waypoint/NAME (the waypoint enforces)."),
    sources: List[str] = typer.Option(..., "--from", help="Who may connect: sa/NAME, sa/NAMESPACE/NAME, ns/NAMESPACE "
                                      "or a principal. Repeatable."),
    methods: List[str] = typer.Option([], "--methods", help="Only these HTTP methods (L7: needs a waypoint). "
                                      "Repeatable or comma-separated."),
    paths: List[str] = typer.Option([], "--paths", help="Only these HTTP paths (L7: needs a waypoint). Repeatable."),
    policy_name: Optional[str] = typer.Option(None, "--name", help="Policy name (default: TARGET-viewer)."),
    output: PolicyFormat = typer.Option(PolicyFormat.yaml, "--output", "-o", help="Output format."),
    do_apply: bool = typer.Option(False, "--apply", help="Apply it (server-side apply) instead of printing it."),
    trust_domain: str = typer.Option(az.TRUST_DOMAIN, "--trust-domain", help="Trust domain of the principals."),
) -> None:
    """Write an ALLOW AuthorizationPolicy (the guide's steps 7 and 9), print it or --apply it.

    \b
    Examples:
      # step 7: L4, enforced by ztunnel
      ambientctl x authz allow --to app=productpage --from sa/sleep \\
          --from sa/istio-system/istio-ingressgateway-service-account
      # step 9: L7, enforced by productpage's waypoint
      ambientctl x authz allow --to service/productpage --from sa/sleep --methods GET --apply
    """
    cli = cli_context(ctx)
    namespace = cli.namespace
    policy = az.allow_policy(
        target=az.parse_target(to), sources=list(sources), namespace=namespace,
        methods=az.normalise_methods(list(methods)), paths=list(paths), policy_name=policy_name,
        trust_domain=trust_domain,
    )
    state = None
    if do_apply or (az.enforcer(policy) == az.WAYPOINT and _kubeconfig_present(cli)):
        state = _mesh_state(cli, namespace, quick=not do_apply)
    for warning in az.generation_warnings(policy, state):
        cli.warn(warning)
    if not do_apply:
        write_stdout(format_json(policy) if output == PolicyFormat.json else format_yaml(policy))
        return
    _refuse_foreign_policy(cli, policy)
    owned = {**policy, "metadata": {**policy["metadata"],
                                    "labels": {**owner_labels(), COMPONENT_LABEL: COMPONENT}}}
    cli.kube.apply(owned)
    cli.out.print(check_line(True, f"authorizationpolicy {namespace}/{policy['metadata']['name']} applied "
                                   f"(enforced by {az.enforcer(policy)})"), markup=False)


def _refuse_foreign_policy(cli: CliContext, policy: dict) -> None:
    """--apply never takes over a policy of the same name that someone else wrote."""
    meta = policy["metadata"]
    live = cli.kube.get_or_none(policy["apiVersion"], policy["kind"], meta["name"], meta["namespace"])
    if live is not None and not is_owned(live):
        raise ConflictError(
            f"authorizationpolicy {meta['namespace']}/{meta['name']} already exists and was not written by ambientctl",
            "pick another name with --name, or change that policy yourself",
        )


def _kubeconfig_present(cli: CliContext) -> bool:
    from ambientctl.kube.config import find_kubeconfig

    try:
        find_kubeconfig(cli.options.kubeconfig)
    except AmbientctlError:
        return False
    return True


@app.command("check")
def check(
    ctx: typer.Context,
    pod: str = typer.Argument(..., help="Pod: NAME, NAME.NAMESPACE, pod/NAME or deploy/NAME.",
                             autocompletion=complete_pod_refs),
    output: OutputFormat = table_output_option(),
) -> None:
    """The AuthorizationPolicies that apply to traffic reaching a pod, and who enforces each.

    ztunnel enforces policies that select the pod (or its whole namespace, or
    the mesh from the root namespace) and only their L4 parts; a waypoint
    enforces policies that target it or a Service it serves.

    \b
    Example:
      ambientctl x authz check deploy/productpage-v1 -n default
    """
    from ambientctl.labels import name_of, namespace_of
    from ambientctl.mesh.load import load_cluster
    from ambientctl.kube.pods import resolve_pod

    cli = cli_context(ctx)
    target = resolve_pod(cli.kube, pod, cli.namespace)
    state = load_cluster(cli.kube, namespace_of(target), cli.istio_namespace)
    state.add(target)
    applied = az.policies_for_pod(state, target)
    rows = [[a.ref, az.action(a.policy), a.scope, a.enforced_by, ",".join(a.l7) or "-", a.note or "-"]
            for a in applied]
    document = {
        "pod": f"{namespace_of(target)}/{name_of(target)}",
        "inAmbient": state.pod_in_ambient(target),
        "waypoints": [{"waypoint": f"{wp.namespace}/{wp.name}", "via": how, "exists": gw is not None}
                      for wp, gw, how in state.serving_waypoints(target)],
        "policies": [{"policy": a.ref, "action": az.action(a.policy), "scope": a.scope, "enforcedBy": a.enforced_by,
                      "l7Attributes": a.l7, "note": a.note} for a in applied],
    }
    if output == OutputFormat.table:
        if not document["inAmbient"]:
            cli.warn(f"pod {document['pod']} is not in the ambient mesh: ztunnel and waypoints enforce nothing "
                     "for it (enrol its namespace: ambientctl dataplane enroll)")
        if not applied:
            cli.out.print(f"no AuthorizationPolicy applies to pod {document['pod']}: all traffic is allowed",
                          markup=False)
            return
    print_records(cli, output.value, ["POLICY", "ACTION", "SCOPE", "ENFORCED BY", "L7", "NOTE"], rows, document)


def register(root: typer.Typer) -> None:
    """Attach to the experimental group (`ambientctl x authz ...`) and as istioctl's hidden root `authz`."""
    from ambientctl.cli.experimental import x_app

    x_app.add_typer(app, name="authz")
    root.add_typer(app, name="authz", hidden=True)
