"""The YAML documents `validate -f` reads: files, directories (walked, `.yaml`/`.yml`/`.json`) and stdin (`-`).

Duplicate keys are refused (as istioctl's strict decoding does); each
document keeps the line it starts on, so a problem names file and line.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any, Iterator

EXTENSIONS = (".yaml", ".yml", ".json")
MAX_FILE_BYTES = 64 << 20   # a guard against reading a disk image by mistake


@dataclass(frozen=True)
class Document:
    file: str
    line: int        # 1-based line where the document starts
    obj: Any


@dataclass(frozen=True)
class ReadProblem:
    file: str
    line: int        # 0 when the problem is not at a line (the file cannot be read)
    message: str


def expand(paths: list[str]) -> tuple[list[str], list[ReadProblem]]:
    """Files to read, in the order given (a directory's files sorted); problems for paths that do not exist."""
    files: list[str] = []
    problems: list[ReadProblem] = []
    for path in paths:
        if path == "-":
            files.append(path)
        elif os.path.isdir(path):
            for root, dirs, names in os.walk(path):
                dirs.sort()
                files += [os.path.join(root, n) for n in sorted(names) if n.endswith(EXTENSIONS)]
        elif os.path.exists(path):
            files.append(path)
        else:
            problems.append(ReadProblem(path, 0, "no such file or directory"))
    return list(dict.fromkeys(files)), problems


def read_text(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    if os.path.getsize(path) > MAX_FILE_BYTES:
        raise ValueError(f"larger than {MAX_FILE_BYTES >> 20} MiB")
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def documents(path: str) -> Iterator[Document | ReadProblem]:
    """Every non-empty document of the file, or a ReadProblem where reading or parsing stops."""
    import yaml

    try:
        text = read_text(path)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        yield ReadProblem(path, 0, f"cannot read: {getattr(exc, 'strerror', None) or exc}")
        return
    loader = _StrictLoader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            obj = loader.construct_document(node)
            if obj is not None:
                yield Document(path, node.start_mark.line + 1, obj)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        yield ReadProblem(path, mark.line + 1 if mark else 0, f"not valid YAML: {problem}")
    finally:
        loader.dispose()


def _strict_loader() -> type:
    import yaml

    base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml's parser: ~20x the pure-Python one

    class StrictLoader(base):
        """SafeLoader that refuses a key given twice in one mapping."""

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                # a scalar key by its text (in JSON, as the API server reads it, `1` and "1" are one key)
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else id(key_node)
                if key in seen:
                    raise yaml.constructor.ConstructorError(None, None, f"key {key!r} given twice",
                                                            key_node.start_mark)
                seen.add(key)
            return super().construct_mapping(node, deep)

    return StrictLoader


def _StrictLoader(text: str) -> Any:   # noqa: N802 - a class built on first use (PyYAML loads lazily)
    global _LOADER
    if _LOADER is None:
        _LOADER = _strict_loader()
    return _LOADER(text)


_LOADER: Any = None
