"""Each source's measures at every period, computed once: `measures__<semantic model>`, and simple KPIs reading it.

A simple KPI over an additive measure (sum, count, sum_boolean, min, max) read from a daily rollup (rollups.py) used
to re-aggregate the rollup once per grain and breakdown, and every other measure of the same source did the same.
Now one incremental model per rollup adds its days up to every period the readers need, for every breakdown and
measure at once (`grain`, `period_start`, the rollup's `__set` and member columns, one column per measure), and a
simple KPI's model only picks its breakdowns and its measure's column, fills a missing value and names the columns as
`kpi_values` does.

The periods and rows are those of the KPI computed from the rollup: a period has a row where the breakdown has a day
in it (a filtered measure: a day where a row passed the filter), its value adds the days' values, a count stays an
integer, and a run rebuilds the periods from the window start truncated to each grain on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlglot import exp

from kpiflow.compiler.calendar_sql import date_literal, spine_day
from kpiflow.compiler.combined_models import CombinedInput, one_of, population_value, typed_null
from kpiflow.compiler.dbt_models import TIME_SPINE_MODEL, DbtModel
from kpiflow.compiler.graph import TIME_ENTITY, SemanticGraph
from kpiflow.compiler.plan import RuntimeDate
from kpiflow.compiler.render import filled
from kpiflow.compiler.resolve import truncate
from kpiflow.compiler.rollups import (
    DAY_COLUMN,
    OVERALL,
    ROLLUP_PREFIX,
    SET_COLUMN,
    RollupCatalog,
    RollupRead,
    dimension_column,
)
from kpiflow.compiler.spec import GRAINS, MetricSpec
from kpiflow.compiler.sqlbuild import alias, aliased_table, cast, col, join_node, table
from kpiflow.compiler.sqltext import dbt_ref_relation
from kpiflow.compiler.sqltypes import BIGINT, DOUBLE, VARCHAR
from kpiflow.compiler.sqltypes import adopting_select as _select
from kpiflow.compiler.text_keys import text_key_match

if TYPE_CHECKING:
    from kpiflow.compiler.period_measures import PeriodMeasures

MEASURES_PREFIX = "measures__"
PER_PERIOD_AGGS = frozenset({"count_distinct", "avg"})  # aggregated per period: period_measures.py
# A filtered balance's daily mean: over the days its filter passes on (its rows column above 0), as from the facts.
FILTERED_AVERAGE = "average_where"
BALANCE_KINDS = frozenset({"last", "first", "average", FILTERED_AVERAGE, "last_rows", "first_rows"})
GRAIN_COLUMN = "grain"
PERIOD_COLUMN = "period_start"


def period_floor(grain: exp.Expression, start: RuntimeDate, grains: Iterable[str] = GRAINS) -> exp.Expression:
    """First period start a run recomputes, for the grain named by `grain`: the window start truncated to it. Only
    `grains` are listed (those of the rows it filters; any other grain has no floor, so no row)."""
    listed = [g for g in GRAINS if g in set(grains)]
    return exp.Case(
        this=grain, ifs=[exp.If(this=exp.Literal.string(g), true=truncate(date_literal(start), g)) for g in listed]
    )


@dataclass(frozen=True)
class SimpleRead:
    """Where a simple metric's values are: its source's measures model, the rollup breakdowns (label -> member
    columns by group-by name) it publishes, and its measure's columns."""

    metric: str
    model: str
    sets: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
    value_column: str
    rows_column: str | None
    fill_nulls_with: float | None
    spine: bool  # join_to_timespine: every period for every member ever seen


@dataclass
class _Measures:
    rollup: str
    grains: set[str] = field(default_factory=set)
    sets: set[str] = field(default_factory=set)
    # column -> (how the days of a period make it, the rollup column it reads): RollupRead.agg; a balance's window
    # choice (last, first, average); or last_rows / first_rows, the member's rows on the period's last or first day
    columns: dict[str, tuple[str, str]] = field(default_factory=dict)


