"""Semantic rules of the metric definitions: each returns issues (file, line, field, suggestion), never raises.

Detected: duplicate names; unknown dbt models, columns, measures, dimensions, entities and metrics; time
dimensions without a grain; aggregations that don't fit the column type; unsafe or unknown expressions; join
paths that would fan out; cycles among derived metrics; type-specific required fields. Names that are not
identifiers and text that could forge generated code are inert.py's rules. validate.py builds the graph the
rules run on.
"""

from __future__ import annotations

from pathlib import Path

from kpiflow.compiler.dbt_models import DbtModel
from kpiflow.compiler.expressions import UnknownColumn, UnsafeExpression, parse_expression, parse_interval
from kpiflow.compiler.graph import SemanticGraph, SemanticModel
from kpiflow.compiler.issues import Location, ValidationIssue, closest
from kpiflow.compiler.loader import LoadedSpecs
from kpiflow.compiler.resolve import ResolutionError, Resolver
from kpiflow.compiler.spec import NUMERIC_AGGREGATIONS, MartSpec, MetricSpec, metric_input_paths, metric_inputs
from kpiflow.config import GENERATED_FOLDER
from kpiflow.yamlsource import LocatedYaml, field_path


class IssueLog:
    """Collects issues, locating a sub-field of an object by its YAML path."""

    def __init__(self, sources: dict[Path, LocatedYaml]) -> None:
        self.sources = sources
        self.items: list[ValidationIssue] = []

    def add(
        self,
        base: Location,
        sub: tuple[str | int, ...],
        message: str,
        suggestion: str | None = None,
        severity: str = "error",
    ) -> None:
        source = self.sources.get(base.file)
        base_path = _parse_field(base.field)
        path = (*base_path, *sub)
        line = source.line_of(path) if source else base.line
        self.items.append(ValidationIssue(Location(base.file, line, field_path(path)), message, suggestion, severity))  # type: ignore[arg-type]


def _parse_field(text: str) -> tuple[str | int, ...]:
    out: list[str | int] = []
    for chunk in text.replace("]", "").split("."):
        name, *indexes = chunk.split("[")
        if name:
            out.append(name)
        out.extend(int(i) for i in indexes)
    return tuple(out)


def _check_duplicates(loaded: LoadedSpecs, issues: IssueLog) -> None:
    seen: dict[str, Location] = {}
    for kind, items in (("semantic model", loaded.semantic_models), ("metric", loaded.metrics)):
        for spec, where in items:
            key = f"{kind}:{spec.name}"
            if key in seen:
                issues.add(
                    where,
                    ("name",),
                    f"duplicate {kind} name '{spec.name}' (first defined at {seen[key].file.name}:{seen[key].line})",
                    "Rename one of them.",
                )
            else:
                seen[key] = where
    measures: dict[str, Location] = {}
    for model, where in loaded.semantic_models:
        for index, measure in enumerate(model.measures):
            if measure.name in measures:
                issues.add(
                    where,
                    ("measures", index, "name"),
                    f"duplicate measure name '{measure.name}' (first defined in "
                    f"{measures[measure.name].field} of {measures[measure.name].file.name})",
                    "Measure names are global; rename one of them.",
                )
            else:
                measures[measure.name] = where
        for group in ("entities", "dimensions"):
            names: set[str] = set()
            for index, item in enumerate(getattr(model, group)):
                if item.name in names:
                    issues.add(where, (group, index, "name"), f"duplicate name '{item.name}' in {group}")
                names.add(item.name)


