"""Business vocabularies: the regions, categories, roles, courses... a company uses, in `vocabularies.yml`.

The file sits at the project root and is the one place a user lists them (the demo's values ship as the default).
Each non-empty list becomes a `Vocabulary` check of the gate at `warn` severity: a retailer's category `Garden`
is data, not damage, so it is reported (values and row counts) and the build goes on. An empty list accepts
any value. Values the SQL depends on (order channel, store type, termination reason, activity type) are not
vocabularies: they stay `error` checks in models/staging/_source_checks.yml.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Literal

from pydantic import StrictInt, StrictStr, ValidationError

from kpiflow.errors import UserInputError
from kpiflow.quality import specs as s
from kpiflow.quality.declaration_models import Strict
from kpiflow.yamlsource import YamlSyntaxError, load_located, schema_problems

VOCABULARIES_FILE = Path("vocabularies.yml")


class VocabulariesFile(Strict):
    vocabularies_format: Literal[1]
    vocabularies: dict[str, dict[str, list[StrictStr | StrictInt]]] = {}


def vocabulary_check(table: str, column: str, values: tuple[str | int, ...]) -> s.Vocabulary:
    """The gate's check for one vocabulary: non-NULL values of raw.<table>.<column> are among `values`."""
    text = f"listed in {VOCABULARIES_FILE} under {table}: {column}"
    return s.Vocabulary(f"{table}.{column}.vocabulary", table, s.Severity.WARN, text, False, column, values)


def add_vocabularies(gate: s.GateSpec, path: Path) -> s.GateSpec:
    """`gate` plus one warning check per non-empty vocabulary in `path`; a missing file adds none.

    Raises UserInputError naming file:line for a table or column the gate does not declare.
    """
    if not path.is_file():
        return gate
    try:
        located = load_located(path)
    except YamlSyntaxError as exc:
        raise UserInputError(str(exc)) from None
    try:
        parsed = VocabulariesFile.model_validate(located.data)
    except ValidationError as exc:
        shape = [f"{path}:{p.line}: {p.field}: {p.text()}" for p in schema_problems(located, exc, VocabulariesFile)]
        raise UserInputError(
            "\n".join(shape)
            + "\n(each vocabulary is a list of text values under <table>: <column>:; quote values like 'yes' or '01')"
        ) from None
    tables = {table.name: table for table in gate.tables}
    problems: list[str] = []
    added: dict[str, list[s.CheckSpec]] = {}
    for table_name, columns in parsed.vocabularies.items():
        table = tables.get(table_name)
        if table is None:
            line = located.line_of(("vocabularies", table_name))
            problems.append(f"{path}:{line}: unknown table '{table_name}'; raw tables: {', '.join(tables)}")
            continue
        for column, values in columns.items():
            if column not in table.column_names:
                line = located.line_of(("vocabularies", table_name, column))
                problems.append(
                    f"{path}:{line}: unknown column '{column}' in raw.{table_name}; declared columns: "
                    f"{', '.join(table.column_names)} (declare it in {gate.source_file} first)"
                )
            elif values:
                added.setdefault(table_name, []).append(vocabulary_check(table_name, column, tuple(values)))
    if problems:
        raise UserInputError(
            f"{len(problems)} problem(s) in the vocabularies:\n" + "\n".join(problems) + "\nFix the lines above."
        )
    return replace(
        gate,
        tables=tuple(replace(t, checks=(*t.checks, *added.get(t.name, ()))) for t in gate.tables),
    )
