"""`bug-report`: one tar.gz a maintainer can read, made even when parts of the cluster cannot be reached.

collect.py finds and fetches the parts, archive.py bounds and writes them,
redact.py keeps secrets out, selection.py reads istioctl's --include/--exclude
and time flags. This module ties them together and writes the summary.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ambientctl.bugreport.archive import Archive
from ambientctl.bugreport.collect import Collector, Options, Progress, Result

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient

_SUMMARY_RESERVE = 256 * 1024
_MAX_LISTED = 200


@dataclass
class Report:
    """What was written: the archive's path and size, and every part's outcome."""

    path: str
    size: int
    files: int
    results: list[Result]
    discovery_problems: list[str] = field(default_factory=list)
    cut: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[Result]:
        return [r for r in self.results if not r.ok or not r.finished]

    @property
    def incomplete(self) -> list[Result]:
        return [r for r in self.results if r.ok and r.finished and r.problems]


def plan_titles(kube: KubeClient, options: Options, client_version: str) -> tuple[list[str], list[str]]:
    """--dry-run: the parts that would be collected, and the discovery problems, without fetching them."""
    collector = Collector(kube, options, Archive(options.max_bytes), client_version)
    version = collector.discover()
    return [p.title for p in collector.plan(version)], collector.discovery_problems


def create(kube: KubeClient, options: Options, path: str, client_version: str, progress: Progress,
           header: list[str]) -> Report:
    """Collect everything within the bounds and write the archive (partial when parts fail)."""
    archive = Archive(options.max_bytes)
    collector = Collector(kube, options, archive, client_version)
    version = collector.discover()
    results = collector.run(collector.plan(version), progress)
    cut = archive.fit(_SUMMARY_RESERVE)
    report = Report(path, 0, 0, results, collector.discovery_problems, cut)
    archive.put_final("summary.txt", format_summary(report, header))
    archive.put_final("summary.json", json.dumps(summary_document(report, header), indent=2) + "\n")
    report.files = len(archive.entries)
    report.size = archive.write(path)
    return report


def _limited(lines: list[str]) -> list[str]:
    if len(lines) <= _MAX_LISTED:
        return lines
    return lines[:_MAX_LISTED] + [f"... and {len(lines) - _MAX_LISTED} more (summary.json has them all)"]


def format_summary(report: Report, header: list[str]) -> str:
    """Plain text for the top of the archive: how it was made, what is in it, what is missing and why."""
    lines = ["ambientctl bug-report", "", *header, ""]
    ok = [r for r in report.results if r.ok and r.finished and not r.problems]
    lines.append(f"Collected completely: {len(ok)} of {len(report.results)} parts")
    if report.incomplete:
        lines += ["", "Collected with gaps:"]
        lines += _limited([f"  {r.title}: {'; '.join(r.problems)}" for r in report.incomplete])
    if report.failed or report.discovery_problems:
        lines += ["", "Failed (not in the archive):"]
        lines += _limited([f"  {p}" for p in report.discovery_problems] +
                          [f"  {r.title}: {'; '.join(r.problems) or 'failed'}" for r in report.failed])
    if report.cut:
        lines += ["", "Cut to stay within --max-size:"] + _limited([f"  {c}" for c in report.cut])
    return "\n".join(lines) + "\n"


def summary_document(report: Report, header: list[str]) -> dict[str, object]:
    return {
        "settings": header,
        "parts": [{"title": r.title, "ok": r.ok, "finished": r.finished, "seconds": round(r.seconds, 3),
                   "problems": r.problems} for r in report.results],
        "discoveryProblems": report.discovery_problems,
        "cutForSize": report.cut,
    }