def _check_model(model: SemanticModel, where: Location, issues: IssueLog) -> None:
    spec = model.spec
    columns = model.dbt_model.columns

    def check_expr(sub: tuple[str | int, ...], text: str) -> None:
        try:
            parse_expression(text, allowed_columns=columns)
        except UnknownColumn as exc:
            issues.add(
                where,
                sub,
                f"column '{exc.name}' is not a documented column of dbt model '{spec.model}'",
                closest(exc.name, columns) or f"Columns: {', '.join(sorted(columns))}.",
            )
        except UnsafeExpression as exc:
            issues.add(where, sub, f"invalid expression: {exc}")

    for index, entity in enumerate(spec.entities):
        check_expr(("entities", index, "expr" if entity.expr else "name"), entity.expr or entity.name)
    for index, dim in enumerate(spec.dimensions):
        check_expr(("dimensions", index, "expr" if dim.expr else "name"), dim.expr or dim.name)
        if dim.type == "time" and dim.time_granularity is None:
            issues.add(
                where,
                ("dimensions", index),
                f"time dimension '{dim.name}' has no time_granularity",
                "Add 'time_granularity: day' (or week, month, quarter, year).",
            )
    time_dims = [d.name for d in spec.dimensions if d.type == "time"]
    if spec.agg_time_dimension and spec.agg_time_dimension not in time_dims:
        issues.add(
            where,
            ("agg_time_dimension",),
            f"agg_time_dimension '{spec.agg_time_dimension}' is not a time dimension of '{spec.name}'",
            closest(spec.agg_time_dimension, time_dims),
        )
    if sum(e.type == "primary" for e in spec.entities) > 1:
        issues.add(where, ("entities",), "a semantic model has at most one primary entity")
    for index, measure in enumerate(spec.measures):
        expr = measure.expr or measure.name
        check_expr(("measures", index, "expr" if measure.expr else "name"), expr)
        if measure.agg in NUMERIC_AGGREGATIONS:
            try:
                parsed = parse_expression(expr, allowed_columns=columns)
            except UnsafeExpression:
                parsed = None
            single_column = parsed is not None and parsed.tree.key == "column"
            if single_column and model.dbt_model.is_numeric(parsed.column_names[0]) is False:
                column = parsed.column_names[0]
                issues.add(
                    where,
                    ("measures", index, "agg"),
                    f"'{measure.agg}' needs a numeric column, but '{column}' is {columns[column]} in '{spec.model}'",
                    "Use count or count_distinct, or cast the column in the expression.",
                )
        if measure.agg == "percentile" and measure.percentile is None:
            issues.add(where, ("measures", index), "agg 'percentile' needs 'percentile: 0..1'")
        time_name = measure.agg_time_dimension or spec.agg_time_dimension
        if time_name is None:
            issues.add(
                where,
                ("measures", index),
                f"measure '{measure.name}' has no agg_time_dimension",
                "Set agg_time_dimension on the semantic model or the measure.",
            )
        elif time_name not in time_dims:
            issues.add(
                where,
                ("measures", index, "agg_time_dimension"),
                f"'{time_name}' is not a time dimension of '{spec.name}'",
                closest(time_name, time_dims),
            )
        if measure.non_additive_dimension and measure.non_additive_dimension.name not in time_dims:
            name = measure.non_additive_dimension.name
            issues.add(
                where,
                ("measures", index, "non_additive_dimension", "name"),
                f"non_additive_dimension '{name}' is not a time dimension of '{spec.name}'",
                closest(name, time_dims),
            )


def _check_filter(
    graph: SemanticGraph,
    resolver: Resolver,
    text: str,
    measure_names: list[str],
    where: Location,
    sub: tuple[str | int, ...],
    issues: IssueLog,
) -> None:
    try:
        parsed = parse_expression(text)
    except UnsafeExpression as exc:
        issues.add(where, sub, f"invalid filter: {exc}")
        return
    for measure_name in measure_names:
        ref = graph.measures.get(measure_name)
        if ref is None:
            continue
        time_dim = ref.measure.agg_time_dimension or ref.model.spec.agg_time_dimension
        for column in parsed.column_names:
            try:
                resolver.resolve(ref.model, column, time_dim)
            except ResolutionError as exc:
                issues.add(where, sub, f"filter: {exc}", exc.suggestion)
                return


