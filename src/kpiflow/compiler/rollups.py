"""Daily rollups: per semantic model, its additive measures summed by day for each breakdown the generated models read.

A month, quarter or year row of a KPI otherwise re-reads every fact row of its period, in every KPI and breakdown:
an incremental night in November re-reads ten months of facts dozens of times. The rollup is one incremental dbt
model per semantic model (and time dimension) that adds each day once; period rows add its days instead. Only
measures whose daily values add up to the period's value are rolled up (sum, count, sum_boolean, min, max), and
distinct counts that are balances over the day (headcount: the count on one day, or the mean of daily counts), read
without metric filters; everything else reads the facts as before.

The rollup has one row per day, breakdown (`__set`, e.g. 'store' or 'overall') and breakdown value. A measure with a
filter carries a row count beside its value, so that a period where no row passes the filter stays absent, as it is
when the facts are read directly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from sqlglot import exp

from kpiflow.compiler.aggregates import aggregate
from kpiflow.compiler.expressions import checked_expression, qualified, substitute_columns
from kpiflow.compiler.graph import TIME_ENTITY, SemanticGraph, SemanticModel
from kpiflow.compiler.known_dates import known_date
from kpiflow.compiler.plan import RuntimeDate
from kpiflow.compiler.resolve import BASE_ALIAS, Join, ResolutionError, Resolver, from_model, time_column
from kpiflow.compiler.spec import MeasureSpec
from kpiflow.compiler.sqlbuild import alias, cast, col, copy_tree, table
from kpiflow.compiler.sqltypes import BIGINT, DATE
from kpiflow.compiler.sqltypes import adopting_select as _select

ROLLUP_AGGS = frozenset({"sum", "count", "sum_boolean", "min", "max"})
ROLLUP_PREFIX = "rollup__"
DAY_COLUMN = "__day"
SET_COLUMN = "__set"
OVERALL = "overall"
SOURCE_ROWS = "source_rows"


def day_column(table: str) -> exp.Column:
    """A rollup's day, read from `table`: a DATE, as the rollup writes it, so never cast again (known_dates.py)."""
    return known_date(col(DAY_COLUMN, table))


def dimension_column(name: str) -> str:
    return f"d__{name}"


def measure_column(name: str) -> str:
    return f"m__{name}"


def rows_column(name: str) -> str:
    return f"m__{name}__rows"


@dataclass(frozen=True)
class RollupRead:
    """Where one measure's daily values for one breakdown are: the rollup model, its `__set` label and columns."""

    model: str
    set_label: str
    dimensions: tuple[tuple[str, str], ...]  # group-by name -> rollup column
    value_column: str
    rows_column: str | None
    agg: str

    def period_value(self, value: exp.Expression) -> exp.Expression:
        """The measure over a period from its daily values."""
        return added_up(self.agg, value)


def added_up(agg: str, value: exp.Expression) -> exp.Expression:
    """A measure over a period from its values over parts of it (days, entities): sums add up (a count stays an
    integer), extremes of extremes."""
    if agg == "min":
        return exp.Min(this=value)
    if agg == "max":
        return exp.Max(this=value)
    total: exp.Expression = exp.Sum(this=value)
    return cast(total, BIGINT) if agg in ("count", "count_distinct") else total


def read_of(model: str, measure_name: str, measure: MeasureSpec, others: tuple[str, ...]) -> RollupRead:
    """Where a model holding `measure_name` by `others` keeps it: the breakdown's label and the columns."""
    return RollupRead(
        model=model,
        set_label=",".join(sorted(set(others))) or OVERALL,
        dimensions=tuple((n, dimension_column(n)) for n in others),
        value_column=measure_column(measure_name),
        rows_column=rows_column(measure_name) if measure.filter else None,
        agg=measure.agg,
    )


@dataclass
class _Rollup:
    model: SemanticModel
    time_dim: str
    sets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    measures: set[str] = field(default_factory=set)
    # value column -> (measure, metric filter): a measure kept only on the rows a simple metric's filter passes
    filtered: dict[str, tuple[str, str]] = field(default_factory=dict)


def filter_digest(metric_filter: str) -> str:
    """A short name for a filter's text (the docs of what it names spell the text out)."""
    return hashlib.sha1(metric_filter.encode("utf-8")).hexdigest()[:8]


def filtered_column(measure_name: str, metric_filter: str) -> str:
    """The column of a measure on the rows `metric_filter` passes."""
    return f"{measure_column(measure_name)}__where_{filter_digest(metric_filter)}"


