"""Read `models/staging/_source_checks.yml` into `GateSpec`: pydantic at the YAML boundary, frozen specs after.

Every mistake is reported with file, line and the path of the offending field, plus what to do, and all
mistakes are reported at once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kpiflow.compiler.expressions import UnsafeExpression, parse_expression
from kpiflow.errors import UserInputError
from kpiflow.quality import specs as s
from kpiflow.quality.declaration_models import (
    AcceptedValuesArgs,
    CheckArgs,
    ChecksFile,
    CompareArgs,
    CompareParentArgs,
    DatesArgs,
    FreshnessArgs,
    NotNullArgs,
    PlausibleArgs,
    RangeArgs,
    ReferencesArgs,
    RowCheckArgs,
    RuleArgs,
    SettingsModel,
    Strict,
    TableModel,
    UniqueArgs,
    VolumeArgs,
)
from kpiflow.yamlsource import LocatedYaml, YamlSyntaxError, load_located, schema_problems

CHECKS_FILE = Path("models") / "staging" / "_source_checks.yml"
RAW_SCHEMA = "raw"
_OP_WORDS = {">=": "gte", ">": "gt", "<=": "lte", "<": "lt"}


class DeclarationError(Exception):
    """One mistake at one YAML path; collected and reported together."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path, self.message = path, message


def _shorthand_columns(args: Any) -> Any:
    """`- not_null: [a, b]` means `- not_null: {columns: [a, b]}`."""
    return {"columns": args} if isinstance(args, list) else args


class _ShapeErrors(Exception):
    """Every schema mistake of one pydantic validation, each at its own path."""

    def __init__(self, errors: list[DeclarationError]) -> None:
        super().__init__("; ".join(error.message for error in errors))
        self.errors = errors


def _validated(source: LocatedYaml, model: type[Strict], data: Any, at: tuple[str | int, ...] = ()) -> Any:
    """`data` (found at `at` in the file) as `model`; raises _ShapeErrors naming each field's path."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = schema_problems(source, exc, model, at)
        raise _ShapeErrors([DeclarationError(p.path, f"{p.field}: {p.text()}") for p in problems]) from None


class _TableBuilder:
    """Turns one table's declarations into specs, checking every column and table it names."""

    def __init__(
        self,
        source: LocatedYaml,
        name: str,
        table: TableModel,
        declared: dict[str, TableModel],
        settings: SettingsModel,
    ) -> None:
        self.source, self.name, self.table, self.declared, self.settings = source, name, table, declared, settings
        self.path: tuple[str | int, ...] = ("tables", name)

    def _col(self, column: str, path: tuple[str | int, ...], table: str | None = None) -> str:
        owner = table or self.name
        known = self.declared[owner].columns
        if column not in known:
            raise DeclarationError(
                path, f"unknown column '{column}' in {RAW_SCHEMA}.{owner}; declared columns: {', '.join(known)}"
            )
        return column

    def _is_timestamp(self, column: str) -> bool:
        return self.table.columns[column] is s.TypeFamily.TIMESTAMP

    def _parent(self, parent: str, path: tuple[str | int, ...]) -> TableModel:
        if parent not in self.declared:
            raise DeclarationError(path, f"unknown parent table '{parent}'; declare it under tables: first")
        return self.declared[parent]

    def implicit_checks(self) -> list[s.CheckSpec]:
        """Schema, types, row count and key checks every table gets from `columns`, `key`, `min_rows`."""
        t, err = self.name, s.Severity.ERROR
        min_rows = self.table.min_rows if self.table.min_rows is not None else self.settings.min_rows
        found: list[s.CheckSpec] = [
            s.ColumnsPresent(f"{t}.schema", t, err, "expected columns are present", tuple(self.table.columns)),
            s.RowCount(f"{t}.row_count", t, err, f"at least {min_rows} row(s)", min_rows),
        ]
        for column, family in self.table.columns.items():
            found.append(s.ColumnType(f"{t}.{column}.type", t, err, f"type is {family.value}", column, family))
        key = [self._col(c, (*self.path, "key")) for c in self.table.key]
        for column in key:
            found.append(s.NotNull(f"{t}.{column}.not_null", t, err, "key is not NULL", False, column))
        if key:
            found.append(s.Unique(f"{t}.{'+'.join(key)}.unique", t, err, "key is unique", tuple(key)))
        return found

    def checks(self, kind: str, args: Any, path: tuple[str | int, ...]) -> list[s.CheckSpec]:
        handler = _HANDLERS.get(kind)
        if handler is None:
            raise DeclarationError(path, f"unknown check kind '{kind}'; known kinds: {', '.join(sorted(_HANDLERS))}")
        model, build = handler
        args = _shorthand_columns(args)
        if isinstance(args, dict) and "quarantine" in args and not issubclass(model, RowCheckArgs):
            raise DeclarationError(
                (*path, kind, "quarantine"),
                f"'{kind}' judges the table, not single rows, so it cannot quarantine; remove 'quarantine'",
            )
        parsed = _validated(self.source, model, args if args is not None else {}, (*path, kind))
        return build(self, parsed, (*path, kind))

    def name_of(self, parsed: CheckArgs, derived: str) -> str:
        return f"{self.name}.{parsed.name or derived}"


