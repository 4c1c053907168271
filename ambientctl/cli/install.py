"""`ambientctl install | uninstall | verify-install | precheck`: the install lifecycle (guide steps 2-3).

Thin: parse flags, render, hand the result to the domain objects in
`ambientctl.install`, `ambientctl.install.uninstall` and `ambientctl.install.checks`, print.
"""

from __future__ import annotations

import sys
from enum import Enum
from typing import TYPE_CHECKING, List, Optional

import typer

from ambientctl.cli.common import BoolValuesCommand, cli_context, manifests_refused, refused_option
from ambientctl.cli.options import (filenames_option, readiness_timeout_option, revision_option, set_option,
                                    skip_confirmation_option, skip_wait_option, verify_option)
from ambientctl.context import CliContext
from ambientctl.errors import AbortedError, UsageError
from ambientctl.output import print_document, write_stdout

if TYPE_CHECKING:
    from ambientctl.install.installer import Installer, InstallReport
    from ambientctl.render import Rendered


class CheckOutput(str, Enum):
    text = "text"
    log = "log"  # istioctl's name for the text form
    json = "json"
    yaml = "yaml"


def _render(cli: CliContext, files: list[str], sets: list[str], revision: Optional[str]) -> Rendered:
    from ambientctl.render import render

    return render(files=files, set_values=sets, revision=revision, istio_namespace=cli.istio_namespace_override)


def _installed_render(cli: CliContext, files: list[str], sets: list[str], revision: Optional[str]) -> Rendered:
    """What was installed: the flags if given, else the install record of the revision (said on stderr)."""
    from ambientctl.install import record
    from ambientctl.render import render

    if files or sets:
        return _render(cli, files, sets, revision)
    found = record.find(cli.kube, revision, cli.istio_namespace)
    if found is None:
        cli.warn(f"no install record of revision {revision or 'default'} in the cluster (installed by another tool "
                 "or an older ambientctl): checking the default profile; pass the install's --set/-f flags")
        return _render(cli, files, sets, revision)
    cli.info(f"Using the install recorded at {found.installed_at}: {found.describe()}")
    return render(**found.render_arguments())


def _coexisting(cli: CliContext, rendered: Rendered) -> Rendered:
    """The render minus objects another installed revision owns (ztunnel, istio-cni, ...): said on stderr."""
    from ambientctl.render.components import istio_namespace_of
    from ambientctl.revision.coexist import without_other_revisions

    result = without_other_revisions(cli.kube, rendered, istio_namespace_of(rendered.config))
    if result.left:
        cli.info(f"Revision {rendered.revision or 'default'} next to other revisions: {result.describe()}")
    return result.rendered


def _confirm(cli: CliContext, summary: str, skip: bool, changes_nothing: bool, question: str) -> None:
    """Show what will happen and ask; without a terminal and without -y, refuse."""
    import click

    from ambientctl.install.installer import Confirmation, confirmation_decision

    decision = confirmation_decision(skip, changes_nothing, sys.stdin.isatty())
    if decision is Confirmation.PROCEED:
        return
    if decision is Confirmation.REFUSE:
        raise UsageError("confirmation needed but stdin is not a terminal", "pass -y (--skip-confirmation) to proceed")
    if summary:
        cli.err.print(summary, markup=False, highlight=False)
    if not click.confirm(question, default=False, err=True):
        raise AbortedError("cancelled; nothing was changed")


# ------------------------------------------------------------------ install


