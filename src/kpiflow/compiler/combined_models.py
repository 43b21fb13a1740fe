"""Ratio and derived KPIs as thin dbt models over their inputs' models: average_order_value <- net_revenue,
order_count; revenue_yoy_growth <- net_revenue (this period and a year earlier).

Every metric such a KPI reads is computed in one model of its own, in the long shape of `kpi_values` (a KPI's own
`kpi__` model, or a `metric__` model for an input that is not a KPI, covering every grain and breakdown its
readers need). The KPI joins its inputs' rows on the row key (grain, period, breakdown and members); an input
offset by a period is joined on the shifted period. So each input is aggregated once per build however many KPIs
read it, and dbt's lineage shows what a KPI is made of.

An input with a filter of its own (plan_attainment's numerator: net revenue of sales managers) is a simple metric
on the rows the filter passes: a `metric__<metric>__where_<digest>` model reading the filtered column of its source's
rollup (rollups.py), shared by every KPI reading the metric with the same filter.

A KPI is thin when it reads its inputs exactly as they are published: no metric filter, no fill or time spine of its
own, an input filter only over a plain simple metric its source's measures model holds filtered, not a people KPI
whose cells carry a population (nor reading one: a people KPI's rows include the members its head count has), and
every KPI input published at its grains and breakdowns. Any other is computed from the facts as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from sqlglot import exp

from kpiflow.compiler.calendar_sql import shift
from kpiflow.compiler.expressions import checked_expression, parse_interval, substitute_columns
from kpiflow.compiler.graph import SemanticGraph
from kpiflow.compiler.render import filled, safe_division
from kpiflow.compiler.resolve import truncate
from kpiflow.compiler.rollups import filter_digest
from kpiflow.compiler.spec import GRAINS, MetricSpec
from kpiflow.compiler.sqlbuild import alias, col, join_node, table
from kpiflow.compiler.sqltext import dbt_ref_relation
from kpiflow.compiler.sqltypes import BIGINT, DOUBLE, VARCHAR
from kpiflow.compiler.sqltypes import adopting_select as _select
from kpiflow.compiler.text_keys import text_key_match
from kpiflow.compiler.validate import metric_inputs

if TYPE_CHECKING:
    from kpiflow.compiler.spec import MetricInput

KPI_MODEL_PREFIX = "kpi__"
METRIC_MODEL_PREFIX = "metric__"
COMBINED_TYPES = ("ratio", "derived")
_OWN_CTES = ("cells", "final")


@dataclass(frozen=True)
class MetricModel:
    """A generated model holding one metric's values in the long shape, at these grains and breakdowns."""

    metric: str
    model: str
    grains: tuple[str, ...]
    breakdowns: tuple[tuple[str, ...], ...]  # () for overall, then one natural dimension each
    filter: str | None = None  # an input's filter: the metric on the rows it passes


# Can a simple metric (with an input's filter as its own) be read from its source's measures model at these grains
# and breakdowns? measure_models.MeasureModels.read, which then holds it.
FilteredReadable = Callable[[MetricSpec, tuple[str, ...], tuple[tuple[str, ...], ...]], bool]


@dataclass(frozen=True)
class CombinedInput:
    name: str  # the import CTE
    alias: str  # the name a derived formula uses
    metric: str
    model: str
    fill_nulls_with: float | None
    offset: tuple[int, str] | None = None


@dataclass(frozen=True)
class CombinedMetric:
    metric: str
    kind: str  # 'ratio' | 'derived'
    inputs: tuple[CombinedInput, ...]
    expr: str | None = None
    population: CombinedInput | None = None  # a people KPI's privacy count metric: the people each cell covers

    @property
    def reads(self) -> tuple[CombinedInput, ...]:
        """Every model input the KPI's model reads."""
        return (*self.inputs, *((self.population,) if self.population else ()))


