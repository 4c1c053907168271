"""CLI plumbing: startup imports, global flags anywhere, version, output printers."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ambientctl.cli.common import hoist_global_flags
from ambientctl.output import format_json, format_table, format_yaml
from tests.support.cli import invoke

_PROBE = """
import sys, io, contextlib
from ambientctl.cli import run
with contextlib.redirect_stdout(io.StringIO()):
    code = run(sys.argv[1:])
heavy = [m for m in ("kubernetes", "urllib3", "cryptography") if m in sys.modules]
print(code, ",".join(heavy))
"""


@pytest.mark.parametrize("argv", [["--help"], ["version", "--client"], ["version", "--client", "-o", "json"],
                                  ["completion", "bash"], ["completion", "--help"],
                                  ["dataplane", "--help"]])
def test_commands_without_cluster_do_not_import_kubernetes(argv):
    out = subprocess.run([sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True, check=True)
    code, heavy = out.stdout.strip().split(" ", 1) if " " in out.stdout.strip() else (out.stdout.strip(), "")
    assert code == "0", out.stderr
    assert heavy == "", f"{argv} imported {heavy}"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (["waypoint", "list", "-n", "foo"], ["-n", "foo", "waypoint", "list"]),
        (["dataplane", "status", "--context=k", "-A"], ["--context=k", "dataplane", "status", "-A"]),
        (["x", "--kubeconfig", "f", "--debug", "y"], ["--kubeconfig", "f", "--debug", "x", "y"]),
        (["pc", "secret", "-nistio-system"], ["-nistio-system", "pc", "secret"]),
        (["a", "--", "-n", "b"], ["a", "--", "-n", "b"]),
        (["install", "--set", "values.x=-n"], ["install", "--set", "values.x=-n"]),
    ],
)
def test_global_flags_hoisted(given, expected):
    assert hoist_global_flags(given) == expected


def test_version_client_outputs():
    text = invoke("version", "--client")
    assert text.exit_code == 0 and text.stdout.startswith("client version: ")
    short = invoke("version", "--client", "--short")
    assert short.stdout.strip() == text.stdout.split()[2]
    doc = invoke("version", "--client", "-o", "json").json
    assert set(doc) == {"clientVersion"} and doc["clientVersion"]["istioVersion"]
    assert invoke("version", "--client", "-o", "yaml").yaml == doc


def test_python_dash_m_works():
    out = subprocess.run([sys.executable, "-m", "ambientctl", "version", "--client", "--short"],
                         capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip()


def test_format_table_aligns_without_trailing_spaces():
    text = format_table(["NAME", "X"], [["a", "1"], ["longer-name", ""]])
    assert text == "NAME          X\na             1\nlonger-name\n"


def test_json_and_yaml_are_single_documents():
    data = {"b": [1, 2], "a": "multi\nline"}
    assert json.loads(format_json(data)) == data
    import yaml

    docs = list(yaml.safe_load_all(format_yaml(data)))
    assert docs == [data]


def test_every_lazy_command_resolves_and_every_cli_module_is_reachable():
    import pkgutil

    import click

    import ambientctl.cli as cli_pkg
    from ambientctl.cli.app import COMMANDS, LazyRootGroup, app
    import typer

    root = typer.main.get_command(app)
    assert isinstance(root, LazyRootGroup)
    ctx = click.Context(root)
    for name in COMMANDS:
        assert root.get_command(ctx, name) is not None, name
    referenced = {m for entry in COMMANDS.values() for m in entry.modules}
    # shared by command modules, not commands (fastpath runs dumpviews for `--file` reads before Typer loads)
    helpers = {"app", "common", "exits", "reference", "options", "aliases", "dumpviews", "fastpath"}
    modules = {m.name for m in pkgutil.iter_modules(cli_pkg.__path__)} - helpers
    assert modules <= referenced, f"CLI modules not reachable from the root: {modules - referenced}"


def test_running_one_command_imports_only_its_module():
    probe = ("import sys, io, contextlib\nfrom ambientctl.cli import run\n"
             "with contextlib.redirect_stdout(io.StringIO()): run(['version', '--client'])\n"
             "print(sorted(m for m in sys.modules if m.startswith('ambientctl.cli.')))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert "ambientctl.cli.version" in out
    for other in ("waypoint", "install", "proxyconfig", "analyze", "samples"):
        assert f"ambientctl.cli.{other}'" not in out
