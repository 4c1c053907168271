"""`ambientctl upgrade`: an in-place upgrade of a revision to ambientctl's pinned Istio release.

Thin: the inputs and checks come from `ambientctl.revision.upgrade`, the
plan, diff and apply from the installer that `install` uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, List, Optional

import typer

from ambientctl.cli.common import BoolValuesCommand, cli_context, manifests_refused
from ambientctl.cli.options import (filenames_option, readiness_timeout_option, revision_option, set_option,
                                    skip_confirmation_option, skip_wait_option, verify_option)
from ambientctl.errors import UsageError
from ambientctl.output import write_stdout

if TYPE_CHECKING:
    from ambientctl.context import CliContext
    from ambientctl.render import Rendered


def upgrade(
    ctx: typer.Context,
    revision: Optional[str] = revision_option("Revision to upgrade (default: the default revision)."),
    set_values: List[str] = set_option("Change a value on top of the recorded install (repeatable)."),
    filenames: List[str] = filenames_option("IstioOperator overlay on top of the recorded install (repeatable)."),
    skip_confirmation: bool = skip_confirmation_option(),
    dry_run: bool = typer.Option(False, "--dry-run", help="Precheck and print the diff; change nothing."),
    force: bool = typer.Option(False, "--force", help="Upgrade even when a precheck fails."),
    readiness_timeout: str = readiness_timeout_option(),
    skip_wait: bool = skip_wait_option(),
    verify: bool = verify_option(),
    manifests: Optional[str] = manifests_refused(),
) -> None:
    """Upgrade a revision in place to the Istio release ambientctl pins: precheck, diff, confirm, apply.

    The revision's last install (its record: profile, --set, -f) is rendered
    again without its version pins; --set/-f here add to it. ztunnel and
    istio-cni restart node by node: long-lived connections through them break.

    \b
    Examples:
      ambientctl upgrade --dry-run          # prechecks and the diff only
      ambientctl upgrade -y
      ambientctl upgrade -r canary -y
    """
    from ambientctl.cli.install import CheckOutput, _coexisting, _confirm, _verify
    from ambientctl.durations import parse_duration
    from ambientctl.install import record
    from ambientctl.install.checks import Status, count, format_outcome, run_checks
    from ambientctl.install.installer import Installer, InstallOptions, InstallProgress, format_diff
    from ambientctl.install.precheck import PRECHECKS
    from ambientctl.render import render
    from ambientctl.render.overlay import load_overlay
    from ambientctl.revision.lookup import require_control_plane
    from ambientctl.revision.upgrade import revision_versions, upgrade_checks, upgrade_inputs
    from ambientctl.versions import ISTIO_VERSION

    cli = cli_context(ctx)
    rev = revision or "default"
    options = InstallOptions(dry_run=True, skip_wait=skip_wait,
                             readiness_timeout=parse_duration(readiness_timeout, "--readiness-timeout"))
    overlays = [load_overlay(f) for f in filenames]
    plane = require_control_plane(cli.kube, cli.istio_namespace, rev, "upgrade")
    found = record.find(cli.kube, revision, cli.istio_namespace)
    if found is None and not set_values and not filenames:
        raise UsageError(f"no install record of revision {rev} (installed by another tool or an older ambientctl)",
                         "pass the install's --set/-f flags so the upgrade renders the same configuration")
    inputs = upgrade_inputs(found, revision, set_values, overlays, cli.istio_namespace_override)
    if found is not None:
        cli.info(f"Upgrading the install recorded at {found.installed_at}: {found.describe()}")
    if inputs.dropped:
        cli.info(f"Version pins dropped: {', '.join(inputs.dropped)}")
    running = ", ".join(revision_versions(plane, cli.kube))
    cli.info(f"Revision {rev}: {running} → {ISTIO_VERSION}")
    outcomes = run_checks(cli.kube, list(PRECHECKS) + upgrade_checks(cli.istio_namespace, rev, None, in_place=True))
    for outcome in outcomes:
        if outcome.result.status is not Status.OK:
            cli.err.print(format_outcome(outcome), end="", markup=False, highlight=False)
    if count(outcomes, Status.FAIL) and not force:
        from ambientctl.errors import ChecksFailedError

        failed = ", ".join(o.description for o in outcomes if o.result.status is Status.FAIL)
        raise ChecksFailedError(f"upgrade precheck failed ({failed}); nothing was changed",
                                "fix the ✘ items above, or pass --force to upgrade anyway")
    cli.info(f"✔ Prechecks passed ({count(outcomes, Status.WARN)} warning(s))")
    rendered = _coexisting(cli, render(**inputs.render_arguments))
    report = Installer(cli.kube, rendered, options, InstallProgress(cli.err, cli.interactive)).plan()
    write_stdout(format_diff(report))
    if not report.changed:
        cli.info(f"Nothing to upgrade: revision {rev} already matches the {ISTIO_VERSION} render")
        return
    cli.info(f"Upgrade: {report.summary()}")
    if dry_run:
        cli.info("Dry run: nothing was changed")
        return
    _confirm(cli, "", skip_confirmation, False, f"Upgrade revision {rev} to {ISTIO_VERSION}?")
    from dataclasses import replace

    installer = Installer(cli.kube, rendered, replace(options, dry_run=False), InstallProgress(cli.err, cli.interactive))
    done = installer.install()
    cli.info(f"  {done.summary()}")
    import os

    names = (found.filenames if found else ()) + tuple(os.path.basename(f) for f in filenames)
    _record_upgrade(cli, rendered, inputs.render_arguments, names, installer.istio_namespace)
    cli.info(f"✔ Revision {rev} upgraded to {ISTIO_VERSION}")
    if verify:
        _verify(cli, rendered, CheckOutput.text)


def _record_upgrade(cli: CliContext, rendered: Rendered, arguments: dict[str, Any], filenames: tuple[str, ...],
                    namespace: str) -> None:
    """The record of the upgraded install: the inputs it rendered from (overlays by content, files are not re-read)."""
    from ambientctl.install import record
    from ambientctl.versions import ISTIO_VERSION

    entry = record.InstallRecord(profile=rendered.profile, revision=rendered.revision,
                                 set_values=tuple(arguments["set_values"]), filenames=filenames,
                                 overlays=tuple(arguments["overlays"]), istio_namespace=arguments["istio_namespace"],
                                 installed_at=record.now(), version=ISTIO_VERSION)
    record.write(cli.kube, entry, namespace)


def register(root: typer.Typer) -> None:
    root.command("upgrade", cls=BoolValuesCommand)(upgrade)
