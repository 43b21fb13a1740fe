"""One Great Expectations 1.x expectation per check, built-in wherever GE has one.

Cross-table and expression checks use `UnexpectedRowCount` (GE's `UnexpectedRowsExpectation`, counting in one
query) with SQL from `kpiflow.quality.sql`; GE still runs it in the warehouse. Every expectation carries
`meta.kpiflow_check` so results map back to declarations.
"""

from __future__ import annotations

import functools
import operator
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import singledispatch
from typing import Any, ClassVar

import great_expectations.expectations as gxe
from great_expectations.expectations.metadata_types import FailureSeverity
from great_expectations.expectations.row_conditions import Column

from kpiflow.quality import specs as s
from kpiflow.quality.sql import Context, is_future_check, unexpected_rows_query

CHECK_META_KEY = "kpiflow_check"

# The type names a column of each family may have. GE compares them three ways: on DuckDB (no SQLAlchemy dialect
# module GE knows) with isinstance against the SQLAlchemy classes of these names that exist (ge_duckdb_fix reflects
# real SQLAlchemy types), on PostgreSQL with the type's text as the server's dialect writes it (see
# ColumnTypeInList for parameters), on Spark with isinstance against the pyspark.sql.types classes of these names
# (the `...Type` names). A name one engine does not know is skipped there.
_INTEGERS = ["INTEGER", "BIGINT", "SMALLINT", "IntegerType", "LongType", "ShortType"]
_TEXTS = ["TEXT", "VARCHAR", "CHAR", "StringType", "VarcharType", "CharType"]
_DECIMALS = ["DECIMAL", "NUMERIC", "DecimalType"]
_FLOATS = ["DoubleType", "FloatType"]  # Spark's; the SQL names are listed below
_TIMESTAMPS = ["TimestampType", "TimestampNTZType"]
TYPE_NAMES: dict[s.TypeFamily, list[str]] = {
    s.TypeFamily.IDENTIFIER: [*_INTEGERS, *_TEXTS],
    s.TypeFamily.INTEGER: _INTEGERS,
    s.TypeFamily.DECIMAL: _DECIMALS,
    s.TypeFamily.NUMBER: [*_INTEGERS, *_DECIMALS, "DOUBLE", "DOUBLE PRECISION", "REAL", "FLOAT", *_FLOATS],
    s.TypeFamily.TEXT: _TEXTS,
    s.TypeFamily.DATE: ["DATE", "DateType"],
    s.TypeFamily.TIMESTAMP: ["TIMESTAMP", "TIMESTAMP WITHOUT TIME ZONE", "TIMESTAMP WITH TIME ZONE", *_TIMESTAMPS],
    s.TypeFamily.BOOLEAN: ["BOOLEAN", "BooleanType"],
}
_TYPE_PARAMETERS = re.compile(r"\s*\([^)]*\)")
_SEVERITY = {s.Severity.ERROR: FailureSeverity.CRITICAL, s.Severity.WARN: FailureSeverity.WARNING}


class UnexpectedRowCount(gxe.UnexpectedRowsExpectation):
    """GE's UnexpectedRowsExpectation without its second run of the query: the built-in one computes both the
    query's row count and its rows (every time, though only the COMPLETE result format shows the rows), so each
    SQL check's query ran twice, 2.7 s each for the snapshot key at scale 10. kpiflow reports the count and
    reads example keys itself, with the same SQL, for failed checks only (results.py)."""

    metric_dependencies: ClassVar[tuple[str, ...]] = ("unexpected_rows_query.row_count",)

    def _validate(
        self, metrics: dict[str, Any], runtime_configuration: dict | None = None, execution_engine: Any = None
    ) -> dict[str, Any]:
        count = metrics["unexpected_rows_query.row_count"]
        return {"success": count == 0, "result": {"observed_value": count}}


class ColumnTypeInList(gxe.ExpectColumnValuesToBeInTypeList):
    """GE's type-list check, with the type's parameters left out where GE compares the type's text.

    On PostgreSQL GE compares the column type as its dialect writes it, `NUMERIC(12, 2)` or `VARCHAR(40)`, with
    the listed names as whole strings, so `NUMERIC` would accept no decimal column and every precision would need
    listing. Here `NUMERIC(12, 2)` is judged as `NUMERIC`, as DuckDB's DECIMAL(12,2) is (an instance of DECIMAL);
    the observed value keeps the full text. Other engines, where GE compares SQLAlchemy types, are unchanged."""

    def _validate_sqlalchemy(
        self, actual_column_type: Any, expected_types_list: list[str] | None, execution_engine: Any
    ) -> dict[str, Any]:
        if not isinstance(actual_column_type, str) or expected_types_list is None:
            return super()._validate_sqlalchemy(actual_column_type, expected_types_list, execution_engine)
        base = _TYPE_PARAMETERS.sub("", str(actual_column_type)).casefold()
        success = any(base == expected.casefold() for expected in expected_types_list)
        return {"success": success, "result": {"observed_value": str(actual_column_type)}}

    def _validate_spark(self, actual_column_type: Any, expected_types_list: list[str] | None) -> dict[str, Any]:
        """GE's verdict; the observed type as Spark SQL names it (`STRING`, `DECIMAL(12,2)`), not its class name."""
        verdict = super()._validate_spark(actual_column_type, expected_types_list)
        return {**verdict, "result": {"observed_value": actual_column_type.simpleString().upper()}}


