"""YAML with line numbers, so every error can point at the line an analyst must change."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[str | int, ...]
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: same nodes, several times faster


@dataclass(frozen=True)
class LocatedYaml:
    """Plain data plus the 1-based line of every mapping key and sequence item, by path."""

    file: Path
    data: Any
    lines: dict[Path_, int]

    def line_of(self, path: Path_) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one."""
        probe = tuple(path)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.lines.get((), 1)


class YamlSyntaxError(Exception):
    def __init__(self, file: Path, line: int, message: str) -> None:
        super().__init__(f"{file}:{line}: {message}")
        self.file, self.line, self.message = file, line, message


def _to_python(node: yaml.Node, path: Path_, lines: dict[Path_, int], constructor: Any) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        constructor.flatten_mapping(node)  # resolve YAML merge keys (<<: *anchor) the way PyYAML does
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node, deep=True)
            key = str(key)
            child = (*path, key)
            lines[child] = key_node.start_mark.line + 1
            out[key] = _to_python(value_node, child, lines, constructor)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            child = (*path, index)
            lines[child] = item.start_mark.line + 1
            items.append(_to_python(item, child, lines, constructor))
        return items
    return constructor.construct_object(node, deep=True)


def load_located(file: Path, text: str | None = None) -> LocatedYaml:
    """Parse one YAML document, keeping the line of every key."""
    source = file.read_text(encoding="utf-8") if text is None else text
    loader = _LOADER(source)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlSyntaxError(file, line, f"YAML syntax: {exc.problem or exc}") from None
    finally:
        loader.dispose()
    lines: dict[Path_, int] = {}
    if root is None:
        return LocatedYaml(file, {}, {(): 1})
    constructor = _LOADER("")
    data = _to_python(root, (), lines, constructor)
    return LocatedYaml(file, data, lines)
