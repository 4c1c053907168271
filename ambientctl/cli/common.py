"""Pieces every command module shares: the context accessor and global-flag hoisting."""

from __future__ import annotations

import sys
from typing import Any

import click
import typer
from typer.core import TyperGroup

from ambientctl.context import CliContext

# Global flags and whether they take a value. They may appear anywhere on the
# command line (`ambientctl waypoint list -n foo`), as kubectl and istioctl
# users expect; GlobalFlagsGroup moves them in front of the subcommand.
GLOBAL_FLAGS: dict[str, bool] = {
    "--kubeconfig": True,
    "-c": True,
    "--context": True,
    "--namespace": True,
    "-n": True,
    "--istio-namespace": True,
    "-i": True,
    "--request-timeout": True,
    "--debug": False,
    "--no-color": False,
}
_SHORT_WITH_VALUE = tuple(f for f, takes in GLOBAL_FLAGS.items() if takes and len(f) == 2)


def hoist_global_flags(args: list[str]) -> list[str]:
    """Move global flags (with their values) before the first subcommand word."""
    hoisted: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        name = arg.split("=", 1)[0] if arg.startswith("--") else arg
        if name in GLOBAL_FLAGS:
            if GLOBAL_FLAGS[name] and "=" not in arg:
                if i + 1 >= len(args):  # hoisted alone it would swallow the command name as its value
                    raise click.UsageError(f"Option '{arg}' requires an argument.")
                hoisted.extend(args[i:i + 2])
                i += 2
                continue
            hoisted.append(arg)
        elif arg.startswith(_SHORT_WITH_VALUE) and len(arg) > 2 and not arg.startswith("--"):
            hoisted.append(arg)  # -nfoo
        else:
            rest.append(arg)
        i += 1
    return hoisted + rest


class GlobalFlagsGroup(TyperGroup):
    """The root group: global flags anywhere on the line, and errors mapped to exit codes.

    Overriding `main` makes the console script, `run()` and Typer's CliRunner
    all go through the same error handling.
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_flags(list(args)))

    def main(self, args: Any = None, prog_name: Any = None, complete_var: Any = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        from ambientctl.cli.exits import call_mapping_errors

        argv = list(sys.argv[1:] if args is None else args)
        code = call_mapping_errors(
            lambda: super(GlobalFlagsGroup, self).main(argv, prog_name, complete_var, standalone_mode=False, **extra),
            argv,
        )
        if standalone_mode:
            sys.exit(code)
        return code


def cli_context(ctx: typer.Context) -> CliContext:
    """The CliContext built by the root callback (a default one if absent)."""
    root = ctx.find_root()
    if not isinstance(root.obj, CliContext):
        root.obj = CliContext()
    return root.obj


def complete_contexts(ctx: typer.Context, incomplete: str) -> list[str]:
    """Shell completion for --context, read from the kubeconfig without a cluster."""
    from ambientctl.kube.config import list_contexts

    kubeconfig = (ctx.find_root().params or {}).get("kubeconfig")
    return [name for name in list_contexts(kubeconfig) if name.startswith(incomplete)]
