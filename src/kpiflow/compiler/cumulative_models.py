"""A grain-to-date KPI (revenue year to date) as one model, written once for all its grains and breakdowns.

The KPI computed period by period repeats one chain per grain and breakdown: the measure's days from the daily
rollup, a dense grid of days x members, a running sum within each year (or month ...), and the value on each
period's last day with a running total. The running totals do not depend on the grain, so the model computes them
once for every breakdown (the rollup's `__set`) and then reads them at every grain's period ends.

Rows are those of the KPI computed period by period: the grid runs from each breakdown's first to last day read
(the rollup's days from the window start's earliest floor, truncated to the grain-to-date period, on), a day keeps
its running total only where its period to date has a value, and a period's value is the running total of its
breakdown's last day with one (a member without a total on that day has no row).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from kpiflow.compiler.calendar_sql import spine_day
from kpiflow.compiler.combined_models import one_of
from kpiflow.compiler.dbt_models import TIME_SPINE_MODEL, DbtModel
from kpiflow.compiler.graph import TIME_ENTITY, SemanticGraph
from kpiflow.compiler.measure_models import (
    earliest_floor,
    grain_values,
    long_shape,
    member_columns,
    period_of,
    same_column,
)
from kpiflow.compiler.plan import RuntimeDate
from kpiflow.compiler.resolve import truncate
from kpiflow.compiler.rollups import DAY_COLUMN, SET_COLUMN, RollupCatalog, RollupRead
from kpiflow.compiler.spec import GRAINS, MetricSpec
from kpiflow.compiler.sqlbuild import alias, aliased_table, col, join_node, table
from kpiflow.compiler.sqltext import dbt_ref_relation
from kpiflow.compiler.sqltypes import adopting_select as _select

RUNNING_AGGS = ("sum", "count", "sum_boolean")  # what render_cumulative.py accumulates


@dataclass(frozen=True)
class ToDateRead:
    """A grain-to-date metric read from its measure's daily rollup, one breakdown per `sets` entry."""

    metric: str
    rollup: str
    to_date: str  # the period the running total restarts at (year, month ...)
    sets: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]  # rollup label -> (group-by name, rollup column)
    value_column: str
    rows_column: str | None
    fill_nulls_with: float | None


def to_date_read(
    graph: SemanticGraph,
    rollups: RollupCatalog,
    metric: MetricSpec,
    grains: tuple[str, ...],
    breakdowns: tuple[tuple[str, ...], ...],
) -> ToDateRead | None:
    """The rollup a grain-to-date metric reads for each of `breakdowns`, or None when it is computed as before (a
    rolling window, a filter or time spine of its own, a balance, a measure or breakdown the rollups do not hold, or
    a grain longer than the period to date, which the planner reports)."""
    if metric.type != "cumulative" or not metric.grain_to_date or metric.window or metric.measure is None:
        return None
    if any(GRAINS.index(g) > GRAINS.index(metric.grain_to_date) for g in grains):
        return None
    if metric.filter or metric.join_to_timespine:
        return None
    ref = graph.measures.get(metric.measure)
    if ref is None or ref.measure.non_additive_dimension is not None or ref.measure.agg not in RUNNING_AGGS:
        return None
    if any(d.startswith(TIME_ENTITY + "__") for dims in breakdowns for d in dims):
        return None
    reads: list[RollupRead] = []
    for dims in breakdowns:
        found = rollups.read(metric.measure, (), dims)
        if found is None:
            return None
        reads.append(found)
    if len({r.model for r in reads}) != 1:
        return None
    return ToDateRead(
        metric=metric.name,
        rollup=reads[0].model,
        to_date=metric.grain_to_date,
        sets=tuple((r.set_label, r.dimensions) for r in reads),
        value_column=reads[0].value_column,
        rows_column=reads[0].rows_column,
        fill_nulls_with=metric.fill_nulls_with,
    )


