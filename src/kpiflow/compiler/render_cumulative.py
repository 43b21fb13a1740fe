"""Cumulative measures: running totals over the time spine, a rolling window or grain-to-date, read at each
period's end."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from kpiflow.compiler.calendar_sql import date_literal, shift, spine_day
from kpiflow.compiler.dbt_models import TIME_SPINE_MODEL
from kpiflow.compiler.plan import MeasureNode, QueryError
from kpiflow.compiler.resolve import truncate
from kpiflow.compiler.sqlbuild import alias, aliased_table, col, copy_tree, join_node, table
from kpiflow.compiler.sqltypes import adopting_select as _select

if TYPE_CHECKING:
    from kpiflow.compiler.render_measures import MeasureRenderer


def cumulative(renderer: MeasureRenderer, node: MeasureNode, cte_name: str, group_by: tuple[str, ...]) -> str:
    """Running totals over a time spine: a rolling window or grain-to-date, read at each period's end."""
    ref = renderer.graph.measures[node.measure]
    if ref.measure.agg not in ("sum", "count", "sum_boolean"):
        raise QueryError(f"cumulative metrics need an additive measure; '{node.measure}' is {ref.measure.agg}")
    daily, other = renderer.daily(node, cte_name, group_by, "agg_time")
    # A window goes on after the last row; with an end date the rows stop there, so the spine runs to it.
    high: exp.Expression = date_literal(renderer.request.end) if renderer.request.end else exp.Max(this=col("__day"))
    bounds = _select(
        alias(exp.Min(this=col("__day")), "__lo"),
        alias(high, "__hi"),
    ).from_(table(daily), copy=False)
    bounds_cte = renderer.registry.add(f"{cte_name}__bounds", bounds)
    spine = (
        _select(alias(spine_day(renderer.graph.time_spine, "spine"), "__day"))
        .from_(aliased_table(renderer.relation(TIME_SPINE_MODEL), "spine"), copy=False)
        .join(
            join_node(
                table(bounds_cte, alias="bounds"),
                on=exp.Between(
                    this=spine_day(renderer.graph.time_spine, "spine"),
                    low=col("__lo", "bounds"),
                    high=col("__hi", "bounds"),
                ),
            ),
            copy=False,
        )
    )
    spine_cte = renderer.registry.add(f"{cte_name}__spine", spine)
    if node.grain_to_date or (node.window and node.window[1] == "day"):
        running = _running_by_window(renderer, node, daily, spine_cte, other, cte_name)
    else:
        running = _running_by_join(node, daily, spine_cte, other)
    running_cte = renderer.registry.add(f"{cte_name}__running", running)
    time_out = renderer.time_out(group_by)
    period = [copy_tree(time_out[1])] if time_out else []
    window = exp.Window(this=exp.Max(this=col("__day")), partition_by=period or None)
    marked = _select("*").select(alias(window, "__edge"), copy=False).from_(table(running_cte), copy=False)
    marked_cte = renderer.registry.add(f"{cte_name}__edges", marked)
    outputs = [alias(copy_tree(time_out[1]), time_out[0])] if time_out else []
    select = _select(*outputs, *(col(n) for n in other), "value").from_(table(marked_cte), copy=False)
    return renderer.registry.add(
        cte_name, select.where(exp.EQ(this=col("__day"), expression=col("__edge")), copy=False)
    )


def _running_by_join(node: MeasureNode, daily: str, spine_cte: str, other: list[str]) -> exp.Select:
    """Each spine day sums the daily rows in its window: general (any window unit), an inequality join."""
    if node.window:
        count, unit = node.window
        lower = exp.GT(this=col("__day", "daily"), expression=shift(col("__day", "spine"), -count, unit))
    else:
        lower = exp.GTE(this=col("__day", "daily"), expression=truncate(col("__day", "spine"), str(node.grain_to_date)))
    condition = exp.and_(exp.LTE(this=col("__day", "daily"), expression=col("__day", "spine")), lower, copy=False)
    running = _select(col("__day", "spine"), *(col(n, "daily") for n in other))
    running = running.select(alias(exp.Sum(this=col("value", "daily")), "value"), copy=False)
    running = running.from_(table(spine_cte, alias="spine"), copy=False)
    running = running.join(join_node(table(daily, alias="daily"), on=condition, how="inner"), copy=False)
    return running.group_by(col("__day", "spine"), *(col(n, "daily") for n in other), copy=False)


def _running_by_window(
    renderer: MeasureRenderer, node: MeasureNode, daily: str, spine_cte: str, other: list[str], cte_name: str
) -> exp.Select:
    """Grain-to-date and day windows in one pass: a window sum over a dense (day x members) grid, keeping the
    days whose window holds at least one row (what the inequality join would return)."""
    grid = _select(col("__day", "spine"), *(col(n, "members") for n in other)).from_(
        table(spine_cte, alias="spine"), copy=False
    )
    if other:
        members = renderer.registry.add(
            f"{cte_name}__members",
            _select(*(col(n) for n in other)).distinct(copy=False).from_(table(daily), copy=False),
        )
        grid = grid.join(join_node(table(members, alias="members"), how="cross"), copy=False)
    grid_cte = renderer.registry.add(f"{cte_name}__grid", grid)
    on = exp.and_(
        exp.EQ(this=col("__day", "grid"), expression=col("__day", "daily")),
        *(exp.NullSafeEQ(this=col(n, "grid"), expression=col(n, "daily")) for n in other),
        copy=False,
    )
    partition = [col(n, "grid") for n in other]
    if node.grain_to_date:
        partition.append(truncate(col("__day", "grid"), node.grain_to_date))
        spec = exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="CURRENT ROW")
    else:
        assert node.window is not None
        spec = exp.WindowSpec(
            kind="ROWS", start=exp.Literal.number(node.window[0] - 1), start_side="PRECEDING", end="CURRENT ROW"
        )
    order = exp.Order(expressions=[exp.Ordered(this=col("__day", "grid"))])

    def windowed(function: exp.Expression) -> exp.Window:
        return exp.Window(
            this=function,
            partition_by=[copy_tree(p) for p in partition] or None,
            order=copy_tree(order),
            spec=copy_tree(spec),
        )

    summed = _select(col("__day", "grid"), *(col(n, "grid") for n in other)).select(
        alias(windowed(exp.Sum(this=col("value", "daily"))), "value"),
        alias(windowed(exp.Count(this=col("value", "daily"))), "__rows"),
        copy=False,
    )
    summed = summed.from_(table(grid_cte, alias="grid"), copy=False).join(
        join_node(table(daily, alias="daily"), on=on, how="left"), copy=False
    )
    summed_cte = renderer.registry.add(f"{cte_name}__windowed", summed)
    return (
        _select("__day", *other, "value")
        .from_(table(summed_cte), copy=False)
        .where(exp.GT(this=col("__rows"), expression=exp.Literal.number(0)), copy=False)
    )