@dataclass(frozen=True)
class CombinedPlan:
    thin: dict[str, CombinedMetric]  # KPI -> its inputs' models, inputs before the KPIs reading them
    input_models: dict[str, MetricModel]  # model name -> a `metric__` model some thin KPI reads
    populations: dict[str, CombinedInput] = field(default_factory=dict)  # simple people KPI -> its count's model


def breakdowns_of(metric: MetricSpec) -> tuple[tuple[str, ...], ...]:
    """A KPI's breakdowns: overall, then each natural dimension alone."""
    assert metric.kpi is not None
    return ((), *((d,) for d in metric.kpi.natural_dimensions))


def plan_combined(
    graph: SemanticGraph,
    kpis: list[MetricSpec],
    people_kpis: tuple[str, ...],
    count_metric: str | None = None,
    counted: tuple[str, ...] = (),
    filtered_readable: FilteredReadable | None = None,
) -> CombinedPlan:
    """Which ratio and derived KPIs are thin, and the `metric__` models of their inputs that are not KPIs or are
    filtered. `people_kpis` carry the people each cell covers, counted by `count_metric` (privacy.py); so do the
    `counted` simple KPIs read from their source's measures model (measure_models.py), which read the count's model.
    Without `filtered_readable`, a KPI with a filtered input is computed from the facts."""
    by_name = {m.name: m for m in kpis}
    thin: dict[str, CombinedMetric] = {}
    needs: dict[str, tuple[set[str], set[tuple[str, ...]]]] = {}
    filters: dict[str, tuple[str, str]] = {}  # filtered input model -> (metric, filter)

    def read(
        metric: MetricSpec,
        name: str,
        alias: str,
        offset: tuple[int, str] | None = None,
        input_filter: str | None = None,
    ) -> CombinedInput:
        assert metric.kpi is not None
        if name in by_name and input_filter is None:
            model = KPI_MODEL_PREFIX + name
        else:
            model = METRIC_MODEL_PREFIX + name + (f"__where_{filter_digest(input_filter)}" if input_filter else "")
            if input_filter:
                filters[model] = (name, input_filter)
            grains, breakdowns = needs.setdefault(model, (set(), set()))
            grains.update(metric.kpi.grains)
            breakdowns.update(breakdowns_of(metric))
        return CombinedInput(alias, alias, name, model, graph.metrics[name].fill_nulls_with, offset)

    for metric in kpis:
        if not _is_thin(graph, metric, by_name, people_kpis, count_metric, filtered_readable):
            continue
        inputs = [
            read(metric, item.name, item.alias or item.name, _offset(item.offset_window), item.filter)
            for item in metric_inputs(metric)
        ]
        named = _named(metric.type, inputs)
        population = None
        if metric.name in people_kpis:
            assert count_metric is not None
            taken = {i.name for i in named} | set(_OWN_CTES)
            population = read(metric, count_metric, count_metric if count_metric not in taken else "population")
        thin[metric.name] = CombinedMetric(metric.name, metric.type, named, metric.expr, population)
    populations = {}
    for name in counted:
        assert count_metric is not None
        populations[name] = read(by_name[name], count_metric, "population")
    input_models = {
        model: MetricModel(
            filters[model][0] if model in filters else model.removeprefix(METRIC_MODEL_PREFIX),
            model,
            tuple(g for g in GRAINS if g in grains),
            tuple(sorted(breakdowns, key=lambda dims: (len(dims), dims))),
            filters[model][1] if model in filters else None,
        )
        for model, (grains, breakdowns) in sorted(needs.items())
    }
    return CombinedPlan(_inputs_first(thin), input_models, populations)


def _offset(window: str | None) -> tuple[int, str] | None:
    return parse_interval(window) if window else None


def _named(kind: str, inputs: list[CombinedInput]) -> tuple[CombinedInput, ...]:
    """Import CTE names: a derived formula's names; a ratio's inputs by metric (one metric over itself told apart);
    never the name of the model's own CTEs."""
    if kind == "ratio" and inputs[0].metric == inputs[1].metric:
        sides = ("numerator", "denominator")
        inputs = [replace(i, name=f"{i.metric}_{side}") for i, side in zip(inputs, sides, strict=True)]
    elif kind == "ratio":
        inputs = [replace(i, name=i.metric) for i in inputs]
    if any(i.name in _OWN_CTES for i in inputs):
        inputs = [replace(i, name=f"{i.name}_input") for i in inputs]
    return tuple(inputs)


