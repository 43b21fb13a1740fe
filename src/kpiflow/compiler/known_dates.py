"""Columns known to be DATE, so that the compiler does not cast a column to its own type.

A time dimension may be a TIMESTAMP, so the compiler casts it to DATE to take its day. Casting a column that already
is a DATE says nothing, and a data engineer reading the generated model takes it for a mistake (issue 16). The
compiler knows a column's type only from the dbt model YAML the user edits (`columns: - {name, data_type: date}`),
never from the warehouse: a column declared with another type, or with none, keeps its cast. A known DATE is marked
with sqlglot's type annotation (`Expression.type`), which copies keep and `sqlbuild.cast` reads.
"""

from __future__ import annotations

from typing import TypeVar

from sqlglot import exp

from kpiflow.compiler.dbt_models import DbtModel
from kpiflow.compiler.sqltypes import DATE

E = TypeVar("E", bound=exp.Expression)


def declared_date(model: DbtModel | None, column: str) -> bool:
    """True when the model's YAML declares `column` with `data_type: date` (any case)."""
    return model is not None and model.columns.get(column, "").strip().lower() == "date"


def known_date(expression: E) -> E:
    """`expression`, marked as a DATE the compiler wrote or the YAML declares: casting it to DATE leaves it as is."""
    expression.type = DATE
    return expression


def typed_by(expression: E, model: DbtModel | None) -> E:
    """`expression` marked as a DATE when it is a plain column of `model` declared as one, else unchanged."""
    if isinstance(expression, exp.Column) and declared_date(model, expression.name):
        return known_date(expression)
    return expression