def _not_null(b: _TableBuilder, p: NotNullArgs, path: tuple[str | int, ...]) -> list[s.CheckSpec]:
    if p.name and len(p.columns) > 1:
        raise DeclarationError(path, "'name' needs a single column (each column gets its own check)")
    return [
        s.NotNull(b.name_of(p, f"{c}.not_null"), b.name, p.severity, "is not NULL", p.quarantine, b._col(c, path))
        for c in p.columns
    ]


def _unique(b: _TableBuilder, p: UniqueArgs, path: tuple[str | int, ...]) -> list[s.CheckSpec]:
    cols = tuple(b._col(c, path) for c in p.columns)
    return [s.Unique(b.name_of(p, f"{'+'.join(cols)}.unique"), b.name, p.severity, "is unique", cols)]


def _accepted(b: _TableBuilder, p: AcceptedValuesArgs, path: tuple[str | int, ...]) -> list[s.CheckSpec]:
    column = b._col(p.column, path)
    text = f"is one of {', '.join(map(str, p.values))}"
    name = b.name_of(p, f"{column}.accepted_values")
    return [s.AcceptedValues(name, b.name, p.severity, text, p.quarantine, column, tuple(p.values))]


def _range(b: _TableBuilder, p: RangeArgs, path: tuple[str | int, ...]) -> list[s.CheckSpec]:
    column = b._col(p.column, path)
    if p.min is None and p.max is None:
        raise DeclarationError(path, "a range needs 'min', 'max' or both")
    if p.min is not None and p.max is None and p.min == 0:
        derived = "positive" if p.min_exclusive else "non_negative"
    else:
        derived = "range"
    bounds = []
    if p.min is not None:
        bounds.append(f"{'>' if p.min_exclusive else '>='} {p.min}")
    if p.max is not None:
        bounds.append(f"{'<' if p.max_exclusive else '<='} {p.max}")
    return [
        s.Range(
            b.name_of(p, f"{column}.{derived}"),
            b.name,
            p.severity,
            " and ".join(bounds),
            p.quarantine,
            column,
            p.min,
            p.max,
            p.min_exclusive,
            p.max_exclusive,
        )
    ]


def _dates(b: _TableBuilder, p: DatesArgs, path: tuple[str | int, ...]) -> list[s.CheckSpec]:
    if p.name:
        raise DeclarationError(path, "'dates' makes two checks per column with fixed names; remove 'name'")
    found: list[s.CheckSpec] = []
    for column in (b._col(c, path) for c in p.columns):
        family = b.table.columns[column]
        if family not in s.DATED_FAMILIES:
            raise DeclarationError(path, f"'{column}' is {family.value}; 'dates' needs a date or timestamp column")
        ts = b._is_timestamp(column)
        founded = b.settings.founded_on.isoformat()
        found.append(
            s.DateBound(
                f"{b.name}.{column}.not_in_future",
                b.name,
                p.severity,
                "not in the future (after now plus the clock-skew tolerance)",
                p.quarantine,
                column,
                ts,
                latest=True,
            )
        )
        found.append(
            s.DateBound(
                f"{b.name}.{column}.not_before_founding",
                b.name,
                p.severity,
                f"not before {founded}",
                p.quarantine,
                column,
                ts,
                latest=False,
            )
        )
    return found