def _inputs_first(thin: dict[str, CombinedMetric]) -> dict[str, CombinedMetric]:
    """Thin KPIs ordered so that one reading another thin KPI comes after it (the order their models are written)."""
    ordered: dict[str, CombinedMetric] = {}

    def visit(name: str) -> None:
        if name in ordered:
            return
        for item in thin[name].inputs:
            if item.metric in thin:
                visit(item.metric)
        ordered[name] = thin[name]

    for name in sorted(thin):
        visit(name)
    return ordered


def _is_thin(
    graph: SemanticGraph,
    metric: MetricSpec,
    kpis: dict[str, MetricSpec],
    people_kpis: tuple[str, ...],
    count_metric: str | None,
    filtered_readable: FilteredReadable | None = None,
) -> bool:
    """Can the KPI read its inputs' models, as they are published? A people KPI's cells are those of its inputs
    and of its count metric, so it may read people KPIs (whose rows are those of their input and the same count
    metric); any other KPI may not. A filtered input must be a plain simple metric `filtered_readable` holds."""
    people = metric.name in people_kpis
    if metric.type not in COMBINED_TYPES or (people and count_metric in (None, metric.name)):
        return False
    if metric.filter or metric.fill_nulls_with is not None or metric.join_to_timespine:
        return False
    items = metric_inputs(metric)
    if metric.type == "ratio" and len(items) != 2:
        return False
    assert metric.kpi is not None
    shape = (tuple(metric.kpi.grains), breakdowns_of(metric))
    for item in items:
        if item.filter:
            filtered = filtered_input(graph, item)
            if people or filtered is None or filtered_readable is None or not filtered_readable(filtered, *shape):
                return False
            continue
        if item.name in people_kpis and not people:
            return False
        published = kpis.get(item.name)
        if published is not None:
            assert published.kpi is not None
            if not (
                set(metric.kpi.grains) <= set(published.kpi.grains)
                and set(metric.kpi.natural_dimensions) <= set(published.kpi.natural_dimensions)
            ):
                return False
    return True


def filtered_input(graph: SemanticGraph, item: MetricInput) -> MetricSpec | None:
    """The simple metric an input with a filter reads: its metric with the filter as its own, or None unless that
    metric is simple, unfiltered and off the time spine (whose periods the filter would change)."""
    metric = graph.metrics[item.name]
    if item.filter is None or metric.type != "simple" or metric.filter or metric.join_to_timespine:
        return None
    return metric.model_copy(update={"filter": item.filter})


def input_metric(graph: SemanticGraph, model: MetricModel) -> MetricSpec:
    """The metric a `metric__` model holds: the metric, on the rows its readers' filter passes."""
    metric = graph.metrics[model.metric]
    return metric.model_copy(update={"filter": model.filter}) if model.filter else metric