def _number(value: Decimal | None) -> int | float | None:
    """GE serialises expectation arguments to JSON; Decimal bounds become int or float there."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _bound(day: date, as_timestamp: bool) -> date | datetime:
    return datetime.combine(day, time()) if as_timestamp else day


def _common(check: s.CheckSpec, ctx: Context | None = None) -> dict[str, object]:
    """Arguments every expectation takes; with `ctx`, a built-in row expectation of a windowed table gets the
    window as GE's row condition (GE still computes the expectations of one table in shared queries)."""
    common: dict[str, object] = {
        "meta": {CHECK_META_KEY: check.name},
        "notes": f"kpiflow check `{check.name}` ({check.severity.value}): {check.description}",
        "severity": _SEVERITY[check.severity],
    }
    column = ctx.window_column(check.table) if ctx is not None and isinstance(check, s.RowCheckSpec) else None
    if column is not None:
        assert ctx is not None
        # dates, not their text: PostgreSQL compares no date or timestamp with a string parameter
        conditions = [] if is_future_check(check) else [Column(column) < ctx.run_date + timedelta(days=1)]
        if ctx.window_start is not None:
            conditions.insert(0, Column(column) >= ctx.window_start)
        if conditions:
            common["row_condition"] = functools.reduce(operator.and_, conditions)
    return common


@singledispatch
def expectation_for(check: s.CheckSpec, ctx: Context, key: tuple[str, ...]) -> gxe.Expectation:
    """The GE expectation that decides `check`; `key` names the columns shown as example keys. In an incremental
    run, row checks of a windowed table judge the window's rows only (the SQL ones carry the window in their SQL,
    the built-in ones as a row condition)."""
    return UnexpectedRowCount(unexpected_rows_query=unexpected_rows_query(check, ctx, key), **_common(check))


@expectation_for.register
def _(check: s.NotNull, ctx: Context, key: tuple[str, ...]) -> gxe.Expectation:
    return gxe.ExpectColumnValuesToNotBeNull(column=check.target, **_common(check, ctx))


@expectation_for.register
def _(check: s.Unique, ctx: Context, key: tuple[str, ...]) -> gxe.Expectation:
    if len(check.columns) == 1:
        return gxe.ExpectColumnValuesToBeUnique(column=check.columns[0], **_common(check))
    # GE's ExpectCompoundColumnsToBeUnique joins every row back to its group's count: 3.5 s of the gate on the
    # 2.9M inventory snapshots at scale 1. Listing the repeated keys is one aggregation (a fraction of that); the
    # count is then of repeated key values, not of rows.
    return UnexpectedRowCount(unexpected_rows_query=unexpected_rows_query(check, ctx, key), **_common(check))


@expectation_for.register
def _(check: s.AcceptedValues, ctx: Context, key: tuple[str, ...]) -> gxe.Expectation:
    return gxe.ExpectColumnValuesToBeInSet(column=check.target, value_set=list(check.values), **_common(check, ctx))


@expectation_for.register
def _(check: s.Range, ctx: Context, key: tuple[str, ...]) -> gxe.Expectation:
    return gxe.ExpectColumnValuesToBeBetween(
        column=check.target,
        min_value=_number(check.minimum),
        max_value=_number(check.maximum),
        strict_min=check.min_exclusive,
        strict_max=check.max_exclusive,
        **_common(check, ctx),
    )


@expectation_for.register
def _(check: s.DateBound, ctx: Context, key: tuple[str, ...]) -> gxe.Expectation:
    if check.latest:
        bounds = {"max_value": ctx.future_after if check.is_timestamp else ctx.future_after.date()}
    else:
        bounds = {"min_value": _bound(ctx.founded_on, check.is_timestamp)}
    return gxe.ExpectColumnValuesToBeBetween(column=check.target, **bounds, **_common(check, ctx))


@expectation_for.register
def _(check: s.Compare, ctx: Context, key: tuple[str, ...]) -> gxe.Expectation:
    greater, smaller = (check.target, check.other) if check.op in (">", ">=") else (check.other, check.target)
    return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A=greater,
        column_B=smaller,
        or_equal=check.op in (">=", "<="),
        ignore_row_if="either_value_is_missing",
        **_common(check, ctx),
    )


@expectation_for.register
def _(check: s.RowCount, ctx: Context, key: tuple[str, ...]) -> gxe.Expectation:
    return gxe.ExpectTableRowCountToBeBetween(min_value=check.min_rows, **_common(check))


@expectation_for.register
def _(check: s.ColumnsPresent, ctx: Context, key: tuple[str, ...]) -> gxe.Expectation:
    return gxe.ExpectTableColumnsToMatchSet(column_set=list(check.columns), exact_match=False, **_common(check))


@expectation_for.register
def _(check: s.ColumnType, ctx: Context, key: tuple[str, ...]) -> gxe.Expectation:
    return ColumnTypeInList(column=check.target, type_list=TYPE_NAMES[check.family], **_common(check))
