"""Columns known to be DATE, so that the compiler does not cast a column to its own type.

A time dimension may be a TIMESTAMP, so the compiler casts it to DATE to take its day. Casting a column that already
is a DATE says nothing, and a data engineer reading the generated model takes it for a mistake (issue 16). The
compiler knows a column's type only from the dbt model YAML the user edits (`columns: - {name, data_type: date}`),
never from the warehouse: a column declared with another type, or with none, keeps its cast. A known DATE is marked
with sqlglot's type annotation (`Expression.type`), which copies keep and `sqlbuild.cast` reads. Since the
declaration is trusted, `kpiflow run` checks the built columns it names (`declared_date_columns`,
orchestration/declared_dates.py): a TIMESTAMP with times of day declared a DATE fails the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from sqlglot import exp

from kpiflow.compiler.dbt_models import TIME_SPINE_COLUMN, DbtModel
from kpiflow.compiler.expressions import qualified
from kpiflow.compiler.graph import SemanticGraph
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


@dataclass(frozen=True)
class DeclaredDate:
    """A column of a dbt model that the compiler reads uncast, because the model's YAML declares it a DATE."""

    model: DbtModel
    column: str


def declared_date_columns(graph: SemanticGraph) -> tuple[DeclaredDate, ...]:
    """Every column the compiler reads as a declared DATE: a semantic model's time dimension that is a plain column
    (a balance's non_additive dimension is one of them) and the time spine's day, each once, by model and column."""
    found: dict[tuple[str, str], DeclaredDate] = {}
    for model in graph.models.values():
        for dim in model.spec.dimensions:
            # as resolve.dimension_expr reads it: an expression over columns is not marked, so it keeps its cast
            column = typed_by(qualified(dim.expr or dim.name, "t"), model.dbt_model)
            if dim.type == "time" and column.type == DATE and model.dbt_model is not None:
                found[(model.dbt_model.name, column.name)] = DeclaredDate(model.dbt_model, column.name)
    spine = graph.time_spine
    if spine is not None and typed_by(exp.column(TIME_SPINE_COLUMN), spine).type == DATE:  # as spine_day reads it
        found[(spine.name, TIME_SPINE_COLUMN)] = DeclaredDate(spine, TIME_SPINE_COLUMN)
    return tuple(found[key] for key in sorted(found))
