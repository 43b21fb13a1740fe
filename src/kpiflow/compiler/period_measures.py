"""Measures that add up over nothing, computed once per source and period: `measures__<semantic model>__per_period`.

A distinct count (active customers, employees covered) or an average (training score gain) cannot be added up from
days or from a finer breakdown, so the daily rollups (rollups.py) cannot hold it, and each KPI over one used to
re-read the facts once per grain and breakdown. This model reads its source's rows once (an import CTE), places each
row in its period at every grain, and aggregates each measure over GROUPING SETS of (grain, period) and each
breakdown's members, `grouping()` naming the breakdown in `__set` so that a NULL member is never taken for a rolled-up
row. Its columns are those of a measures model (measure_models.py), so a simple KPI reads it the same way: a filtered
measure aggregates its values where the filter passes and counts the rows that pass beside them, so that a period
where no row passes stays absent, as it is when the facts are read directly.

A distinct count under GROUPING SETS keeps a distinct hash table per measure and breakdown (measures__orders__per_period
spent 248 s of a scale-10 full build on three). When every distinct count of the model counts one column, one of them
without a filter (active, new and repeat customers), and the other measures add up (rollups.ROLLUP_AGGS), the rows are
grouped by that entity first, in the same grouping sets: each distinct count is then a plain count of the entities
(where the entity has a row passing its filter), the other values add up. A NULL entity is one group that no distinct
count counts, while its rows still count in the others, as with count(distinct).

A run recomputes each grain's periods from the window start truncated to the grain on, reading the rows from the
earliest such day. A source rebuilt in full nightly (fed by a seed: sales and store plans) cannot be rolled up by
day incrementally, so its sums are aggregated per period here too, in a model rebuilt in full as its source is
(its window start is then the earliest date: every period).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlglot import exp

from kpiflow.compiler.aggregates import aggregate
from kpiflow.compiler.graph import SemanticGraph, SemanticModel
from kpiflow.compiler.measure_models import (
    GRAIN_COLUMN,
    MEASURES_PREFIX,
    PER_PERIOD_AGGS,
    PERIOD_COLUMN,
    earliest_floor,
    period_floor,
    rows_in_periods,
)
from kpiflow.compiler.plan import RuntimeDate
from kpiflow.compiler.rollups import (
    ROLLUP_AGGS,
    SET_COLUMN,
    SOURCE_ROWS,
    RollupCatalog,
    RollupRead,
    added_up,
    dimension_column,
    grouped_by_sets,
    measure_column,
    read_of,
    rows_column,
)
from kpiflow.compiler.spec import GRAINS
from kpiflow.compiler.sqlbuild import alias, col, table
from kpiflow.compiler.sqltypes import adopting_select as _select

PER_PERIOD_SUFFIX = "__per_period"


@dataclass
class _PerPeriod:
    model: SemanticModel
    time_dim: str
    grains: set[str] = field(default_factory=set)
    sets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    measures: set[str] = field(default_factory=set)


class PeriodMeasures:
    """The per-period measures models simple KPIs read, collected while planning the generated models."""

    def __init__(self, graph: SemanticGraph, rollups: RollupCatalog) -> None:
        self.graph = graph
        self.rollups = rollups  # shares its resolver, its source rows and its rules for what a model may read
        self._models: dict[str, _PerPeriod] = {}

    def read(self, measure_name: str, grains: tuple[str, ...], others: tuple[str, ...]) -> RollupRead | None:
        """Where `measure_name` (a distinct count or an average, not a balance; any measure of a source rebuilt in
        full nightly) is held by `others` at `grains`, or None when its source cannot be read by them
        (rollups.RollupCatalog.source_models) or they join a model rebuilt in full nightly to a source that is not."""
        ref = self.graph.measures[measure_name]
        measure = ref.measure
        time_dim = measure.agg_time_dimension or ref.model.spec.agg_time_dimension
        rebuilt = self.rollups.rebuilt_source(measure_name)
        if measure.non_additive_dimension is not None or time_dim is None:
            return None
        if measure.agg not in PER_PERIOD_AGGS and not rebuilt:
            return None
        reads = self.rollups.source_models(measure_name, others)
        if reads is None or (not rebuilt and reads & self.rollups.excluded):
            return None
        own_time = time_dim == ref.model.spec.agg_time_dimension
        name = f"{MEASURES_PREFIX}{ref.model.name}" + ("" if own_time else f"__{time_dim}") + PER_PERIOD_SUFFIX
        model = self._models.setdefault(name, _PerPeriod(ref.model, time_dim))
        read = read_of(name, measure_name, measure, others)
        model.grains.update(grains)
        model.sets[read.set_label] = tuple(sorted(set(others)))
        model.measures.add(measure_name)
        return read

    def names(self) -> list[str]:
        return sorted(self._models)

    def rebuilt(self, name: str) -> bool:
        """Is the model rebuilt in full nightly, as its source is (a table: every reader is one too)?"""
        return self._models[name].model.spec.model in self.rollups.excluded

    def describe(self, name: str) -> tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        """(source, grains, breakdown labels, measure columns) of one model, for its docs."""
        model = self._models[name]
        columns = {measure_column(m) for m in model.measures}
        columns |= {rows_column(m) for m in model.measures if self.graph.measures[m].measure.filter}
        grains = tuple(g for g in GRAINS if g in model.grains)
        source = f"semantic model {model.model.name} ({model.model.spec.model})"
        return source, grains, tuple(sorted(model.sets)), tuple(sorted(columns))

    def model_query(self, name: str, relation: Callable[[str], exp.Table], start: RuntimeDate) -> exp.Query:
        """The measures at every period from the window's floor on: the source rows from the earliest floor
        of any grain (an import CTE), each row placed in its period at every grain, then aggregated per period
        and breakdown from each grain's floor on (per counted entity first, then per period, where _counted_entity
        finds one)."""
        model = self._models[name]
        grains = [g for g in GRAINS if g in model.grains]
        measures = sorted(model.measures)
        first_day = earliest_floor(start, grains)
        rows = self.rollups.source_rows(model.model, model.time_dim, model.sets, measures, relation, first_day)
        placed = rows_in_periods(SOURCE_ROWS, grains)
        keys = [col(GRAIN_COLUMN), col(PERIOD_COLUMN)]
        entity = self._counted_entity(measures)
        if entity is not None:
            keys.append(col(measure_column(entity)))
        aggregated = grouped_by_sets(_select(*(k.copy() for k in keys)), model.sets, keys)
        for measure_name in measures:
            values = self.rollups.aggregates(measure_name) if entity is None else self._per_entity(measure_name)
            aggregated = aggregated.select(*values, copy=False)
        aggregated = aggregated.from_(table("rows_in_periods"), copy=False)
        recomputed = exp.GTE(this=col(PERIOD_COLUMN), expression=period_floor(col(GRAIN_COLUMN), start, grains))
        aggregated = aggregated.where(recomputed, copy=False)
        ctes = [(SOURCE_ROWS, rows), ("rows_in_periods", placed)]
        if entity is None:
            ctes.append(("period_values", aggregated))
        else:
            entities = f"{entity}_in_periods"
            counts = self._counted_per_period(model, measures, entity).from_(table(entities), copy=False)
            ctes += [(entities, aggregated), ("period_values", counts)]
        query = _select("*").from_(table("period_values"), copy=False)
        for cte_name, cte in ctes:
            query = query.with_(cte_name, as_=cte, copy=False)
        return query

    def _counted_entity(self, measures: list[str]) -> str | None:
        """The distinct count without a filter whose column is the entity every distinct count of the model counts,
        when the model can group by that entity first: the others count the same expression (their filters aside),
        every other measure adds up. None otherwise (an average, two counted columns, no distinct count)."""
        specs = {name: self.graph.measures[name].measure for name in measures}
        distinct = [name for name, spec in specs.items() if spec.agg == "count_distinct"]
        unfiltered = [name for name in distinct if not specs[name].filter]
        counted = {specs[name].expr or specs[name].name for name in distinct}
        if not unfiltered or len(counted) > 1:
            return None
        if any(spec.agg not in ROLLUP_AGGS for name, spec in specs.items() if name not in distinct):
            return None
        return unfiltered[0]

    def _per_entity(self, measure_name: str) -> list[exp.Expression]:
        """A measure's values for one entity in a period and breakdown: for a filtered distinct count, the rows whose
        value its filter kept (the entity counts where there is one); other measures aggregated as they add up later;
        a filtered measure's rows beside it. An unfiltered distinct count needs nothing: the entity is the group."""
        measure = self.graph.measures[measure_name].measure
        column = measure_column(measure_name)
        values = []
        if measure.agg != "count_distinct":
            values.append(alias(aggregate(measure.agg, col(column), None), column))
        elif measure.filter:
            values.append(alias(exp.Count(this=col(column)), column))
        if measure.filter:
            values.append(alias(exp.Count(this=col(rows_column(measure_name))), rows_column(measure_name)))
        return values

    def _counted_per_period(self, model: _PerPeriod, measures: list[str], entity: str) -> exp.Select:
        """The measures per period and breakdown from their values per entity (_per_entity): a distinct count counts
        the entities (with a row its filter passed), the others add up."""
        members = [col(dimension_column(d)) for d in sorted({d for dims in model.sets.values() for d in dims})]
        keys = [col(GRAIN_COLUMN), col(PERIOD_COLUMN), col(SET_COLUMN), *members]
        counts = _select(*(k.copy() for k in keys))
        for measure_name in measures:
            measure = self.graph.measures[measure_name].measure
            column = measure_column(measure_name)
            if measure.agg != "count_distinct":
                counts = counts.select(alias(added_up(measure.agg, col(column)), column), copy=False)
            else:
                counted: exp.Expression = col(measure_column(entity))
                if measure.filter:
                    kept = exp.GT(this=col(column), expression=exp.Literal.number(0))
                    counted = exp.Case(ifs=[exp.If(this=kept, true=counted)])
                counts = counts.select(alias(exp.Count(this=counted), column), copy=False)
            if measure.filter:
                rows = rows_column(measure_name)
                counts = counts.select(alias(added_up("count", col(rows)), rows), copy=False)
        return counts.group_by(*keys, copy=False)
