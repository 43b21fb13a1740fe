"""A retention KPI (customers who bought last period and again this one) as two models for all grains and breakdowns.

Computed period by period, the KPI repeats one chain per grain and breakdown: the entities active in each period and
member, the same moved a period forward, and the share of those found active again. Here an activity model
(`activity__<metric>`, incremental by period) reads the source's rows once and keeps each entity once per period,
member and breakdown at every grain (GROUPING SETS, `grouping()` naming the breakdown in `__set`); the KPI model joins
its previous period's entities to this one's. A night rebuilds the activity of the periods its window touches and
reads the period before each grain's floor from the table, instead of re-reading up to two years of source rows.

Rows are those of the KPI computed period by period: a period's cohort is the previous period's known entities
(DECISIONS rule 23), from the window start truncated to each grain on, up to the last period with activity.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from kpiflow.compiler.calendar_sql import date_literal, shift
from kpiflow.compiler.entity_events import ENTITY_COLUMN, KpiShape, breakdown_sets, entity_rows, rates_query
from kpiflow.compiler.graph import SemanticGraph
from kpiflow.compiler.measure_models import (
    GRAIN_COLUMN,
    PERIOD_COLUMN,
    earliest_floor,
    period_floor,
    rows_in_periods,
    same_column,
)
from kpiflow.compiler.resolve import truncate
from kpiflow.compiler.rollups import SET_COLUMN, RollupCatalog, grouped_by_sets
from kpiflow.compiler.spec import GRAINS, MetricSpec
from kpiflow.compiler.sqlbuild import alias, cast, col, join_node, table
from kpiflow.compiler.sqltypes import DOUBLE
from kpiflow.compiler.sqltypes import adopting_select as _select


@dataclass(frozen=True)
class RetentionRead:
    """A retention metric whose activity can be read by each of its breakdowns (`sets`: label -> (group-by name,
    member column))."""

    metric: str
    measure: str
    entity: str
    sets: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
    fill_nulls_with: float | None


def retention_read(
    rollups: RollupCatalog, metric: MetricSpec, breakdowns: tuple[tuple[str, ...], ...]
) -> RetentionRead | None:
    """The retention metric as one model, or None when it is computed as before: a filter or time spine of its own,
    a breakdown its activity cannot be read by, or a source rebuilt in full nightly."""
    spec = metric.retention
    if metric.type != "retention" or spec is None or metric.filter or metric.join_to_timespine:
        return None
    if not all(rollups.readable(spec.measure, dims) for dims in breakdowns):
        return None
    return RetentionRead(metric.name, spec.measure, spec.entity, breakdown_sets(breakdowns), metric.fill_nulls_with)


ACTIVITY_PREFIX = "activity__"


def activity_model(read: RetentionRead) -> str:
    """The name of the model holding the retention metric's active entities per period."""
    return ACTIVITY_PREFIX + read.metric


def _by_grain(grains: list[str], value: Callable[[str], exp.Expression]) -> exp.Expression:
    return exp.Case(this=col(GRAIN_COLUMN), ifs=[exp.If(this=exp.Literal.string(g), true=value(g)) for g in grains])


def _members(read: RetentionRead) -> list[str]:
    return sorted({c for _, dims in read.sets for _, c in dims})