def _compare(b: _TableBuilder, p: CompareArgs, path: tuple[str | int, ...]) -> list[s.CheckSpec]:
    column, other = b._col(p.column, path), b._col(p.other, path)
    name = b.name_of(p, f"{column}.{_OP_WORDS[p.op]}_{other}")
    return [s.Compare(name, b.name, p.severity, f"{column} {p.op} {other}", p.quarantine, column, p.op, other)]


def _rule(b: _TableBuilder, p: RuleArgs, path: tuple[str | int, ...]) -> list[s.CheckSpec]:
    try:
        parsed = parse_expression(p.condition, allowed_columns=list(b.table.columns))
    except UnsafeExpression as exc:
        raise DeclarationError((*path, "condition"), f"condition: {exc}") from None
    text = p.description or p.condition
    columns = tuple(parsed.column_names)
    return [s.Rule(b.name_of(p, p.name), b.name, p.severity, text, p.quarantine, p.condition, columns)]


def _references(b: _TableBuilder, p: ReferencesArgs, path: tuple[str | int, ...]) -> list[s.CheckSpec]:
    if (p.column is None) == (p.columns is None):
        raise DeclarationError(path, "give exactly one of 'column' or 'columns'")
    columns = tuple(b._col(c, path) for c in ([p.column] if p.column else p.columns or []))
    parent = b._parent(p.parent, path)
    parent_columns = tuple(p.parent_columns or parent.key or columns)
    if len(parent_columns) != len(columns):
        raise DeclarationError(path, f"{len(columns)} column(s) but {len(parent_columns)} parent column(s)")
    for column in parent_columns:
        b._col(column, path, table=p.parent)
    name = b.name_of(p, f"{'+'.join(columns)}.references_{p.parent}")
    text = f"exists in {p.parent}({', '.join(parent_columns)})"
    return [s.References(name, b.name, p.severity, text, p.quarantine, columns, p.parent, parent_columns)]


def _compare_parent(b: _TableBuilder, p: CompareParentArgs, path: tuple[str | int, ...]) -> list[s.CheckSpec]:
    column = b._col(p.column, path)
    b._parent(p.parent, path)
    parent_column = b._col(p.parent_column, path, table=p.parent)
    on = tuple(b._col(b._col(c, path), path, table=p.parent) for c in p.join)
    name = b.name_of(p, f"{column}.{_OP_WORDS[p.op]}_{p.parent}_{parent_column}")
    text = f"{column} {p.op} {p.parent}.{parent_column}"
    return [s.CompareParent(name, b.name, p.severity, text, p.quarantine, column, p.op, p.parent, parent_column, on)]


def _event_column(b: _TableBuilder, column: str, path: tuple[str | int, ...]) -> str:
    b._col(column, path)
    if b.table.columns[column] not in s.DATED_FAMILIES:
        raise DeclarationError(path, f"'{column}' must be a date or timestamp column")
    return column


def _freshness(b: _TableBuilder, p: FreshnessArgs, path: tuple[str | int, ...]) -> list[s.CheckSpec]:
    column = _event_column(b, p.column, path)
    text = f"rows dated on the run date have arrived ({column})"
    return [s.Freshness(b.name_of(p, "freshness"), b.name, p.severity, text, column, b._is_timestamp(column))]


