"""Export the kpiflow spec as dbt semantic-layer YAML (dbt 1.11 / MetricFlow spec with measures).

Everything MetricFlow can express is exported; what it cannot (retention metrics, balances averaged over time,
and anything that depends on them) is reported with the reason instead of being exported wrongly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sqlglot import exp

from kpiflow.compiler.expressions import parse_expression
from kpiflow.compiler.graph import TIME_ENTITY, SemanticGraph
from kpiflow.compiler.spec import MeasureSpec, MetricInput, MetricSpec
from kpiflow.compiler.validate import metric_inputs

_WINDOW_CHOICE = {"last": "max", "first": "min"}
_PLACEHOLDER = "__mf_ref__"


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

    text_out = tree.transform(_swap).sql(dialect="duckdb")
    for key, jinja in refs.items():
        text_out = text_out.replace(key, jinja)
    return text_out


def _measure(measure: MeasureSpec) -> dict | None:
    expr = measure.expr or measure.name
    if measure.filter:  # aggregate functions skip NULLs, so a filter folds into the expression
        expr = f"case when {measure.filter} then {expr} end"
    out: dict = {"name": measure.name, "agg": measure.agg, "expr": expr}
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


def _metric(metric: MetricSpec) -> dict:
    out: dict = {
        "name": metric.name,
        "label": metric.label,
        "description": metric.description.strip(),
        "type": metric.type,
    }
    params: dict = {}
    if metric.type in ("simple", "cumulative"):
        measure: dict = {"name": metric.measure}
        if metric.fill_nulls_with is not None:
            measure["fill_nulls_with"] = int(metric.fill_nulls_with)
        if metric.join_to_timespine:
            measure["join_to_timespine"] = True
        params["measure"] = measure
    if metric.type == "cumulative":
        params["cumulative_type_params"] = (
            {"window": metric.window} if metric.window else {"grain_to_date": metric.grain_to_date}
        )
    if metric.type == "ratio":
        for key in ("numerator", "denominator"):
            value = getattr(metric, key)
            params[key] = _input(value if isinstance(value, MetricInput) else MetricInput(name=value))
    if metric.type == "derived":
        params["expr"] = metric.expr
        params["metrics"] = [_input(item) for item in metric.metrics]
    if metric.type == "conversion" and metric.conversion:
        conv = metric.conversion
        params["conversion_type_params"] = {
            "base_measure": {"name": conv.base_measure},
            "conversion_measure": {"name": conv.conversion_measure},
            "entity": conv.entity,
            "window": conv.window,
            "calculation": conv.calculation,
        }
    out["type_params"] = params
    if metric.filter:
        out["filter"] = jinja_filter(metric.filter)
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


def export_semantic_layer(graph: SemanticGraph, directory: Path) -> ExportReport:
    report = ExportReport()
    models = []
    bad_measures: set[str] = set()
    for name in sorted(graph.models):
        spec = graph.models[name].spec
        measures = []
        for measure in spec.measures:
            exported = _measure(measure)
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
        if measures:
            model["measures"] = measures
        models.append(model)
    metrics = []
    for name in sorted(graph.metrics):
        reason = _unsupported(graph, name, bad_measures)
        if reason:
            report.skipped[name] = reason
            continue
        metrics.append(_metric(graph.metrics[name]))
        report.exported.append(name)
    directory.mkdir(parents=True, exist_ok=True)
    header = "# Exported by `kpiflow export dbt-semantic-layer` from metrics/*.yml.\n"
    (directory / "semantic_models.yml").write_text(
        header + yaml.safe_dump({"semantic_models": models}, sort_keys=False, width=110), encoding="utf-8"
    )
    (directory / "metrics.yml").write_text(
        header + yaml.safe_dump({"metrics": metrics}, sort_keys=False, width=110), encoding="utf-8"
    )
    return report
