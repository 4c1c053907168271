"""`-f overlay.yaml` files: read safely, check they are IstioOperators, deep-merge them like istioctl."""

from __future__ import annotations

import os
from typing import Any

import yaml

from ambientctl.errors import InvalidInputError
from ambientctl.render.schema import validate_spec

MAX_OVERLAY_BYTES = 10 * 1024 * 1024
# A document may expand to at most this many YAML nodes once aliases are followed:
# far more than any IstioOperator, far less than a billion-laughs bomb.
MAX_EXPANDED_NODES = 200_000
# No IstioOperator nests anywhere near this deep; 10k-level documents take PyYAML minutes.
MAX_DEPTH = 100
IOP_API_VERSIONS = ("install.istio.io/v1alpha1",)
IOP_KIND = "IstioOperator"


def check_alias_expansion(text: str, source: str, limit: int = MAX_EXPANDED_NODES) -> None:
    """Reject documents whose aliases expand past `limit` nodes, without building them.

    Walks the parser's event stream (linear in the text) and counts what each
    alias would expand to, so a billion-laughs file costs microseconds, not memory.
    """
    sizes: dict[str, int] = {}
    stack: list[list[Any]] = []  # per open container: [expanded node count, anchor]
    total = 0

    def count(nodes: int) -> None:
        nonlocal total
        total += nodes
        if total > limit:
            raise InvalidInputError(
                f"-f {source}: YAML aliases expand to more than {limit} nodes",
                "remove the repeated anchors (&name/*name) and write the values out",
            )

    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            stack.append([1, event.anchor])
            count(1)
            if len(stack) > MAX_DEPTH:  # stop early: PyYAML's scanner slows down quadratically with flow depth
                raise InvalidInputError(f"-f {source}: YAML nested too deeply (over {MAX_DEPTH} levels)",
                                        "flatten the file")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            nodes, anchor = stack.pop()
            if anchor:
                sizes[anchor] = nodes
            if stack:
                stack[-1][0] += nodes
        elif isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent)):
            if isinstance(event, yaml.AliasEvent):
                nodes = sizes.get(event.anchor, 1)
            else:
                nodes = 1
                if event.anchor:
                    sizes[event.anchor] = 1
            if stack:
                stack[-1][0] += nodes
            count(nodes)


def load_overlay(path: str) -> dict[str, Any]:
    """Read one `-f` file: exactly one IstioOperator document whose spec fields we know."""
    source = path
    try:
        size = os.path.getsize(path)
    except FileNotFoundError:
        raise InvalidInputError(f"-f {source}: no such file", "check the path") from None
    except OSError as exc:
        raise InvalidInputError(f"-f {source}: cannot read it ({exc.strerror})", "check the path") from None
    if os.path.isdir(path):
        raise InvalidInputError(f"-f {source}: is a directory", "pass an IstioOperator YAML file")
    if size > MAX_OVERLAY_BYTES:
        raise InvalidInputError(
            f"-f {source}: file is {size // (1024 * 1024)} MB, over the 10 MB limit",
            "an IstioOperator overlay is a few KB; check you passed the right file",
        )
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except UnicodeDecodeError:
        raise InvalidInputError(f"-f {source}: not a UTF-8 text file", "pass an IstioOperator YAML file") from None
    except OSError as exc:
        raise InvalidInputError(f"-f {source}: cannot read it ({exc.strerror})", "check the file's permissions") from None
    return parse_overlay(text, source)


def parse_overlay(text: str, source: str) -> dict[str, Any]:
    """Parse and check overlay text (see load_overlay); `source` names it in errors."""
    try:
        check_alias_expansion(text, source)
        documents = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise InvalidInputError(f"-f {source}: not valid YAML{where}: {problem}", "fix the file's syntax") from None
    except RecursionError:
        raise InvalidInputError(f"-f {source}: YAML nested too deeply", "flatten the file") from None
    if not documents:
        raise InvalidInputError(f"-f {source}: the file is empty", "write an IstioOperator (kind: IstioOperator)")
    if len(documents) > 1:
        raise InvalidInputError(
            f"-f {source}: holds {len(documents)} YAML documents; expected one IstioOperator",
            "split it into several -f files",
        )
    doc = documents[0]
    if not isinstance(doc, dict):
        raise InvalidInputError(
            f"-f {source}: not an IstioOperator (the document is a {type(doc).__name__}, not a map)",
            "start it with apiVersion: install.istio.io/v1alpha1 and kind: IstioOperator",
        )
    if doc.get("kind") != IOP_KIND or doc.get("apiVersion") not in IOP_API_VERSIONS:
        raise InvalidInputError(
            f"-f {source}: not an IstioOperator (apiVersion {doc.get('apiVersion')!r}, kind {doc.get('kind')!r})",
            "use apiVersion: install.istio.io/v1alpha1 and kind: IstioOperator",
        )
    unknown = sorted(set(doc) - {"apiVersion", "kind", "metadata", "spec", "status"})
    if unknown:
        raise InvalidInputError(f"-f {source}: unknown top-level field(s): {', '.join(unknown)}", "only metadata and spec are read")
    spec = doc.get("spec") or {}
    validate_spec(spec, f"-f {source}")
    return {"spec": spec, **({"metadata": doc["metadata"]} if isinstance(doc.get("metadata"), dict) else {})}
