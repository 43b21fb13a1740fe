"""Semi-additive measures (balances): summed across other dimensions, the first, last or average day of each
period taken over the days (a non-additive dimension)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from kpiflow.compiler.plan import MeasureNode
from kpiflow.compiler.resolve import truncate
from kpiflow.compiler.sqlbuild import alias, cast, col, copy_tree, join_node, table
from kpiflow.compiler.sqltypes import DOUBLE
from kpiflow.compiler.sqltypes import adopting_select as _select

if TYPE_CHECKING:
    from kpiflow.compiler.render_measures import MeasureRenderer


def semi_additive(renderer: MeasureRenderer, node: MeasureNode, cte_name: str, group_by: tuple[str, ...]) -> str:
    """Balances: add across other dimensions, take the first/last/average day within each period."""
    ref = renderer.graph.measures[node.measure]
    nad = ref.measure.non_additive_dimension
    assert nad is not None
    daily, other = renderer.daily(node, cte_name, group_by, nad.name)
    time_out = renderer.time_out(group_by)
    period = [time_out[1]] if time_out else []
    outputs = [alias(copy_tree(time_out[1]), time_out[0])] if time_out else []
    outputs += [col(name) for name in other]
    if nad.window_choice == "average":
        days = _select(*(alias(copy_tree(p), "__period") for p in period))
        days = days.select(alias(exp.Count(this=exp.Distinct(expressions=[col("__day")])), "__days"), copy=False)
        days = days.from_(table(daily), copy=False)
        if period:
            days = days.group_by(*(copy_tree(p) for p in period), copy=False)
        days_cte = renderer.registry.add(f"{cte_name}__days", days)
        select = _select(
            *(alias(truncate(col("__day", "daily"), renderer.request.time_grain), time_out[0]) for _ in [0] if time_out)
        )
        select = select.select(*(col(name, "daily") for name in other), copy=False)
        ratio = exp.Div(
            this=cast(exp.Sum(this=col("value", "daily")), DOUBLE),
            expression=exp.Max(this=col("__days", "day_counts")),
        )
        select = select.select(alias(ratio, "value"), copy=False).from_(table(daily, alias="daily"), copy=False)
        on = (
            exp.EQ(
                this=truncate(col("__day", "daily"), renderer.request.time_grain),
                expression=col("__period", "day_counts"),
            )
            if time_out
            else exp.EQ(this=exp.Literal.number(1), expression=exp.Literal.number(1))
        )
        select = select.join(join_node(table(days_cte, alias="day_counts"), on=on, how="inner"), copy=False)
        keys = [truncate(col("__day", "daily"), renderer.request.time_grain)] if time_out else []
        keys += [col(name, "daily") for name in other]
        if keys:
            select = select.group_by(*keys, copy=False)
        return renderer.registry.add(cte_name, select)
    edge_fn = exp.Max if nad.window_choice == "last" else exp.Min
    window = exp.Window(this=edge_fn(this=col("__day")), partition_by=[copy_tree(p) for p in period] or None)
    marked = _select("*").select(alias(window, "__edge"), copy=False).from_(table(daily), copy=False)
    marked_cte = renderer.registry.add(f"{cte_name}__edges", marked)
    select = (
        _select(*outputs, "value")
        .from_(table(marked_cte), copy=False)
        .where(exp.EQ(this=col("__day"), expression=col("__edge")), copy=False)
    )
    return renderer.registry.add(cte_name, select)
