"""A measure's source rows as events of an entity, for the one-model conversion and retention KPIs.

Both read the rows once (the day, every breakdown's members, the entity), keep only rows whose entity is known
(DECISIONS rule 23) and that pass the measure's own filter, and label each breakdown as the rollups do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from kpiflow.compiler.expressions import qualified
from kpiflow.compiler.graph import MeasureRef
from kpiflow.compiler.measure_models import long_shape
from kpiflow.compiler.plan import RuntimeDate
from kpiflow.compiler.resolve import BASE_ALIAS, time_column
from kpiflow.compiler.rollups import OVERALL, RollupCatalog, dimension_column
from kpiflow.compiler.sqlbuild import alias, col, table
from kpiflow.compiler.sqltypes import adopting_select as _select

ENTITY_COLUMN = "entity_key"
EVENT_TIME_COLUMN = "event_at"


@dataclass(frozen=True)
class KpiShape:
    """What a one-model KPI is written for: its grains, its breakdowns' labels and member columns in kpi_values (as
    for measure_models.simple_query), how a model is named (`relation`) and where the window starts."""

    grains: tuple[str, ...]
    labels: dict[str, str]
    columns: list[str]
    column_of: dict[str, str]
    relation: Callable[[str], exp.Table]
    start: RuntimeDate


def breakdown_sets(breakdowns: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """Each breakdown's label (as the rollups name it) and its (group-by name, member column) pairs."""
    return tuple(
        (",".join(sorted(dims)) or OVERALL, tuple((n, dimension_column(n)) for n in dims)) for dims in breakdowns
    )


def entity_rows(
    rollups: RollupCatalog,
    ref: MeasureRef,
    entity_name: str,
    sets: tuple[tuple[str, tuple[tuple[str, str], ...]], ...],
    relation: Callable[[str], exp.Table],
    first_day: exp.Expression,
) -> exp.Select:
    """The import CTE: the measure's rows from `first_day` on with their day, members, entity and event time."""
    time_dim = ref.measure.agg_time_dimension or ref.model.spec.agg_time_dimension
    entity_spec = ref.model.entity(entity_name)
    assert time_dim is not None and entity_spec is not None
    by_label = {label: tuple(name for name, _ in dims) for label, dims in sets}
    rows = rollups.source_rows(ref.model, time_dim, by_label, [], relation, first_day)
    entity = qualified(entity_spec.expr or entity_spec.name, BASE_ALIAS)
    rows = rows.select(
        alias(entity.copy(), ENTITY_COLUMN), alias(time_column(ref.model, time_dim), EVENT_TIME_COLUMN), copy=False
    )
    if ref.measure.filter:
        rows = rows.where(qualified(ref.measure.filter, BASE_ALIAS), copy=False)
    return rows.where(exp.Not(this=exp.Is(this=entity, expression=exp.null())), copy=False)


def rates_query(
    ctes: list[tuple[str, exp.Select]],
    metric: str,
    sets: tuple[tuple[str, tuple[tuple[str, str], ...]], ...],
    shape: KpiShape,
    fill_nulls_with: float | None,
) -> exp.Select:
    """The model: `ctes` in order, the last one `rates` (grain, period, `__set`, members, value), then `final` in
    the long shape of kpi_values."""
    final = long_shape(
        metric, "rates", sets, shape.labels, shape.columns, shape.column_of, col("value", "rates"), fill_nulls_with
    )
    query = _select("*").from_(table("final"), copy=False)
    for name, cte in (*ctes, ("final", final)):
        query = query.with_(name, as_=cte, copy=False)
    return query