def _volume(b: _TableBuilder, p: VolumeArgs, path: tuple[str | int, ...]) -> list[s.CheckSpec]:
    column = _event_column(b, p.column, path)
    d = b.settings.volume
    days = p.trailing_days or d.trailing_days
    low = p.min_ratio if p.min_ratio is not None else d.min_ratio
    high = p.max_ratio if p.max_ratio is not None else d.max_ratio
    if low > high:
        raise DeclarationError(path, f"min_ratio {low} is above max_ratio {high}")
    floor = p.min_average if p.min_average is not None else d.min_average
    empty_floor = p.min_average_empty if p.min_average_empty is not None else d.min_average_empty
    text = f"each day's rows within {low}x..{high}x of the same weekday's median over the previous {days} days"
    name = b.name_of(p, "volume")
    timestamp = b._is_timestamp(column)
    return [s.Volume(name, b.name, p.severity, text, column, timestamp, days, low, high, floor, empty_floor)]


_NUMERIC_FAMILIES = frozenset({s.TypeFamily.INTEGER, s.TypeFamily.DECIMAL, s.TypeFamily.NUMBER})


def _plausible(b: _TableBuilder, p: PlausibleArgs, path: tuple[str | int, ...]) -> list[s.CheckSpec]:
    column = b._col(p.column, path)
    if b.table.columns[column] not in _NUMERIC_FAMILIES:
        raise DeclarationError(path, f"'{column}' is {b.table.columns[column].value}; 'plausible' needs a number")
    d = b.settings.plausible
    days = p.trailing_days or d.trailing_days
    deviations = p.deviations if p.deviations is not None else d.deviations
    factor = p.factor if p.factor is not None else d.factor
    history = p.min_history or d.min_history
    dated = f"the previous {days} days' rows" if b.table.window_column else "the table's rows"
    text = f"within {deviations} robust deviations of the median or {factor}x the usual range of {dated}"
    name = b.name_of(p, f"{column}.plausible")
    return [
        s.Plausible(
            name, b.name, p.severity, text, p.quarantine, column, b.table.window_column, days, deviations, factor,
            history,
        )
    ]  # fmt: skip


_HANDLERS: dict[str, tuple[type[Strict], Callable[..., list[s.CheckSpec]]]] = {
    "not_null": (NotNullArgs, _not_null),
    "unique": (UniqueArgs, _unique),
    "accepted_values": (AcceptedValuesArgs, _accepted),
    "range": (RangeArgs, _range),
    "dates": (DatesArgs, _dates),
    "compare": (CompareArgs, _compare),
    "rule": (RuleArgs, _rule),
    "references": (ReferencesArgs, _references),
    "compare_parent": (CompareParentArgs, _compare_parent),
    "freshness": (FreshnessArgs, _freshness),
    "volume": (VolumeArgs, _volume),
    "plausible": (PlausibleArgs, _plausible),
}