def _leaf_measures(graph: SemanticGraph, metric: MetricSpec, seen: frozenset[str] = frozenset()) -> list[str]:
    if metric.name in seen:
        return []
    if metric.type in ("simple", "cumulative") and metric.measure:
        return [metric.measure]
    if metric.type == "conversion" and metric.conversion:
        return [metric.conversion.base_measure]
    if metric.type == "retention" and metric.retention:
        return [metric.retention.measure]
    out: list[str] = []
    for item in metric_inputs(metric):
        child = graph.metrics.get(item.name)
        if child is not None:
            out.extend(_leaf_measures(graph, child, seen | {metric.name}))
    return out


def _check_metric(
    graph: SemanticGraph, resolver: Resolver, metric: MetricSpec, where: Location, issues: IssueLog
) -> None:
    measures = sorted(graph.measures)

    def need_measure(sub: tuple[str | int, ...], name: str | None) -> None:
        if name is None:
            issues.add(where, sub[:-1] or ("type",), f"a {metric.type} metric needs '{sub[-1]}'")
        elif name not in graph.measures:
            issues.add(where, sub, f"unknown measure '{name}'", closest(name, measures))

    def need_entity(block: str, measure_name: str | None, entity: str) -> None:
        ref = graph.measures.get(measure_name) if measure_name else None
        if ref and ref.model.entity(entity) is None:
            issues.add(
                where,
                (block, "entity"),
                f"entity '{entity}' is not an entity of '{ref.model.name}'",
                closest(entity, [e.name for e in ref.model.spec.entities]),
            )

    if metric.type in ("simple", "cumulative"):
        need_measure(("measure",), metric.measure)
    if metric.type == "cumulative":
        if bool(metric.window) == bool(metric.grain_to_date):
            issues.add(where, ("type",), "a cumulative metric needs exactly one of 'window' or 'grain_to_date'")
        if metric.window:
            try:
                parse_interval(metric.window)
            except ValueError as exc:
                issues.add(where, ("window",), str(exc))
    if metric.type == "ratio" and (metric.numerator is None or metric.denominator is None):
        issues.add(where, ("type",), "a ratio metric needs 'numerator' and 'denominator' (metric names)")
    if metric.type == "derived":
        if not metric.expr or not metric.metrics:
            issues.add(where, ("type",), "a derived metric needs 'expr' and 'metrics'")
        else:
            names = [item.alias or item.name for item in metric.metrics]
            try:
                parse_expression(metric.expr, allowed_columns=names)
            except UnknownColumn as exc:
                issues.add(
                    where,
                    ("expr",),
                    f"'{exc.name}' is not one of this metric's inputs",
                    closest(exc.name, names) or f"Inputs: {', '.join(names)}.",
                )
            except UnsafeExpression as exc:
                issues.add(where, ("expr",), f"invalid expression: {exc}")
    if metric.type == "conversion":
        if metric.conversion is None:
            issues.add(where, ("type",), "a conversion metric needs a 'conversion' block")
        else:
            need_measure(("conversion", "base_measure"), metric.conversion.base_measure)
            need_measure(("conversion", "conversion_measure"), metric.conversion.conversion_measure)
            for key in ("base_measure", "conversion_measure"):
                need_entity("conversion", getattr(metric.conversion, key), metric.conversion.entity)
            try:
                parse_interval(metric.conversion.window)
            except ValueError as exc:
                issues.add(where, ("conversion", "window"), str(exc))
    if metric.type == "retention":
        if metric.retention is None:
            issues.add(where, ("type",), "a retention metric needs a 'retention' block")
        else:
            need_measure(("retention", "measure"), metric.retention.measure)
            need_entity("retention", metric.retention.measure, metric.retention.entity)
    for sub, item in metric_input_paths(metric):
        if item.name not in graph.metrics:
            issues.add(
                where,
                (*sub, "name") if sub[0] == "metrics" else sub,
                f"unknown metric '{item.name}'",
                closest(item.name, graph.metrics),
            )
        if item.offset_window:
            try:
                parse_interval(item.offset_window)
            except ValueError as exc:
                issues.add(where, (*sub, "offset_window"), str(exc))
    leaves = _leaf_measures(graph, metric)
    if metric.filter:
        _check_filter(graph, resolver, metric.filter, leaves, where, ("filter",), issues)
    for sub, item in metric_input_paths(metric):
        if item.filter and item.name in graph.metrics:
            _check_filter(
                graph,
                resolver,
                item.filter,
                _leaf_measures(graph, graph.metrics[item.name]),
                where,
                (*sub, "filter"),
                issues,
            )
    if metric.kpi:
        if metric.kpi.direction == "within_band" and metric.kpi.band is None:
            issues.add(where, ("kpi", "band"), "direction 'within_band' needs 'band: [low, high]'")
        for index, dim in enumerate(metric.kpi.natural_dimensions):
            for leaf in leaves:
                ref = graph.measures.get(leaf)
                if ref is None:
                    continue
                try:
                    resolver.resolve(
                        ref.model, dim, ref.measure.agg_time_dimension or ref.model.spec.agg_time_dimension
                    )
                except ResolutionError as exc:
                    issues.add(where, ("kpi", "natural_dimensions", index), str(exc), exc.suggestion)
                    break
        count_metric = metric.kpi.privacy_count_metric
        if count_metric and count_metric not in graph.metrics:
            issues.add(
                where,
                ("kpi", "privacy_count_metric"),
                f"unknown metric '{count_metric}'",
                closest(count_metric, graph.metrics),
            )


