"""Entity-event measures: conversions (a base event followed by a conversion event of the same entity within a
window) and retention (entities active in the previous period and this one)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from kpiflow.compiler.calendar_sql import lookback_history, shift
from kpiflow.compiler.expressions import qualified
from kpiflow.compiler.graph import TIME_ENTITY
from kpiflow.compiler.plan import ConversionNode, RetentionNode
from kpiflow.compiler.resolve import BASE_ALIAS, time_column, truncate
from kpiflow.compiler.sqlbuild import alias, aliased_table, cast, col, copy_tree, join_node, table
from kpiflow.compiler.sqltypes import DOUBLE
from kpiflow.compiler.sqltypes import adopting_select as _select

if TYPE_CHECKING:
    from kpiflow.compiler.render_measures import MeasureRenderer


def _known(entity: exp.Expression) -> exp.Expression:
    """`entity IS NOT NULL`: a row without an entity (an anonymous buyer) counts in sums but never as an entity,
    so it is in no retention or conversion cohort (DECISIONS rule 23)."""
    return exp.Not(this=exp.Is(this=copy_tree(entity), expression=exp.Null()))


def conversion(renderer: MeasureRenderer, node: ConversionNode, cte_name: str, group_by: tuple[str, ...]) -> str:
    """Base events followed by a conversion event of the same entity within the window."""
    base_src = renderer.source(node.base_measure, node.filters, group_by, lookback_history(node.lookback))
    base_ref = renderer.graph.measures[node.base_measure]
    entity = base_ref.model.entity(node.entity)
    assert entity is not None
    base = _select(*(alias(copy_tree(e), n) for n, e in base_src.group_by))
    base_entity = qualified(entity.expr or entity.name, BASE_ALIAS)
    base = base.select(
        alias(base_entity, "__entity"),
        alias(copy_tree(base_src.time_raw), "__ts"),
        copy=False,
    )
    base = renderer.from_clause(base_src, base, _known(base_entity))
    base_cte = renderer.registry.add(f"{cte_name}__base", base)
    conv_ref = renderer.graph.measures[node.conversion_measure]
    conv_entity = conv_ref.model.entity(node.entity)
    assert conv_entity is not None
    conv_time = conv_ref.measure.agg_time_dimension or conv_ref.model.spec.agg_time_dimension
    conv = _select(
        alias(qualified(conv_entity.expr or conv_entity.name, BASE_ALIAS), "__entity"),
        alias(time_column(conv_ref.model, conv_time), "__ts"),
    ).from_(aliased_table(renderer.relation(conv_ref.model.spec.model), BASE_ALIAS), copy=False)
    if conv_ref.measure.filter:
        conv = conv.where(qualified(conv_ref.measure.filter, BASE_ALIAS), copy=False)
    conv_cte = renderer.registry.add(f"{cte_name}__conversions", conv)
    count, unit = node.window
    within = exp.and_(
        exp.GTE(this=col("__ts", "conversions"), expression=col("__ts", "base_events")),
        exp.LTE(this=col("__ts", "conversions"), expression=shift(col("__ts", "base_events"), count, unit)),
        copy=False,
    )
    converted = exp.Max(
        this=exp.Case(ifs=[exp.If(this=within, true=exp.Literal.number(1))], default=exp.Literal.number(0))
    )
    keys = [col(n, "base_events") for n in group_by] + [col("__entity", "base_events"), col("__ts", "base_events")]
    matched = _select(*keys, alias(converted, "__converted"))
    matched = (
        matched.from_(table(base_cte, alias="base_events"), copy=False)
        .join(
            join_node(
                table(conv_cte, alias="conversions"),
                on=exp.EQ(this=col("__entity", "base_events"), expression=col("__entity", "conversions")),
                how="left",
            ),
            copy=False,
        )
        .group_by(*(copy_tree(k) for k in keys), copy=False)
    )
    matched_cte = renderer.registry.add(f"{cte_name}__matched", matched)
    conversions = exp.Sum(this=col("__converted"))
    value = (
        conversions
        if node.calculation == "conversions"
        else exp.Div(
            this=cast(conversions, DOUBLE),
            expression=exp.Nullif(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(0)),
        )
    )
    select = _select(*(col(n) for n in group_by), alias(value, "value")).from_(table(matched_cte), copy=False)
    if group_by:
        select = select.group_by(*(col(n) for n in group_by), copy=False)
    return renderer.registry.add(cte_name, select)


def retention(renderer: MeasureRenderer, node: RetentionNode, cte_name: str, group_by: tuple[str, ...]) -> str:
    """Entities active in the previous period and this one, over entities active in the previous period."""
    grain = renderer.request.time_grain
    assert grain is not None
    src = renderer.source(node.measure, node.filters, group_by, (*lookback_history(node.lookback), ("shift", 1, grain)))
    ref = renderer.graph.measures[node.measure]
    entity = ref.model.entity(node.entity)
    assert entity is not None
    active_entity = qualified(entity.expr or entity.name, BASE_ALIAS)
    active = (
        _select(*(alias(copy_tree(e), n) for n, e in src.group_by))
        .select(alias(active_entity, "__entity"), copy=False)
        .distinct(copy=False)
    )
    active = renderer.from_clause(src, active, _known(active_entity))
    active_cte = renderer.registry.add(f"{cte_name}__active", active)
    time_name = f"{TIME_ENTITY}__{grain}"
    other = [n for n in group_by if n != time_name]
    previous = _select(
        alias(truncate(shift(col(time_name), 1, grain), grain), time_name),
        *(col(n) for n in other),
        col("__entity"),
    ).from_(table(active_cte), copy=False)
    previous_cte = renderer.registry.add(f"{cte_name}__previous", previous)
    on = exp.and_(
        *(exp.NullSafeEQ(this=col(n, "previous"), expression=col(n, "active")) for n in (time_name, *other)),
        exp.EQ(this=col("__entity", "previous"), expression=col("__entity", "active")),
        copy=False,
    )
    last_period = _select(exp.Max(this=col(time_name))).from_(table(active_cte), copy=False).subquery()
    value = exp.Div(
        this=cast(exp.Count(this=col("__entity", "active")), DOUBLE),
        expression=exp.Nullif(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(0)),
    )
    select = (
        _select(*(col(n, "previous") for n in group_by), alias(value, "value"))
        .from_(table(previous_cte, alias="previous"), copy=False)
        .join(join_node(table(active_cte, alias="active"), on=on, how="left"), copy=False)
        .where(exp.LTE(this=col(time_name, "previous"), expression=last_period), copy=False)
        .group_by(*(col(n, "previous") for n in group_by), copy=False)
    )
    return renderer.registry.add(cte_name, select)
