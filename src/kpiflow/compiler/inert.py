"""User-written text in files dbt renders: written so that dbt prints it and never evaluates it.

dbt renders every model .sql and every description of a .yml as a Jinja template. Jinja starts code only at a `{`
(`{{`, `{%`, `{#`; dbt enables no line statements), so `jinja_inert` writes every `{` of the text as the Jinja
expression `{{ "{" }}`, which prints one `{`. Nothing after it can open a block: `{% endraw %}`, quotes,
backslashes and newlines stay data, and the rendered text equals the YAML text byte for byte. The generated SQL
goes through it as a whole before kpiflow adds its own Jinja (ref(), var(), macro values), so a `{` in a label,
a description, a string literal of a filter or a quoted name cannot reach dbt as code. Rejected designs:
`{% raw %}` (a payload holding `{% endraw %}` closes it) and escaping into one Jinja string literal per text
(needs Jinja's string-escape rules and finding each text in the SQL).

Two rules keep the rest inert, checked on the YAML before anything is generated (`text_issues`): names become
identifiers, file names and model names, so they are plain identifiers; and no text may contain RESERVED, the
marker of the placeholders that become ref() and var() calls after SQL generation (sqltext.to_dbt_sql), so text
cannot forge one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kpiflow.compiler.issues import Location, ValidationIssue
from kpiflow.yamlsource import LocatedYaml, field_path

RESERVED = "__dbt_"
NAME_KEYS = ("name", "alias")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_COMMENT_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-/* ()]")


def jinja_inert(text: str) -> str:
    """`text` as Jinja template text that renders to exactly `text`."""
    return text.replace("{", '{{ "{" }}')


def comment_text(text: str) -> str:
    """`text` (a file name) fit for a one-line SQL comment: anything but plain name characters becomes '?'.
    A comment is for people; a newline or a `{` in a file name must not end it or open Jinja."""
    return _COMMENT_UNSAFE.sub("?", text)


def _strings(data: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _strings(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _strings(value, (*path, index))
    elif isinstance(data, str):
        yield path, data


def _location(file: Path, source: LocatedYaml, path: tuple[str | int, ...]) -> Location:
    """Where a text is; worked out only for a text with an issue (two thousand texts are checked per query)."""
    return Location(file, source.line_of(path), field_path(path))


def text_issues(sources: dict[Path, LocatedYaml]) -> list[ValidationIssue]:
    """Names that are not identifiers, and any text holding the reserved placeholder marker."""
    issues = []
    for file, source in sources.items():
        for path, text in _strings(source.data):
            if path and path[-1] in NAME_KEYS and not _NAME.fullmatch(text):
                issues.append(
                    ValidationIssue(
                        _location(file, source, path),
                        f"{text!r} is not a valid name",
                        "Use letters, digits and underscores, starting with a letter or an underscore.",
                    )
                )
            elif RESERVED in text:
                issues.append(
                    ValidationIssue(
                        _location(file, source, path),
                        f"the text contains '{RESERVED}', which kpiflow reserves for the references it writes into "
                        "generated models",
                        "Reword it.",
                    )
                )
    return issues