class RollupCatalog:
    """The rollups the generated models read, collected while they are rendered; `models()` then writes them."""

    def __init__(self, graph: SemanticGraph, excluded: frozenset[str] = frozenset()) -> None:
        self.graph = graph
        self.resolver = Resolver(graph)  # the query engine reading this catalog shares it (sqltext._engine)
        self.excluded = excluded  # dbt models rebuilt in full nightly: a rollup over one could not be incremental
        self._rollups: dict[str, _Rollup] = {}

    def read(
        self,
        measure_name: str,
        filters: tuple[str, ...],
        others: tuple[str, ...],
        day_of: str | None = None,
        metric_filter: str | None = None,
    ) -> RollupRead | None:
        """The rollup holding `measure_name` by `others` (the non-time group-by) per day, or None where the facts
        must be read: a metric filter, an aggregation that does not add up over days, a breakdown that cannot be
        resolved, a source rebuilt in full nightly, or (`day_of`) a balance's day that is not the time dimension."""
        ref = self.graph.measures[measure_name]
        measure = ref.measure
        time_dim = measure.agg_time_dimension or ref.model.spec.agg_time_dimension
        if filters or time_dim is None:
            return None
        if day_of is not None and day_of != time_dim:
            return None
        if measure.agg not in ROLLUP_AGGS and not (day_of is not None and measure.agg == "count_distinct"):
            return None  # a distinct count adds up over nothing, but a balance reads it one day at a time
        if not self.readable(measure_name, others, metric_filter):
            return None
        own_time = time_dim == ref.model.spec.agg_time_dimension
        name = f"{ROLLUP_PREFIX}{ref.model.name}" + ("" if own_time else f"__{time_dim}")
        rollup = self._rollups.setdefault(name, _Rollup(ref.model, time_dim))
        read = read_of(name, measure_name, measure, others)
        rollup.sets[read.set_label] = tuple(sorted(set(others)))
        if metric_filter is None:
            rollup.measures.add(measure_name)
            return read
        column = filtered_column(measure_name, metric_filter)
        rollup.filtered[column] = (measure_name, metric_filter)
        return replace(read, value_column=column, rows_column=f"{column}__rows")

    def readable(self, measure_name: str, others: tuple[str, ...], metric_filter: str | None = None) -> bool:
        """Can a generated model read `measure_name` by `others` (on the rows `metric_filter` passes) from its
        source: a time dimension, breakdowns and filter columns that resolve (none of them a time), and a source not
        rebuilt in full nightly?"""
        reads = self.source_models(measure_name, others, metric_filter)
        return reads is not None and not (reads & self.excluded)

    def source_models(
        self, measure_name: str, others: tuple[str, ...], metric_filter: str | None = None
    ) -> set[str] | None:
        """The dbt models reading `measure_name` by `others` (on the rows `metric_filter` passes) takes, or None when
        it cannot be read so: no time dimension, or breakdowns and filter columns that do not resolve or are a time."""
        ref = self.graph.measures[measure_name]
        time_dim = ref.measure.agg_time_dimension or ref.model.spec.agg_time_dimension
        names = [*others, *(checked_expression(metric_filter).column_names if metric_filter else ())]
        if time_dim is None or any(name.startswith(TIME_ENTITY + "__") for name in names):
            return None
        joins: dict[str, Join] = {}
        try:
            time_column(ref.model, time_dim)
            self.resolver.resolve_all(ref.model, names, time_dim, joins)
        except ResolutionError:
            return None
        return {ref.model.spec.model} | {j.target.spec.model for j in joins.values()}

    def rebuilt_source(self, measure_name: str) -> bool:
        """Is the measure's own source rebuilt in full nightly (fed by a seed: a plan may change any past month)?"""
        return self.graph.measures[measure_name].model.spec.model in self.excluded

    def names(self) -> list[str]:
        return sorted(self._rollups)

    def describe(self, name: str) -> tuple[SemanticModel, tuple[str, ...], tuple[str, ...]]:
        """(semantic model, breakdown labels, measures) of one rollup, for its docs."""
        rollup = self._rollups[name]
        filtered = (f"{measure} where {text} ({column})" for column, (measure, text) in rollup.filtered.items())
        return rollup.model, tuple(sorted(rollup.sets)), tuple(sorted(rollup.measures)) + tuple(sorted(filtered))

    def model_query(self, name: str, relation: Callable[[str], exp.Table], start: RuntimeDate) -> exp.Query:
        """The rollup's rows from `start` on, reading the facts once: an import CTE of the source rows (the day,
        every breakdown's columns, every measure's input) and one aggregate over GROUPING SETS of the day and each
        breakdown (grouped_by_sets)."""
        rollup = self._rollups[name]
        measures = sorted(rollup.measures)
        first_day = cast(exp.column(start.placeholder), DATE)
        rows = self.source_rows(
            rollup.model, rollup.time_dim, rollup.sets, measures, relation, first_day, rollup.filtered
        )
        select = grouped_by_sets(_select(col(DAY_COLUMN)), rollup.sets, [col(DAY_COLUMN)])
        for measure_name in measures:
            select = select.select(*self.aggregates(measure_name), copy=False)
        for column in sorted(rollup.filtered):
            agg = self.graph.measures[rollup.filtered[column][0]].measure.agg
            select = select.select(
                alias(aggregate(agg, col(column), None), column),
                alias(exp.Count(this=col(f"{column}__rows")), f"{column}__rows"),
                copy=False,
            )
        select = select.from_(table(SOURCE_ROWS), copy=False)
        return select.with_(SOURCE_ROWS, as_=rows, copy=False)

    def source_rows(
        self,
        model: SemanticModel,
        time_dim: str,
        sets: dict[str, tuple[str, ...]],
        measures: list[str],
        relation: Callable[[str], exp.Table],
        first_day: exp.Expression,
        filtered: dict[str, tuple[str, str]] | None = None,
    ) -> exp.Select:
        """The import CTE: the source's rows from `first_day` on with their day, every breakdown's member columns
        and every measure's input (`filtered`: column -> measure and metric filter, kept where both filters pass)."""
        all_dims = sorted({d for dims in sets.values() for d in dims})
        joins: dict[str, Join] = {}
        resolved = dict(self.resolver.resolve_all(model, all_dims, time_dim, joins))
        inputs = []
        for column, (measure_name, metric_filter) in sorted((filtered or {}).items()):
            parsed = checked_expression(metric_filter)
            mapping = dict(self.resolver.resolve_all(model, parsed.column_names, time_dim, joins))
            inputs += self._inputs(measure_name, substitute_columns(parsed.tree, mapping), column)
        time_raw = time_column(model, time_dim)
        day = cast(copy_tree(time_raw), DATE)
        rows = _select(alias(copy_tree(day), DAY_COLUMN))
        rows = rows.select(*(alias(copy_tree(resolved[d]), dimension_column(d)) for d in all_dims), copy=False)
        for measure_name in measures:
            rows = rows.select(*self._inputs(measure_name), copy=False)
        rows = rows.select(*inputs, copy=False)
        rows = from_model(rows, relation, model, (joins[a] for a in sorted(joins)))
        rows = rows.where(exp.GTE(this=day, expression=first_day), copy=False)
        return rows.where(exp.Not(this=exp.Is(this=copy_tree(time_raw), expression=exp.null())), copy=False)

    def _inputs(
        self, measure_name: str, metric_filter: exp.Expression | None = None, column: str | None = None
    ) -> list[exp.Expression]:
        """The columns of a source row a measure aggregates (under `column`, on the rows `metric_filter` passes): its
        value, kept only where its filters pass, and for a filtered one a marker of the rows that pass."""
        measure = self.graph.measures[measure_name].measure
        value = qualified(measure.expr or measure.name, BASE_ALIAS)
        column = column or measure_column(measure_name)
        conditions = [qualified(measure.filter, BASE_ALIAS)] if measure.filter else []
        if metric_filter is not None:
            conditions.append(metric_filter)
        if not conditions:
            return [alias(value, column)]
        passes = exp.and_(*conditions, copy=False)
        kept = exp.Case(ifs=[exp.If(this=passes, true=value)])
        counted = exp.Case(ifs=[exp.If(this=copy_tree(passes), true=exp.Literal.number(1))])
        rows = f"{column}__rows" if metric_filter is not None else rows_column(measure_name)
        return [alias(kept, column), alias(counted, rows)]

    def aggregates(self, measure_name: str) -> list[exp.Expression]:
        measure = self.graph.measures[measure_name].measure
        value = col(measure_column(measure_name))
        aggregated = [alias(aggregate(measure.agg, value, None), measure_column(measure_name))]
        if measure.filter:
            aggregated.append(alias(exp.Count(this=col(rows_column(measure_name))), rows_column(measure_name)))
        return aggregated


