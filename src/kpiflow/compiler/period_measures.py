"""Measures that add up over nothing, computed once per source and period: `measures__<semantic model>__per_period`.

A distinct count (active customers, employees covered) or an average (training score gain) cannot be added up from
days or from a finer breakdown, so the daily rollups (rollups.py) cannot hold it, and each KPI over one used to
re-read the facts once per grain and breakdown. This model reads its source's rows once (an import CTE), places each
row in its period at every grain, and aggregates each measure over GROUPING SETS of (grain, period) and each
breakdown's members, `grouping()` naming the breakdown in `__set` so that a NULL member is never taken for a rolled-up
row. Its columns are those of a measures model (measure_models.py), so a simple KPI reads it the same way: a filtered
measure aggregates its values where the filter passes and counts the rows that pass beside them, so that a period
where no row passes stays absent, as it is when the facts are read directly.

A run recomputes each grain's periods from the window start truncated to the grain on, reading the rows from the
earliest such day. A source rebuilt in full nightly (fed by a seed: sales and store plans) cannot be rolled up by
day incrementally, so its sums are aggregated per period here too, in a model rebuilt in full as its source is
(its window start is then the earliest date: every period).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlglot import exp

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
    SOURCE_ROWS,
    RollupCatalog,
    RollupRead,
    grouped_by_sets,
    measure_column,
    read_of,
    rows_column,
)
from kpiflow.compiler.spec import GRAINS
from kpiflow.compiler.sqlbuild import col, table
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
        and breakdown from each grain's floor on."""
        model = self._models[name]
        grains = [g for g in GRAINS if g in model.grains]
        measures = sorted(model.measures)
        first_day = earliest_floor(start, grains)
        rows = self.rollups.source_rows(model.model, model.time_dim, model.sets, measures, relation, first_day)
        placed = rows_in_periods(SOURCE_ROWS, grains)
        keys = [col(GRAIN_COLUMN), col(PERIOD_COLUMN)]
        counts = grouped_by_sets(_select(*(k.copy() for k in keys)), model.sets, keys)
        for measure_name in measures:
            counts = counts.select(*self.rollups.aggregates(measure_name), copy=False)
        counts = counts.from_(table("rows_in_periods"), copy=False)
        recomputed = exp.GTE(this=col(PERIOD_COLUMN), expression=period_floor(col(GRAIN_COLUMN), start, grains))
        counts = counts.where(recomputed, copy=False)
        query = _select("*").from_(table("period_values"), copy=False)
        for cte_name, cte in ((SOURCE_ROWS, rows), ("rows_in_periods", placed), ("period_values", counts)):
            query = query.with_(cte_name, as_=cte, copy=False)
        return query
