"""`zc VIEW --file DUMP` and `pc secret --file DUMP` without importing Typer or Click.

Why: reading a saved ztunnel dump of 1,000 workloads takes ~30 ms of work, and
importing Typer and Click ~60 ms more, which made these reads slower than
istioctl's Go binary on small meshes (issue 17). Reading a file needs no
cluster and no global flag, so its command line is simple enough to take here.

Only a command line made of the view's own flags, each given once, with
`--file`, is taken. Anything else (help, a pod reference, a global flag, an
unknown or repeated flag, an `-o` value that is not one of the formats, a
value that looks like a flag) returns None and Typer parses it as always: help
text, usage errors and every other command keep their one source. The flags
below are checked against the Typer declarations, and the output of both paths
compared byte for byte, by tests/unit/test_fastpath.py.
"""

from __future__ import annotations

import os
from typing import Callable, NamedTuple, Optional

from ambientctl.cli import dumpviews
from ambientctl.cli.dumpviews import (PROXY_CONFIG_ALIASES, SECRET_FORMATS, TABLE_OR_DOCUMENT,
                                      ZTUNNEL_CONFIG_ALIASES)

# Click's shell-completion request: answered by Typer's path (cli/completion.py).
COMPLETION_VARIABLE = "_AMBIENTCTL_COMPLETE"


class Flag(NamedTuple):
    """A flag the fast path takes: the keyword it fills, and what values it accepts."""

    dest: str
    takes_value: bool = True
    choices: tuple[str, ...] = ()  # empty: any value


class View(NamedTuple):
    """A subcommand the fast path runs: its body in cli/dumpviews.py and its flags by spelling."""

    run: Callable[..., None]
    flags: dict[str, Flag]


def _flags(*spellings: tuple[tuple[str, ...], Flag]) -> dict[str, Flag]:
    return {spelling: flag for names, flag in spellings for spelling in names}


def _zc_view(run: Callable[..., None], *own: tuple[tuple[str, ...], Flag]) -> View:
    return View(run, _flags(FILE, (("--output", "-o"), Flag("output", choices=TABLE_OR_DOCUMENT)), *own))


FILE = (("--file", "-f"), Flag("file"))
IDENTITY = (("--identity", "--service-account"), Flag("identity"))

ZTUNNEL_CONFIG_VIEWS = {
    "workload": _zc_view(dumpviews.workload, (("--workload-namespace",), Flag("workload_namespace")),
                         (("--workload-node",), Flag("workload_node")), (("--address",), Flag("address"))),
    "service": _zc_view(dumpviews.service, (("--service-namespace",), Flag("service_namespace"))),
    "policy": _zc_view(dumpviews.policy, (("--policy-namespace",), Flag("policy_namespace"))),
    "certificate": _zc_view(dumpviews.certificate, IDENTITY),
    "connections": _zc_view(dumpviews.connections, (("--workload-namespace",), Flag("workload_namespace")),
                            (("--direction",), Flag("direction")), (("--raw",), Flag("raw", takes_value=False))),
    "all": _zc_view(dumpviews.all_config, (("--with-headers",), Flag("with_headers", takes_value=False))),
}
PROXY_CONFIG_VIEWS = {
    "secret": View(dumpviews.secret, _flags(FILE, (("--output", "-o"), Flag("output", choices=SECRET_FORMATS)),
                                            IDENTITY)),
}
# Root command names (and istioctl's aliases) → their views and subcommand aliases.
GROUPS: dict[str, tuple[dict[str, View], dict[str, str]]] = {
    "ztunnel-config": (ZTUNNEL_CONFIG_VIEWS, ZTUNNEL_CONFIG_ALIASES),
    "zc": (ZTUNNEL_CONFIG_VIEWS, ZTUNNEL_CONFIG_ALIASES),
    "proxy-config": (PROXY_CONFIG_VIEWS, PROXY_CONFIG_ALIASES),
    "pc": (PROXY_CONFIG_VIEWS, PROXY_CONFIG_ALIASES),
}


class FastCall(NamedTuple):
    """A parsed command line: the view, the dump file, and the other flags' values by keyword."""

    view: View
    file: str
    values: dict[str, object]


def parse(argv: list[str]) -> Optional[FastCall]:
    """The call `argv` asks for, or None when Typer must parse it (see the module's docstring)."""
    if len(argv) < 2 or argv[0] not in GROUPS or os.environ.get(COMPLETION_VARIABLE):
        return None
    views, aliases = GROUPS[argv[0]]
    view = views.get(aliases.get(argv[1], argv[1]))
    if view is None:
        return None
    values: dict[str, object] = {}
    rest = argv[2:]
    while rest:
        taken = _take_flag(view.flags, rest, values)
        if taken == 0:
            return None
        rest = rest[taken:]
    file = values.pop("file", None)
    if not isinstance(file, str) or not file:
        return None
    return FastCall(view, file, values)


def _take_flag(flags: dict[str, Flag], args: list[str], values: dict[str, object]) -> int:
    """Read the flag at args[0] into `values`; the number of words it used, 0 when Typer must decide."""
    word = args[0]
    if word.startswith("--"):
        name, equals, inline = word.partition("=")
        has_inline = bool(equals)
    elif word.startswith("-") and len(word) > 1:
        name, inline = word[:2], word[2:]  # Click's short form: -ojson is -o json
        has_inline = bool(inline)
    else:
        return 0  # a positional word (a pod reference) or a lone "-"
    flag = flags.get(name)
    if flag is None or flag.dest in values:
        return 0
    if not flag.takes_value:
        if has_inline:
            return 0  # istioctl's --flag=true form: Typer's path reads it
        values[flag.dest] = True
        return 1
    if has_inline:
        value, used = inline, 1
    elif len(args) > 1:
        value, used = args[1], 2
    else:
        return 0
    if value.startswith("-") and value != "-" or flag.choices and value not in flag.choices:
        return 0
    values[flag.dest] = value
    return used


def run_without_typer(argv: list[str]) -> Optional[int]:
    """Run `argv` here when it is a plain `--file` read; None: not taken (Typer runs it)."""
    call = parse(argv)
    if call is None:
        return None
    from ambientctl.cli.exits import call_mapping_errors
    from ambientctl.context import CliContext, GlobalOptions, no_color_requested

    cli = CliContext(options=GlobalOptions(no_color=no_color_requested(False)))
    source = dumpviews.DumpSource(file=call.file)
    return call_mapping_errors(lambda: call.view.run(cli, source, **call.values), argv)
