"""The validated semantic graph: semantic models, measures and metrics, indexed for the planner."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kpiflow.compiler.dbt_models import DbtModel
from kpiflow.compiler.spec import (
    DimensionSpec,
    EntitySpec,
    MartSpec,
    MeasureSpec,
    MetricSpec,
    SemanticModelSpec,
)

TIME_ENTITY = "metric_time"


@dataclass(frozen=True)
class Origin:
    """Where a definition was written, for error messages."""

    file: Path
    line: int | None
    field: str


@dataclass(frozen=True)
class SemanticModel:
    spec: SemanticModelSpec
    dbt_model: DbtModel

    @property
    def name(self) -> str:
        return self.spec.name

    def entity(self, name: str) -> EntitySpec | None:
        return next((e for e in self.spec.entities if e.name == name), None)

    def dimension(self, name: str) -> DimensionSpec | None:
        return next((d for d in self.spec.dimensions if d.name == name), None)

    @property
    def primary_entity(self) -> EntitySpec | None:
        return next((e for e in self.spec.entities if e.type == "primary"), None)

    def agg_time_dimension(self, measure: MeasureSpec) -> DimensionSpec | None:
        name = measure.agg_time_dimension or self.spec.agg_time_dimension
        return self.dimension(name) if name else None


@dataclass(frozen=True)
class MeasureRef:
    measure: MeasureSpec
    model: SemanticModel


@dataclass(frozen=True)
class SemanticGraph:
    models: dict[str, SemanticModel]
    measures: dict[str, MeasureRef]
    metrics: dict[str, MetricSpec]
    origins: dict[str, Origin] = field(default_factory=dict)  # "metric:x" / "mart:x" / "model:x"
    marts: dict[str, MartSpec] = field(default_factory=dict)
    time_spine: DbtModel | None = None  # the time spine's documented columns (known_dates.spine_day reads its type)

    def dimension_names(self) -> list[str]:
        """Every group-by name a query may use (for suggestions)."""
        names: set[str] = {f"{TIME_ENTITY}__{g}" for g in ("day", "week", "month", "quarter", "year")}
        for model in self.models.values():
            for entity in model.spec.entities:
                names.add(entity.name)
                if entity.type in ("primary", "unique", "natural"):
                    for dim in model.spec.dimensions:
                        names.add(f"{entity.name}__{dim.name}")
        return sorted(names)