def to_date_query(
    read: ToDateRead,
    grains: tuple[str, ...],
    labels: dict[str, str],
    columns: list[str],
    column_of: dict[str, str],
    start: RuntimeDate,
    window_floor: exp.Expression,
    time_spine: DbtModel | None = None,
) -> exp.Select:
    """The KPI's rows in the long shape of kpi_values from `window_floor` on (`labels`, `columns`, `column_of` and
    `time_spine` as for measure_models.simple_query)."""
    members = sorted({c for label, _ in read.sets for c in member_columns(label)})
    first_read = truncate(earliest_floor(start, list(grains)), read.to_date)
    days = _select(col(DAY_COLUMN), col(SET_COLUMN), *(col(c) for c in members))
    days = days.select(alias(col(read.value_column), "value"), copy=False)
    days = days.from_(dbt_ref_relation(read.rollup), copy=False)
    days = days.where(one_of(col(SET_COLUMN), [label for label, _ in read.sets]), copy=False)
    days = days.where(exp.GTE(this=col(DAY_COLUMN), expression=first_read), copy=False)
    if read.rows_column:
        days = days.where(exp.GT(this=col(read.rows_column), expression=exp.Literal.number(0)), copy=False)
    bounds = _select(
        col(SET_COLUMN),
        alias(exp.Min(this=col(DAY_COLUMN)), "first_day"),
        alias(exp.Max(this=col(DAY_COLUMN)), "last_day"),
    )
    bounds = bounds.from_(table("days"), copy=False).group_by(col(SET_COLUMN), copy=False)
    known = _select(col(SET_COLUMN), *(col(c) for c in members)).distinct(copy=False).from_(table("days"), copy=False)
    spine_date = spine_day(time_spine, "time_spine")
    grid = _select(col(SET_COLUMN, "members"), *(col(c, "members") for c in members), alias(spine_date, DAY_COLUMN))
    grid = grid.from_(table("members"), copy=False)
    grid = grid.join(join_node(table("day_bounds"), on=same_column(SET_COLUMN, "day_bounds", "members")), copy=False)
    in_bounds = exp.Between(
        this=spine_date.copy(), low=col("first_day", "day_bounds"), high=col("last_day", "day_bounds")
    )
    grid = grid.join(
        join_node(aliased_table(dbt_ref_relation(TIME_SPINE_MODEL), "time_spine"), on=in_bounds), copy=False
    )
    partition = [
        col(SET_COLUMN, "grid"),
        *(col(c, "grid") for c in members),
        truncate(col(DAY_COLUMN, "grid"), read.to_date),
    ]
    order = exp.Order(expressions=[exp.Ordered(this=col(DAY_COLUMN, "grid"))])
    frame = exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="CURRENT ROW")

    def running(aggregate: exp.Expression) -> exp.Window:
        return exp.Window(
            this=aggregate, partition_by=[p.copy() for p in partition], order=order.copy(), spec=frame.copy()
        )

    totals = _select(col(SET_COLUMN, "grid"), *(col(c, "grid") for c in members), col(DAY_COLUMN, "grid"))
    totals = totals.select(
        alias(running(exp.Sum(this=col("value", "days"))), "value"),
        alias(running(exp.Count(this=col("value", "days"))), "days_with_values"),
        copy=False,
    )
    on_days = exp.and_(
        same_column(SET_COLUMN, "days", "grid"),
        same_column(DAY_COLUMN, "days", "grid"),
        *(exp.NullSafeEQ(this=col(c, "days"), expression=col(c, "grid")) for c in members),
        copy=False,
    )
    totals = totals.from_(table("grid"), copy=False).join(join_node(table("days"), on=on_days, how="left"), copy=False)
    period = exp.Case(
        this=col("grain", "grains"),
        ifs=[exp.If(this=exp.Literal.string(g), true=period_of(col(DAY_COLUMN, "running_totals"), g)) for g in grains],
    )
    every_column = exp.Column(this=exp.Star(), table=exp.to_identifier("running_totals"))
    placed = _select(col("grain", "grains"), alias(period, "period_start"), every_column)
    placed = placed.from_(table("running_totals"), copy=False)
    placed = placed.join(join_node(grain_values(list(grains)), how="cross"), copy=False)
    placed = placed.where(exp.GT(this=col("days_with_values", "running_totals"), expression=exp.Literal.number(0)))
    set_keys = ["grain", "period_start", SET_COLUMN]
    edges = _select(*(col(k) for k in set_keys), alias(exp.Max(this=col(DAY_COLUMN)), "last_day"))
    edges = edges.from_(table("days_in_periods"), copy=False).group_by(*(col(k) for k in set_keys), copy=False)
    value = col("value", "days_in_periods")
    final = long_shape(
        read.metric, "days_in_periods", read.sets, labels, columns, column_of, value, read.fill_nulls_with
    )
    on_edge = exp.and_(
        *(same_column(k, "period_edges", "days_in_periods") for k in set_keys),
        exp.EQ(this=col(DAY_COLUMN, "days_in_periods"), expression=col("last_day", "period_edges")),
        copy=False,
    )
    final = final.join(join_node(table("period_edges"), on=on_edge), copy=False)
    floor = window_floor.copy()
    for column in floor.find_all(exp.Column):
        if column.name == "grain":
            column.set("table", exp.to_identifier("days_in_periods"))
    final = final.where(exp.GTE(this=col("period_start", "days_in_periods"), expression=floor), copy=False)
    query = _select("*").from_(table("final"), copy=False)
    for name, cte in (
        ("days", days),
        ("day_bounds", bounds),
        ("members", known),
        ("grid", grid),
        ("running_totals", totals),
        ("days_in_periods", placed),
        ("period_edges", edges),
        ("final", final),
    ):
        query = query.with_(name, as_=cte, copy=False)
    return query
