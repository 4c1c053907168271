"""`ambientctl proxy-config secret` (alias `pc`): the certificates a ztunnel or Envoy proxy holds.

Flags only: what `secret` does is in cli/dumpviews.py (which cli/fastpath.py also runs).
"""

# No `from __future__ import annotations` here: typer would eval every annotation string at every start.
from enum import Enum

import typer

from ambientctl.cli import dumpviews
from ambientctl.cli.aliases import AliasedGroup, alias_group
from ambientctl.cli.common import cli_context
from ambientctl.cli.options import DumpSource, IdentityOption, dump_source_options, output_option


class ProxyConfigGroup(AliasedGroup):
    aliases = dumpviews.PROXY_CONFIG_ALIASES


app = typer.Typer(
    cls=ProxyConfigGroup,
    help="Inspect a proxy's configuration from its admin /config_dump (istioctl proxy-config; alias: pc).",
    no_args_is_help=True,
)


SecretFormat = Enum("SecretFormat", {name: name for name in dumpviews.SECRET_FORMATS}, type=str)  # type: ignore[misc]


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
    dumpviews.secret(cli_context(ctx), source, output.value, identity)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="proxy-config")
    root.add_typer(alias_group("proxy-config", "Alias of proxy-config."), name="pc", hidden=True)
