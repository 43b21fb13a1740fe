"""YAML with line numbers and exact decimals, so errors can say `file:line: field` and 0.1 stays 0.1.

A SafeLoader subclass builds dicts and lists that remember the line of each key and item
(node.start_mark is 0-based, we store 1-based). Floats are parsed straight from their text into
`Decimal`: a weight written as 0.25 never passes through binary floating point.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml


class LineDict(dict):
    """A mapping that knows the line of itself and of each of its keys."""

    line: int = 0
    key_lines: dict[Any, int]


class LineList(list):
    """A sequence that knows the line of itself and of each item."""

    line: int = 0
    item_lines: list[int]


class LineLoader(yaml.SafeLoader):
    """SafeLoader that records lines and reads floats as Decimal."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineDict:  # type: ignore[override]
        self.flatten_mapping(node)
        result = LineDict()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in result:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            result[key] = self.construct_object(value_node, deep=True)
            result.key_lines[key] = key_node.start_mark.line + 1
        return result

    def construct_yaml_seq_with_lines(self, node: yaml.SequenceNode) -> LineList:
        result = LineList(self.construct_object(child, deep=True) for child in node.value)
        result.line = node.start_mark.line + 1
        result.item_lines = [child.start_mark.line + 1 for child in node.value]
        return result

    def construct_yaml_decimal(self, node: yaml.ScalarNode) -> Decimal:
        text = str(self.construct_scalar(node)).replace("_", "").lower()
        specials = {".inf": "Infinity", "+.inf": "Infinity", "-.inf": "-Infinity", ".nan": "NaN"}
        return Decimal(specials.get(text, text))


LineLoader.add_constructor("tag:yaml.org,2002:map", LineLoader.construct_mapping)
LineLoader.add_constructor("tag:yaml.org,2002:seq", LineLoader.construct_yaml_seq_with_lines)
LineLoader.add_constructor("tag:yaml.org,2002:float", LineLoader.construct_yaml_decimal)


def load_yaml(path: Path) -> Any:
    """Parse one YAML file with line-aware containers; yaml.YAMLError propagates with its mark."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=LineLoader)


def line_of(document: Any, location: Sequence[str | int]) -> int | None:
    """The line of the deepest element of `location` that exists in the document.

    Location parts that are not in the data (a pydantic union tag, a missing field) are skipped, so
    a missing field points at its parent mapping.
    """
    node = document
    line = getattr(document, "line", None)
    for part in location:
        if isinstance(node, LineDict) and part in node:
            line = node.key_lines.get(part, line)
            node = node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line = node.item_lines[part]
            node = node[part]
    return line
