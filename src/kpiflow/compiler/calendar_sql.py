"""Date SQL the renderers share: a date constant or runtime placeholder, a date moved by whole units, the time spine.

Rendered per dialect by sqlglot (DateAdd/DateSub), so no engine's calendar function is written here.
"""

from __future__ import annotations

from datetime import date

from sqlglot import exp

from kpiflow.compiler.dbt_models import TIME_SPINE_COLUMN, DbtModel
from kpiflow.compiler.known_dates import typed_by
from kpiflow.compiler.plan import RuntimeDate
from kpiflow.compiler.sqlbuild import cast, col
from kpiflow.compiler.sqltypes import DATE


def spine_day(spine: DbtModel | None, table: str) -> exp.Expression:
    """The time spine's day (`table.date_day`) as a DATE: as it is when the spine's YAML declares it a DATE."""
    return cast(typed_by(col(TIME_SPINE_COLUMN, table), spine), DATE)


def date_literal(value: date | RuntimeDate) -> exp.Expression:
    """A date constant, or the placeholder of a date the warehouse supplies (a DATE-typed macro call)."""
    if isinstance(value, RuntimeDate):
        return col(value.placeholder)
    return cast(exp.Literal.string(value.isoformat()), DATE)


def shift(expr: exp.Expression, count: int, unit: str) -> exp.Expression:
    """`expr` moved by `count` units (negative = back), rendered per dialect by sqlglot."""
    if count < 0:
        return exp.DateSub(this=expr, expression=exp.Literal.number(-count), unit=exp.var(unit.upper()))
    return exp.DateAdd(this=expr, expression=exp.Literal.number(count), unit=exp.var(unit.upper()))


def lookback_history(lookback: tuple[tuple[int, str], ...]) -> tuple[tuple[str, int, str], ...]:
    """A node's lookback as the history entries a measure source reads before its start: ('shift', n, unit)."""
    return tuple(("shift", count, unit) for count, unit in lookback)