def combined_query(
    combined: CombinedMetric,
    grains: tuple[str, ...],
    labels: list[str],
    columns: list[str],
    own_columns: list[str],
    window_floor: exp.Expression | None,
) -> exp.Select:
    """The KPI's rows: import CTEs reading each input's model (at the KPI's grains and breakdowns, `labels` in
    kpi_values terms; an offset input with its periods moved forward; from `window_floor` on when incremental), the
    cells the inputs that are not offset have, and the formula per cell. A cell missing in an input takes that
    metric's fill value, else NULL, as the KPI computed from the facts does. `columns` are kpi_values' member
    columns: `own_columns` those of the KPI's breakdowns, the others are NULL in every row."""
    keys = ["grain", "period_start", "dimension_set", *own_columns]
    query = _select()
    reads = combined.reads
    for item in reads:
        period = _shifted(item.offset, grains) if item.offset else col("period_start")
        rows = _select(*keys[:1], alias(period, "period_start"), *keys[2:], "value")
        rows = rows.from_(dbt_ref_relation(item.model), copy=False)
        rows = rows.where(one_of(col("grain"), grains), copy=False)
        rows = rows.where(one_of(col("dimension_set"), labels), copy=False)
        if window_floor is not None:
            rows = rows.where(exp.GTE(this=period.copy(), expression=window_floor.copy()), copy=False)
        query = query.with_(item.name, as_=rows, copy=False)
    sources = [item.name for item in reads if not item.offset] or [combined.inputs[0].name]
    cells: exp.Query = _select(*keys).from_(table(sources[0]), copy=False)
    for source in sources[1:]:
        cells = exp.union(cells, _select(*keys).from_(table(source), copy=False), distinct=True, copy=False)
    if len(sources) == 1:
        cells = cells.distinct(copy=False)  # type: ignore[attr-defined]
    query = query.with_("cells", as_=cells, copy=False)
    final = _select(
        alias(exp.Literal.string(combined.metric), "kpi"),
        *(col(key, "cells") for key in keys[:3]),
        *(col(c, "cells") if c in own_columns else alias(typed_null(VARCHAR), c) for c in columns),
        alias(_formula(combined), "value"),
        alias(population_value(combined.population), "population"),
    ).from_(table("cells"), copy=False)
    for item in reads:
        on = exp.and_(
            *(exp.EQ(this=col(k, "cells"), expression=col(k, item.name)) for k in keys[:3]),
            *(text_key_match(col(k, "cells"), col(k, item.name)) for k in keys[3:]),  # members: one dimension each
            copy=False,
        )
        final = final.join(join_node(table(item.name), on=on, how="left"), copy=False)
    query = query.with_("final", as_=final, copy=False)
    return query.select("*", copy=False).from_(table("final"), copy=False)


def _formula(combined: CombinedMetric) -> exp.Expression:
    """The KPI's value from its inputs' values (each in its own type: money DECIMAL, counts integers), as the KPI
    computed from the facts has it (render.py): a ratio divides doubles; a derived formula adds and subtracts in
    the inputs' types (exact for money on every engine) and divides a double numerator, never DECIMAL by DECIMAL,
    whose scale differs between engines. So a wide mart reading the KPI's model publishes what it computed."""
    values = {item.name: filled(col("value", item.name), item.fill_nulls_with) for item in combined.inputs}
    if combined.kind == "ratio":
        numerator, denominator = (exp.Cast(this=value, to=DOUBLE.copy()) for value in values.values())
        return exp.Div(this=numerator, expression=exp.Nullif(this=denominator, expression=exp.Literal.number(0)))
    tree = checked_expression(str(combined.expr)).tree
    return safe_division(substitute_columns(tree, {item.alias: values[item.name] for item in combined.inputs}))


def _shifted(offset: tuple[int, str], grains: tuple[str, ...]) -> exp.Expression:
    """The period an offset input's row counts for: its own, moved forward by the offset, at the row's grain."""
    count, unit = offset
    moved = [(g, truncate(shift(col("period_start"), count, unit), g)) for g in grains]
    return exp.Case(this=col("grain"), ifs=[exp.If(this=exp.Literal.string(g), true=period) for g, period in moved])


def one_of(column: exp.Expression, values: list[str] | tuple[str, ...]) -> exp.Expression:
    return exp.In(this=column, expressions=[exp.Literal.string(v) for v in values])


def population_value(count: CombinedInput | None) -> exp.Expression:
    """The people a cell covers (0 when the count metric has no row for it), for privacy_suppression; NULL for a KPI
    without a privacy count."""
    if count is None:
        return typed_null(BIGINT)
    people = exp.Coalesce(this=col("value", count.name), expressions=[exp.Literal.number(0)])
    return exp.Cast(this=people, to=BIGINT.copy())


def typed_null(of_type: exp.DataType) -> exp.Expression:
    return exp.Cast(this=exp.null(), to=of_type.copy())
