"""Options shared by several commands, declared once (istioctl's `commonFlags.attach()`).

The render inputs `--set`, `-f/--filename` and `-r/--revision` of `install`,
`manifest generate|translate`, `verify-install`, `upgrade`, `uninstall` and
`profile dump` come from `set_option()`, `filenames_option()` and
`revision_option()` (a command whose flag means more, such as upgrade's
"on top of the recorded install", passes its own help text).

`pc` and `zc` subcommands take the same pod reference, `--node`, `--file`
and `--proxy-admin-port`: `@dump_source_options` adds all four to a command,
which then receives them as one `DumpSource` (`source.load(cli)` reads the
dump; cli/dumpviews.py). `--identity` and `-o` (each command has its own formats) are declared
here too, so help text and flag names cannot drift apart.
"""

# No `from __future__ import annotations` here: typer would eval every annotation string at every start.
import functools
import inspect
from enum import Enum
from typing import Annotated, Any, Callable, Optional, Sequence

import typer

from ambientctl.cli.completion import complete_pod_refs, complete_revisions
from ambientctl.cli.dumpviews import DEFAULT_PROXY_ADMIN_PORT, TABLE_OR_DOCUMENT, DumpSource

SET_HELP = "Set a configuration value, as istioctl: --set profile=ambient, --set tag=1.31.0 (repeatable)."
FILENAMES_HELP = "IstioOperator overlay file (repeatable; later files win)."
REVISION_HELP = "Control plane revision, istiod-<rev> (default: the default revision)."


def set_option(help_text: str = SET_HELP) -> Any:
    """`--set/-s PATH=VALUE`, repeatable: a value on top of the profile and the -f files."""
    return typer.Option([], "--set", "-s", help=help_text)


def filenames_option(help_text: str = FILENAMES_HELP) -> Any:
    """`-f/--filename FILE`, repeatable: IstioOperator overlays, merged in order."""
    return typer.Option([], "--filename", "-f", help=help_text)


def revision_option(help_text: str = REVISION_HELP) -> Any:
    """`-r/--revision REV` of a control plane, completed from the cluster's revisions and tags."""
    return typer.Option(None, "--revision", "-r", help=help_text, autocompletion=complete_revisions)


def skip_confirmation_option(help_text: str = "Do not ask for confirmation.") -> Any:
    """`-y/--skip-confirmation` of the commands that ask before they change the cluster."""
    return typer.Option(False, "--skip-confirmation", "-y", help=help_text)


def readiness_timeout_option() -> Any:
    """`--readiness-timeout` (a Go duration) of install and upgrade."""
    return typer.Option("5m", "--readiness-timeout", help="How long to wait for each component's pods (e.g. 90s, 5m).")


def skip_wait_option() -> Any:
    """`--skip-wait` of install and upgrade."""
    return typer.Option(False, "--skip-wait", help="Do not wait for pods to become ready.")


def verify_option() -> Any:
    """`--verify` of install and upgrade: verify-install afterwards."""
    return typer.Option(False, "--verify", help="Run verify-install afterwards (exit 3 if it fails).")


POD_REF_HELP = ("ds/ztunnel (default, in -n or the Istio namespace), pod/NAME, NAME[.NAMESPACE], deploy/NAME; "
                "a plain workload pod means the ztunnel on its node, showing that pod's identity.")

PodRefArgument = Annotated[Optional[str], typer.Argument(metavar="[POD_REF]", help=POD_REF_HELP,
                                                          autocompletion=complete_pod_refs)]
NodeOption = Annotated[Optional[str], typer.Option("--node", help="Read the pod of the ztunnel DaemonSet on this node.")]
FileOption = Annotated[Optional[str], typer.Option(
    "--file", "-f", help="Read a saved /config_dump instead of a pod ('-' for stdin); no cluster.")]
ProxyAdminPortOption = Annotated[int, typer.Option(
    "--proxy-admin-port", min=1, max=65535, help="The proxy's admin port, where /config_dump is read.")]
IdentityOption = Annotated[Optional[str], typer.Option(
    "--identity", "--service-account",
    help="Only this identity: NAMESPACE/SERVICEACCOUNT or spiffe://TRUST_DOMAIN/ns/NS/sa/SA.")]


# -o of the zc views and the Envoy pc views: short (istioctl's table), json or yaml.
ProxyFormat = Enum("ProxyFormat", {name: name for name in TABLE_OR_DOCUMENT}, type=str)  # type: ignore[misc]


def output_option(default: Any, help_text: str) -> Any:
    """`-o/--output` with the command's own formats (each command has its own enum of them)."""
    return typer.Option(default, "--output", "-o", help=help_text)


def table_output_option() -> Any:
    """`-o/--output table|json|yaml` (output.OutputFormat), a table by default: the listing commands' -o."""
    from ambientctl.output import OutputFormat

    return output_option(OutputFormat.table, "Output format.")


_SOURCE_PARAMETERS = (
    inspect.Parameter("pod_ref", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=PodRefArgument),
    inspect.Parameter("node", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=NodeOption),
    inspect.Parameter("file", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=FileOption),
    inspect.Parameter("admin_port", inspect.Parameter.KEYWORD_ONLY, default=DEFAULT_PROXY_ADMIN_PORT,
                      annotation=ProxyAdminPortOption),
)


def shared_parameters(name: str, parameters: Sequence[inspect.Parameter],
                      build: Callable[..., Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A decorator: Typer sees `parameters` (right after `ctx`) where the command has its parameter `name`,
    and the command receives `build(*their values)` as `name`.

    Typer reads a command's parameters from its signature, so the wrapper
    shows the shared ones in place of the one object the command works with.
    """
    def attach(command: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(command)
        own = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in signature.parameters.values() if p.name != name]
        shown = own[:1] + list(parameters) + own[1:]

        @functools.wraps(command)
        def with_shared(**kwargs: Any) -> Any:
            value = build(*(kwargs.pop(p.name) for p in parameters))
            return command(**{name: value}, **kwargs)

        with_shared.__signature__ = signature.replace(parameters=shown)  # type: ignore[attr-defined]
        with_shared.__annotations__ = {p.name: p.annotation for p in shown}
        return with_shared

    return attach


def dump_source_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Attach POD_REF, --node, --file and --proxy-admin-port to `command`, which takes `source: DumpSource`."""
    return shared_parameters("source", _SOURCE_PARAMETERS, DumpSource)(command)
