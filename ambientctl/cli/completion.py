"""Shell completion: the `completion` command, the hooks that complete names from the cluster, and
the guard that keeps completion quiet.

The shell runs `ambientctl` with `_AMBIENTCTL_COMPLETE=complete_<shell>` and the words typed so far
(bash: COMP_WORDS/COMP_CWORD; zsh, fish: _TYPER_COMPLETE_ARGS). `complete_and_exit` answers with
one candidate a line and exits, never with an error or a traceback: a cluster that is down, slow
or refuses the lookup gives no candidates. Commands and flags complete from the app itself;
namespaces (-n, -i, `dataplane enroll`), pod references (pc/zc), waypoints (`waypoint status/delete`,
`--name`) and revisions (-r) come from the cluster through `ambientctl.lookup`, which is imported
(with `kubernetes`) only when one of those hooks runs.
"""

# No `from __future__ import annotations`: typer reads the hooks' annotations to pass ctx and incomplete.
import enum
import os
import sys
from typing import Any, Callable, MutableMapping

import click
import typer

PROG_NAME = "ambientctl"
COMPLETE_VAR = "_AMBIENTCTL_COMPLETE"
# Completion waits at most this long for each API request (a shell must not hang on a dead cluster).
COMPLETION_TIMEOUT = 3.0


# ------------------------------------------------------------------------------------ cluster hooks


def _lookup(ctx: click.Context, incomplete: str, find: Callable[[Any, "_Where"], list[str]]) -> list[str]:
    """Candidates from the cluster that start with `incomplete`; none on any failure, silently."""
    import contextlib
    import io
    import logging

    where = _Where(ctx)
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)  # urllib3's retry warnings would otherwise reach the terminal
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            words = find(_client(ctx, where), where)
    except Exception:  # noqa: BLE001 - completion must never break the shell's line
        return []
    finally:
        logging.disable(previous)
    return [word for word in words if word.startswith(incomplete)]


def _client(ctx: click.Context, where: "_Where") -> Any:
    """A client from the global flags typed so far, with a short timeout (or the one a test injected)."""
    injected = getattr(ctx.find_root().obj, "_kube", None)
    if injected is not None:
        return injected
    from ambientctl.kube.client import KubeClient

    flags = where.root
    return KubeClient.connect(
        flags.get("kubeconfig"), flags.get("context"), namespace=flags.get("namespace"),
        timeout=min(float(flags.get("request_timeout") or COMPLETION_TIMEOUT), COMPLETION_TIMEOUT),
        impersonate_user=flags.get("impersonate_user") or None,
        impersonate_groups=tuple(flags.get("impersonate_groups") or ()),
        impersonate_uid=flags.get("impersonate_uid") or None,
    )


class _Where:
    """The global flags typed so far (parsed by the root group, callbacks not run) and the command path."""

    def __init__(self, ctx: click.Context) -> None:
        self.root = dict(ctx.find_root().params or {})
        self.path = [c.info_name for c in _chain(ctx)][1:]

    def namespace(self, kube: Any) -> str:
        """-n, else the kubeconfig context's namespace (KubeClient.connect already chose it)."""
        return str(self.root.get("namespace") or kube.default_namespace)


def _chain(ctx: click.Context) -> list[click.Context]:
    chain = []
    node: Any = ctx
    while node is not None:
        chain.append(node)
        node = node.parent
    return list(reversed(chain))


def complete_namespaces(ctx: click.Context, incomplete: str) -> list[str]:
    """Namespaces, for -n, -i and the namespace arguments of `dataplane`."""
    from ambientctl import lookup

    return _lookup(ctx, incomplete, lambda kube, where: lookup.namespaces(kube))


def complete_pod_refs(ctx: click.Context, incomplete: str) -> list[str]:
    """Pod references in -n's namespace: pod names, or `ds/`, `deploy/`, `sts/`, `pod/` + a name."""
    from ambientctl import lookup

    return _lookup(ctx, incomplete, lambda kube, where: lookup.pod_refs(kube, where.namespace(kube), incomplete))


def complete_services(ctx: click.Context, incomplete: str) -> list[str]:
    """Service names in -n's namespace (`x describe service`)."""
    from ambientctl import lookup

    return _lookup(ctx, incomplete, lambda kube, where: lookup.services(kube, where.namespace(kube)))


def complete_waypoints(ctx: click.Context, incomplete: str) -> list[str]:
    """Waypoint names in -n's namespace."""
    from ambientctl import lookup

    return _lookup(ctx, incomplete, lambda kube, where: lookup.waypoints(kube, where.namespace(kube)))


def complete_revisions(ctx: click.Context, incomplete: str) -> list[str]:
    """Control-plane revisions and revision tags installed in the cluster."""
    from ambientctl import lookup

    return _lookup(ctx, incomplete, lambda kube, where: lookup.revisions(kube))


