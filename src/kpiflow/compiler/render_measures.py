"""Leaf SQL: one CTE chain per measure, aggregated at the request's grain before anything is joined.

Each node method returns the name of a CTE whose columns are the group-by names plus `value`. This module reads
a measure's rows (facts or daily rollups) and renders plain aggregates; balances (render_balances.py), running
totals (render_cumulative.py) and entity events (render_events.py) build on its sources.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlglot import exp

from kpiflow.compiler.aggregates import aggregate
from kpiflow.compiler.calendar_sql import date_literal, lookback_history, shift
from kpiflow.compiler.ctes import CteRegistry
from kpiflow.compiler.expressions import checked_expression, qualified, substitute_columns
from kpiflow.compiler.graph import TIME_ENTITY, MeasureRef, SemanticGraph
from kpiflow.compiler.plan import ConversionNode, MeasureNode, QueryError, QueryRequest, RetentionNode
from kpiflow.compiler.render_balances import semi_additive
from kpiflow.compiler.render_cumulative import cumulative
from kpiflow.compiler.render_events import conversion, retention
from kpiflow.compiler.resolve import (
    BASE_ALIAS,
    Join,
    ResolutionError,
    Resolver,
    dimension_expr,
    from_model,
    time_column,
    truncate,
)
from kpiflow.compiler.rollups import SET_COLUMN, RollupCatalog, RollupRead, day_column
from kpiflow.compiler.sqlbuild import alias, aliased_table, cast, col, copy_tree
from kpiflow.compiler.sqltypes import DATE
from kpiflow.compiler.sqltypes import adopting_select as _select

# The alias of a daily rollup model where a measure is read from it instead of the facts.
ROLLUP_ROWS = "rollup_rows"


@dataclass(frozen=True)
class MeasureSource:
    """FROM, JOINs and WHERE for one measure, with the group-by names resolved to expressions."""

    ref: MeasureRef
    group_by: tuple[tuple[str, exp.Expression], ...]
    time_raw: exp.Expression
    joins: tuple[Join, ...]
    where: tuple[exp.Expression, ...]


class MeasureRenderer:
    def __init__(
        self,
        graph: SemanticGraph,
        registry: CteRegistry,
        relation: Callable[[str], exp.Table],
        request: QueryRequest,
        resolver: Resolver | None = None,
        rollups: RollupCatalog | None = None,
    ) -> None:
        self.graph = graph
        self.resolver = resolver or Resolver(graph)
        self.registry = registry
        self.relation = relation
        self.request = request
        self.rollups = rollups  # generated dbt models read additive measures from daily rollups (rollups.py)

    # -- sources -----------------------------------------------------------------------------------------
    def source(
        self,
        measure_name: str,
        filters: tuple[str, ...],
        group_by: tuple[str, ...],
        history: tuple[tuple[str, int, str], ...] = (),
        *,
        whole_history: bool = False,
    ) -> MeasureSource:
        """FROM/JOIN/WHERE for a measure. `history` says how much data before the requested start the node needs
        (('shift', n, unit) for offsets, windows and retention; ('trunc', 0, grain) for grain-to-date).
        `whole_history` reads every row with a period, whatever the start: the members a spine fills."""
        ref = self.graph.measures[measure_name]
        time_dim = ref.measure.agg_time_dimension or ref.model.spec.agg_time_dimension
        joins: dict[str, Join] = {}
        try:
            resolved = self.resolver.resolve_all(ref.model, group_by, time_dim, joins)
            where: list[exp.Expression] = []
            texts = [*filters, *([ref.measure.filter] if ref.measure.filter else [])]
            for index, text in enumerate(texts):
                if ref.measure.filter and index == len(texts) - 1:
                    where.append(qualified(text, BASE_ALIAS))  # a measure filter is over its own columns
                    continue
                parsed = checked_expression(text)
                mapping = dict(self.resolver.resolve_all(ref.model, parsed.column_names, time_dim, joins))
                where.append(substitute_columns(parsed.tree, mapping))
            time_raw = time_column(ref.model, time_dim)
        except ResolutionError as exc:
            raise QueryError(f"measure '{measure_name}': {exc}. {exc.suggestion or ''}".strip()) from None
        if self.request.time_grain is None:
            where.extend(self._range_filter(time_raw))
        else:
            where.extend(self._window_filter(time_raw, history, from_start=not whole_history))
        if self.request.time_grain and (whole_history or any(n.startswith(TIME_ENTITY + "__") for n in group_by)):
            where.append(exp.Not(this=exp.Is(this=copy_tree(time_raw), expression=exp.null())))  # no period, no row
        return MeasureSource(ref, tuple(resolved), time_raw, tuple(joins[a] for a in sorted(joins)), tuple(where))

    def _range_filter(self, time_raw: exp.Expression) -> list[exp.Expression]:
        """Without a time grain in the group-by, the time range restricts the rows aggregated."""
        out: list[exp.Expression] = []
        if self.request.start:
            out.append(exp.GTE(this=cast(copy_tree(time_raw), DATE), expression=date_literal(self.request.start)))
        if self.request.end:
            out.append(
                exp.LT(
                    this=cast(copy_tree(time_raw), DATE),
                    expression=date_literal(self.request.end + timedelta(days=1)),
                )
            )
        return out

    def _window_filter(
        self, time_raw: exp.Expression, history: tuple[tuple[str, int, str], ...], *, from_start: bool = True
    ) -> list[exp.Expression]:
        """With a time grain, read only the rows the requested periods need: from the first period's start, moved
        back by every offset, window and grain-to-date above the measure, through the end date."""
        grain = self.request.time_grain
        out: list[exp.Expression] = []
        if from_start and self.request.start and grain:
            lower: exp.Expression = truncate(date_literal(self.request.start), grain)
            for kind, count, unit in history:
                lower = shift(lower, -count, unit) if kind == "shift" else truncate(lower, unit)
            out.append(exp.GTE(this=cast(copy_tree(time_raw), DATE), expression=lower))
        if self.request.end:
            out.append(
                exp.LT(
                    this=cast(copy_tree(time_raw), DATE), expression=date_literal(self.request.end + timedelta(days=1))
                )
            )
        return out

    def from_clause(self, src: MeasureSource, select: exp.Select, *conditions: exp.Expression) -> exp.Select:
        """`select` from the measure's model and joins, filtered by the source's conditions and then `conditions`."""
        select = from_model(select, self.relation, src.ref.model, src.joins)
        for condition in (*(copy_tree(c) for c in src.where), *conditions):
            select = select.where(condition, copy=False)
        return select

    # -- nodes -------------------------------------------------------------------------------------------
    def measure(self, node: MeasureNode, cte_name: str, group_by: tuple[str, ...]) -> str:
        ref = self.graph.measures[node.measure]
        if node.window or node.grain_to_date:
            return cumulative(self, node, cte_name, group_by)
        if ref.measure.non_additive_dimension:
            return semi_additive(self, node, cte_name, group_by)
        read = self._rollup_read(node, group_by)
        if read is not None:
            columns = dict(read.dimensions)
            keys = [
                (
                    n,
                    col(columns[n], ROLLUP_ROWS)
                    if n in columns
                    else truncate(day_column(ROLLUP_ROWS), n.split("__", 1)[1]),
                )
                for n in group_by
            ]
            return self.registry.add(cte_name, self._from_rollup(read, keys, lookback_history(node.lookback)))
        src = self.source(node.measure, node.filters, group_by, lookback_history(node.lookback))
        value = qualified(ref.measure.expr or ref.measure.name, BASE_ALIAS)
        select = _select(*(alias(copy_tree(e), n) for n, e in src.group_by))
        select = select.select(alias(aggregate(ref.measure.agg, value, ref.measure.percentile), "value"), copy=False)
        select = self.from_clause(src, select)
        if src.group_by:
            select = select.group_by(*(copy_tree(e) for _, e in src.group_by), copy=False)
        return self.registry.add(cte_name, select)

    def members_ever_seen(self, node: MeasureNode, cte_name: str, others: tuple[str, ...]) -> str:
        """Every member (value of the non-time group-by) the measure has a row for, over all history through the
        end date: the members a zero-filled spine covers in a full build. An incremental run reads them here, not
        from its window, so that it fills the same members; only those columns are read."""
        read = self._rollup_read(node, others)
        if read is not None:
            select = _select(*(alias(col(c, ROLLUP_ROWS), n) for n, c in read.dimensions)).distinct(copy=False)
            select = self._from_rollup_table(select, read)
            return self.registry.add(f"{cte_name}__members", self._rollup_where(select, read, (), from_start=False))
        src = self.source(node.measure, node.filters, others, whole_history=True)
        select = _select(*(alias(copy_tree(e), n) for n, e in src.group_by)).distinct(copy=False)
        return self.registry.add(f"{cte_name}__members", self.from_clause(src, select))

    def first_day_ever(self, node: MeasureNode, cte_name: str) -> str:
        """The measure's first day with a row over all history: where a zero-filled spine starts in a full build. An
        incremental run's spine starts on the window's first period after it, even when the window's first days have
        no rows (a day emptied upstream must become a zero row, as a full build has it)."""
        read = self._rollup_read(node, ())
        first = alias(exp.Min(this=day_column(ROLLUP_ROWS)), "__first")
        if read is not None:
            select = self._from_rollup_table(_select(first), read)
            return self.registry.add(f"{cte_name}__first", self._rollup_where(select, read, (), from_start=False))
        src = self.source(node.measure, node.filters, (), whole_history=True)
        select = _select(alias(exp.Min(this=cast(copy_tree(src.time_raw), DATE)), "__first"))
        return self.registry.add(f"{cte_name}__first", self.from_clause(src, select))

    # -- daily rollups -------------------------------------------------------------------------------------
    def _rollup_read(
        self, node: MeasureNode, group_by: tuple[str, ...], day_of: str | None = None
    ) -> RollupRead | None:
        """The daily rollup to read instead of the facts (generated dbt models only), else None."""
        grain = self.request.time_grain
        if self.rollups is None or grain is None:
            return None
        others = tuple(g for g in group_by if g != f"{TIME_ENTITY}__{grain}")
        return self.rollups.read(node.measure, node.filters, others, day_of)

    def _from_rollup_table(self, select: exp.Select, read: RollupRead) -> exp.Select:
        return select.from_(aliased_table(self.relation(read.model), ROLLUP_ROWS), copy=False)

    def _rollup_where(
        self,
        select: exp.Select,
        read: RollupRead,
        history: tuple[tuple[str, int, str], ...],
        *,
        from_start: bool = True,
    ) -> exp.Select:
        """The breakdown's rows, in the same date range a read of the facts would cover, where the measure has
        rows (its filter passed)."""
        select = select.where(
            exp.EQ(this=col(SET_COLUMN, ROLLUP_ROWS), expression=exp.Literal.string(read.set_label)), copy=False
        )
        for condition in self._window_filter(day_column(ROLLUP_ROWS), history, from_start=from_start):
            select = select.where(condition, copy=False)
        if read.rows_column:
            select = select.where(
                exp.GT(this=col(read.rows_column, ROLLUP_ROWS), expression=exp.Literal.number(0)), copy=False
            )
        return select

    def _from_rollup(
        self, read: RollupRead, keys: list[tuple[str, exp.Expression]], history: tuple[tuple[str, int, str], ...]
    ) -> exp.Select:
        """The measure by `keys` (name, expression over ROLLUP_ROWS) from its daily values."""
        select = _select(*(alias(copy_tree(e), n) for n, e in keys))
        select = select.select(alias(read.period_value(col(read.value_column, ROLLUP_ROWS)), "value"), copy=False)
        select = self._rollup_where(self._from_rollup_table(select, read), read, history)
        if keys:
            select = select.group_by(*(e for _, e in keys), copy=False)
        return select

    def daily(
        self, node: MeasureNode, cte_name: str, group_by: tuple[str, ...], day_expr_of: str
    ) -> tuple[str, list[str]]:
        """Aggregate by the non-time group-by names plus the day, as `<cte>__daily`."""
        ref = self.graph.measures[node.measure]
        other = [g for g in group_by if not g.startswith(TIME_ENTITY + "__")]
        own: tuple[tuple[str, int, str], ...] = ()
        if node.window:
            own = (("shift", node.window[0], node.window[1]),)
        elif node.grain_to_date:
            own = (("trunc", 0, node.grain_to_date),)
        day_of = None if day_expr_of == "agg_time" else day_expr_of
        read = self._rollup_read(node, tuple(other), day_of)
        if read is not None:
            columns = dict(read.dimensions)
            keys = [(n, col(columns[n], ROLLUP_ROWS)) for n in other] + [("__day", day_column(ROLLUP_ROWS))]
            select = self._from_rollup(read, keys, lookback_history(node.lookback) + own)
            return self.registry.add(f"{cte_name}__daily", select), other
        src = self.source(node.measure, node.filters, tuple(other), lookback_history(node.lookback) + own)
        if day_expr_of == "agg_time":
            day = cast(copy_tree(src.time_raw), DATE)
        else:
            nad = ref.model.dimension(day_expr_of)
            assert nad is not None
            day = cast(dimension_expr(ref.model, nad, BASE_ALIAS), DATE)
        value = qualified(ref.measure.expr or ref.measure.name, BASE_ALIAS)
        select = _select(*(alias(copy_tree(e), n) for n, e in src.group_by))
        select = select.select(
            alias(day, "__day"),
            alias(aggregate(ref.measure.agg, value, ref.measure.percentile), "value"),
            copy=False,
        )
        select = self.from_clause(src, select)
        select = select.group_by(*(copy_tree(e) for _, e in src.group_by), copy_tree(day), copy=False)
        return self.registry.add(f"{cte_name}__daily", select), other

    def time_out(self, group_by: tuple[str, ...]) -> tuple[str, exp.Expression] | None:
        grain = self.request.time_grain
        if grain is None:
            return None
        name = f"{TIME_ENTITY}__{grain}"
        return name, truncate(col("__day"), grain)

    # -- entity events -------------------------------------------------------------------------------------
    def conversion(self, node: ConversionNode, cte_name: str, group_by: tuple[str, ...]) -> str:
        return conversion(self, node, cte_name, group_by)

    def retention(self, node: RetentionNode, cte_name: str, group_by: tuple[str, ...]) -> str:
        return retention(self, node, cte_name, group_by)
