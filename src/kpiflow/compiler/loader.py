"""Load metrics/*.yml into typed specs, turning schema errors into located issues."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kpiflow.compiler.issues import Location, ValidationIssue, closest
from kpiflow.compiler.spec import MartSpec, MetricFileSpec, MetricSpec, SemanticModelSpec
from kpiflow.compiler.yaml_source import LocatedYaml, YamlSyntaxError, load_located

SKIPPED_FOLDERS = ("scorecards",)  # cards live beside the metrics; compile checks them too (scorecard_check.py)


@dataclass
class LoadedSpecs:
    semantic_models: list[tuple[SemanticModelSpec, Location]] = field(default_factory=list)
    metrics: list[tuple[MetricSpec, Location]] = field(default_factory=list)
    marts: list[tuple[MartSpec, Location]] = field(default_factory=list)
    sources: dict[Path, LocatedYaml] = field(default_factory=dict)
    issues: list[ValidationIssue] = field(default_factory=list)


def field_path(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _data_path(data: Any, loc: tuple[Any, ...]) -> tuple[str | int, ...]:
    """Pydantic's error location, minus the union-branch tags that are not keys in the data."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and part < len(node)
        ):
            path.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and part not in node and not path_is_branch(part):
            path.append(part)  # a missing or unknown key: keep it to name the field
            node = None
    return tuple(path)


def path_is_branch(part: str) -> bool:
    return part[:1].isupper() or part in {"str", "int", "float", "bool", "list", "dict", "tuple"}


def _schema_issue(source: LocatedYaml, error: dict[str, Any]) -> ValidationIssue:
    path = _data_path(source.data, tuple(error["loc"]))
    message = error["msg"]
    suggestion = None
    if error["type"] == "extra_forbidden":
        parent_model = _model_for(path)
        message = f"unknown field '{path[-1]}'"
        if parent_model is not None:
            suggestion = closest(str(path[-1]), parent_model.model_fields)
    elif error["type"] == "missing":
        message = f"required field '{path[-1]}' is missing"
    elif error["type"] == "literal_error":
        message = f"{error['msg']} (got {error.get('input')!r})"
    return ValidationIssue(Location(source.file, source.line_of(path), field_path(path)), message, suggestion)


def _model_for(path: tuple[str | int, ...]) -> Any:
    """The pydantic model class that owns the last key of `path` (for suggestions on unknown keys)."""
    from kpiflow.compiler import spec

    nested = {
        "semantic_models": spec.SemanticModelSpec,
        "entities": spec.EntitySpec,
        "dimensions": spec.DimensionSpec,
        "measures": spec.MeasureSpec,
        "kpi": spec.KpiSpec,
        "non_additive_dimension": spec.NonAdditiveSpec,
        "conversion": spec.ConversionSpec,
        "retention": spec.RetentionSpec,
        "marts": spec.MartSpec,
        "numerator": spec.MetricInput,
        "denominator": spec.MetricInput,
    }
    current: Any = MetricFileSpec
    for key in (p for p in path[:-1] if isinstance(p, str)):
        if key == "metrics":
            current = spec.MetricSpec if current is MetricFileSpec else spec.MetricInput
        else:
            current = nested.get(key, current)
    return current


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
            loaded.issues.extend(_schema_issue(source, err) for err in exc.errors())
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