def _build(located: LocatedYaml) -> s.GateSpec:
    problems: list[DeclarationError] = []
    try:
        parsed = _validated(located, ChecksFile, located.data)
    except _ShapeErrors as exc:
        raise _report(located, exc.errors) from None
    tables: list[s.TableSpec] = []
    seen: dict[str, tuple[str | int, ...]] = {}
    for name, table in parsed.tables.items():
        builder = _TableBuilder(located, name, table, parsed.tables, parsed.settings)
        found: list[s.CheckSpec] = []
        batches: list[tuple[tuple[str | int, ...], Callable[[], list[s.CheckSpec]]]] = [
            (("tables", name, "key"), builder.implicit_checks)
        ]
        for index, item in enumerate(table.checks):
            path = ("tables", name, "checks", index)
            if len(item) != 1:
                problems.append(
                    DeclarationError(
                        path, f"each check is a one-key mapping like '- not_null: [col]', got keys {list(item)}"
                    )
                )
                continue
            kind, args = next(iter(item.items()))
            batches.append((path, functools.partial(builder.checks, kind, args, path)))
        for path, make in batches:
            try:
                new = make()
            except DeclarationError as exc:
                problems.append(exc)
                continue
            except _ShapeErrors as exc:
                problems.extend(exc.errors)
                continue
            for check in new:
                if check.name in seen:
                    problems.append(
                        DeclarationError(path, f"check name '{check.name}' is already used; give this one a 'name:'")
                    )
                seen[check.name] = path
            found.extend(new)
        limit = table.quarantine_limit if table.quarantine_limit is not None else parsed.settings.quarantine_limit
        window = table.window_column
        if window is not None and table.columns.get(window) not in s.DATED_FAMILIES:
            declared = ", ".join(c for c, t in table.columns.items() if t in s.DATED_FAMILIES)
            problems.append(
                DeclarationError(
                    ("tables", name, "window_column"),
                    f"window_column must name a declared date or timestamp column of {name}; '{window}' is not one"
                    + (f" (date columns: {declared})" if declared else " (the table declares none)"),
                )
            )
            window = None
        validity = _validity(name, table, problems)
        day_from = _day_from(name, table, parsed.tables, problems)
        tables.append(
            s.TableSpec(
                name, tuple(table.columns.items()), tuple(table.key), limit, tuple(found), window, validity, day_from
            )
        )
    run_table, run_column = parsed.settings.run_date_from.split(".")
    known = parsed.tables.get(run_table)
    if known is None or known.columns.get(run_column) not in s.DATED_FAMILIES:
        problems.append(
            DeclarationError(
                ("settings", "run_date_from"),
                "run_date_from must name a declared date or timestamp "
                f"column as <table>.<column>; '{parsed.settings.run_date_from}' is not one",
            )
        )
    if problems:
        raise _report(located, problems)
    return s.GateSpec(str(located.file), RAW_SCHEMA, parsed.settings.founded_on, (run_table, run_column), tuple(tables))


def _validity(name: str, table: TableModel, problems: list[DeclarationError]) -> s.ValiditySpec | None:
    """The table's validity declaration, when every column it names is declared and it has a key to match rows by."""
    declared = table.validity
    if declared is None:
        return None
    named = [declared.start, *([declared.end] if declared.end else []), *declared.end_with, *declared.ignore]
    unknown = [column for column in named if column not in table.columns]
    if unknown or not table.key:
        why = f"names undeclared column(s) {', '.join(unknown)}" if unknown else "needs the table's key"
        problems.append(DeclarationError(("tables", name, "validity"), f"validity of {name} {why}"))
        return None
    return s.ValiditySpec(declared.start, declared.end, tuple(declared.end_with), tuple(declared.ignore))


def _day_from(
    name: str, table: TableModel, tables: dict[str, TableModel], problems: list[DeclarationError]
) -> s.DayFromSpec | None:
    """The table's day_from declaration, when its parent is a declared table with a window_column and both declare
    the join columns."""
    declared = table.day_from
    if declared is None:
        return None
    parent = tables.get(declared.parent)
    missing = [c for c in declared.join if c not in table.columns or parent is None or c not in parent.columns]
    if parent is None or parent.window_column is None or missing:
        problems.append(
            DeclarationError(
                ("tables", name, "day_from"),
                f"day_from of {name} needs a declared parent table with a window_column and join columns declared "
                f"in both; '{declared.parent}' with {', '.join(declared.join)} is not one",
            )
        )
        return None
    return s.DayFromSpec(declared.parent, parent.window_column, tuple(declared.join))


def _report(located: LocatedYaml, problems: list[DeclarationError]) -> UserInputError:
    lines = [f"{located.file}:{located.line_of(p.path)}: {p.message}" for p in problems]
    return UserInputError(
        f"{len(problems)} problem(s) in the quality check declarations:\n"
        + "\n".join(lines)
        + "\nFix the lines above (see docs/quality.md for every check kind and its arguments)."
    )


def load_gate_spec(path: Path) -> s.GateSpec:
    """Load and validate the declarations; raises UserInputError naming every problem with its line."""
    if not path.is_file():
        raise UserInputError(f"{path}: quality check declarations not found; create it (see docs/quality.md)")
    try:
        located = load_located(path)
    except YamlSyntaxError as exc:
        raise UserInputError(str(exc)) from None
    return _build(located)