def install(
    ctx: typer.Context,
    set_values: List[str] = set_option(),
    filenames: List[str] = filenames_option(),
    revision: Optional[str] = revision_option(),
    readiness_timeout: str = readiness_timeout_option(),
    skip_wait: bool = skip_wait_option(),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate every object on the server (server-side dry run); change nothing."),
    diff: bool = typer.Option(False, "--diff", help="Print what would change (unified diff per object, plus creations and prunes); change nothing."),
    force_conflicts: bool = typer.Option(False, "--force-conflicts", help="Take ownership of fields another field manager owns."),
    skip_confirmation: bool = skip_confirmation_option(),
    lock_timeout: str = typer.Option("30s", "--lock-timeout", help="How long to wait for another running install to finish."),
    verify: bool = verify_option(),
    force: bool = typer.Option(False, "--force", help="istioctl's flag: accepted; ambientctl never installs an invalid "
                               "configuration, so it changes nothing."),
    manifests: Optional[str] = manifests_refused(),
) -> None:
    """Install (or upgrade in place) Istio's ambient data plane, then prune what the new render dropped.

    The inputs (profile, --set, -f contents, -i) are recorded in the ConfigMap
    ambientctl-install[-REVISION] of the Istio namespace: verify-install and
    uninstall read them when given no flags.

    \b
    Examples:
      ambientctl install --set profile=ambient -y
      ambientctl install --set profile=ambient --set tag=1.31.1 --diff
      ambientctl install -f my-overlay.yaml --dry-run
    """
    from ambientctl.durations import parse_duration
    from ambientctl.install.installer import Installer, InstallOptions, InstallProgress, install_summary
    from ambientctl.versions import ISTIO_VERSION

    cli = cli_context(ctx)
    options = InstallOptions(
        force_conflicts=force_conflicts,
        dry_run=dry_run or diff,
        skip_wait=skip_wait,
        readiness_timeout=parse_duration(readiness_timeout, "--readiness-timeout"),
        lock_timeout=parse_duration(lock_timeout, "--lock-timeout"),
    )
    full = _render(cli, filenames, set_values, revision)
    kube = cli.kube
    if not options.dry_run:  # refuse before the first write, and before any read, not half-way (issue 8)
        _require_install_permissions(cli, Installer(kube, full, options, InstallProgress(cli.err, cli.interactive)))
    rendered = _coexisting(cli, full)
    summary = install_summary(rendered, kube.context_name, kube.server, ISTIO_VERSION)
    installer = Installer(kube, rendered, options, InstallProgress(cli.err, cli.interactive))
    _confirm(cli, summary, skip_confirmation, options.dry_run, "Proceed?")
    if diff:
        _print_diff(cli, installer.plan())
    elif dry_run:
        _print_dry_run(cli, installer.plan())
    else:
        report = installer.install()
        cli.info(f"  {report.summary()}")
        _record_install(cli, rendered, set_values, filenames, installer.istio_namespace)
        if verify:
            _verify(cli, rendered, CheckOutput.text)


def _require_install_permissions(cli: CliContext, installer: "Installer") -> None:
    """The RBAC pre-flight over the whole render (a superset of what is applied next to other revisions)."""
    from ambientctl.install.permissions import install_permissions
    from ambientctl.kube import permissions

    permissions.require(cli.kube, install_permissions(
        cli.kube, installer.objects, installer.namespaces(), installer.istio_namespace), "install",
        "ask a cluster admin for them (`ambientctl precheck` lists everything install needs)")


def _record_install(cli: CliContext, rendered: Rendered, sets: list[str], files: list[str], namespace: str) -> None:
    from ambientctl.install import record
    from ambientctl.versions import ISTIO_VERSION

    entry = record.make_record(rendered.profile, rendered.revision, sets, files, cli.istio_namespace_override,
                               ISTIO_VERSION)
    record.write(cli.kube, entry, namespace)


def _print_dry_run(cli: CliContext, report: InstallReport) -> None:
    from ambientctl.install.installer import format_dry_run

    write_stdout(format_dry_run(report))
    cli.info(f"Dry run: {report.summary()}; nothing was changed")


def _print_diff(cli: CliContext, report: InstallReport) -> None:
    from ambientctl.install.installer import format_diff

    write_stdout(format_diff(report))
    if report.changed:
        cli.info(f"Diff: {report.summary()}; nothing was changed")
    else:
        cli.info(f"No differences: the cluster matches the render ({len(report.changes)} objects)")