class MeasureModels:
    """The measures models simple KPIs read, collected while planning the generated models."""

    def __init__(self, graph: SemanticGraph, rollups: RollupCatalog, per_period: PeriodMeasures | None = None) -> None:
        self.graph = graph
        self.rollups = rollups
        self.per_period = per_period  # distinct counts and averages, aggregated per period (period_measures.py)
        self._models: dict[str, _Measures] = {}

    def read(
        self, metric: MetricSpec, grains: tuple[str, ...], breakdowns: tuple[tuple[str, ...], ...]
    ) -> SimpleRead | None:
        """The measures model holding `metric` at `grains` for each of `breakdowns`, or None when the metric must be
        computed as before: not a plain simple metric (a filter, a time spine, a balance), or a measure or
        breakdown the daily rollups do not hold."""
        if metric.type != "simple" or metric.measure is None:
            return None
        if metric.join_to_timespine and () not in breakdowns:  # the spine starts at the overall first period
            return None
        ref = self.graph.measures.get(metric.measure)
        if ref is None or any(d.startswith(TIME_ENTITY + "__") for dims in breakdowns for d in dims):
            return None
        balance = ref.measure.non_additive_dimension
        per_period = ref.measure.agg in PER_PERIOD_AGGS or self.rollups.rebuilt_source(metric.measure)
        if metric.filter and (per_period if balance is None else balance.window_choice != "average"):
            return None  # a filtered balance's edge days are those its filter passes: only its mean is held here
        if balance is None and per_period:
            return self._per_period_read(metric, grains, breakdowns)
        if balance is not None and (balance.window_groupings or metric.join_to_timespine or ref.measure.filter):
            return None  # a balance per grouping, filled on a spine, or filtered: computed as before
        reads: list[RollupRead] = []
        for dims in breakdowns:
            found = self.rollups.read(metric.measure, (), dims, balance.name if balance else None, metric.filter)
            if found is None:
                return None
            reads.append(found)
        if len({r.model for r in reads}) != 1:
            return None
        first = reads[0]
        name = MEASURES_PREFIX + first.model.removeprefix(ROLLUP_PREFIX)
        model = self._models.setdefault(name, _Measures(first.model))
        model.grains.update(grains)
        model.sets.update(r.set_label for r in reads)
        rows_column = first.rows_column
        if balance is None:
            model.columns[first.value_column] = (first.agg, first.value_column)
        else:
            kind = FILTERED_AVERAGE if metric.filter else balance.window_choice
            model.columns[first.value_column] = (kind, first.value_column)
            if balance.window_choice != "average":  # a member without a row on the period's edge day has none
                rows_column = f"{first.value_column}__on_{balance.window_choice}_day"
                model.columns[rows_column] = (f"{balance.window_choice}_rows", first.value_column)
        if first.rows_column:
            model.columns[first.rows_column] = ("count", first.rows_column)
        return SimpleRead(
            metric=metric.name,
            model=name,
            sets=tuple((r.set_label, r.dimensions) for r in reads),
            value_column=first.value_column,
            rows_column=rows_column,
            fill_nulls_with=metric.fill_nulls_with,
            spine=metric.join_to_timespine,
        )

    def _per_period_read(
        self, metric: MetricSpec, grains: tuple[str, ...], breakdowns: tuple[tuple[str, ...], ...]
    ) -> SimpleRead | None:
        """Where a distinct count or an average is, in its source's per-period model, or None when it has none."""
        assert metric.measure is not None
        if self.per_period is None:
            return None
        reads = [self.per_period.read(metric.measure, grains, dims) for dims in breakdowns]
        if any(r is None for r in reads) or len({r.model for r in reads if r}) != 1:
            return None
        found = [r for r in reads if r is not None]
        return SimpleRead(
            metric=metric.name,
            model=found[0].model,
            sets=tuple((r.set_label, r.dimensions) for r in found),
            value_column=found[0].value_column,
            rows_column=found[0].rows_column,
            fill_nulls_with=metric.fill_nulls_with,
            spine=metric.join_to_timespine,
        )

    def names(self) -> list[str]:
        return sorted([*self._models, *(self.per_period.names() if self.per_period else [])])

    def rebuilt(self, name: str) -> bool:
        """Is the measures model rebuilt in full nightly (a seed-fed source's, period_measures.py)?"""
        return name not in self._models and self.per_period is not None and self.per_period.rebuilt(name)

    def describe(self, name: str) -> tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        """(source, grains, breakdown labels, measure columns) of one measures model, for its docs."""
        if name not in self._models and self.per_period is not None:
            return self.per_period.describe(name)
        model = self._models[name]
        grains = tuple(g for g in GRAINS if g in model.grains)
        return model.rollup, grains, tuple(sorted(model.sets)), tuple(sorted(model.columns))

    def model_query(self, name: str, relation: Callable[[str], exp.Table], start: RuntimeDate) -> exp.Query:
        """The measures at every period from the window's floor on: the rollup's days of the breakdowns read (an
        import CTE), each day placed in its period at every grain, then the days of each period added up."""
        if name not in self._models and self.per_period is not None:
            return self.per_period.model_query(name, relation, start)
        model = self._models[name]
        grains = [g for g in GRAINS if g in model.grains]
        members = sorted({c for label in model.sets for c in member_columns(label)})
        measures = sorted(model.columns)
        daily = sorted({source for _, source in model.columns.values()})
        balances = any(kind in BALANCE_KINDS for kind, _ in model.columns.values())
        earliest = earliest_floor(start, grains)
        days = _select(col(DAY_COLUMN), col(SET_COLUMN), *(col(c) for c in members), *(col(m) for m in daily))
        days = days.from_(relation(model.rollup), copy=False)
        days = days.where(one_of(col(SET_COLUMN), sorted(model.sets)), copy=False)
        days = days.where(exp.GTE(this=col(DAY_COLUMN), expression=earliest), copy=False)
        grain_list = grain_values(grains)
        period = exp.Case(
            this=col(GRAIN_COLUMN, "grains"),
            ifs=[exp.If(this=exp.Literal.string(g), true=period_of(col(DAY_COLUMN, "days"), g)) for g in grains],
        )
        placed = _select(
            col(GRAIN_COLUMN, "grains"),
            alias(period, PERIOD_COLUMN),
            col(SET_COLUMN, "days"),
            *([col(DAY_COLUMN, "days")] if balances else []),
            *(col(c, "days") for c in members),
            *(col(m, "days") for m in daily),
        )
        placed = placed.from_(table("days"), copy=False).join(join_node(grain_list, how="cross"), copy=False)
        query = _select("*").from_(table("period_totals"), copy=False)
        query = query.with_("days", as_=days, copy=False)
        query = query.with_("days_in_periods", as_=placed, copy=False)
        source = "days_in_periods"
        floor = period_floor(col(GRAIN_COLUMN, source), start, grains)
        recomputed = exp.GTE(this=col(PERIOD_COLUMN, source), expression=floor)
        set_keys = [GRAIN_COLUMN, PERIOD_COLUMN, SET_COLUMN]
        if balances:
            day = col(DAY_COLUMN)
            edges = _select(*(col(k) for k in set_keys))
            edges = edges.select(
                alias(exp.Min(this=day.copy()), "first_day"),
                alias(exp.Max(this=day.copy()), "last_day"),
                alias(exp.Count(this=exp.Distinct(expressions=[day.copy()])), "days_in_period"),
                copy=False,
            )
            for column in sorted(c for c, (kind, _) in model.columns.items() if kind == FILTERED_AVERAGE):
                passes = exp.GT(this=col(f"{column}__rows"), expression=exp.Literal.number(0))
                passing_day = exp.Case(ifs=[exp.If(this=passes, true=day.copy())])
                days = alias(exp.Count(this=exp.Distinct(expressions=[passing_day])), f"{column}__days")
                edges = edges.select(days, copy=False)
            edges = edges.from_(table(source), copy=False).where(recomputed.copy(), copy=False)
            query = query.with_("period_edges", as_=edges.group_by(*(col(k) for k in set_keys), copy=False), copy=False)
        keys = [col(k, source) for k in set_keys] + [col(c, source) for c in members]
        totals = _select(*keys, *(alias(_period_value(*model.columns[m]), m) for m in measures))
        totals = totals.from_(table(source), copy=False)
        if balances:
            on = exp.and_(*(same_column(k, "period_edges", source) for k in set_keys), copy=False)
            totals = totals.join(join_node(table("period_edges"), on=on), copy=False)
        totals = totals.where(recomputed, copy=False).group_by(*(k.copy() for k in keys), copy=False)
        return query.with_("period_totals", as_=totals, copy=False)


