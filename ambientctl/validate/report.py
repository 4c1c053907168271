"""`validate`: every document of every file checked; findings as one line each, naming file, line, object, field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ambientctl.validate import files, rules, shapes

CHECKED = ("AuthorizationPolicy", "PeerAuthentication", "Telemetry", "WasmPlugin", "Gateway", "HTTPRoute")
NOT_CHECKED_GROUPS = ("networking.istio.io", "security.istio.io", "telemetry.istio.io", "extensions.istio.io",
                      "install.istio.io")


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    subject: str      # "Kind namespace/name", or "" for a problem of the file itself
    path: str         # the field, e.g. spec.rules[0].to[0].operation
    message: str
    warning: bool = False

    def one_line(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        parts = [where] + [p for p in (self.subject, self.path) if p] + [self.message]
        return ("warning: " if self.warning else "") + ": ".join(parts)


@dataclass
class Report:
    files: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)   # objects of Istio kinds this command does not check

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if not f.warning]

    def status_lines(self) -> str:
        """istioctl's `"FILE" is valid` per file without errors (with the warning count when there are some)."""
        lines = []
        for name in self.files:
            mine = [f for f in self.findings if f.file == name]
            if any(not f.warning for f in mine):
                continue
            shown = "stdin" if name == "-" else f'"{name}"'
            lines.append(f"{shown} is valid" + (f", with {len(mine)} warning(s)" if mine else "") + "\n")
        return "".join(lines)


def run(paths: list[str], default_namespace: str = "default") -> Report:
    report = Report()
    names, problems = files.expand(paths)
    report.findings += [Finding(p.file, p.line, "", "", p.message) for p in problems]
    report.files = names
    for name in names:
        for item in files.documents(name):
            if isinstance(item, files.ReadProblem):
                report.findings.append(Finding(item.file, item.line, "", "", item.message))
            else:
                _document(item, default_namespace, report)
    return report


def _document(doc: files.Document, default_namespace: str, report: Report) -> None:
    obj = doc.obj
    if not isinstance(obj, dict):
        report.findings.append(Finding(doc.file, doc.line, "", "", "a document must be an object (apiVersion, kind, "
                                                                   "metadata, spec)"))
        return
    if obj.get("kind") == "List" or str(obj.get("kind", "")).endswith("List"):
        for item in obj.get("items") or []:
            _document(files.Document(doc.file, doc.line, item), default_namespace, report)
        return
    api_version, kind = str(obj.get("apiVersion") or ""), str(obj.get("kind") or "")
    group, _, version = api_version.rpartition("/")
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    subject = f"{kind} {meta.get('namespace') or default_namespace}/{meta.get('name') or '?'}"

    def add(path: str, message: str, warning: bool = False) -> None:
        report.findings.append(Finding(doc.file, doc.line, subject, path, message, warning))

    spec_shape = shapes.SPECS.get((group, kind))
    if spec_shape is not None:
        if version not in shapes.VERSIONS[group]:
            add("apiVersion", f"{group} serves {kind} as {', '.join(group + '/' + v for v in shapes.VERSIONS[group])}, "
                              f"not {api_version}")
            return
        for key in obj:
            if key not in shapes.TOP_LEVEL:
                add(str(key), f"unknown field {key!r}; an object has apiVersion, kind, metadata, spec, status")
        spec = obj.get("spec") if obj.get("spec") is not None else {}
        type_errors: list[str] = []

        def shape_problem(path: str, message: str, wrong_type: bool) -> None:
            add(path, message)
            if wrong_type:
                type_errors.append(path)

        shapes.check(spec, spec_shape, "spec", shape_problem)
        if not type_errors:   # every value has its type (unknown names aside): the semantic checks may read them
            rules.CHECKS[(group, kind)](spec, add)
        return
    check = rules.CHECKS.get((group, kind))
    if check is not None:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            add("spec", "must be an object")
            return
        check(spec, add)
    elif group in NOT_CHECKED_GROUPS:
        report.notes.append(f"{doc.file}:{doc.line}: {subject}: not checked (validate checks "
                            f"{', '.join(CHECKED)})")


def summary(report: Report) -> str:
    errors = report.errors
    files_with = len({f.file for f in errors})
    return f"{len(errors)} problem(s) in {files_with} file(s)"


def to_document(report: Report) -> Any:
    return [{"file": f.file, "line": f.line, "object": f.subject, "field": f.path, "message": f.message,
             "level": "warning" if f.warning else "error"} for f in report.findings]