def activity_query(graph: SemanticGraph, rollups: RollupCatalog, read: RetentionRead, shape: KpiShape) -> exp.Select:
    """Each entity once per period, breakdown and member at every grain, from each grain's window floor on: the
    source's rows from the earliest floor (an import CTE), placed in their periods, grouped by the breakdowns."""
    ordered = [g for g in GRAINS if g in shape.grains]
    sets = {label: tuple(name for name, _ in dims) for label, dims in read.sets}
    first_day = earliest_floor(shape.start, ordered)
    rows = entity_rows(rollups, graph.measures[read.measure], read.entity, read.sets, shape.relation, first_day)
    placed = rows_in_periods("active_rows", ordered)
    keys = [col(GRAIN_COLUMN), col(PERIOD_COLUMN), col(ENTITY_COLUMN)]
    active = grouped_by_sets(_select(*(k.copy() for k in keys)), sets, keys).from_(table("rows_in_periods"))
    recomputed = exp.GTE(this=col(PERIOD_COLUMN), expression=period_floor(col(GRAIN_COLUMN), shape.start, ordered))
    active = active.where(recomputed, copy=False)
    query = _select("*").from_(table("active_entities"), copy=False)
    for name, cte in (("active_rows", rows), ("rows_in_periods", placed), ("active_entities", active)):
        query = query.with_(name, as_=cte, copy=False)
    return query


def retention_query(read: RetentionRead, shape: KpiShape) -> exp.Select:
    """The KPI's rows in the long shape of kpi_values from each grain's window floor on, over the activity model's
    rows from the period before each floor."""
    grains, start = shape.grains, shape.start
    ordered = [g for g in GRAINS if g in grains]
    members = _members(read)
    columns = [GRAIN_COLUMN, PERIOD_COLUMN, SET_COLUMN, *members, ENTITY_COLUMN]
    cohort_floor = _by_grain(ordered, lambda g: shift(truncate(date_literal(start), g), -1, g))
    active = _select(*(col(c) for c in columns)).from_(shape.relation(activity_model(read)), copy=False)
    active = active.where(exp.GTE(this=col(PERIOD_COLUMN), expression=cohort_floor), copy=False)

    cohort_keys = [GRAIN_COLUMN, SET_COLUMN, *members, ENTITY_COLUMN]
    next_period = _by_grain(ordered, lambda g: truncate(shift(col(PERIOD_COLUMN), 1, g), g))
    cohorts = _select(col(GRAIN_COLUMN), alias(next_period, PERIOD_COLUMN), *(col(k) for k in cohort_keys[1:]))
    cohorts = cohorts.from_(table("active_entities"), copy=False)

    last = _select(col(GRAIN_COLUMN), alias(exp.Max(this=col(PERIOD_COLUMN)), "last_period"))
    last = last.from_(table("active_entities"), copy=False).group_by(col(GRAIN_COLUMN), copy=False)

    cell = [col(k, "cohorts") for k in (GRAIN_COLUMN, PERIOD_COLUMN, SET_COLUMN, *members)]
    value = exp.Div(
        this=cast(exp.Count(this=col(ENTITY_COLUMN, "active_entities")), DOUBLE),
        expression=exp.Nullif(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(0)),
    )
    on_again = exp.and_(
        *(same_column(k, "cohorts", "active_entities") for k in (GRAIN_COLUMN, PERIOD_COLUMN, SET_COLUMN)),
        *(exp.NullSafeEQ(this=col(c, "cohorts"), expression=col(c, "active_entities")) for c in members),
        same_column(ENTITY_COLUMN, "cohorts", "active_entities"),
        copy=False,
    )
    floor = period_floor(col(GRAIN_COLUMN, "cohorts"), start, ordered)
    rates = _select(*(c.copy() for c in cell), alias(value, "value")).from_(table("cohorts"), copy=False)
    rates = rates.join(join_node(table("active_entities"), on=on_again, how="left"), copy=False)
    rates = rates.join(join_node(table("last_periods"), on=same_column(GRAIN_COLUMN, "last_periods", "cohorts")))
    rates = rates.where(exp.LTE(this=col(PERIOD_COLUMN, "cohorts"), expression=col("last_period", "last_periods")))
    rates = rates.where(exp.GTE(this=col(PERIOD_COLUMN, "cohorts"), expression=floor), copy=False)
    rates = rates.group_by(*(c.copy() for c in cell), copy=False)
    ctes = [("active_entities", active), ("cohorts", cohorts), ("last_periods", last), ("rates", rates)]
    return rates_query(ctes, read.metric, read.sets, shape, read.fill_nulls_with)
