"""`ambientctl proxy-config secret` (alias `pc`): the certificates a ztunnel or Envoy proxy holds."""

# No `from __future__ import annotations` here: typer would eval every annotation string at every start.
import datetime as dt
from dataclasses import dataclass
from enum import Enum
from typing import Any, Optional

import click
import typer
from typer.core import TyperGroup

from ambientctl.cli.common import cli_context
from ambientctl.context import CliContext
from ambientctl.errors import InvalidInputError, UsageError


class AliasedGroup(TyperGroup):
    """A command group that also answers to istioctl's short names (`s`, `secrets`, ...).

    Aliases are resolved by name here instead of being registered as extra
    commands: typer builds every registered command on every invocation, so
    each alias would slow down all of ambientctl.
    """

    aliases: dict[str, str] = {}

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, self.aliases.get(cmd_name, cmd_name))

    def resolve_command(self, ctx: click.Context,
                        args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        return (command.name if command else name), command, rest


class GroupAlias(TyperGroup):
    """A hidden root-level alias (`pc` for `proxy-config`) that borrows the real group's commands."""

    target = ""

    def _target(self, ctx: click.Context) -> click.Group:
        parent = ctx.parent or ctx
        group = parent.command.get_command(parent, self.target) if isinstance(parent.command, click.Group) else None
        assert isinstance(group, click.Group), f"{self.target} is not registered"
        return group

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._target(ctx).list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._target(ctx).get_command(ctx, cmd_name)


def alias_group(target: str, help_text: str) -> typer.Typer:
    """A Typer for a hidden group alias of `target`."""
    cls = type(f"{target.title().replace('-', '')}Alias", (GroupAlias,), {"target": target})
    return typer.Typer(cls=cls, help=help_text, no_args_is_help=True)


class ProxyConfigGroup(AliasedGroup):
    aliases = {"secrets": "secret", "s": "secret"}  # istioctl's


app = typer.Typer(
    cls=ProxyConfigGroup,
    help="Inspect a proxy's configuration from its admin /config_dump (istioctl proxy-config; alias: pc).",
    no_args_is_help=True,
)

ZTUNNEL_REF = "ds/ztunnel"


class SecretFormat(str, Enum):
    short = "short"
    json = "json"
    yaml = "yaml"
    detail = "detail"


@dataclass
class LoadedDump:
    """A parsed dump and where it came from (the pod, when read live)."""

    dump: Any            # ambientctl.configdump.ConfigDump
    source: str          # "pod istio-system/ztunnel-x", "dump.json" or "stdin"
    pod: dict[str, Any] | None = None
    workload_identity: str | None = None  # NS/SA when the user pointed at a workload pod


def load_dump(cli: CliContext, ref: Optional[str], node: Optional[str], file: Optional[str]) -> LoadedDump:
    """Read the dump from `--file` (no cluster) or from a pod's admin port through the API server."""
    from ambientctl import configdump
    from ambientctl.output import progress

    configdump.check_node_flag(file, node)
    if file:
        if ref:
            raise UsageError(f"give either a pod ({ref}) or --file, not both", "drop one of them")
        source = "stdin" if file == "-" else file
        return LoadedDump(configdump.parse(configdump.read_dump_file(file), source), source)
    pod, workload = _target_pod(cli, ref, node)
    name, namespace = pod["metadata"]["name"], pod["metadata"]["namespace"]
    where = f"pod {namespace}/{name}"
    pod_node = pod.get("spec", {}).get("nodeName")
    with progress(cli, f"Reading /config_dump of {where}" + (f" on node {pod_node}" if pod_node else "")):
        data = configdump.fetch_dump(cli.kube, name, namespace)
    return LoadedDump(configdump.parse(data, where), where, pod, workload)


def _target_pod(cli: CliContext, ref: Optional[str], node: Optional[str]) -> tuple[dict[str, Any], str | None]:
    """The proxy pod to read; a plain ambient workload pod resolves to the ztunnel on its node."""
    from ambientctl.kube.pods import resolve_pod

    if not ref:
        namespace = cli.options.namespace or cli.istio_namespace
        return resolve_pod(cli.kube, ZTUNNEL_REF, namespace, node=node), None
    pod = resolve_pod(cli.kube, ref, cli.namespace, node=node)
    if _is_proxy(pod):
        return pod, None
    workload_node = pod.get("spec", {}).get("nodeName")
    if not workload_node:
        raise InvalidInputError(f"pod {pod['metadata']['namespace']}/{pod['metadata']['name']} is not a proxy and is "
                                "not scheduled to a node yet", "wait for it to be scheduled, or name a ztunnel pod")
    ztunnel = resolve_pod(cli.kube, ZTUNNEL_REF, cli.istio_namespace, node=workload_node)
    account = pod.get("spec", {}).get("serviceAccountName") or "default"
    identity = f"{pod['metadata']['namespace']}/{account}"
    cli.info(f"pod {pod['metadata']['namespace']}/{pod['metadata']['name']} is not a proxy: showing identity "
             f"{identity} from ztunnel {ztunnel['metadata']['name']} on its node {workload_node}")
    return ztunnel, identity


def _is_proxy(pod: dict[str, Any]) -> bool:
    """ztunnel (label app=ztunnel, as istioctl checks) or an Envoy (an istio-proxy container)."""
    from ambientctl.labels import SIDECAR_CONTAINER

    labels = pod["metadata"].get("labels") or {}
    if "app" in labels:
        if labels["app"] == "ztunnel":
            return True
    elif pod["metadata"]["name"].startswith("ztunnel"):
        return True
    containers = pod.get("spec", {}).get("containers", []) + pod.get("spec", {}).get("initContainers", [])
    return any(c.get("name") == SIDECAR_CONTAINER for c in containers)


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def print_certificates(cli: CliContext, loaded: LoadedDump, identity: Optional[str], fmt: str,
                       ztunnel_json: bool = False) -> None:
    """The shared body of `pc secret` and `zc certificate`: select, check or decode, print, then report bad rows."""
    from ambientctl import configdump
    from ambientctl.output import print_document, write_stdout
    from ambientctl.printers import secret as printer

    requested = identity or loaded.workload_identity
    wanted = configdump.parse_identity_filter(requested) if requested else None
    chosen = configdump.select(loaded.dump, wanted)
    if not chosen:
        raise configdump.nothing_found_error(loaded.pod, loaded.source, wanted, loaded.dump,
                                             cli.kube if loaded.pod is not None else None, cli.istio_namespace)
    if fmt == "detail":
        configdump.decode_all(loaded.dump, chosen)
    else:  # istioctl's way: the dump's own serials and dates; cryptography only where they are missing
        configdump.check_all(loaded.dump, chosen)
    now = now_utc()
    if fmt in ("json", "yaml"):
        document = configdump.ztunnel_certificates_document(chosen) if ztunnel_json \
            else configdump.secrets_document(chosen)
        print_document(document, fmt)
    elif fmt == "detail":
        write_stdout(printer.format_detail(chosen, now))
    else:
        write_stdout(printer.format_short(chosen, now))
    raise_for_bad_certificates(chosen, loaded.source)


def raise_for_bad_certificates(identities: list[Any], source: str) -> None:
    """After printing everything: a non-zero exit that names the certificates that did not decode."""
    bad = [e for ident in identities for e in ident.entries() if e.error]
    if bad:
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise InvalidInputError(
            f"{len(bad)} certificate(s) in {source} could not be decoded: {bad[0].where} {bad[0].error}{more}",
            "their rows show VALID CERT false; the other certificates are shown as they are",
        )


@app.command("secret")
def secret(
    ctx: typer.Context,
    pod_ref: Optional[str] = typer.Argument(
        None, metavar="[POD_REF]",
        help="ds/ztunnel (default), pod/NAME, NAME[.NAMESPACE], deploy/NAME; a plain workload pod means the ztunnel "
             "on its node, showing that pod's identity.",
    ),
    node: Optional[str] = typer.Option(None, "--node", help="Read the pod of the DaemonSet on this node."),
    output: SecretFormat = typer.Option(SecretFormat.short, "--output", "-o",
                                        help="short (istioctl's table), json/yaml (Envoy SecretsConfigDump), "
                                             "or detail (decoded certificates)."),
    file: Optional[str] = typer.Option(None, "--file", "-f",
                                       help="Read a saved /config_dump instead of a pod ('-' for stdin); no cluster."),
    identity: Optional[str] = typer.Option(
        None, "--identity", "--service-account",
        help="Only this identity: NAMESPACE/SERVICEACCOUNT or spiffe://TRUST_DOMAIN/ns/NS/sa/SA."),
) -> None:
    """Certificates a ztunnel (or Envoy) proxy holds: workload chains and roots, decoded.

    POD_REF: ds/ztunnel (default, in -n or the Istio namespace), pod/NAME, NAME[.NAMESPACE], deploy/NAME.
    A workload pod (not a proxy) means the ztunnel on its node, showing that pod's identity.

    \b
    Examples:
      ambientctl pc secret ds/ztunnel -n istio-system
      ambientctl pc secret --node ambient-worker --identity default/sleep -o detail
      ambientctl pc secret ds/ztunnel -n istio-system -o json \\
        | jq -r '.dynamicActiveSecrets[0].secret.tlsCertificate.certificateChain.inlineBytes' \\
        | base64 --decode | openssl x509 -noout -text
      ambientctl pc secret --file config_dump.json
    """
    from ambientctl.configdump import gc_paused

    cli = cli_context(ctx)
    with gc_paused():
        loaded = load_dump(cli, pod_ref, node, file)
        print_certificates(cli, loaded, identity, output.value)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="proxy-config")
    root.add_typer(alias_group("proxy-config", "Alias of proxy-config."), name="pc", hidden=True)
