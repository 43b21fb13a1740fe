"""Export the kpiflow spec as dbt semantic-layer YAML (dbt 1.11 / MetricFlow spec with measures).

Everything MetricFlow can express is exported; what it cannot (retention metrics, balances averaged over time,
and anything that depends on them) is reported with the reason instead of being exported wrongly. The parity test
(`tests/parity/`) runs MetricFlow on the exported YAML and compares every exported metric with kpiflow's numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlglot import exp

from kpiflow.compiler.expressions import parse_expression
from kpiflow.compiler.graph import TIME_ENTITY, SemanticGraph
from kpiflow.compiler.inert import jinja_inert
from kpiflow.compiler.spec import MeasureSpec, MetricInput, MetricSpec, SemanticModelSpec, metric_inputs

_WINDOW_CHOICE = {"last": "max", "first": "min"}
_AGGREGATION = {"avg": "average"}  # dbt spells the mean `average`
_PLACEHOLDER = "__mf_ref__"
# kpiflow reads a running total at each period's last day (DECISIONS rule 8); MetricFlow's default is the first.
_CUMULATIVE_PERIOD_AGG = "last"


@dataclass
class ExportReport:
    exported: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def jinja_filter(text: str) -> str:
    """`store__region = 'north'` -> `{{ Dimension('store__region') }} = 'north'` (MetricFlow's filter syntax)."""
    tree = parse_expression(text).tree
    refs: dict[str, str] = {}

    def _swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table:
            name = node.name
            head, _, rest = name.partition("__")
            if head == TIME_ENTITY:
                jinja = "{{ TimeDimension('metric_time', '" + rest + "') }}"
            elif rest:
                jinja = "{{ Dimension('" + name + "') }}"
            else:
                jinja = "{{ Entity('" + name + "') }}"
            key = f"{_PLACEHOLDER}{len(refs)}"
            refs[key] = jinja
            return exp.column(key)
        return node

    text_out = jinja_inert(tree.transform(_swap).sql(dialect="duckdb"))  # a '{' in a string literal stays text
    for key, jinja in refs.items():
        text_out = text_out.replace(key, jinja)
    return text_out


def filter_dimension_name(measure: MeasureSpec) -> str:
    """The boolean dimension that carries a measure's row filter (MetricFlow measures have no filter)."""
    return f"{measure.name}_filter"


def _primary_entity(spec: SemanticModelSpec) -> str | None:
    return next((e.name for e in spec.entities if e.type == "primary"), None)


def _measure_filters(graph: SemanticGraph) -> dict[str, str]:
    """Measure name -> MetricFlow where-filter selecting the measure's rows.

    A measure filter drops rows before aggregation, so a group whose rows are all filtered out has no row at all.
    Folding the filter into the aggregated expression instead would keep such groups (with 0 or NULL), so the
    filter is exported as a dimension of the semantic model that every metric over the measure filters on.
    """
    filters: dict[str, str] = {}
    for ref in graph.measures.values():
        entity = _primary_entity(ref.model.spec)
        if ref.measure.filter and entity:
            dimension = f"{entity}__{filter_dimension_name(ref.measure)}"
            filters[ref.measure.name] = "{{ Dimension('" + dimension + "') }}"
    return filters


def _measure(measure: MeasureSpec, has_primary_entity: bool) -> dict | None:
    expr = measure.expr or measure.name
    if measure.filter and not has_primary_entity:  # no dimension can carry the filter: fold it (keeps empty groups)
        expr = f"case when {measure.filter} then {expr} end"
    out: dict = {"name": measure.name, "agg": _AGGREGATION.get(measure.agg, measure.agg), "expr": expr}
    if measure.agg in ("percentile", "median"):
        out["agg"] = "percentile"
        out["agg_params"] = {
            "percentile": measure.percentile if measure.agg == "percentile" else 0.5,
            "use_discrete_percentile": False,
        }
    if measure.agg_time_dimension:
        out["agg_time_dimension"] = measure.agg_time_dimension
    if measure.description:
        out["description"] = measure.description
    nad = measure.non_additive_dimension
    if nad:
        if nad.window_choice not in _WINDOW_CHOICE:
            return None
        out["non_additive_dimension"] = {"name": nad.name, "window_choice": _WINDOW_CHOICE[nad.window_choice]}
        if nad.window_groupings:
            out["non_additive_dimension"]["window_groupings"] = nad.window_groupings
    return out


def _input(item: MetricInput) -> dict:
    out: dict = {"name": item.name}
    if item.alias:
        out["alias"] = item.alias
    if item.filter:
        out["filter"] = jinja_filter(item.filter)
    if item.offset_window:
        out["offset_window"] = item.offset_window
    return out


def _filter_value(filters: list[str]) -> str | list[str]:
    return filters[0] if len(filters) == 1 else filters


def _metric(metric: MetricSpec, measure_filters: dict[str, str]) -> dict:
    out: dict = {
        "name": metric.name,
        "label": metric.label,
        "description": metric.description.strip(),
        "type": metric.type,
    }
    params: dict = {}
    filters = [jinja_filter(metric.filter)] if metric.filter else []
    if metric.type in ("simple", "cumulative"):
        measure: dict = {"name": metric.measure}
        if metric.fill_nulls_with is not None:
            measure["fill_nulls_with"] = int(metric.fill_nulls_with)
        if metric.join_to_timespine:
            measure["join_to_timespine"] = True
        params["measure"] = measure
        if metric.measure in measure_filters:
            filters.append(measure_filters[metric.measure])
    if metric.type == "cumulative":
        params["cumulative_type_params"] = {
            **({"window": metric.window} if metric.window else {"grain_to_date": metric.grain_to_date}),
            "period_agg": _CUMULATIVE_PERIOD_AGG,
        }
    if metric.type == "ratio":
        for key in ("numerator", "denominator"):
            value = getattr(metric, key)
            params[key] = _input(value if isinstance(value, MetricInput) else MetricInput(name=value))
    if metric.type == "derived":
        params["expr"] = metric.expr
        params["metrics"] = [_input(item) for item in metric.metrics]
    if metric.type == "conversion" and metric.conversion:
        conv = metric.conversion
        base: dict = {"name": conv.base_measure}
        # kpiflow counts converted base rows, so a group where none converted has 0 conversions, not NULL.
        converted: dict = {"name": conv.conversion_measure, "fill_nulls_with": 0}
        for side, name in ((base, conv.base_measure), (converted, conv.conversion_measure)):
            if name in measure_filters:
                side["filter"] = measure_filters[name]
        params["conversion_type_params"] = {
            "base_measure": base,
            "conversion_measure": converted,
            "entity": conv.entity,
            "window": conv.window,
            "calculation": conv.calculation,
        }
    out["type_params"] = params
    if filters:
        out["filter"] = _filter_value(filters)
    return out


def _unsupported(
    graph: SemanticGraph, name: str, bad_measures: set[str], seen: frozenset[str] = frozenset()
) -> str | None:
    metric = graph.metrics[name]
    if metric.type == "retention":
        return "retention metrics have no MetricFlow equivalent"
    measures = [m for m in (metric.measure,) if m]
    if metric.conversion:
        measures += [metric.conversion.base_measure, metric.conversion.conversion_measure]
    for measure in measures:
        if measure in bad_measures:
            return f"measure '{measure}' averages a balance over time (MetricFlow supports first/last only)"
    for item in metric_inputs(metric):
        if item.name in seen:
            continue
        reason = _unsupported(graph, item.name, bad_measures, seen | {name})
        if reason:
            return f"depends on '{item.name}': {reason}"
    return None


def _semantic_model(spec: SemanticModelSpec, bad_measures: set[str]) -> dict:
    has_primary = _primary_entity(spec) is not None
    measures = []
    for measure in spec.measures:
        exported = _measure(measure, has_primary)
        if exported is None:
            bad_measures.add(measure.name)
        else:
            measures.append(exported)
    model: dict = {"name": spec.name, "model": f"ref('{spec.model}')"}
    if spec.description:
        model["description"] = spec.description
    if spec.agg_time_dimension:
        model["defaults"] = {"agg_time_dimension": spec.agg_time_dimension}
    model["entities"] = [{"name": e.name, "type": e.type, "expr": e.expr or e.name} for e in spec.entities]
    model["dimensions"] = [
        {
            "name": d.name,
            "type": d.type,
            "expr": d.expr or d.name,
            **({"type_params": {"time_granularity": d.time_granularity}} if d.type == "time" else {}),
        }
        for d in spec.dimensions
    ]
    if has_primary:
        model["dimensions"] += [
            {
                "name": filter_dimension_name(m),
                "type": "categorical",
                "expr": m.filter,
                "description": f"True on the rows measure '{m.name}' aggregates (its kpiflow filter).",
            }
            for m in spec.measures
            if m.filter
        ]
    if measures:
        model["measures"] = measures
    return model


def export_semantic_layer(graph: SemanticGraph, directory: Path) -> ExportReport:
    report = ExportReport()
    bad_measures: set[str] = set()
    models = [_semantic_model(graph.models[name].spec, bad_measures) for name in sorted(graph.models)]
    measure_filters = _measure_filters(graph)
    metrics = []
    for name in sorted(graph.metrics):
        reason = _unsupported(graph, name, bad_measures)
        if reason:
            report.skipped[name] = reason
            continue
        metrics.append(_metric(graph.metrics[name], measure_filters))
        report.exported.append(name)
    directory.mkdir(parents=True, exist_ok=True)
    header = "# Exported by `kpiflow export dbt-semantic-layer` from metrics/*.yml.\n"
    (directory / "semantic_models.yml").write_text(
        header + yaml.safe_dump(_inert({"semantic_models": models}), sort_keys=False, width=110), encoding="utf-8"
    )
    (directory / "metrics.yml").write_text(
        header + yaml.safe_dump(_inert({"metrics": metrics}), sort_keys=False, width=110), encoding="utf-8"
    )
    return report


def _inert(data: Any, key: str = "") -> Any:
    """dbt renders the labels, descriptions and expressions of these files as Jinja: user text must print as
    written (inert.py). Filters are MetricFlow's Jinja by design; jinja_filter already made their text inert."""
    if key == "filter":
        return data
    if isinstance(data, dict):
        return {k: _inert(v, k) for k, v in data.items()}
    if isinstance(data, list):
        return [_inert(v, key) for v in data]
    return jinja_inert(data) if isinstance(data, str) else data
