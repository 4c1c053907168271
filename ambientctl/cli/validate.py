"""`ambientctl validate -f FILE|DIR` (alias `v`): offline checks of the Istio kinds ambient uses.

The checks live in `ambientctl.validate`; this module reads the flags and prints.
No cluster is needed, and `kubernetes` is never imported.
"""

# No `from __future__ import annotations`: typer would eval every annotation string at every start.
from typing import List

import typer

from ambientctl.cli.common import cli_context
from ambientctl.errors import InvalidInputError, UsageError


def validate(
    ctx: typer.Context,
    filenames: List[str] = typer.Option([], "--filename", "-f",
                                        help="A file, a directory (its .yaml/.yml/.json files, recursively) or - "
                                             "for stdin; repeatable, or comma-separated."),
) -> None:
    """Check AuthorizationPolicy, PeerAuthentication, Telemetry, WasmPlugin, Gateway and HTTPRoute files offline.

    Every problem is one line on stderr naming file, line, object and field;
    the exit code is 11 when there is one. Other kinds are passed over.

    \b
    Examples:
      ambientctl validate -f policy.yaml
      ambientctl validate -f manifests/ -f extra.yaml
      kubectl get authorizationpolicies -A -o yaml | ambientctl validate -f -
    """
    from ambientctl.output import write_stdout
    from ambientctl import validate as checks
    from ambientctl.validate import report as reports

    paths = [p for value in filenames for p in value.split(",") if p]
    if not paths:
        raise UsageError("validate needs files", "give -f FILE, -f DIR or -f - (stdin)")
    cli = cli_context(ctx)
    result = checks.run(paths, cli.options.namespace or "default")
    for note in result.notes:
        cli.info(f"note: {note}")
    for finding in result.findings:
        cli.info(finding.one_line())
    write_stdout(result.status_lines())
    if result.errors:
        raise InvalidInputError(reports.summary(result), "fix the fields named above")


def register(root: typer.Typer) -> None:
    root.command("validate")(validate)
    root.command("v", hidden=True, help="Alias of validate.")(validate)