# ------------------------------------------------------------------ uninstall


def uninstall(
    ctx: typer.Context,
    purge: bool = typer.Option(False, "--purge", help="Remove everything ambientctl installed, all revisions and the CRDs."),
    revision: Optional[str] = revision_option("Revision to remove (default: the default revision)."),
    force: bool = typer.Option(False, "--force", help="Remove even while namespaces are enrolled in ambient or waypoints exist."),
    skip_confirmation: bool = skip_confirmation_option(),
    dry_run: bool = typer.Option(False, "--dry-run", help="List and validate the deletions on the server; change nothing."),
    filename: Optional[str] = typer.Option(None, "--filename", "-f", help="The install's IstioOperator file: "
                                           "its revision is the one removed."),
    set_values: List[str] = set_option("The install's --set flags: --set revision=X removes that revision."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Print each object as it is removed."),
    manifests: Optional[str] = manifests_refused(),
) -> None:
    """Remove what `ambientctl install` created (only objects carrying its owner label).

    A mesh istioctl or Helm installed is never touched: uninstall says what it
    found and which command removes it (exit 2 when nothing of ambientctl's is there).

    Which revision: -r, else the revision -f/--set name (as istioctl), else the
    default one. Its install record goes with it.

    \b
    Examples:
      ambientctl uninstall -y
      ambientctl uninstall --revision canary
      ambientctl uninstall --purge --dry-run
    """
    from ambientctl.output import progress
    from ambientctl.install.uninstall import execute, plan_uninstall, refuse_if_blocked

    if purge and revision:
        raise UsageError("--purge removes every revision; it cannot be combined with --revision",
                         "drop one of the two flags")
    cli = cli_context(ctx)
    rev = _uninstall_revision(revision, filename, set_values) or "default"
    _say_record(cli, None if rev == "default" else rev, purge)
    plan = plan_uninstall(cli.kube, rev, purge)
    scope = "everything ambientctl installed, CRDs included" if purge else f"revision {rev}"
    for name, others in plan.kept_namespaces.items():
        more = f" and {len(others) - 3} more" if len(others) > 3 else ""
        cli.warn(f"namespace {name} will be kept: it holds objects ambientctl did not create "
                 f"({', '.join(others[:3])}{more})")
    others = _foreign_components(cli)
    if plan.empty:
        if others:
            from ambientctl.meshparts import describe, uninstall_hint

            raise UsageError(f"nothing to uninstall: ambientctl did not install the mesh it found ({describe(others)}) "
                             "and deletes only objects it installed", f"remove it with {uninstall_hint(others)}")
        cli.info(f"Nothing to uninstall: no object managed by ambientctl ({scope})")
        return
    if dry_run:
        for line in plan.blockers:
            cli.warn(f"{line} (uninstall would refuse without --force)")
    else:
        refuse_if_blocked(plan, force)
        for line in plan.blockers:
            cli.warn(f"{line}: its traffic breaks (--force)")
    if not dry_run:  # refuse before the first delete, not half-way (issue 8)
        from ambientctl.install.permissions import uninstall_permissions
        from ambientctl.kube import permissions

        permissions.require(cli.kube, uninstall_permissions(cli.kube, plan.objects, plan.namespaces),
                            "uninstall")
    refs = plan.refs()
    write_stdout(f"Objects to remove ({scope}): {len(refs)}\n" + "".join(f"  {ref}\n" for ref in refs))
    _confirm(cli, "", skip_confirmation, dry_run, f"Remove these {len(refs)} objects?")
    with progress(cli, "Removing Istio" + (" (dry run)" if dry_run else "")) as update:
        deleted = execute(cli.kube, plan, dry_run=dry_run, on_progress=update)
    if verbose and not dry_run:
        for ref in deleted:
            cli.info(f"  removed {ref}")
    if dry_run:
        cli.info(f"Dry run: {len(deleted)} object(s) would be removed; nothing was changed")
        return
    cli.info(f"✔ Removed {len(deleted)} object(s)")
    cli.info("✔ Uninstall complete")


def _foreign_components(cli: CliContext) -> list:
    """The mesh components another tool installed; said on stderr when some of ours are there too."""
    from ambientctl.meshparts import AMBIENTCTL, describe, find_installed, foreign, uninstall_hint

    found = find_installed(cli.kube, cli.istio_namespace)
    others = foreign(found)
    if others and any(e.installer == AMBIENTCTL for e in found):
        cli.warn(f"found Istio components ambientctl did not install ({describe(others)}): uninstall will not remove "
                 "them, nor their CRDs, webhooks and RBAC (ambientctl deletes only objects carrying its label "
                 f"ambientctl.dev/managed-by); remove them with {uninstall_hint(others)}")
    return others


def _uninstall_revision(revision: Optional[str], filename: Optional[str], sets: list[str]) -> Optional[str]:
    """-r, or the revision the install flags name (istioctl reads it from -f/--set); both must agree."""
    if not filename and not sets:
        return revision
    from ambientctl.render import build_config

    _, _, named = build_config(files=[filename] if filename else [], set_values=sets)
    if revision and named and revision != named:
        raise UsageError(f"-r {revision} and the revision of -f/--set ({named}) differ", "drop one of them")
    return revision or named


def _say_record(cli: CliContext, revision: Optional[str], purge: bool) -> None:
    """Name the install being removed (its record), if there is one."""
    from ambientctl.install import record

    found = None if purge else record.find(cli.kube, revision, cli.istio_namespace)
    if found is not None:
        cli.info(f"Removing the install recorded at {found.installed_at}: {found.describe()}")


# ------------------------------------------------------------------ verify-install


def verify_install(
    ctx: typer.Context,
    set_values: List[str] = set_option(),
    filenames: List[str] = filenames_option(),
    revision: Optional[str] = revision_option(),
    output: CheckOutput = typer.Option(CheckOutput.text, "--output", "-o", help="Output format."),
) -> None:
    """Check that the installation matches its render: objects present, ours, unchanged and ready.

    Without --set/-f it checks what the last install of the revision recorded
    (said on stderr); with them, that render. On a mesh istioctl or Helm
    installed (no record of ambientctl's), it checks readiness, versions and
    CRDs instead. Exit 3 when something is wrong.
    """
    cli = cli_context(ctx)
    if not filenames and not set_values:
        from ambientctl.install.verify import foreign_install

        found = foreign_install(cli.kube, cli.istio_namespace, revision)
        if found:
            _verify_foreign(cli, found, revision, output)
            return
    _verify(cli, _coexisting(cli, _installed_render(cli, filenames, set_values, revision)), output)


def _verify_foreign(cli: CliContext, found: list, revision: Optional[str], output: CheckOutput) -> None:
    """verify-install of an istioctl/Helm install: readiness, versions, CRDs (no render to compare with)."""
    from ambientctl.install.checks import Status, count, format_outcome, outcomes_document, raise_if_failed
    from ambientctl.install.verify import ForeignVerifier
    from ambientctl.meshparts import describe, installers

    tools = " and ".join(installers(found))
    cli.info(f"Found a mesh installed by {tools}, not by ambientctl ({describe(found)}); no install inputs "
             "are recorded, so checking readiness, versions and CRDs (pass the install's --set/-f flags to also "
             "compare its objects with a render)")
    verifier = ForeignVerifier(cli.kube, found, revision)
    outcomes = verifier.run()
    if output not in (CheckOutput.text, CheckOutput.log):
        document = outcomes_document(outcomes)
        document["installedBy"] = installers(found)
        print_document(document, output.value)
    else:
        write_stdout("".join(format_outcome(o) for o in outcomes))
        if not count(outcomes, Status.FAIL):
            write_stdout(f"✔ Istio installed by {tools} is ready: {len(verifier.found)} components "
                         f"(revision {revision or 'default'}); ambientctl's read commands work on it\n")
    raise_if_failed(outcomes, "verify-install", f"see the ✘ lines; repair with the tool that installed it ({tools})")


def _verify(cli: CliContext, rendered: Rendered, output: CheckOutput) -> None:
    from ambientctl.install.checks import Status, count, format_outcome, outcomes_document, raise_if_failed
    from ambientctl.install.verify import Verifier

    outcomes = Verifier(cli.kube, rendered).run()
    if output not in (CheckOutput.text, CheckOutput.log):
        print_document(outcomes_document(outcomes), output.value)
    else:
        write_stdout("".join(format_outcome(o) for o in outcomes))
        objects = len(rendered.all_objects())
        if not count(outcomes, Status.FAIL):
            write_stdout(f"✔ Istio is installed and verified: {objects} objects in "
                         f"{len(rendered.components)} components (profile {rendered.profile}, "
                         f"revision {rendered.revision or 'default'})\n")
    raise_if_failed(outcomes, "verify-install", "see the ✘ lines; re-running install with the same flags repairs drift")


# ------------------------------------------------------------------ precheck


def precheck(
    ctx: typer.Context,
    output: CheckOutput = typer.Option(CheckOutput.text, "--output", "-o", help="Output format (log: as text)."),
    from_version: Optional[str] = typer.Option(
        None, "--from-version", "-f", help="Check the upgrade from this Istio version to the pinned release "
        "(one minor in place, two as a canary)."),
    revision: Optional[str] = typer.Option(
        None, "--revision", "-r", help="Check this installed revision's upgrade (its running version, unless "
        "--from-version)."),
    output_threshold: Optional[str] = refused_option(
        "--output-threshold", reason="precheck prints every check with its ✔/!/✘ status",
        use="filter the output, e.g. `ambientctl precheck | grep -v ✔`"),
    skip_controlplane: bool = refused_option(
        "--skip-controlplane", flag=True, reason="precheck reads no control plane",
        use="drop --skip-controlplane"),
) -> None:
    """Check that the cluster can take Istio's ambient mode before installing. Exit 3 on a ✘.

    \b
    Checks: Kubernetes version, install permissions, Gateway API CRDs,
    an existing Istio installation, sidecar-injected namespaces; with
    --from-version or -r, the upgrade step to the pinned release.
    """
    from ambientctl.install.checks import Status, count, format_outcome, outcomes_document, raise_if_failed, run_checks
    from ambientctl.install.precheck import PRECHECKS

    checks = list(PRECHECKS)
    if from_version is not None or revision is not None:
        from ambientctl.revision.upgrade import upgrade_checks

        checks += upgrade_checks(cli_context(ctx).istio_namespace, revision, from_version, in_place=False)
    cli = cli_context(ctx)
    outcomes = run_checks(cli.kube, checks)
    if output not in (CheckOutput.text, CheckOutput.log):
        print_document(outcomes_document(outcomes), output.value)
    else:
        write_stdout("".join(format_outcome(o) for o in outcomes))
        if not count(outcomes, Status.FAIL):
            warnings = count(outcomes, Status.WARN)
            tail = f" ({warnings} warning(s) above)" if warnings else ""
            write_stdout(f"✔ No issues found when checking the cluster. Istio is safe to install or upgrade!{tail}\n")
    raise_if_failed(outcomes, "precheck", "fix the ✘ items above, then re-run `ambientctl precheck`")


def register(root: typer.Typer) -> None:
    from ambientctl.cli.experimental import x_app
    from ambientctl.cli.manifest import manifest_app

    for name, command in (("install", install), ("uninstall", uninstall), ("verify-install", verify_install),
                          ("precheck", precheck)):
        root.command(name, cls=BoolValuesCommand)(command)
    x_app.command("precheck", cls=BoolValuesCommand)(precheck)
    manifest_app.command("install", cls=BoolValuesCommand, help="The same command as `ambientctl install` "
                         "(istioctl's `manifest install`).")(install)