def earliest_floor(start: RuntimeDate, grains: list[str]) -> exp.Expression:
    """A day on or before every grain's floor: the window start truncated to the longest period other than a week;
    with weeks, the Monday of that day's week (a week may start before the year, never before that Monday)."""
    longest = [g for g in grains if g != "week"][-1:] or ["day"]
    floor = truncate(date_literal(start), longest[0])
    return truncate(floor, "week") if "week" in grains else floor


def rows_in_periods(source: str, grains: list[str]) -> exp.Select:
    """Every row of the CTE `source` (its day in `__day`) once per grain, with the period it falls in."""
    period = exp.Case(
        this=col(GRAIN_COLUMN, "grains"),
        ifs=[exp.If(this=exp.Literal.string(g), true=period_of(col(DAY_COLUMN, source), g)) for g in grains],
    )
    every_column = exp.Column(this=exp.Star(), table=exp.to_identifier(source))
    placed = _select(col(GRAIN_COLUMN, "grains"), alias(period, PERIOD_COLUMN), every_column)
    placed = placed.from_(table(source), copy=False)
    return placed.join(join_node(grain_values(grains), how="cross"), copy=False)


def member_columns(label: str) -> list[str]:
    """The rollup's member columns of a breakdown label ('overall' has none)."""
    return [] if label == OVERALL else [dimension_column(d) for d in label.split(",")]


