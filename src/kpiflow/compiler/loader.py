"""Load metrics/*.yml into typed specs, turning schema errors into located issues."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from kpiflow.compiler.issues import Location, ValidationIssue
from kpiflow.compiler.spec import MartSpec, MetricFileSpec, MetricSpec, SemanticModelSpec
from kpiflow.yamlsource import LocatedYaml, SchemaProblem, YamlSyntaxError, field_path, load_located, schema_problems

SKIPPED_FOLDERS = ("scorecards",)  # cards live beside the metrics; compile checks them too (scorecard_check.py)


@dataclass
class LoadedSpecs:
    semantic_models: list[tuple[SemanticModelSpec, Location]] = field(default_factory=list)
    metrics: list[tuple[MetricSpec, Location]] = field(default_factory=list)
    marts: list[tuple[MartSpec, Location]] = field(default_factory=list)
    sources: dict[Path, LocatedYaml] = field(default_factory=dict)
    issues: list[ValidationIssue] = field(default_factory=list)


def _schema_issue(problem: SchemaProblem, file: Path) -> ValidationIssue:
    return ValidationIssue(Location(file, problem.line, problem.field), problem.message, problem.suggestion)


def metric_files(metrics_dir: Path) -> list[Path]:
    files = sorted(list(metrics_dir.rglob("*.yml")) + list(metrics_dir.rglob("*.yaml")))
    return [f for f in files if not any(part in SKIPPED_FOLDERS for part in f.relative_to(metrics_dir).parts[:-1])]


def load_specs(metrics_dir: Path) -> LoadedSpecs:
    """Parse every metric file; schema problems become issues, valid parts are kept."""
    loaded = LoadedSpecs()
    if not metrics_dir.is_dir():
        loaded.issues.append(ValidationIssue(Location(metrics_dir, None, ""), "the metrics folder does not exist"))
        return loaded
    for file in metric_files(metrics_dir):
        try:
            source = load_located(file)
        except YamlSyntaxError as exc:
            loaded.issues.append(ValidationIssue(Location(file, exc.line, ""), exc.message))
            continue
        loaded.sources[file] = source
        if not isinstance(source.data, dict):
            loaded.issues.append(
                ValidationIssue(Location(file, 1, ""), "expected a mapping with 'semantic_models' and/or 'metrics'")
            )
            continue
        try:
            parsed = MetricFileSpec.model_validate(source.data)
        except ValidationError as exc:
            problems = schema_problems(source, exc, MetricFileSpec)
            loaded.issues.extend(_schema_issue(problem, file) for problem in problems)
            continue
        for index, model in enumerate(parsed.semantic_models):
            path = ("semantic_models", index)
            loaded.semantic_models.append((model, Location(file, source.line_of(path), field_path(path))))
        for index, metric in enumerate(parsed.metrics):
            path = ("metrics", index)
            loaded.metrics.append((metric, Location(file, source.line_of(path), field_path(path))))
        for index, mart in enumerate(parsed.marts):
            path = ("marts", index)
            loaded.marts.append((mart, Location(file, source.line_of(path), field_path(path))))
    return loaded
