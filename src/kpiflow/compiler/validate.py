"""Load the metric definitions and build the semantic graph, then run the rules on it (rules.py, inert.py).

`load_graph` is the entry point of every command: it raises SpecInvalid (exit 2) listing every error at once.
"""

from __future__ import annotations

from pathlib import Path

from kpiflow.compiler.dbt_models import TIME_SPINE_MODEL, DbtModel, load_dbt_models
from kpiflow.compiler.graph import MeasureRef, Origin, SemanticGraph, SemanticModel
from kpiflow.compiler.inert import text_issues
from kpiflow.compiler.issues import Location, SpecInvalid, ValidationIssue
from kpiflow.compiler.loader import LoadedSpecs, load_specs
from kpiflow.compiler.rules import IssueLog, check_graph, check_specs
from kpiflow.compiler.spec import MetricSpec, metric_inputs

__all__ = ["build_graph", "load_graph", "metric_inputs"]  # metric_inputs: kept importable from here for plan.py


def _assemble(
    loaded: LoadedSpecs, dbt_models: dict[str, DbtModel]
) -> tuple[SemanticGraph, dict[str, Location], dict[str, Location]]:
    """The graph of the specs (first definition of a name wins; a model over an undocumented dbt model is left
    out), with where each semantic model and metric is defined."""
    models: dict[str, SemanticModel] = {}
    model_where: dict[str, Location] = {}
    for spec, where in loaded.semantic_models:
        dbt_model = dbt_models.get(spec.model)
        if dbt_model is not None:
            models.setdefault(spec.name, SemanticModel(spec, dbt_model))
            model_where.setdefault(spec.name, where)
    measures = {
        measure.name: MeasureRef(measure, model) for model in models.values() for measure in model.spec.measures
    }
    metrics: dict[str, MetricSpec] = {}
    metric_where: dict[str, Location] = {}
    for spec, where in loaded.metrics:
        metrics.setdefault(spec.name, spec)
        metric_where.setdefault(spec.name, where)
    origins = {f"metric:{n}": Origin(w.file, w.line, w.field) for n, w in metric_where.items()}
    origins.update({f"model:{n}": Origin(w.file, w.line, w.field) for n, w in model_where.items()})
    marts = {}
    for spec, where in loaded.marts:
        marts.setdefault(spec.name, spec)
        origins[f"mart:{spec.name}"] = Origin(where.file, where.line, where.field)
    graph = SemanticGraph(models, measures, metrics, origins, marts, dbt_models.get(TIME_SPINE_MODEL))
    return graph, model_where, metric_where


def build_graph(loaded: LoadedSpecs, dbt_models: dict[str, DbtModel]) -> tuple[SemanticGraph, list[ValidationIssue]]:
    """Assemble the graph from loaded specs and run every semantic rule."""
    issues = IssueLog(loaded.sources)
    issues.items.extend(loaded.issues)
    issues.items.extend(text_issues(loaded.sources))
    check_specs(loaded, dbt_models, issues)
    graph, model_where, metric_where = _assemble(loaded, dbt_models)
    check_graph(graph, loaded, model_where, metric_where, issues)
    return graph, issues.items


def load_graph(
    project_dir: Path, metrics_dir: Path | None = None, dbt_models: dict[str, DbtModel] | None = None
) -> SemanticGraph:
    """Load and validate; raise SpecInvalid (exit 2) listing every error when anything is wrong.

    `dbt_models`: the project's, when the caller has read them already (a query needs them again for SQL)."""
    loaded = load_specs(metrics_dir or project_dir / "metrics")
    graph, issues = build_graph(loaded, load_dbt_models(project_dir) if dbt_models is None else dbt_models)
    if any(i.severity == "error" for i in issues):
        raise SpecInvalid(issues, project_dir)
    return graph
