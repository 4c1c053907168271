"""Pieces every command module shares: the context accessor and global-flag hoisting."""

from __future__ import annotations

import sys
from typing import Any

import click
import typer
from typer.core import TyperCommand, TyperGroup

from ambientctl.context import CliContext
from ambientctl.errors import UsageError

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
    "--istioNamespace": True,  # istioctl's spelling
    "-i": True,
    "--request-timeout": True,
    "--kubeclient-timeout": True,  # istioctl's spelling, a Go duration
    "--as": True,
    "--as-group": True,
    "--as-uid": True,
    "--vklog": True,
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


# Go's strconv.ParseBool, which istioctl's (pflag's) `--flag=value` form for bool flags uses.
_GO_TRUE = frozenset({"1", "t", "T", "true", "TRUE", "True"})
_GO_FALSE = frozenset({"0", "f", "F", "false", "FALSE", "False"})


def parse_go_bool(text: str, flag: str) -> bool:
    """A bool flag's value as istioctl reads it (true/false, 1/0, t/f)."""
    if text in _GO_TRUE:
        return True
    if text in _GO_FALSE:
        return False
    raise UsageError(f"invalid value {text!r} for {flag}: not a boolean", f"use {flag}=true or {flag}=false")


def bool_flag_values(args: list[str], params: list[click.Parameter]) -> list[str]:
    """Rewrite istioctl's `--flag=false` / `--flag=true` for bool flags into Click's forms.

    Click flags take no value; istioctl scripts write `waypoint status --wait=false`.
    `=true` becomes the flag itself, `=false` its `--no-` form when it has one,
    else drops it and any earlier use (a flag whose default is off). Only the
    `=` form is read: a bare flag never swallows the next word, as in pflag.
    """
    flags: dict[str, click.Option] = {}
    for param in params:
        if isinstance(param, click.Option) and param.is_flag and param.is_bool_flag:
            flags.update({opt: param for opt in param.opts})
    out: list[str] = []
    for i, arg in enumerate(args):
        if arg == "--":
            return out + args[i:]
        name, eq, value = arg.partition("=")
        option = flags.get(name) if eq and arg.startswith("-") else None
        if option is None:
            out.append(arg)
        elif parse_go_bool(value, name):
            out.append(option.opts[0])
        elif option.secondary_opts:
            out.append(option.secondary_opts[0])
        elif not option.default:
            out = [a for a in out if a not in option.opts]
        else:
            raise UsageError(f"{name} cannot be turned off here", f"drop {name}")
    return out


class BoolValuesCommand(TyperCommand):
    """A command whose bool flags also take istioctl's `=true`/`=false` (bool_flag_values)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, bool_flag_values(list(args), self.params))


def refused_option(*decls: str, reason: str, use: str, flag: bool = False) -> Any:
    """A hidden option istioctl has and ambientctl refuses: giving it prints one line saying what to use.

    Scripts written for istioctl then fail with a reason and an alternative,
    not with `No such option`.
    """
    def refuse(param: typer.CallbackParam, value: Any) -> Any:
        if value is None or value is False or value == () or value == []:
            return value
        raise UsageError(f"{'/'.join(param.opts)} is not supported: {reason}", use)

    return typer.Option(False if flag else None, *decls, hidden=True, callback=refuse, show_default=False)


class GlobalFlagsGroup(TyperGroup):
    """The root group: global flags anywhere on the line, and errors mapped to exit codes.

    Overriding `main` makes the console script, `run()` and Typer's CliRunner
    all go through the same error handling.
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, bool_flag_values(hoist_global_flags(list(args)), self.params))

    def _main_shell_completion(self, ctx_args: Any, prog_name: str, complete_var: Any = None) -> None:
        """The shell asks for completions: answered by cli/completion.py, quietly (see there)."""
        import os

        complete_var = complete_var or f"_{prog_name}_COMPLETE".replace("-", "_").upper()
        if os.environ.get(complete_var):
            from ambientctl.cli.completion import complete_and_exit

            value_flags = frozenset(flag for flag, takes_value in GLOBAL_FLAGS.items() if takes_value)
            complete_and_exit(self, ctx_args, prog_name, complete_var, value_flags)

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


def manifests_refused() -> Any:
    """istioctl's -d/--manifests (a directory of Istio's charts), which ambientctl cannot use."""
    return refused_option("--manifests", "-d", reason="ambientctl renders its own templates, not Istio's charts",
                          use="drop -d; pick the release with --set tag=VERSION and change it with -f/--set")
