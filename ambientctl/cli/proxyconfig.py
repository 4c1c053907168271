"""`ambientctl proxy-config secret` (alias `pc`): the certificates a ztunnel or Envoy proxy holds."""

# No `from __future__ import annotations` here: typer would eval every annotation string at every start.
from enum import Enum

import typer

from ambientctl.cli.aliases import AliasedGroup, alias_group
from ambientctl.cli.common import cli_context
from ambientctl.cli.options import DumpSource, IdentityOption, dump_source_options, output_option


class ProxyConfigGroup(AliasedGroup):
    aliases = {"secrets": "secret", "s": "secret", "rc": "rootca-compare"}  # istioctl's


app = typer.Typer(
    cls=ProxyConfigGroup,
    help="Inspect a proxy's configuration from its admin /config_dump (istioctl proxy-config; alias: pc).",
    no_args_is_help=True,
)


class SecretFormat(str, Enum):
    short = "short"
    json = "json"
    yaml = "yaml"
    detail = "detail"


@app.command("secret")
@dump_source_options
def secret(
    ctx: typer.Context,
    source: DumpSource,
    output: SecretFormat = output_option(SecretFormat.short, "short (istioctl's table), json/yaml (Envoy "
                                         "SecretsConfigDump), or detail (decoded certificates)."),
    identity: IdentityOption = None,
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
    from ambientctl.proxy.certificates import print_certificates
    from ambientctl.proxy.shapes import gc_paused

    cli = cli_context(ctx)
    with gc_paused():
        loaded = source.load(cli)
        if not loaded.dump.is_ztunnel and identity is None and output.value != "detail":
            from ambientctl.proxy.envoy.secrets import print_secrets

            print_secrets(loaded.dump.raw, loaded.source, output.value)
            return
        print_certificates(loaded, identity, output.value, kube=cli.kube if loaded.pod is not None else None,
                           istio_namespace=cli.istio_namespace, warn=cli.warn)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="proxy-config")
    root.add_typer(alias_group("proxy-config", "Alias of proxy-config."), name="pc", hidden=True)