def period_of(day: exp.Expression, grain: str) -> exp.Expression:
    """The period a day (a DATE) falls in: the day itself, else its truncation."""
    return day if grain == "day" else truncate(day, grain)


def _period_value(kind: str, column: str) -> exp.Expression:
    """A measure over a period from its days' values (in `days_in_periods`, edges in `period_edges`): sums add up (a
    count stays an integer), extremes of extremes; a balance takes its value on the period's last or first day (of
    the breakdown), or the daily mean over the breakdown's days in the period."""
    value = col(column, "days_in_periods")
    if kind == "min":
        return exp.Min(this=value)
    if kind == "max":
        return exp.Max(this=value)
    if kind in ("last", "first", "last_rows", "first_rows"):
        edge = col(f"{kind.removesuffix('_rows')}_day", "period_edges")
        on_edge = exp.EQ(this=col(DAY_COLUMN, "days_in_periods"), expression=edge)
        if kind.endswith("_rows"):
            return exp.Count(this=exp.Case(ifs=[exp.If(this=on_edge, true=exp.Literal.number(1))]))
        return exp.Sum(this=exp.Case(ifs=[exp.If(this=on_edge, true=value)]))
    if kind == "average":
        days = exp.Max(this=col("days_in_period", "period_edges"))
        return exp.Div(this=cast(exp.Sum(this=value), DOUBLE), expression=days)
    if kind == FILTERED_AVERAGE:  # no passing day: no row is read (its rows column is 0), and no division by 0
        days = exp.Nullif(this=exp.Max(this=col(f"{column}__days", "period_edges")), expression=exp.Literal.number(0))
        return exp.Div(this=cast(exp.Sum(this=value), DOUBLE), expression=days)
    total: exp.Expression = exp.Sum(this=value)
    return cast(total, BIGINT) if kind == "count" else total


def simple_query(
    read: SimpleRead,
    grains: tuple[str, ...],
    labels: dict[str, str],
    columns: list[str],
    column_of: dict[str, str],
    window_floor: exp.Expression,
    population: CombinedInput | None = None,
    time_spine: DbtModel | None = None,
) -> exp.Select:
    """A simple KPI's rows in the long shape of kpi_values, from its source's measures model, from `window_floor` on:
    `labels` maps a rollup breakdown label to kpi_values' `dimension_set`, `column_of` a group-by name to its column
    among kpi_values' member `columns` (the others are NULL). A metric joined to the time spine gets every period
    from its first (in history) to its last in the window, for every member it ever had. A people KPI reads its
    `population` model too: its cells are those of either, with the people each covers. `time_spine`: the spine's
    documented columns (known_dates.spine_day)."""
    rows = _select("*").from_(dbt_ref_relation(read.model), copy=False)
    rows = rows.where(one_of(col(GRAIN_COLUMN), grains), copy=False)
    rows = rows.where(one_of(col(SET_COLUMN), [label for label, _ in read.sets]), copy=False)
    if read.rows_column:
        rows = rows.where(exp.GT(this=col(read.rows_column), expression=exp.Literal.number(0)), copy=False)
    query = _select("*").from_(table("final"), copy=False)
    if read.spine:
        query = query.with_("measures", as_=rows, copy=False)
        query = _spine_ctes(query, read, grains, window_floor, time_spine)
        source = "cells"
    else:
        rows = rows.where(exp.GTE(this=col(PERIOD_COLUMN), expression=window_floor), copy=False)
        query = query.with_("measures", as_=rows, copy=False)
        source = "measures"
    value = col(read.value_column, source)
    final = long_shape(read.metric, source, read.sets, labels, columns, column_of, value, read.fill_nulls_with)
    if population is None:
        return query.with_("final", as_=final, copy=False)
    return _with_population(query, final, population, grains, list(labels.values()), columns, read, window_floor)


