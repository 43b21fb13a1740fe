"""Query planning: a request (metrics, group-by, filters, time range) becomes a tree of small frozen nodes.

Every node computes one value column at the request's group-by grain, so the renderer can aggregate each
measure at its own grain before anything is joined, and nothing fans out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kpiflow.compiler.expressions import UnsafeExpression, checked_expression, parse_interval
from kpiflow.compiler.graph import TIME_ENTITY, SemanticGraph
from kpiflow.compiler.issues import closest
from kpiflow.compiler.resolve import ResolutionError, Resolver
from kpiflow.compiler.spec import GRAINS, MetricInput, MetricSpec
from kpiflow.compiler.validate import metric_inputs
from kpiflow.errors import UserInputError


class QueryError(UserInputError):
    """A request that cannot be planned (unknown name, offset without a time grain, ...). Exit code 2."""


RUNTIME_DATE_PREFIX = "__dbt_macro__"


@dataclass(frozen=True)
class RuntimeDate:
    """A start date the warehouse supplies when the query runs: a dbt macro's value, such as an incremental model's
    window start. The time spine then starts at the later of it and the first period with data, so that one model
    text serves both the full build (the macro returns an early date) and the incremental one."""

    macro: str

    @property
    def placeholder(self) -> str:
        """Column name that `to_dbt_sql` turns into `{{ macro() }}`, a DATE-typed SQL expression."""
        return f"{RUNTIME_DATE_PREFIX}{self.macro}"


@dataclass(frozen=True)
class QueryRequest:
    metrics: tuple[str, ...]
    group_by: tuple[str, ...] = ()
    where: tuple[str, ...] = ()
    start: date | RuntimeDate | None = None
    end: date | None = None
    order_by: tuple[str, ...] = ()
    limit: int | None = None

    @property
    def time_grain(self) -> str | None:
        for name in self.group_by:
            head, _, grain = name.partition("__")
            if head == TIME_ENTITY:
                return grain
        return None


@dataclass(frozen=True)
class MeasureNode:
    """Aggregate one measure (simple, semi-additive or cumulative) at the group-by grain."""

    measure: str
    filters: tuple[str, ...]
    window: tuple[int, str] | None = None
    grain_to_date: str | None = None
    lookback: tuple[tuple[int, str], ...] = ()  # offsets above this node: how much earlier data a period needs


@dataclass(frozen=True)
class ConversionNode:
    base_measure: str
    conversion_measure: str
    entity: str
    window: tuple[int, str]
    calculation: str
    filters: tuple[str, ...]
    lookback: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class RetentionNode:
    measure: str
    entity: str
    filters: tuple[str, ...]
    lookback: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class InputNode:
    alias: str
    node: MetricNode
    offset: tuple[int, str] | None = None


@dataclass(frozen=True)
class CombineNode:
    """A ratio (num / den) or derived expression over input metric values."""

    name: str
    kind: str  # 'ratio' | 'derived'
    inputs: tuple[InputNode, ...]
    expr: str | None = None


@dataclass(frozen=True)
class MetricNode:
    """A requested or input metric: what to compute, plus its time-spine and null-fill behaviour."""

    name: str
    body: MeasureNode | ConversionNode | RetentionNode | CombineNode
    fill_nulls_with: float | None = None
    join_to_timespine: bool = False


@dataclass(frozen=True)
class QueryPlan:
    request: QueryRequest
    metrics: tuple[MetricNode, ...]


class Planner:
    def __init__(self, graph: SemanticGraph, resolver: Resolver | None = None) -> None:
        self.graph = graph
        self.resolver = resolver or Resolver(graph)

    def plan(self, request: QueryRequest) -> QueryPlan:
        if not request.metrics:
            raise QueryError("name at least one metric (--metrics a,b)")
        for text in request.where:
            try:
                checked_expression(text)
            except UnsafeExpression as exc:
                raise QueryError(f"--where {text!r}: {exc}") from None
        if sum(name.startswith(TIME_ENTITY + "__") for name in request.group_by) > 1:
            raise QueryError("group by at most one metric_time grain")
        nodes = tuple(self._metric(name, request, request.where, ()) for name in request.metrics)
        leaves = sorted({m for node in nodes for m in _leaf_measures(node)})
        for measure in leaves:
            ref = self.graph.measures[measure]
            time_dim = ref.measure.agg_time_dimension or ref.model.spec.agg_time_dimension
            for name in request.group_by:
                try:
                    self.resolver.resolve(ref.model, name, time_dim)
                except ResolutionError as exc:
                    raise QueryError(f"--group-by {name}: {exc}. {exc.suggestion or ''}".strip()) from None
        for name in request.order_by:
            bare = name.lstrip("-")
            if bare not in request.group_by and bare not in request.metrics:
                raise QueryError(
                    f"--order {name}: order by a group-by name or a requested metric",
                )
        return QueryPlan(request, nodes)

    def _metric(
        self,
        name: str,
        request: QueryRequest,
        filters: tuple[str, ...],
        stack: tuple[str, ...],
        lookback: tuple[tuple[int, str], ...] = (),
    ) -> MetricNode:
        metric = self.graph.metrics.get(name)
        if metric is None:
            raise QueryError(f"unknown metric '{name}'. {closest(name, self.graph.metrics) or ''}".strip())
        if name in stack:
            raise QueryError("derived metrics form a cycle: " + " -> ".join((*stack, name)))
        own = filters + ((metric.filter,) if metric.filter else ())
        body = self._body(metric, request, own, (*stack, name), lookback)
        return MetricNode(name, body, metric.fill_nulls_with, metric.join_to_timespine)

    def _body(
        self,
        metric: MetricSpec,
        request: QueryRequest,
        filters: tuple[str, ...],
        stack: tuple[str, ...],
        lookback: tuple[tuple[int, str], ...],
    ) -> MeasureNode | ConversionNode | RetentionNode | CombineNode:
        if metric.type == "simple":
            return MeasureNode(str(metric.measure), filters, lookback=lookback)
        if metric.type == "cumulative":
            window = parse_interval(metric.window) if metric.window else None
            grain = request.time_grain
            if metric.grain_to_date and grain and GRAINS.index(grain) > GRAINS.index(metric.grain_to_date):
                raise QueryError(
                    f"'{metric.name}' accumulates {metric.grain_to_date}-to-date; it cannot be shown by {grain}"
                )
            return MeasureNode(str(metric.measure), filters, window, metric.grain_to_date, lookback)
        if metric.type == "conversion":
            spec = metric.conversion
            assert spec is not None
            return ConversionNode(
                spec.base_measure,
                spec.conversion_measure,
                spec.entity,
                parse_interval(spec.window),
                spec.calculation,
                filters,
                lookback,
            )
        if metric.type == "retention":
            spec_r = metric.retention
            assert spec_r is not None
            if request.time_grain is None:
                raise QueryError(f"'{metric.name}' compares consecutive periods: group by a metric_time grain")
            return RetentionNode(spec_r.measure, spec_r.entity, filters, lookback)
        inputs = []
        for item in metric_inputs(metric):
            inputs.append(self._input(item, request, filters, stack, metric.name, lookback))
        kind = "ratio" if metric.type == "ratio" else "derived"
        return CombineNode(metric.name, kind, tuple(inputs), metric.expr)

    def _input(
        self,
        item: MetricInput,
        request: QueryRequest,
        filters: tuple[str, ...],
        stack: tuple[str, ...],
        parent: str,
        lookback: tuple[tuple[int, str], ...],
    ) -> InputNode:
        offset = parse_interval(item.offset_window) if item.offset_window else None
        if offset is not None:
            grain = request.time_grain
            if grain is None:
                raise QueryError(f"'{parent}' compares with an earlier period: group by a metric_time grain")
            if GRAINS.index(offset[1]) < GRAINS.index(grain):
                raise QueryError(f"'{parent}' shifts by {offset[0]} {offset[1]}, finer than the grain '{grain}'")
        child_filters = filters + ((item.filter,) if item.filter else ())
        # Earlier data matters only when a start date limits what is read; otherwise share the unshifted node.
        needs_history = offset is not None and request.start is not None
        node = self._metric(item.name, request, child_filters, stack, lookback + ((offset,) if needs_history else ()))
        return InputNode(item.alias or item.name, node, offset)


def _leaf_measures(node: MetricNode) -> list[str]:
    body = node.body
    if isinstance(body, MeasureNode):
        return [body.measure]
    if isinstance(body, ConversionNode):
        return [body.base_measure]  # the conversion side is joined by entity only, never grouped
    if isinstance(body, RetentionNode):
        return [body.measure]
    return [m for item in body.inputs for m in _leaf_measures(item.node)]
