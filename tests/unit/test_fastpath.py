"""cli/fastpath.py: `zc VIEW --file` and `pc secret --file` without Typer, and the same bytes as Typer's path.

Two ways the fast path could drift from the Typer commands, each pinned here:
its flag table (spellings, value or switch, -o choices, defaults) against the
Typer declarations, and its output, stderr and exit code against Typer's for
generated command lines, including ones it must hand back to Typer.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ambientctl.cli import fastpath, proxyconfig, run, run_with_typer, ztunnelconfig
from tests.support import dumpgen
from tests.support import dumpshapes as ds

# Flags only Typer's path takes: they need the cluster (a pod, a node, its admin port).
POD_ONLY = {"pod_ref", "node", "admin_port"}


def _click_command(group: str, view: str) -> click.Command:
    """The command Typer builds for `group view` (the root app loads the group's modules)."""
    from ambientctl.cli.app import COMMANDS, _load

    command = _load(COMMANDS[group].modules).commands[group]
    assert isinstance(command, click.Group)
    return command.commands[view]


def _spellings(view: fastpath.View, dest: str) -> set[str]:
    return {spelling for spelling, flag in view.flags.items() if flag.dest == dest}


VIEWS = [(group, name) for group in ("ztunnel-config", "proxy-config") for name in fastpath.GROUPS[group][0]]


@pytest.mark.parametrize("group,name", VIEWS)
def test_the_flag_table_is_the_typer_declaration(group, name):
    view = fastpath.GROUPS[group][0][name]
    command = _click_command(group, name)
    params = {p.name: p for p in command.params}
    dests = {flag.dest for flag in view.flags.values()}
    assert set(params) - dests == POD_ONLY, "a new flag: teach cli/fastpath.py, or list it in POD_ONLY"
    body = inspect.signature(view.run).parameters
    for dest in dests:
        param = params[dest]
        assert set(param.opts) | set(param.secondary_opts) == _spellings(view, dest)
        flag = next(f for f in view.flags.values() if f.dest == dest)
        assert param.is_flag == (not flag.takes_value)
        if isinstance(param.type, click.Choice):
            assert tuple(str(c) for c in param.type.choices) == flag.choices
        else:
            assert flag.choices == ()
        if dest != "file":  # the file goes into the DumpSource, not the body
            default = param.default.value if hasattr(param.default, "value") else param.default
            assert body[dest].default == default, f"{name}: the body's default of {dest} is not the flag's"


def test_every_spelling_of_the_groups_and_views_is_typer_s():
    from ambientctl.cli.app import COMMANDS, _load

    assert COMMANDS["zc"].modules == COMMANDS["ztunnel-config"].modules
    assert COMMANDS["pc"].modules == COMMANDS["proxy-config"].modules
    _load(COMMANDS["pc"].modules)  # proxyenvoy adds the Envoy views' short names to proxy-config's
    for group, typer_group in (("zc", ztunnelconfig.ZtunnelConfigGroup), ("pc", proxyconfig.ProxyConfigGroup)):
        views, aliases = fastpath.GROUPS[group]
        assert {a: t for a, t in typer_group.aliases.items() if t in views} == \
            {a: t for a, t in aliases.items() if t in views}


@pytest.fixture(scope="module")
def dumps(tmp_path_factory) -> dict[str, str]:
    """A generated mesh, the golden ztunnel dump (connections, several identities), its Envoy form, broken files."""
    base = tmp_path_factory.mktemp("dumps")
    paths = {"scale": base / "scale.json", "golden": base / "golden.json", "envoy": base / "envoy.json",
             "garbage": base / "garbage.json", "missing": base / "missing.json"}
    dumpgen.write_scale_dump(str(paths["scale"]), 60)
    golden = ds.golden_dump()
    paths["golden"].write_text(json.dumps(golden, indent=2))
    paths["envoy"].write_text(json.dumps(ds.to_envoy(golden)))
    paths["garbage"].write_text('{"workloads": [')
    return {name: str(path) for name, path in paths.items()}


def _invoke(runner, argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = runner(argv)
    return code, out.getvalue(), err.getvalue()


VALUES = ["ns-0000", "ns-0001", "default", "", "nope", "node-0000", "10.0.0.1", "ns-0000/app-0000",
          "spiffe://cluster.local/ns/default/sa/sleep", "inbound", "outbound", "sideways", "-"]
# Words that make a command line Typer's business.
DISTURBANCES = [["--help"], ["-n", "default"], ["--debug"], ["ds/ztunnel"], ["--node", "n1"], ["-o", "wide"],
                ["--with-headers=true"], ["--proxy-admin-port", "15000"], ["--"], ["--unknown"]]


@st.composite
def command_lines(draw, files: list[str]) -> tuple[list[str], bool]:
    """(argv, fast): a zc/pc command line from the fast path's table, and whether the fast path must take it.

    Values never start with '-' (stdin's '-' aside): such a value is Typer's business on purpose.
    """
    group = draw(st.sampled_from(sorted(fastpath.GROUPS)))
    views, aliases = fastpath.GROUPS[group]
    word = draw(st.sampled_from(sorted(views) + sorted(a for a, target in aliases.items() if target in views)))
    view = views[aliases.get(word, word)]
    dests = sorted({flag.dest for flag in view.flags.values()})
    chosen = draw(st.lists(st.sampled_from(dests), unique=True))
    if "file" not in chosen and draw(st.integers(0, 4)):
        chosen.append("file")
    words: list[str] = []
    for dest in draw(st.permutations(chosen)):
        spelling = draw(st.sampled_from(sorted(_spellings(view, dest))))
        flag = view.flags[spelling]
        if not flag.takes_value:
            words.append(spelling)
            continue
        value = draw(st.sampled_from(files if dest == "file" else list(flag.choices) or VALUES))
        if draw(st.booleans()):
            words += [spelling, value]
        else:
            words.append(f"{spelling}={value}" if spelling.startswith("--") else spelling + value)
    disturbed = draw(st.booleans())
    if disturbed:
        extra = draw(st.sampled_from(DISTURBANCES + [[words[0]] if words else ["--file"]]))
        at = draw(st.integers(0, len(words)))
        words[at:at] = extra
    return [group, word, *words], "file" in chosen and not disturbed


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_both_paths_print_the_same(dumps, data):
    files = [dumps["scale"], dumps["golden"], dumps["envoy"], dumps["garbage"], dumps["missing"]]
    argv, fast = data.draw(command_lines(files))
    assert (fastpath.parse(argv) is not None) == fast, argv
    assert _invoke(run, argv) == _invoke(run_with_typer, argv), argv


@pytest.mark.parametrize("argv", [
    ["zc", "workload", "--file", "D"],
    ["ztunnel-config", "w", "-f", "D", "-o", "json", "--workload-namespace", "ns-0001"],
    ["zc", "svc", "--service-namespace=ns-0000", "-ojson", "-fD"],
    ["zc", "all", "--with-headers", "--file=D"],
    ["pc", "s", "--file", "D", "--identity", "default/sleep", "-o", "detail"],
    ["proxy-config", "secret", "--file", "-"],
])
def test_plain_file_reads_take_the_fast_path(argv):
    assert fastpath.parse(argv) is not None


@pytest.mark.parametrize("argv", [
    ["zc", "workload"],                                   # a pod: the cluster
    ["zc", "workload", "ds/ztunnel", "--file", "D"],      # a positional word
    ["zc", "workload", "--file", "D", "-n", "default"],   # a global flag
    ["zc", "workload", "--file", "D", "--help"],
    ["zc", "workload", "--file", "D", "--file", "E"],     # repeated
    ["zc", "workload", "--file", "D", "-o", "wide"],      # not a format: Typer's error
    ["zc", "workload", "--file", "D", "--workload-namespace"],  # no value
    ["zc", "workload", "--file", "D", "--address", "--x"],     # a value like a flag
    ["zc", "all", "--file", "D", "--with-headers=true"],  # istioctl's bool form
    ["zc", "workload", "--file="],
    ["zc", "connections", "--file", "D", "--raw", "--raw"],
    ["pc", "cluster", "--file", "D"],                     # Envoy views: Typer
    ["waypoint", "list"],
    ["zc"],
])
def test_everything_else_goes_to_typer(argv):
    assert fastpath.parse(argv) is None


def test_shell_completion_goes_to_typer(monkeypatch):
    monkeypatch.setenv(fastpath.COMPLETION_VARIABLE, "bash_complete")
    assert fastpath.parse(["zc", "workload", "--file", "D"]) is None


def test_a_fast_read_loads_neither_typer_nor_click(dumps):
    """The point of the fast path: measured in a fresh interpreter, as a user's run."""
    code = ("import sys; from ambientctl.cli import run; "
            f"code = run(['zc', 'workload', '-o', 'json', '--file', {dumps['scale']!r}]); "
            "print(code, sorted(m for m in ('typer', 'click', 'rich', 'kubernetes') if m in sys.modules), "
            "file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.stderr.strip() == "0 []"
    assert len(json.loads(done.stdout)) == 60


def test_errors_are_mapped_without_click(dumps):
    code, out, err = _invoke(run, ["zc", "workload", "--file", dumps["garbage"]])
    assert (code, out) == (11, "") and err.startswith("Error: ") and err.count("\n") == 1
    assert _invoke(run_with_typer, ["zc", "workload", "--file", dumps["garbage"]]) == (code, out, err)