def long_shape(
    metric: str,
    source: str,
    sets: tuple[tuple[str, tuple[tuple[str, str], ...]], ...],
    labels: dict[str, str],
    columns: list[str],
    column_of: dict[str, str],
    value: exp.Expression,
    fill_nulls_with: float | None,
) -> exp.Select:
    """`source`'s rows (grain, period_start, the rollup's `__set` and member columns) in the shape of kpi_values: the
    breakdown's label, its members under kpi_values' names (the other `columns` NULL text), the value (filled where
    missing) and no population. Members and value keep their own types (money stays DECIMAL, a count an integer), so
    a wide mart reading the model publishes them as computed; kpi_values casts them to text and DOUBLE."""
    value = filled(value, fill_nulls_with)
    member_of = {column_of[name]: col(rollup_column, source) for _, dims in sets for name, rollup_column in dims}
    dimension_set = exp.Case(
        this=col(SET_COLUMN, source),
        ifs=[exp.If(this=exp.Literal.string(label), true=exp.Literal.string(labels[label])) for label, _ in sets],
    )
    return _select(
        alias(exp.Literal.string(metric), "kpi"),
        col(GRAIN_COLUMN, source),
        col(PERIOD_COLUMN, source),
        alias(dimension_set, "dimension_set"),
        *(alias(member_of[c], c) if c in member_of else alias(typed_null(VARCHAR), c) for c in columns),
        alias(value, "value"),
        alias(typed_null(BIGINT), "population"),
    ).from_(table(source), copy=False)


def _with_population(
    query: exp.Select,
    kpi_rows: exp.Select,
    population: CombinedInput,
    grains: tuple[str, ...],
    labels: list[str],
    columns: list[str],
    read: SimpleRead,
    window_floor: exp.Expression,
) -> exp.Select:
    """`final` over the cells of the KPI's rows and of its count metric's model (combined_models.py does the same
    for people ratios): a cell only the count has takes the fill value, every cell the people it covers."""
    keys = [GRAIN_COLUMN, PERIOD_COLUMN, "dimension_set", *columns]
    counts = _select(*keys, "value").from_(dbt_ref_relation(population.model), copy=False)
    counts = counts.where(one_of(col(GRAIN_COLUMN), grains), copy=False)
    counts = counts.where(one_of(col("dimension_set"), labels), copy=False)
    counts = counts.where(exp.GTE(this=col(PERIOD_COLUMN), expression=window_floor.copy()), copy=False)
    cells = exp.union(
        _select(*keys).from_(table("kpi_rows"), copy=False),
        _select(*keys).from_(table(population.name), copy=False),
        distinct=True,
        copy=False,
    )
    value = filled(col("value", "kpi_rows"), read.fill_nulls_with)
    final = _select(alias(exp.Literal.string(read.metric), "kpi"), *(col(k, "all_cells") for k in keys))
    final = final.select(alias(value, "value"), alias(population_value(population), "population"), copy=False)
    final = final.from_(table("all_cells"), copy=False)
    for rows in ("kpi_rows", population.name):
        on = exp.and_(
            *(same_column(k, "all_cells", rows) for k in keys[:3]),
            *(text_key_match(col(k, "all_cells"), col(k, rows)) for k in keys[3:]),  # members: one dimension each
            copy=False,
        )
        final = final.join(join_node(table(rows), on=on, how="left"), copy=False)
    query = query.with_("kpi_rows", as_=kpi_rows, copy=False)
    query = query.with_(population.name, as_=counts, copy=False)
    query = query.with_("all_cells", as_=cells, copy=False)
    return query.with_("final", as_=final, copy=False)


