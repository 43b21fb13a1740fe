"""Render a QueryPlan to one SQL statement (sqlglot expression), then to text in any dialect.

Metrics are combined by joining per-metric CTEs on the group-by keys (null-safe), after each measure was
aggregated on its own; ratios divide aggregated numerator by aggregated denominator (NULL on zero).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from sqlglot import exp

from kpiflow.compiler.calendar_sql import date_literal, shift, spine_day
from kpiflow.compiler.ctes import Chains, CteRegistry
from kpiflow.compiler.dbt_models import TIME_SPINE_MODEL
from kpiflow.compiler.expressions import checked_expression, substitute_columns
from kpiflow.compiler.graph import TIME_ENTITY, SemanticGraph
from kpiflow.compiler.plan import (
    CombineNode,
    ConversionNode,
    MeasureNode,
    MetricNode,
    QueryPlan,
    RetentionNode,
    RuntimeDate,
)
from kpiflow.compiler.render_measures import MeasureRenderer
from kpiflow.compiler.resolve import Resolver, truncate
from kpiflow.compiler.rollups import RollupCatalog
from kpiflow.compiler.sqlbuild import alias, aliased_table, cast, col, copy_tree, ident, join_node, table
from kpiflow.compiler.sqltypes import DOUBLE
from kpiflow.compiler.sqltypes import adopting_select as _select

DIALECTS = ("duckdb", "postgres", "spark", "trino", "snowflake", "bigquery")
# Set in the meta (sqlglot's public per-node metadata) of a rendered query's root, a node built for that query alone,
# when its rows from the window start on depend on rows before it: a zero-filled spine whose members could only be
# read from the window. Such a query cannot replace just the window's periods.
READS_ALL_HISTORY = "kpiflow_reads_all_history"
KEYS = "keys"  # the alias of the key rows metrics or a formula's inputs are joined to


def reads_all_history(tree: exp.Expression) -> bool:
    """Does any query rendered into `tree` need every row to recompute the periods from its runtime window start?"""
    return any(node.meta.get(READS_ALL_HISTORY) for node in tree.find_all(exp.Select))


def _always_true() -> exp.Expression:
    return exp.EQ(this=exp.Literal.number(1), expression=exp.Literal.number(1))


def safe_division(tree: exp.Expression) -> exp.Expression:
    """Every division in a derived formula yields NULL on a zero or missing denominator, never an error."""

    def _fix(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Div) and not isinstance(node.expression, exp.Nullif):
            return exp.Div(
                this=cast(node.this, DOUBLE),
                expression=exp.Nullif(this=node.expression, expression=exp.Literal.number(0)),
            )
        return node

    return tree.transform(_fix, copy=False)  # a tree of its own: substitute_columns copied it


def table_aliases(names: list[str]) -> list[str]:
    """Aliases for the tables a select joins to its keys (KEYS), named after what each holds (a metric, an input
    of a formula); a name met again gets a number (`revenue_2`), so each is unique in the select."""
    taken = {KEYS}
    aliases = []
    for name in names:
        unique, number = name, 1
        while unique in taken:
            number += 1
            unique = f"{name}_{number}"
        taken.add(unique)
        aliases.append(unique)
    return aliases


def fill_literal(value: float) -> exp.Literal:
    """An integer literal when the value is whole, so a count filled with 0 stays an integer."""
    return exp.Literal.number(int(value) if float(value).is_integer() else value)


def filled(value: exp.Expression, fill: float | None) -> exp.Expression:
    """A metric's value where its input has no row for a key: the metric's fill value (`fill_nulls_with`), else
    NULL."""
    return value if fill is None else exp.Coalesce(this=value, expressions=[fill_literal(fill)])


def _digest(node: object) -> str:
    return hashlib.sha1(repr(node).encode()).hexdigest()[:6]


class QueryRenderer:
    def __init__(
        self,
        graph: SemanticGraph,
        relation: Callable[[str], exp.Table],
        resolver: Resolver | None = None,
        rollups: RollupCatalog | None = None,
    ) -> None:
        self.graph = graph
        self.relation = relation
        self.resolver = resolver or Resolver(graph)
        self.rollups = rollups
        self.chains = Chains()

    def render(self, plan: QueryPlan) -> exp.Select:
        request = plan.request
        self._request = request
        self._reads_all_history = False
        registry = CteRegistry()
        measures = MeasureRenderer(self.graph, registry, self.relation, request, self.resolver, self.rollups)
        group_by = request.group_by
        names: dict[MetricNode, str] = {}
        outputs = []
        for node in plan.metrics:
            outputs.append((node, self._metric(node, measures, registry, group_by, names)))
        final = self._join_on_keys(outputs, group_by, registry, "query")
        final = self._time_range(final, plan)
        for name in request.order_by or group_by:  # deterministic rows: by default, ordered by the keys
            final = final.order_by(exp.Ordered(this=col(name.lstrip("-")), desc=name.startswith("-")), copy=False)
        if request.limit is not None:
            final = final.limit(request.limit, copy=False)
        if registry.ctes:  # one WITH (Select.with_ rebuilds it for every CTE it adds)
            ctes = [
                exp.CTE(this=query, alias=exp.TableAlias(this=ident(name))) for name, query in registry.ctes.items()
            ]
            final.set("with_", exp.With(expressions=ctes))
        if self._reads_all_history:
            final.meta[READS_ALL_HISTORY] = True
        return final

    # -- metrics -----------------------------------------------------------------------------------------
    def _cte_name(self, node: MetricNode, names: dict[MetricNode, str]) -> str:
        if node in names:
            return names[node]
        taken = set(names.values())
        name = f"metric_{node.name}"
        if name in taken:
            name = f"{name}_{_digest(node)}"
        names[node] = name
        return name

    def _metric(
        self,
        node: MetricNode,
        measures: MeasureRenderer,
        registry: CteRegistry,
        group_by: tuple[str, ...],
        names: dict[MetricNode, str],
    ) -> str:
        if node in names and names[node] in registry.ctes:
            return names[node]
        cte_name = self._cte_name(node, names)
        body = node.body
        target = f"{cte_name}__raw" if self._needs_wrap(node, group_by) else cte_name
        span = (group_by, self._request.start, self._request.end)  # with the node, all a chain depends on
        if isinstance(body, CombineNode):
            raw = self._combine(body, node, measures, registry, group_by, names, target)
        else:
            build = {
                MeasureNode: measures.measure,
                ConversionNode: measures.conversion,
                RetentionNode: measures.retention,
            }[type(body)]
            raw = self.chains.chain((body, target, span), registry, lambda: build(body, target, group_by))
        if raw == cte_name:
            return cte_name
        windowed_at_runtime = isinstance(self._request.start, RuntimeDate)
        if windowed_at_runtime and self._fills_members(node, group_by) and not self._members_from_history(node):
            self._reads_all_history = True
        fill = (node.fill_nulls_with, node.join_to_timespine, node.body, raw, cte_name, span)
        return self.chains.chain(fill, registry, lambda: self._fill(node, raw, cte_name, measures, registry, group_by))

    @staticmethod
    def _needs_wrap(node: MetricNode, group_by: tuple[str, ...]) -> bool:
        return node.fill_nulls_with is not None or (
            node.join_to_timespine and any(g.startswith(TIME_ENTITY + "__") for g in group_by)
        )

    @staticmethod
    def _fills_members(node: MetricNode, group_by: tuple[str, ...]) -> bool:
        """Does the metric's spine cross its periods with members (the non-time group-by)?"""
        has_time = any(g.startswith(TIME_ENTITY + "__") for g in group_by)
        return node.join_to_timespine and has_time and len(group_by) > 1

    def _members_from_history(self, node: MetricNode) -> bool:
        """Under a runtime window start (an incremental model), the spine's members are those of all history, as a
        full build has them. Read directly for a plain measure; other bodies (ratios, windows, balances) would need
        their whole chain recomputed, so their members come from the window and the query reads all history."""
        if not isinstance(self._request.start, RuntimeDate) or not isinstance(node.body, MeasureNode):
            return False
        body = node.body
        plain = not (body.window or body.grain_to_date)
        return plain and self.graph.measures[body.measure].measure.non_additive_dimension is None

    def _fill(
        self,
        node: MetricNode,
        raw: str,
        cte_name: str,
        measures: MeasureRenderer,
        registry: CteRegistry,
        group_by: tuple[str, ...],
    ) -> str:
        """Periods with no rows appear (time spine) and empty values take the fill value."""
        time_name = next((g for g in group_by if g.startswith(TIME_ENTITY + "__")), None)
        rows = table_aliases([node.name])[0]  # the metric's rows, before filling
        value = filled(col("value", rows), node.fill_nulls_with)
        if not (node.join_to_timespine and time_name):
            select = _select(*(col(g, rows) for g in group_by), alias(value, "value"))
            return registry.add(cte_name, select.from_(table(raw, alias=rows), copy=False))
        grain = time_name.split("__", 1)[1]
        # The spine covers the requested range where one is given, else the periods that have data.
        request = self._request
        low: exp.Expression = exp.Min(this=col(time_name))
        if isinstance(request.start, RuntimeDate):
            if isinstance(node.body, MeasureNode):  # from history's first period, as a full build (see first_day_ever)
                first = _select("__first").from_(table(measures.first_day_ever(node.body, cte_name)), copy=False)
                low = truncate(first.subquery(), grain)
            low = exp.Greatest(this=truncate(date_literal(request.start), grain), expressions=[low])
        elif request.start:
            low = truncate(date_literal(request.start), grain)
        high: exp.Expression = (
            truncate(date_literal(request.end), grain) if request.end else exp.Max(this=col(time_name))
        )
        bounds = _select(
            alias(low, "__lo"),
            alias(high, "__hi"),
        ).from_(table(raw), copy=False)
        bounds_cte = registry.add(f"{cte_name}__bounds", bounds)
        period = truncate(spine_day(self.graph.time_spine, "spine"), grain)
        periods = (
            _select(alias(period, time_name))
            .distinct(copy=False)
            .from_(aliased_table(self.relation(TIME_SPINE_MODEL), "spine"), copy=False)
            .join(
                join_node(
                    table(bounds_cte, alias="bounds"),
                    on=exp.Between(this=copy_tree(period), low=col("__lo", "bounds"), high=col("__hi", "bounds")),
                ),
                copy=False,
            )
        )
        periods_cte = registry.add(f"{cte_name}__periods", periods)
        others = [g for g in group_by if g != time_name]
        keys_from: exp.Select = _select(col(time_name, "periods"), *(col(g, "members") for g in others)).from_(
            table(periods_cte, alias="periods"), copy=False
        )
        if others:
            if self._members_from_history(node):
                assert isinstance(node.body, MeasureNode)
                members = measures.members_ever_seen(node.body, cte_name, tuple(others))
            else:
                members = registry.add(
                    f"{cte_name}__members",
                    _select(*(col(g) for g in others)).distinct(copy=False).from_(table(raw), copy=False),
                )
            keys_from = keys_from.join(join_node(table(members, alias="members"), how="cross"), copy=False)
        keys_cte = registry.add(f"{cte_name}__spine", keys_from)
        on = exp.and_(*(exp.NullSafeEQ(this=col(g, KEYS), expression=col(g, rows)) for g in group_by), copy=False)
        select = (
            _select(*(col(g, KEYS) for g in group_by), alias(value, "value"))
            .from_(table(keys_cte, alias=KEYS), copy=False)
            .join(join_node(table(raw, alias=rows), on=on, how="left"), copy=False)
        )
        return registry.add(cte_name, select)

    def _combine(
        self,
        body: CombineNode,
        node: MetricNode,
        measures: MeasureRenderer,
        registry: CteRegistry,
        group_by: tuple[str, ...],
        names: dict[MetricNode, str],
        cte_name: str,
    ) -> str:
        inputs: list[tuple[str, str, bool]] = []  # (alias, cte, shifted)
        for item in body.inputs:
            child = self._metric(item.node, measures, registry, group_by, names)
            if item.offset:
                count, unit = item.offset
                time_name = next(g for g in group_by if g.startswith(TIME_ENTITY + "__"))
                grain = time_name.split("__", 1)[1]
                shifted = _select(
                    alias(truncate(shift(col(time_name), count, unit), grain), time_name),
                    *(col(g) for g in group_by if g != time_name),
                    "value",
                ).from_(table(child), copy=False)
                child = registry.add(f"{child}__offset_{count}_{unit}", shifted)
            inputs.append((item.alias, child, bool(item.offset)))
        tables = table_aliases([name for name, _, _ in inputs])
        values = [
            filled(col("value", source), item.node.fill_nulls_with)
            for source, item in zip(tables, body.inputs, strict=True)
        ]
        if body.kind == "ratio":
            formula: exp.Expression = exp.Div(
                this=cast(values[0], DOUBLE),
                expression=exp.Nullif(this=cast(values[1], DOUBLE), expression=exp.Literal.number(0)),
            )
        else:
            tree = checked_expression(str(body.expr)).tree
            mapping = {alias: values[i] for i, (alias, _, _) in enumerate(inputs)}
            formula = safe_division(substitute_columns(tree, mapping))
        key_sources = [cte for _, cte, shifted in inputs if not shifted] or [inputs[0][1]]
        keys_cte = self._keys(key_sources, group_by, registry, cte_name)
        select = _select(*(col(g, KEYS) for g in group_by), alias(formula, "value"))
        select = select.from_(table(keys_cte, alias=KEYS), copy=False)
        for source, (_, cte, _) in zip(tables, inputs, strict=True):
            select = select.join(
                join_node(table(cte, alias=source), on=self._key_match(KEYS, source, group_by), how="left"),
                copy=False,
            )
        return registry.add(cte_name, select)

    # -- keys and final --------------------------------------------------------------------------------
    @staticmethod
    def _key_match(left: str, right: str, group_by: tuple[str, ...]) -> exp.Expression:
        if not group_by:
            return _always_true()
        return exp.and_(*(exp.NullSafeEQ(this=col(g, left), expression=col(g, right)) for g in group_by), copy=False)

    def _keys(self, sources: list[str], group_by: tuple[str, ...], registry: CteRegistry, owner: str) -> str:
        if not group_by:
            return registry.add(f"{owner}__keys", _select(alias(exp.Literal.number(1), "__all")))
        union: exp.Query = _select(*(col(g) for g in group_by)).from_(table(sources[0]), copy=False)
        for source in sources[1:]:
            union = exp.union(
                union,
                _select(*(col(g) for g in group_by)).from_(table(source), copy=False),
                distinct=True,
                copy=False,
            )
        if len(sources) == 1:
            union = union.distinct(copy=False)  # type: ignore[attr-defined]
        return registry.add(f"{owner}__keys", union)  # type: ignore[arg-type]

    def _join_on_keys(
        self, outputs: list[tuple[MetricNode, str]], group_by: tuple[str, ...], registry: CteRegistry, owner: str
    ) -> exp.Select:
        """Requested metrics side by side: a row for every key any of them has; fill values where one is missing."""
        if len(outputs) == 1:
            node, cte = outputs[0]
            return _select(*(col(g) for g in group_by), alias(col("value"), node.name)).from_(table(cte), copy=False)
        keys_cte = self._keys([cte for _, cte in outputs], group_by, registry, owner)
        tables = table_aliases([node.name for node, _ in outputs])
        select = _select(*(col(g, KEYS) for g in group_by))
        select = select.select(
            *(
                alias(filled(col("value", t), node.fill_nulls_with), node.name)
                for t, (node, _) in zip(tables, outputs, strict=True)
            ),
            copy=False,
        )
        select = select.from_(table(keys_cte, alias=KEYS), copy=False)
        for source, (_, cte) in zip(tables, outputs, strict=True):
            select = select.join(
                join_node(table(cte, alias=source), on=self._key_match(KEYS, source, group_by), how="left"),
                copy=False,
            )
        return select

    @staticmethod
    def _time_range(select: exp.Select, plan: QueryPlan) -> exp.Select:
        request = plan.request
        grain = request.time_grain
        if grain is None or (request.start is None and request.end is None):
            return select
        time_name = f"{TIME_ENTITY}__{grain}"
        source = KEYS if len(plan.metrics) > 1 else None
        column = col(time_name, source)
        if request.start:
            select = select.where(
                exp.GTE(this=copy_tree(column), expression=truncate(date_literal(request.start), grain)), copy=False
            )
        if request.end:
            select = select.where(exp.LTE(this=copy_tree(column), expression=date_literal(request.end)), copy=False)
        return select