def _check_cycles(graph: SemanticGraph, origins: dict[str, Location], issues: IssueLog) -> None:
    state: dict[str, int] = {}

    def visit(name: str, stack: list[str]) -> None:
        if state.get(name) == 2 or name not in graph.metrics:
            return
        if state.get(name) == 1:
            cycle = [*stack[stack.index(name) :], name]
            issues.add(
                origins[name],
                ("metrics",),
                "derived metrics form a cycle: " + " -> ".join(cycle),
                "Break the cycle: a metric cannot depend on itself.",
            )
            return
        state[name] = 1
        for item in metric_inputs(graph.metrics[name]):
            visit(item.name, [*stack, name])
        state[name] = 2

    for name in sorted(graph.metrics):
        visit(name, [])


def _check_dbt_models(loaded: LoadedSpecs, dbt_models: dict[str, DbtModel], issues: IssueLog) -> None:
    for spec, where in loaded.semantic_models:
        if spec.model not in dbt_models:
            issues.add(
                where,
                ("model",),
                f"dbt model '{spec.model}' is not documented in any models/**/*.yml outside models/{GENERATED_FOLDER}",
                closest(spec.model, dbt_models),
            )


def _check_marts(marts: list[tuple[MartSpec, Location]], metrics: dict[str, MetricSpec], issues: IssueLog) -> None:
    names: set[str] = set()
    for spec, where in marts:
        if spec.name in names:
            issues.add(where, ("name",), f"duplicate mart name '{spec.name}'", "Rename one of them.")
        names.add(spec.name)
        for index, name in enumerate(spec.metrics):
            if name not in metrics:
                issues.add(where, ("metrics", index), f"unknown metric '{name}'", closest(name, metrics))


def check_specs(loaded: LoadedSpecs, dbt_models: dict[str, DbtModel], issues: IssueLog) -> None:
    """Rules on the specs as written: duplicate names, semantic models over undocumented dbt models."""
    _check_duplicates(loaded, issues)
    _check_dbt_models(loaded, dbt_models, issues)


def check_graph(
    graph: SemanticGraph,
    loaded: LoadedSpecs,
    model_where: dict[str, Location],
    metric_where: dict[str, Location],
    issues: IssueLog,
) -> None:
    """Rules on the assembled graph: marts, semantic models, metrics and cycles among derived metrics."""
    _check_marts(loaded.marts, graph.metrics, issues)
    for name, model in graph.models.items():
        _check_model(model, model_where[name], issues)
    resolver = Resolver(graph)
    for name, metric in graph.metrics.items():
        _check_metric(graph, resolver, metric, metric_where[name], issues)
    _check_cycles(graph, metric_where, issues)
