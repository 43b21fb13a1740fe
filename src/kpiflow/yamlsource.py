"""YAML with line numbers, and schema errors located in it: every error names the file:line and field to change.

One loader serves the metric files, the scorecards and the quality declarations. It keeps the 1-based line of
every mapping key and sequence item by path, rejects duplicate keys (PyYAML would silently keep the last one),
and can read floats straight from their text as `Decimal` (a card weight written 0.25 never passes through
binary floating point). `schema_problems` turns a pydantic ValidationError into located problems with
"Did you mean" suggestions for misspelt fields.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

YamlPath = tuple[str | int, ...]
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: same nodes, several times faster
_FLOAT_TAG = "tag:yaml.org,2002:float"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"
_SPECIAL_FLOATS = {".inf": "Infinity", "+.inf": "Infinity", "-.inf": "-Infinity", ".nan": "NaN"}


@dataclass(frozen=True)
class LocatedYaml:
    """Plain data (dicts, lists, scalars) plus the 1-based line of every mapping key and sequence item, by path."""

    file: Path
    data: Any
    lines: dict[YamlPath, int]

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one."""
        probe = tuple(path)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.lines.get((), 1)

    def node(self, path: Sequence[str | int]) -> Any:
        """The data at `path` (which must exist)."""
        node = self.data
        for part in path:
            node = node[part]
        return node


class YamlSyntaxError(Exception):
    """The file is not YAML the loader accepts; `line` is where the parser stopped."""

    def __init__(self, file: Path, line: int, message: str) -> None:
        super().__init__(f"{file}:{line}: {message}")
        self.file, self.line, self.message = file, line, message