def grouped_by_sets(select: exp.Select, sets: dict[str, tuple[str, ...]], keys: list[exp.Expression]) -> exp.Select:
    """`select` with `__set` and every breakdown's member columns, grouped by `keys` and each breakdown's members:
    GROUPING SETS when there are several, `grouping()` naming each row's breakdown in `__set`, so that a NULL member
    (an unknown store) is never taken for a rolled-up row."""
    labels = sorted(sets)
    all_dims = sorted({d for dims in sets.values() for d in dims})
    members = [col(dimension_column(d)) for d in all_dims]
    if len(labels) == 1:
        select = select.select(alias(exp.Literal.string(labels[0]), SET_COLUMN), *members, copy=False)
        return select.group_by(*(k.copy() for k in keys), *(m.copy() for m in members), copy=False)
    whens = []
    for label in labels:
        grouped = [
            exp.EQ(
                this=exp.Grouping(expressions=[col(dimension_column(d))]),
                expression=exp.Literal.number(0 if d in sets[label] else 1),
            )
            for d in all_dims
        ]
        whens.append(exp.If(this=exp.and_(*grouped, copy=False), true=exp.Literal.string(label)))
    select = select.select(alias(exp.Case(ifs=whens), SET_COLUMN), *members, copy=False)
    grouping_sets = [
        exp.Tuple(expressions=[*(k.copy() for k in keys), *(col(dimension_column(d)) for d in sets[label])])
        for label in labels
    ]
    select.set("group", exp.Group(expressions=[exp.GroupingSets(expressions=grouping_sets)]))
    return select
