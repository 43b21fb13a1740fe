"""Leaf SQL: one CTE chain per measure, aggregated at the request's grain before anything is joined.

Each function returns the name of a CTE whose columns are the group-by names plus `value`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlglot import exp

from kpiflow.compiler.aggregates import aggregate
from kpiflow.compiler.ctes import CteRegistry
from kpiflow.compiler.expressions import checked_expression, qualified, substitute_columns
from kpiflow.compiler.graph import TIME_ENTITY, MeasureRef, SemanticGraph
from kpiflow.compiler.plan import ConversionNode, MeasureNode, QueryError, QueryRequest, RetentionNode, RuntimeDate
from kpiflow.compiler.resolve import (
    BASE_ALIAS,
    Join,
    ResolutionError,
    Resolver,
    from_model,
    time_column,
    truncate,
)
from kpiflow.compiler.rollups import DAY_COLUMN, SET_COLUMN, RollupCatalog, RollupRead
from kpiflow.compiler.sqlbuild import alias, aliased_table, cast, col, copy_tree, join_node, table
from kpiflow.compiler.sqltypes import DATE, DOUBLE
from kpiflow.compiler.sqltypes import adopting_select as _select

TIME_SPINE_MODEL = "metricflow_time_spine"
TIME_SPINE_COLUMN = "date_day"


def date_literal(value: date | RuntimeDate) -> exp.Expression:
    """A date constant, or the placeholder of a date the warehouse supplies (a DATE-typed macro call)."""
    if isinstance(value, RuntimeDate):
        return col(value.placeholder)
    return cast(exp.Literal.string(value.isoformat()), DATE)


def shift(expr: exp.Expression, count: int, unit: str) -> exp.Expression:
    """`expr` moved by `count` units (negative = back), rendered per dialect by sqlglot."""
    if count < 0:
        return exp.DateSub(this=expr, expression=exp.Literal.number(-count), unit=exp.var(unit.upper()))
    return exp.DateAdd(this=expr, expression=exp.Literal.number(count), unit=exp.var(unit.upper()))


def _known(entity: exp.Expression) -> exp.Expression:
    """`entity IS NOT NULL`: a row without an entity (an anonymous buyer) counts in sums but never as an entity,
    so it is in no retention or conversion cohort (DECISIONS rule 23)."""
    return exp.Not(this=exp.Is(this=copy_tree(entity), expression=exp.Null()))


def _history(lookback: tuple[tuple[int, str], ...]) -> tuple[tuple[str, int, str], ...]:
    return tuple(("shift", count, unit) for count, unit in lookback)


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
            return self._cumulative(node, cte_name, group_by)
        if ref.measure.non_additive_dimension:
            return self._semi_additive(node, cte_name, group_by)
        read = self._rollup_read(node, group_by)
        if read is not None:
            columns = dict(read.dimensions)
            keys = [
                (n, col(columns[n], "r") if n in columns else truncate(col(DAY_COLUMN, "r"), n.split("__", 1)[1]))
                for n in group_by
            ]
            return self.registry.add(cte_name, self._from_rollup(read, keys, _history(node.lookback)))
        src = self.source(node.measure, node.filters, group_by, _history(node.lookback))
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
            select = _select(*(alias(col(c, "r"), n) for n, c in read.dimensions)).distinct(copy=False)
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
        first = alias(exp.Min(this=col(DAY_COLUMN, "r")), "__first")
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
        return select.from_(aliased_table(self.relation(read.model), "r"), copy=False)

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
            exp.EQ(this=col(SET_COLUMN, "r"), expression=exp.Literal.string(read.set_label)), copy=False
        )
        for condition in self._window_filter(col(DAY_COLUMN, "r"), history, from_start=from_start):
            select = select.where(condition, copy=False)
        if read.rows_column:
            select = select.where(exp.GT(this=col(read.rows_column, "r"), expression=exp.Literal.number(0)), copy=False)
        return select

    def _from_rollup(
        self, read: RollupRead, keys: list[tuple[str, exp.Expression]], history: tuple[tuple[str, int, str], ...]
    ) -> exp.Select:
        """The measure by `keys` (name, expression over the rollup `r`) from its daily values."""
        select = _select(*(alias(copy_tree(e), n) for n, e in keys))
        select = select.select(alias(read.period_value(col(read.value_column, "r")), "value"), copy=False)
        select = self._rollup_where(self._from_rollup_table(select, read), read, history)
        if keys:
            select = select.group_by(*(e for _, e in keys), copy=False)
        return select

    def _daily(
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
            keys = [(n, col(columns[n], "r")) for n in other] + [("__day", col(DAY_COLUMN, "r"))]
            select = self._from_rollup(read, keys, _history(node.lookback) + own)
            return self.registry.add(f"{cte_name}__daily", select), other
        src = self.source(node.measure, node.filters, tuple(other), _history(node.lookback) + own)
        if day_expr_of == "agg_time":
            day = cast(copy_tree(src.time_raw), DATE)
        else:
            nad = ref.model.dimension(day_expr_of)
            assert nad is not None
            day = cast(qualified(nad.expr or nad.name, BASE_ALIAS), DATE)
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

    def _time_out(self, group_by: tuple[str, ...]) -> tuple[str, exp.Expression] | None:
        grain = self.request.time_grain
        if grain is None:
            return None
        name = f"{TIME_ENTITY}__{grain}"
        return name, truncate(col("__day"), grain)

    def _semi_additive(self, node: MeasureNode, cte_name: str, group_by: tuple[str, ...]) -> str:
        """Balances: add across other dimensions, take the first/last/average day within each period."""
        ref = self.graph.measures[node.measure]
        nad = ref.measure.non_additive_dimension
        assert nad is not None
        daily, other = self._daily(node, cte_name, group_by, nad.name)
        time_out = self._time_out(group_by)
        period = [time_out[1]] if time_out else []
        outputs = [alias(copy_tree(time_out[1]), time_out[0])] if time_out else []
        outputs += [col(name) for name in other]
        if nad.window_choice == "average":
            days = _select(*(alias(copy_tree(p), "__period") for p in period))
            days = days.select(alias(exp.Count(this=exp.Distinct(expressions=[col("__day")])), "__days"), copy=False)
            days = days.from_(table(daily), copy=False)
            if period:
                days = days.group_by(*(copy_tree(p) for p in period), copy=False)
            days_cte = self.registry.add(f"{cte_name}__days", days)
            select = _select(
                *(alias(truncate(col("__day", "d"), self.request.time_grain), time_out[0]) for _ in [0] if time_out)
            )
            select = select.select(*(col(name, "d") for name in other), copy=False)
            ratio = exp.Div(
                this=cast(exp.Sum(this=col("value", "d")), DOUBLE),
                expression=exp.Max(this=col("__days", "n")),
            )
            select = select.select(alias(ratio, "value"), copy=False).from_(table(daily, alias="d"), copy=False)
            on = (
                exp.EQ(this=truncate(col("__day", "d"), self.request.time_grain), expression=col("__period", "n"))
                if time_out
                else exp.EQ(this=exp.Literal.number(1), expression=exp.Literal.number(1))
            )
            select = select.join(join_node(table(days_cte, alias="n"), on=on, how="inner"), copy=False)
            keys = [truncate(col("__day", "d"), self.request.time_grain)] if time_out else []
            keys += [col(name, "d") for name in other]
            if keys:
                select = select.group_by(*keys, copy=False)
            return self.registry.add(cte_name, select)
        edge_fn = exp.Max if nad.window_choice == "last" else exp.Min
        window = exp.Window(this=edge_fn(this=col("__day")), partition_by=[copy_tree(p) for p in period] or None)
        marked = _select("*").select(alias(window, "__edge"), copy=False).from_(table(daily), copy=False)
        marked_cte = self.registry.add(f"{cte_name}__edges", marked)
        select = (
            _select(*outputs, "value")
            .from_(table(marked_cte), copy=False)
            .where(exp.EQ(this=col("__day"), expression=col("__edge")), copy=False)
        )
        return self.registry.add(cte_name, select)

    def _cumulative(self, node: MeasureNode, cte_name: str, group_by: tuple[str, ...]) -> str:
        """Running totals over a time spine: a rolling window or grain-to-date, read at each period's end."""
        ref = self.graph.measures[node.measure]
        if ref.measure.agg not in ("sum", "count", "sum_boolean"):
            raise QueryError(f"cumulative metrics need an additive measure; '{node.measure}' is {ref.measure.agg}")
        daily, other = self._daily(node, cte_name, group_by, "agg_time")
        # A window goes on after the last row; with an end date the rows stop there, so the spine runs to it.
        high: exp.Expression = date_literal(self.request.end) if self.request.end else exp.Max(this=col("__day"))
        bounds = _select(
            alias(exp.Min(this=col("__day")), "__lo"),
            alias(high, "__hi"),
        ).from_(table(daily), copy=False)
        bounds_cte = self.registry.add(f"{cte_name}__bounds", bounds)
        spine = (
            _select(alias(cast(col(TIME_SPINE_COLUMN, "s"), DATE), "__day"))
            .from_(aliased_table(self.relation(TIME_SPINE_MODEL), "s"), copy=False)
            .join(
                join_node(
                    table(bounds_cte, alias="b"),
                    on=exp.Between(
                        this=cast(col(TIME_SPINE_COLUMN, "s"), DATE),
                        low=col("__lo", "b"),
                        high=col("__hi", "b"),
                    ),
                ),
                copy=False,
            )
        )
        spine_cte = self.registry.add(f"{cte_name}__spine", spine)
        if node.grain_to_date or (node.window and node.window[1] == "day"):
            running = self._running_by_window(node, daily, spine_cte, other, cte_name)
        else:
            running = self._running_by_join(node, daily, spine_cte, other)
        running_cte = self.registry.add(f"{cte_name}__running", running)
        time_out = self._time_out(group_by)
        period = [copy_tree(time_out[1])] if time_out else []
        window = exp.Window(this=exp.Max(this=col("__day")), partition_by=period or None)
        marked = _select("*").select(alias(window, "__edge"), copy=False).from_(table(running_cte), copy=False)
        marked_cte = self.registry.add(f"{cte_name}__edges", marked)
        outputs = [alias(copy_tree(time_out[1]), time_out[0])] if time_out else []
        select = _select(*outputs, *(col(n) for n in other), "value").from_(table(marked_cte), copy=False)
        return self.registry.add(
            cte_name, select.where(exp.EQ(this=col("__day"), expression=col("__edge")), copy=False)
        )

    @staticmethod
    def _running_by_join(node: MeasureNode, daily: str, spine_cte: str, other: list[str]) -> exp.Select:
        """Each spine day sums the daily rows in its window: general (any window unit), an inequality join."""
        if node.window:
            count, unit = node.window
            lower = exp.GT(this=col("__day", "d"), expression=shift(col("__day", "s"), -count, unit))
        else:
            lower = exp.GTE(this=col("__day", "d"), expression=truncate(col("__day", "s"), str(node.grain_to_date)))
        condition = exp.and_(exp.LTE(this=col("__day", "d"), expression=col("__day", "s")), lower, copy=False)
        running = _select(col("__day", "s"), *(col(n, "d") for n in other))
        running = running.select(alias(exp.Sum(this=col("value", "d")), "value"), copy=False)
        running = running.from_(table(spine_cte, alias="s"), copy=False)
        running = running.join(join_node(table(daily, alias="d"), on=condition, how="inner"), copy=False)
        return running.group_by(col("__day", "s"), *(col(n, "d") for n in other), copy=False)

    def _running_by_window(
        self, node: MeasureNode, daily: str, spine_cte: str, other: list[str], cte_name: str
    ) -> exp.Select:
        """Grain-to-date and day windows in one pass: a window sum over a dense (day x members) grid, keeping the
        days whose window holds at least one row (what the inequality join would return)."""
        grid = _select(col("__day", "s"), *(col(n, "m") for n in other)).from_(table(spine_cte, alias="s"), copy=False)
        if other:
            members = self.registry.add(
                f"{cte_name}__members",
                _select(*(col(n) for n in other)).distinct(copy=False).from_(table(daily), copy=False),
            )
            grid = grid.join(join_node(table(members, alias="m"), how="cross"), copy=False)
        grid_cte = self.registry.add(f"{cte_name}__grid", grid)
        on = exp.and_(
            exp.EQ(this=col("__day", "g"), expression=col("__day", "d")),
            *(exp.NullSafeEQ(this=col(n, "g"), expression=col(n, "d")) for n in other),
            copy=False,
        )
        partition = [col(n, "g") for n in other]
        if node.grain_to_date:
            partition.append(truncate(col("__day", "g"), node.grain_to_date))
            spec = exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="CURRENT ROW")
        else:
            assert node.window is not None
            spec = exp.WindowSpec(
                kind="ROWS", start=exp.Literal.number(node.window[0] - 1), start_side="PRECEDING", end="CURRENT ROW"
            )
        order = exp.Order(expressions=[exp.Ordered(this=col("__day", "g"))])

        def windowed(function: exp.Expression) -> exp.Window:
            return exp.Window(
                this=function,
                partition_by=[copy_tree(p) for p in partition] or None,
                order=copy_tree(order),
                spec=copy_tree(spec),
            )

        summed = _select(col("__day", "g"), *(col(n, "g") for n in other)).select(
            alias(windowed(exp.Sum(this=col("value", "d"))), "value"),
            alias(windowed(exp.Count(this=col("value", "d"))), "__rows"),
            copy=False,
        )
        summed = summed.from_(table(grid_cte, alias="g"), copy=False).join(
            join_node(table(daily, alias="d"), on=on, how="left"), copy=False
        )
        summed_cte = self.registry.add(f"{cte_name}__windowed", summed)
        return (
            _select("__day", *other, "value")
            .from_(table(summed_cte), copy=False)
            .where(exp.GT(this=col("__rows"), expression=exp.Literal.number(0)), copy=False)
        )

    def conversion(self, node: ConversionNode, cte_name: str, group_by: tuple[str, ...]) -> str:
        """Base events followed by a conversion event of the same entity within the window."""
        base_src = self.source(node.base_measure, node.filters, group_by, _history(node.lookback))
        base_ref = self.graph.measures[node.base_measure]
        entity = base_ref.model.entity(node.entity)
        assert entity is not None
        base = _select(*(alias(copy_tree(e), n) for n, e in base_src.group_by))
        base_entity = qualified(entity.expr or entity.name, BASE_ALIAS)
        base = base.select(
            alias(base_entity, "__entity"),
            alias(copy_tree(base_src.time_raw), "__ts"),
            copy=False,
        )
        base = self.from_clause(base_src, base, _known(base_entity))
        base_cte = self.registry.add(f"{cte_name}__base", base)
        conv_ref = self.graph.measures[node.conversion_measure]
        conv_entity = conv_ref.model.entity(node.entity)
        assert conv_entity is not None
        conv_time = conv_ref.measure.agg_time_dimension or conv_ref.model.spec.agg_time_dimension
        conv = _select(
            alias(qualified(conv_entity.expr or conv_entity.name, BASE_ALIAS), "__entity"),
            alias(time_column(conv_ref.model, conv_time), "__ts"),
        ).from_(aliased_table(self.relation(conv_ref.model.spec.model), BASE_ALIAS), copy=False)
        if conv_ref.measure.filter:
            conv = conv.where(qualified(conv_ref.measure.filter, BASE_ALIAS), copy=False)
        conv_cte = self.registry.add(f"{cte_name}__conversions", conv)
        count, unit = node.window
        within = exp.and_(
            exp.GTE(this=col("__ts", "c"), expression=col("__ts", "b")),
            exp.LTE(this=col("__ts", "c"), expression=shift(col("__ts", "b"), count, unit)),
            copy=False,
        )
        converted = exp.Max(
            this=exp.Case(ifs=[exp.If(this=within, true=exp.Literal.number(1))], default=exp.Literal.number(0))
        )
        keys = [col(n, "b") for n in group_by] + [col("__entity", "b"), col("__ts", "b")]
        matched = _select(*keys, alias(converted, "__converted"))
        matched = (
            matched.from_(table(base_cte, alias="b"), copy=False)
            .join(
                join_node(
                    table(conv_cte, alias="c"),
                    on=exp.EQ(this=col("__entity", "b"), expression=col("__entity", "c")),
                    how="left",
                ),
                copy=False,
            )
            .group_by(*(copy_tree(k) for k in keys), copy=False)
        )
        matched_cte = self.registry.add(f"{cte_name}__matched", matched)
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
        return self.registry.add(cte_name, select)

    def retention(self, node: RetentionNode, cte_name: str, group_by: tuple[str, ...]) -> str:
        """Entities active in the previous period and this one, over entities active in the previous period."""
        grain = self.request.time_grain
        assert grain is not None
        src = self.source(node.measure, node.filters, group_by, (*_history(node.lookback), ("shift", 1, grain)))
        ref = self.graph.measures[node.measure]
        entity = ref.model.entity(node.entity)
        assert entity is not None
        active_entity = qualified(entity.expr or entity.name, BASE_ALIAS)
        active = (
            _select(*(alias(copy_tree(e), n) for n, e in src.group_by))
            .select(alias(active_entity, "__entity"), copy=False)
            .distinct(copy=False)
        )
        active = self.from_clause(src, active, _known(active_entity))
        active_cte = self.registry.add(f"{cte_name}__active", active)
        time_name = f"{TIME_ENTITY}__{grain}"
        other = [n for n in group_by if n != time_name]
        previous = _select(
            alias(truncate(shift(col(time_name), 1, grain), grain), time_name),
            *(col(n) for n in other),
            col("__entity"),
        ).from_(table(active_cte), copy=False)
        previous_cte = self.registry.add(f"{cte_name}__previous", previous)
        on = exp.and_(
            *(exp.NullSafeEQ(this=col(n, "p"), expression=col(n, "c")) for n in (time_name, *other)),
            exp.EQ(this=col("__entity", "p"), expression=col("__entity", "c")),
            copy=False,
        )
        last_period = _select(exp.Max(this=col(time_name))).from_(table(active_cte), copy=False).subquery()
        value = exp.Div(
            this=cast(exp.Count(this=col("__entity", "c")), DOUBLE),
            expression=exp.Nullif(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(0)),
        )
        select = (
            _select(*(col(n, "p") for n in group_by), alias(value, "value"))
            .from_(table(previous_cte, alias="p"), copy=False)
            .join(join_node(table(active_cte, alias="c"), on=on, how="left"), copy=False)
            .where(exp.LTE(this=col(time_name, "p"), expression=last_period), copy=False)
            .group_by(*(col(n, "p") for n in group_by), copy=False)
        )
        return self.registry.add(cte_name, select)