def field_path(path: Iterable[str | int]) -> str:
    """('kpis', 1, 'weight') -> 'kpis[1].weight'."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class _Builder:
    """Walks the node tree once, building plain data and recording lines."""

    def __init__(self, file: Path, exact_decimals: bool) -> None:
        self.file, self.exact_decimals = file, exact_decimals
        self.constructor = _LOADER("")
        self.lines: dict[YamlPath, int] = {}

    def build(self, node: yaml.Node, path: YamlPath) -> Any:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            self._reject_duplicate_keys(node)
            self.constructor.flatten_mapping(node)  # resolve YAML merge keys (<<: *anchor) the way PyYAML does
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:  # a key written here overrides the same key merged in
                key = self._key(key_node)
                self.lines[(*path, key)] = key_node.start_mark.line + 1
                out[key] = self.build(value_node, (*path, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self.lines[(*path, index)] = item.start_mark.line + 1
                items.append(self.build(item, (*path, index)))
            return items
        if node.tag == _STR_TAG:
            return node.value  # most scalars: skip the constructor's bookkeeping (a third of the load time)
        if self.exact_decimals and node.tag == _FLOAT_TAG:
            text = str(node.value).replace("_", "").lower()
            return Decimal(_SPECIAL_FLOATS.get(text, text))
        return self.constructor.construct_object(node, deep=True)

    def _key(self, node: yaml.Node) -> str:
        return node.value if node.tag == _STR_TAG else str(self.constructor.construct_object(node, deep=True))

    def _reject_duplicate_keys(self, node: yaml.MappingNode) -> None:
        """A key written twice in one mapping (merge keys aside) is a mistake PyYAML would hide by keeping the last."""
        seen: dict[str, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self._key(key_node)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise YamlSyntaxError(self.file, line, f"duplicate key '{key}' (first at line {seen[key]}); keep one")
            seen[key] = line


def _syntax_error(file: Path, exc: yaml.MarkedYAMLError) -> YamlSyntaxError:
    mark = exc.problem_mark or exc.context_mark
    return YamlSyntaxError(file, mark.line + 1 if mark else 1, f"YAML syntax: {exc.problem or exc}")


def load_located(file: Path, text: str | None = None, *, exact_decimals: bool = False) -> LocatedYaml:
    """Parse one YAML document, keeping the line of every key and item; raises YamlSyntaxError."""
    source = file.read_text(encoding="utf-8") if text is None else text
    loader = _LOADER(source)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(file, exc) from None
    finally:
        loader.dispose()
    if root is None:
        return LocatedYaml(file, {}, {(): 1})
    builder = _Builder(file, exact_decimals)
    try:
        data = builder.build(root, ())
    except yaml.MarkedYAMLError as exc:  # e.g. an unknown tag such as !!python/object
        raise _syntax_error(file, exc) from None
    return LocatedYaml(file, data, builder.lines)


@dataclass(frozen=True)
class SchemaProblem:
    """One schema error, located: `path` holds the keys present in the data (plus a missing field's name)."""

    path: YamlPath
    line: int | None
    kind: str
    message: str
    suggestion: str | None = None

    @property
    def field(self) -> str:
        return field_path(self.path)

    def text(self) -> str:
        """The message followed by its suggestion, as one sentence for formats without a suggestion slot."""
        return f"{self.message} {self.suggestion}" if self.suggestion else self.message


def closest(name: str, candidates: Iterable[str], limit: int = 3) -> str | None:
    """'Did you mean ...?' text for an unknown name, or None when nothing is close."""
    matches = difflib.get_close_matches(name, sorted(set(candidates)), n=limit, cutoff=0.6)
    if not matches:
        return None
    return "Did you mean " + " or ".join(f"'{m}'" for m in matches) + "?"


def schema_problems(
    source: LocatedYaml, error: ValidationError, model: type[BaseModel], at: YamlPath = ()
) -> list[SchemaProblem]:
    """Every error of `error` (raised validating `model` against the data at `at`), located in `source`.

    Pydantic's locations carry union-branch tags (`MetricInput`, `str`, `decimal`) that are not keys in the
    data; they are dropped. Errors of the branches of one union at the same place are merged with "or".
    """
    merged: dict[YamlPath, tuple[str, list[str], str | None]] = {}
    for item in error.errors():
        loc = tuple(item["loc"])
        kind = item["type"]
        path = (*at, *_data_path(source.node(at), loc, keep_missing_leaf=kind == "missing"))
        suggestion = None
        if kind == "extra_forbidden":
            message = f"unknown field '{loc[-1]}'"
            owner = _owner_model(model, loc)
            suggestion = closest(str(loc[-1]), owner.model_fields) if owner is not None else None
        elif kind == "missing":
            message = f"required field '{loc[-1]}' is missing"
        elif kind == "literal_error":
            message = f"{item['msg']} (got {item.get('input')!r})"
        else:
            message = str(item["msg"]).removeprefix("Value error, ")
        texts = merged.setdefault(path, (kind, [], suggestion))[1]
        if message not in texts:
            texts.append(message)
    return [
        SchemaProblem(path, source.line_of(path), kind, " or ".join(texts), suggestion)
        for path, (kind, texts, suggestion) in merged.items()
    ]


def _data_path(data: Any, loc: tuple[Any, ...], keep_missing_leaf: bool) -> YamlPath:
    """The parts of a pydantic location that are keys or indexes in the data, plus a missing field's name."""
    path: list[str | int] = []
    node = data
    for position, part in enumerate(loc):
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        ):
            path.append(part)
            node = node[part]
        elif part == "[key]" or (keep_missing_leaf and position == len(loc) - 1 and isinstance(part, str)):
            path.append(part)  # "[key]": pydantic's marker for an error in a mapping's key; keep it in the field
    return tuple(path)


def _owner_model(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model whose field the last part of `loc` would be (to suggest its field names)."""
    current: Any = model
    for part in loc[:-1]:
        current = _child_type(current, part)
        if current is None:
            return None
    current = _unwrap(current)
    return current if _is_model(current) else None


def _unwrap(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and hasattr(annotation, "model_fields")


def _child_type(annotation: Any, part: Any) -> Any:
    """The type at `part` under `annotation`: a field, an item, a value, or the union branch `part` names."""
    annotation = _unwrap(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        branches = [b for b in typing.get_args(annotation) if b is not type(None)]
        named = [b for b in branches if getattr(_unwrap(b), "__name__", None) == part]
        if named:
            return named[0]
        owners = [b for b in branches if _child_type(b, part) is not None]
        return _child_type(owners[0], part) if len(owners) == 1 else None
    if _is_model(annotation):
        field = annotation.model_fields.get(part)
        return field.annotation if field is not None else None
    args = typing.get_args(annotation)
    if isinstance(origin, type) and issubclass(origin, Mapping) and len(args) == 2:
        return args[1]
    if isinstance(origin, type) and issubclass(origin, Sequence) and args and isinstance(part, int):
        return args[0]
    return None
