"""A conversion KPI (leads won within 30 days) as one model, written once for all its grains and breakdowns.

Computed period by period, the KPI repeats one chain per grain and breakdown: the base events, every conversion
event, each base event matched to its entity's conversions, and the rate. Whether a base event converted depends only
on its entity and time, not on the grain or breakdown, so this model matches each event once; it then places the
events in their periods at every grain, keeps one event per (entity, time) in each breakdown (GROUPING SETS,
`grouping()` naming the breakdown, as the KPI grouped by period, members, entity and time does) and takes the share
of them that converted (or their number, for `calculation: conversions`).

Rows are those of the KPI computed period by period: base events from the window start truncated to each grain on,
with a known entity and time (DECISIONS rule 23), conversions from all history.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from kpiflow.compiler.calendar_sql import shift
from kpiflow.compiler.entity_events import KpiShape, breakdown_sets, entity_rows, rates_query
from kpiflow.compiler.expressions import parse_interval, qualified
from kpiflow.compiler.graph import SemanticGraph
from kpiflow.compiler.measure_models import (
    GRAIN_COLUMN,
    PERIOD_COLUMN,
    earliest_floor,
    period_floor,
    rows_in_periods,
)
from kpiflow.compiler.resolve import BASE_ALIAS, time_column
from kpiflow.compiler.rollups import SET_COLUMN, RollupCatalog, grouped_by_sets
from kpiflow.compiler.spec import GRAINS, MetricSpec
from kpiflow.compiler.sqlbuild import alias, aliased_table, cast, col, join_node, table
from kpiflow.compiler.sqltypes import DOUBLE
from kpiflow.compiler.sqltypes import adopting_select as _select


@dataclass(frozen=True)
class ConversionRead:
    """A conversion metric whose base events can be read by each of its breakdowns (`sets`: rollup-style label ->
    (group-by name, member column))."""

    metric: str
    base_measure: str
    conversion_measure: str
    entity: str
    window: tuple[int, str]
    calculation: str
    sets: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
    fill_nulls_with: float | None


def conversion_read(
    graph: SemanticGraph, rollups: RollupCatalog, metric: MetricSpec, breakdowns: tuple[tuple[str, ...], ...]
) -> ConversionRead | None:
    """The conversion metric as one model, or None when it is computed as before: a filter or time spine of its
    own, a breakdown its base events cannot be read by, or a source rebuilt in full nightly."""
    spec = metric.conversion
    if metric.type != "conversion" or spec is None or metric.filter or metric.join_to_timespine:
        return None
    if not all(rollups.readable(spec.base_measure, dims) for dims in breakdowns):
        return None
    if graph.measures[spec.conversion_measure].model.spec.model in rollups.excluded:
        return None
    return ConversionRead(
        metric=metric.name,
        base_measure=spec.base_measure,
        conversion_measure=spec.conversion_measure,
        entity=spec.entity,
        window=parse_interval(spec.window),
        calculation=spec.calculation,
        sets=breakdown_sets(breakdowns),
        fill_nulls_with=metric.fill_nulls_with,
    )


def conversion_query(graph: SemanticGraph, rollups: RollupCatalog, read: ConversionRead, shape: KpiShape) -> exp.Select:
    """The KPI's rows in the long shape of kpi_values from each grain's window floor on."""
    grains, relation, start = shape.grains, shape.relation, shape.start
    ordered = [g for g in GRAINS if g in grains]
    sets = {label: tuple(name for name, _ in dims) for label, dims in read.sets}
    base_ref = graph.measures[read.base_measure]
    events = entity_rows(rollups, base_ref, read.entity, read.sets, relation, earliest_floor(start, ordered))

    conv_ref = graph.measures[read.conversion_measure]
    conv_entity = conv_ref.model.entity(read.entity)
    assert conv_entity is not None
    conv_time = conv_ref.measure.agg_time_dimension or conv_ref.model.spec.agg_time_dimension
    conversions = _select(
        alias(qualified(conv_entity.expr or conv_entity.name, BASE_ALIAS), "entity_key"),
        alias(time_column(conv_ref.model, conv_time), "converted_at"),
    ).from_(aliased_table(relation(conv_ref.model.spec.model), BASE_ALIAS), copy=False)
    if conv_ref.measure.filter:
        conversions = conversions.where(qualified(conv_ref.measure.filter, BASE_ALIAS), copy=False)

    keys = [col("entity_key", "base_events"), col("event_at", "base_events")]
    within = exp.and_(
        exp.GTE(this=col("converted_at", "conversion_events"), expression=col("event_at", "base_events")),
        exp.LTE(
            this=col("converted_at", "conversion_events"),
            expression=shift(col("event_at", "base_events"), *read.window),
        ),
        copy=False,
    )
    converted = exp.Max(
        this=exp.Case(ifs=[exp.If(this=within, true=exp.Literal.number(1))], default=exp.Literal.number(0))
    )
    matched = _select(*keys, alias(converted, "is_converted"))
    on_entity = exp.EQ(this=col("entity_key", "base_events"), expression=col("entity_key", "conversion_events"))
    matched = matched.from_(table("base_events"), copy=False)
    matched = matched.join(join_node(table("conversion_events"), on=on_entity, how="left"), copy=False)
    matched = matched.group_by(*(k.copy() for k in keys), copy=False)

    placed = rows_in_periods("base_events", ordered)
    placed = placed.select(col("is_converted", "matched_events"), copy=False)
    on_event = exp.and_(*(exp.EQ(this=k.copy(), expression=col(k.name, "matched_events")) for k in keys), copy=False)
    placed = placed.join(join_node(table("matched_events"), on=on_event), copy=False)

    event_keys = [col(GRAIN_COLUMN), col(PERIOD_COLUMN), col("entity_key"), col("event_at")]
    per_set = grouped_by_sets(_select(*(k.copy() for k in event_keys)), sets, event_keys)
    per_set = per_set.select(alias(exp.Max(this=col("is_converted")), "is_converted"), copy=False)
    per_set = per_set.from_(table("events_in_periods"), copy=False)
    recomputed = exp.GTE(this=col(PERIOD_COLUMN), expression=period_floor(col(GRAIN_COLUMN), start, ordered))
    per_set = per_set.where(recomputed, copy=False)

    members = sorted({c for _, dims in read.sets for _, c in dims})
    cell = [col(GRAIN_COLUMN), col(PERIOD_COLUMN), col(SET_COLUMN), *(col(c) for c in members)]
    converted_events = exp.Sum(this=col("is_converted"))
    value = (
        converted_events
        if read.calculation == "conversions"
        else exp.Div(
            this=cast(converted_events, DOUBLE),
            expression=exp.Nullif(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(0)),
        )
    )
    rates = _select(*(c.copy() for c in cell), alias(value, "value")).from_(table("events_per_breakdown"), copy=False)
    rates = rates.group_by(*(c.copy() for c in cell), copy=False)
    ctes = [
        ("base_events", events),
        ("conversion_events", conversions),
        ("matched_events", matched),
        ("events_in_periods", placed),
        ("events_per_breakdown", per_set),
        ("rates", rates),
    ]
    return rates_query(ctes, read.metric, read.sets, shape, read.fill_nulls_with)
