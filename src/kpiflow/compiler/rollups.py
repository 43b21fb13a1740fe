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

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlglot import exp

from kpiflow.compiler.aggregates import aggregate
from kpiflow.compiler.expressions import qualified
from kpiflow.compiler.graph import TIME_ENTITY, SemanticGraph, SemanticModel
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
        """The measure over a period from its daily values: sums add up (a count stays an integer), extremes of
        extremes."""
        if self.agg == "min":
            return exp.Min(this=value)
        if self.agg == "max":
            return exp.Max(this=value)
        total: exp.Expression = exp.Sum(this=value)
        return cast(total, BIGINT) if self.agg in ("count", "count_distinct") else total


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


class RollupCatalog:
    """The rollups the generated models read, collected while they are rendered; `models()` then writes them."""

    def __init__(self, graph: SemanticGraph, excluded: frozenset[str] = frozenset()) -> None:
        self.graph = graph
        self.resolver = Resolver(graph)  # the query engine reading this catalog shares it (sqltext._engine)
        self.excluded = excluded  # dbt models rebuilt in full nightly: a rollup over one could not be incremental
        self._rollups: dict[str, _Rollup] = {}

    def read(
        self, measure_name: str, filters: tuple[str, ...], others: tuple[str, ...], day_of: str | None = None
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
        if not self.readable(measure_name, others):
            return None
        own_time = time_dim == ref.model.spec.agg_time_dimension
        name = f"{ROLLUP_PREFIX}{ref.model.name}" + ("" if own_time else f"__{time_dim}")
        rollup = self._rollups.setdefault(name, _Rollup(ref.model, time_dim))
        read = read_of(name, measure_name, measure, others)
        rollup.sets[read.set_label] = tuple(sorted(set(others)))
        rollup.measures.add(measure_name)
        return read

    def readable(self, measure_name: str, others: tuple[str, ...]) -> bool:
        """Can a generated model read `measure_name` by `others` from its source: a time dimension, breakdowns
        that resolve (none of them a time), and a source not rebuilt in full nightly?"""
        ref = self.graph.measures[measure_name]
        time_dim = ref.measure.agg_time_dimension or ref.model.spec.agg_time_dimension
        if time_dim is None or any(name.startswith(TIME_ENTITY + "__") for name in others):
            return False
        joins: dict[str, Join] = {}
        try:
            time_column(ref.model, time_dim)
            self.resolver.resolve_all(ref.model, others, time_dim, joins)
        except ResolutionError:
            return False
        reads = {ref.model.spec.model} | {j.target.spec.model for j in joins.values()}
        return not (reads & self.excluded)

    def names(self) -> list[str]:
        return sorted(self._rollups)

    def describe(self, name: str) -> tuple[SemanticModel, tuple[str, ...], tuple[str, ...]]:
        """(semantic model, breakdown labels, measures) of one rollup, for its docs."""
        rollup = self._rollups[name]
        return rollup.model, tuple(sorted(rollup.sets)), tuple(sorted(rollup.measures))

    def model_query(self, name: str, relation: Callable[[str], exp.Table], start: RuntimeDate) -> exp.Query:
        """The rollup's rows from `start` on, reading the facts once: an import CTE of the source rows (the day,
        every breakdown's columns, every measure's input) and one aggregate over GROUPING SETS of the day and each
        breakdown (grouped_by_sets)."""
        rollup = self._rollups[name]
        measures = sorted(rollup.measures)
        first_day = cast(exp.column(start.placeholder), DATE)
        rows = self.source_rows(rollup.model, rollup.time_dim, rollup.sets, measures, relation, first_day)
        select = grouped_by_sets(_select(col(DAY_COLUMN)), rollup.sets, [col(DAY_COLUMN)])
        for measure_name in measures:
            select = select.select(*self.aggregates(measure_name), copy=False)
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
    ) -> exp.Select:
        """The import CTE: the source's rows from `first_day` on with their day, every breakdown's member columns
        and every measure's input."""
        all_dims = sorted({d for dims in sets.values() for d in dims})
        joins: dict[str, Join] = {}
        resolved = dict(self.resolver.resolve_all(model, all_dims, time_dim, joins))
        time_raw = time_column(model, time_dim)
        day = cast(copy_tree(time_raw), DATE)
        rows = _select(alias(copy_tree(day), DAY_COLUMN))
        rows = rows.select(*(alias(copy_tree(resolved[d]), dimension_column(d)) for d in all_dims), copy=False)
        for measure_name in measures:
            rows = rows.select(*self._inputs(measure_name), copy=False)
        rows = from_model(rows, relation, model, (joins[a] for a in sorted(joins)))
        rows = rows.where(exp.GTE(this=day, expression=first_day), copy=False)
        return rows.where(exp.Not(this=exp.Is(this=copy_tree(time_raw), expression=exp.null())), copy=False)

    def _inputs(self, measure_name: str) -> list[exp.Expression]:
        """The columns of a source row a measure aggregates: its value, kept only where its filter passes, and for a
        filtered measure a marker of the rows that pass."""
        measure = self.graph.measures[measure_name].measure
        value = qualified(measure.expr or measure.name, BASE_ALIAS)
        if not measure.filter:
            return [alias(value, measure_column(measure_name))]
        passes = qualified(measure.filter, BASE_ALIAS)
        kept = exp.Case(ifs=[exp.If(this=passes, true=value)])
        counted = exp.Case(ifs=[exp.If(this=copy_tree(passes), true=exp.Literal.number(1))])
        return [alias(kept, measure_column(measure_name)), alias(counted, rows_column(measure_name))]

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