def _spine_ctes(
    query: exp.Select,
    read: SimpleRead,
    grains: tuple[str, ...],
    window_floor: exp.Expression,
    time_spine: DbtModel | None,
) -> exp.Select:
    """`cells`: for each grain and breakdown, every period of the time spine from the metric's first period in
    history (or the window's floor, if later) to its last period in the window, crossed with every member the
    breakdown ever had, with the window's values (NULL where a cell has none), as render.py fills a spine."""
    members = sorted({c for _, dims in read.sets for _, c in dims})
    keys = [GRAIN_COLUMN, PERIOD_COLUMN, SET_COLUMN]
    in_window = _select("*").from_(table("measures"), copy=False)
    in_window = in_window.where(exp.GTE(this=col(PERIOD_COLUMN), expression=window_floor), copy=False)
    first = _select(col(GRAIN_COLUMN), alias(exp.Min(this=col(PERIOD_COLUMN)), "first_period"))
    first = first.from_(table("measures"), copy=False)
    first = first.where(exp.EQ(this=col(SET_COLUMN), expression=exp.Literal.string(OVERALL)), copy=False)
    first = first.group_by(col(GRAIN_COLUMN), copy=False)
    last = _select(col(GRAIN_COLUMN), col(SET_COLUMN), alias(exp.Max(this=col(PERIOD_COLUMN)), "last_period"))
    last = last.from_(table("window_rows"), copy=False).group_by(col(GRAIN_COLUMN), col(SET_COLUMN), copy=False)
    day = spine_day(time_spine, "time_spine")
    spine_period = exp.Case(
        this=col(GRAIN_COLUMN, "grains"),
        ifs=[exp.If(this=exp.Literal.string(g), true=truncate(day.copy(), g)) for g in grains],
    )
    calendar = _select(col(GRAIN_COLUMN, "grains"), alias(spine_period, PERIOD_COLUMN)).distinct(copy=False)
    calendar = calendar.from_(aliased_table(dbt_ref_relation(TIME_SPINE_MODEL), "time_spine"), copy=False)
    calendar = calendar.join(join_node(grain_values(list(grains)), how="cross"), copy=False)
    floor = window_floor.copy()
    for column in floor.find_all(exp.Column):
        if column.name == GRAIN_COLUMN:
            column.set("table", exp.to_identifier("calendar"))
    periods = _select(
        col(GRAIN_COLUMN, "last_periods"), col(SET_COLUMN, "last_periods"), col(PERIOD_COLUMN, "calendar")
    )
    periods = periods.from_(table("last_periods"), copy=False)
    on_first = same_column(GRAIN_COLUMN, "first_periods", "last_periods")
    periods = periods.join(join_node(table("first_periods"), on=on_first), copy=False)
    on_calendar = exp.and_(
        same_column(GRAIN_COLUMN, "calendar", "last_periods"),
        exp.GTE(this=col(PERIOD_COLUMN, "calendar"), expression=col("first_period", "first_periods")),
        exp.GTE(this=col(PERIOD_COLUMN, "calendar"), expression=floor),
        exp.LTE(this=col(PERIOD_COLUMN, "calendar"), expression=col("last_period", "last_periods")),
        copy=False,
    )
    periods = periods.join(join_node(table("calendar"), on=on_calendar), copy=False)
    known = _select(col(SET_COLUMN), *(col(c) for c in members)).distinct(copy=False)
    known = known.from_(table("measures"), copy=False)
    known = known.where(exp.EQ(this=col(GRAIN_COLUMN), expression=exp.Literal.string(grains[0])), copy=False)
    cells = _select(*(col(k, "periods") for k in keys), *(col(c, "members") for c in members))
    cells = cells.select(col(read.value_column, "window_rows"), copy=False)
    cells = cells.from_(table("periods"), copy=False)
    cells = cells.join(join_node(table("members"), on=same_column(SET_COLUMN, "members", "periods")), copy=False)
    on_rows = exp.and_(
        *(same_column(k, "window_rows", "periods") for k in keys),
        *(exp.NullSafeEQ(this=col(c, "window_rows"), expression=col(c, "members")) for c in members),
        copy=False,
    )
    cells = cells.join(join_node(table("window_rows"), on=on_rows, how="left"), copy=False)
    for name, cte in (
        ("window_rows", in_window),
        ("first_periods", first),
        ("last_periods", last),
        ("calendar", calendar),
        ("periods", periods),
        ("members", known),
        ("cells", cells),
    ):
        query = query.with_(name, as_=cte, copy=False)
    return query


def same_column(column: str, left: str, right: str) -> exp.Expression:
    return exp.EQ(this=col(column, left), expression=col(column, right))


def grain_values(grains: list[str]) -> exp.Values:
    """`(values ('day'), ('month'), ...) as grains(grain)`."""
    return exp.Values(
        expressions=[exp.Tuple(expressions=[exp.Literal.string(g)]) for g in grains],
        alias=exp.TableAlias(this=exp.to_identifier("grains"), columns=[exp.to_identifier(GRAIN_COLUMN)]),
    )
