"""Fast YAML for manifests: the same style as ambientctl.output (block style, `|` for multi-line
strings, keys in insertion order) but emitted by libyaml when it is available."""

from __future__ import annotations

from typing import Any, Iterable

import yaml

_Base: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class ManifestDumper(_Base):  # type: ignore[misc, valid-type]
    """Block-style YAML that never emits &anchors (objects may share sub-trees)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str_representer(dumper: Any, value: str) -> Any:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


ManifestDumper.add_representer(str, _str_representer)


def dump_yaml(data: Any) -> str:
    """One document, as ambientctl.output.format_yaml prints it."""
    return yaml.dump(data, Dumper=ManifestDumper, sort_keys=False, default_flow_style=False, allow_unicode=True)


def dump_stream(documents: Iterable[Any]) -> str:
    """Objects as one `---`-separated stream, each document starting with `---`."""
    return "".join(f"---\n{dump_yaml(doc)}" for doc in documents)