# ------------------------------------------------------------------------------- the completion run


class _GlobalFlagValues:
    """Complete the value of a global flag typed after a subcommand (`waypoint status -n <TAB>`).

    Global flags belong to the root group but may stand anywhere (GlobalFlagsGroup hoists them);
    click only looks for the flag among the innermost command's own options.
    """

    cli: click.Command
    ctx_args: MutableMapping[str, Any]
    prog_name: str
    value_flags: frozenset = frozenset()  # the global flags that take a value (set per run)

    def get_completions(self, args: list[str], incomplete: str) -> list[Any]:
        from click.shell_completion import _resolve_context

        if len(args) >= 2 and args[-1] == "=" and args[-2].startswith("--"):
            args = args[:-1]  # bash splits `--namespace=de` at the `=`
        if args and args[-1] in self.value_flags:
            ctx = _resolve_context(self.cli, self.ctx_args, self.prog_name, args[:-1])
            root = ctx.find_root()
            param = next((p for p in root.command.get_params(root) if args[-1] in p.opts + p.secondary_opts), None)
            return param.shell_complete(ctx, incomplete) if param is not None else []
        return super().get_completions(args, incomplete)  # type: ignore[misc]


def _plain(text: str) -> str:
    """Help text as written: ambientctl's help has no Rich markup, and importing Rich costs 0.1 s."""
    import re

    return re.sub(r"\s", " ", text)


def _completion_classes(value_flags: frozenset) -> dict[str, type]:
    from typer import _completion_classes as shells

    class Bash(_GlobalFlagValues, shells.BashComplete):
        pass

    class Zsh(_GlobalFlagValues, shells.ZshComplete):
        def format_completion(self, item: Any) -> str:
            def escape(s: str) -> str:
                return (s.replace('"', '""').replace("'", "''").replace("$", "\\$")
                        .replace("`", "\\`").replace(":", r"\\:"))

            if item.help:
                return f'"{escape(item.value)}":"{escape(_plain(item.help))}"'
            return f'"{escape(item.value)}"'

    class Fish(_GlobalFlagValues, shells.FishComplete):
        def format_completion(self, item: Any) -> str:
            return f"{item.value}\t{_plain(item.help)}" if item.help else item.value

    classes = {"bash": Bash, "zsh": Zsh, "fish": Fish}
    for cls in classes.values():
        cls.value_flags = value_flags
    return classes


def complete_and_exit(group: click.Command, ctx_args: MutableMapping[str, Any], prog_name: str,
                      complete_var: str, value_flags: frozenset) -> None:
    """Answer the shell's completion request and exit: 0 with candidates (maybe none), never a traceback.

    `value_flags`: the global flags that take a value (GLOBAL_FLAGS of cli/common.py).
    """
    import contextlib
    import io

    import click.shell_completion
    from typer.completion import shell_complete

    instruction = os.environ.get(complete_var, "")
    for name, cls in _completion_classes(value_flags).items():
        click.shell_completion.add_completion_class(cls, name)
    if not instruction.startswith("complete_"):
        sys.exit(shell_complete(group, ctx_args, prog_name, complete_var, instruction))
    answer = io.StringIO()
    try:
        with contextlib.redirect_stdout(answer), contextlib.redirect_stderr(io.StringIO()):
            code = shell_complete(group, ctx_args, prog_name, complete_var, instruction)
    except SystemExit as exc:  # fish's is-args answers with the exit code alone
        code = exc.code if isinstance(exc.code, int) else 0
    except Exception:  # noqa: BLE001 - a half-typed line must never print a traceback into the shell
        sys.exit(0)
    sys.stdout.write(answer.getvalue())
    sys.stdout.flush()
    sys.exit(code)


# --------------------------------------------------------------------------- `ambientctl completion`


class Shell(str, enum.Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


def completion_script(shell: Shell) -> str:
    """The script that makes `shell` ask ambientctl for completions (Typer's, for our variable)."""
    from typer.completion import get_completion_script

    return get_completion_script(prog_name=PROG_NAME, complete_var=COMPLETE_VAR, shell=shell.value) + "\n"


def completion(shell: Shell = typer.Argument(..., help="bash, zsh or fish.")) -> None:
    """Print the shell completion script for bash, zsh or fish (as istioctl and kubectl do).

    Completes commands and flags, and from the cluster: namespaces (-n, -i), pods (pc, zc),
    waypoints (waypoint status/delete, --name) and revisions (-r).

    \b
    Load it:
      source <(ambientctl completion bash)
      ambientctl completion zsh > "${fpath[1]}/_ambientctl"
      ambientctl completion fish > ~/.config/fish/completions/ambientctl.fish
    """
    from ambientctl.output import write_stdout

    write_stdout(completion_script(shell))


def register(app: typer.Typer) -> None:
    app.command("completion")(completion)
