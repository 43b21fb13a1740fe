"""The metric spec as analysts write it: pydantic models at the YAML boundary only.

The shape follows dbt's semantic layer (semantic models with entities, dimensions and measures; metrics of
several types) in a flatter form, plus KPI metadata. `docs/metric-spec.md` documents every field.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Grain = Literal["day", "week", "month", "quarter", "year"]
GRAINS: tuple[str, ...] = ("day", "week", "month", "quarter", "year")
Aggregation = Literal["sum", "count", "count_distinct", "avg", "min", "max", "median", "percentile", "sum_boolean"]
NUMERIC_AGGREGATIONS = frozenset({"sum", "avg", "median", "percentile"})


class _Strict(BaseModel):
    """Unknown keys are errors: a typo must not silently drop a setting."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class EntitySpec(_Strict):
    name: str
    type: Literal["primary", "unique", "foreign", "natural"]
    expr: str | None = None
    description: str | None = None


class DimensionSpec(_Strict):
    name: str
    type: Literal["categorical", "time"]
    expr: str | None = None
    time_granularity: Grain | None = None
    description: str | None = None
    label: str | None = None


class NonAdditiveSpec(_Strict):
    """A balance: add across other dimensions, but take one value across time."""

    name: str  # the time dimension the balance is measured on
    window_choice: Literal["last", "first", "average"] = "last"
    window_groupings: list[str] = Field(default_factory=list)


class MeasureSpec(_Strict):
    name: str
    agg: Aggregation
    expr: str | None = None
    filter: str | None = None
    percentile: float | None = Field(default=None, gt=0, lt=1)
    non_additive_dimension: NonAdditiveSpec | None = None
    agg_time_dimension: str | None = None
    description: str | None = None
    label: str | None = None


class SemanticModelSpec(_Strict):
    name: str
    model: str  # the dbt model the semantic model reads
    description: str | None = None
    agg_time_dimension: str | None = None
    entities: list[EntitySpec] = Field(default_factory=list)
    dimensions: list[DimensionSpec] = Field(default_factory=list)
    measures: list[MeasureSpec] = Field(default_factory=list)

    @field_validator("model")
    @classmethod
    def _strip_ref(cls, value: str) -> str:
        text = value.strip()
        if text.startswith("ref(") and text.endswith(")"):
            text = text[4:-1].strip().strip("'\"")
        return text


class MetricInput(_Strict):
    """A metric used inside a derived or ratio metric, optionally filtered or shifted in time."""

    name: str
    alias: str | None = None
    filter: str | None = None
    offset_window: str | None = None  # e.g. "1 year", "1 month", "1 quarter"


class ConversionSpec(_Strict):
    base_measure: str
    conversion_measure: str
    entity: str
    window: str  # e.g. "30 days"
    calculation: Literal["conversion_rate", "conversions"] = "conversion_rate"


class RetentionSpec(_Strict):
    """Entities active in the previous period and this one, over entities active in the previous period."""

    measure: str  # a measure whose rows are the activity events (for example orders)
    entity: str


class KpiSpec(_Strict):
    unit: Literal[
        "currency",
        "percent",
        "count",
        "ratio",
        "units",
        "days",
        "minutes",
        "hours",
        "score",
        "currency_per_sqft",
        "currency_per_employee",
        "currency_per_order",
        "units_per_order",
        "times",
    ]
    format: str | None = None
    direction: Literal["higher_is_better", "lower_is_better", "within_band"]
    band: tuple[float, float] | None = None
    owner: str
    perspective: Literal["finance", "customers", "processes", "people"]
    level: Literal["strategic", "operational", "functional"]
    natural_dimensions: list[str] = Field(default_factory=list)
    grains: list[Grain] = Field(default_factory=lambda: ["day", "month", "quarter", "year"])
    privacy_count_metric: str | None = None  # suppress cells covering fewer people than the minimum


class MetricSpec(_Strict):
    name: str
    type: Literal["simple", "ratio", "derived", "cumulative", "conversion", "retention"]
    label: str
    description: str
    measure: str | None = None
    numerator: MetricInput | str | None = None
    denominator: MetricInput | str | None = None
    expr: str | None = None
    metrics: list[MetricInput] = Field(default_factory=list)
    window: str | None = None
    grain_to_date: Grain | None = None
    conversion: ConversionSpec | None = None
    retention: RetentionSpec | None = None
    filter: str | None = None
    fill_nulls_with: float | None = None
    join_to_timespine: bool = False
    kpi: KpiSpec | None = None


class MartSpec(_Strict):
    """A wide mart for BI tools: several metrics side by side at one group-by."""

    name: str
    description: str
    metrics: list[str]
    group_by: list[str]


class MetricFileSpec(_Strict):
    """One YAML file under metrics/: any mix of semantic models, metrics and marts."""

    semantic_models: list[SemanticModelSpec] = Field(default_factory=list)
    metrics: list[MetricSpec] = Field(default_factory=list)
    marts: list[MartSpec] = Field(default_factory=list)


def metric_input_paths(metric: MetricSpec) -> Iterator[tuple[tuple[str | int, ...], MetricInput]]:
    """Each input metric of a ratio or derived metric, with its YAML path under the metric."""
    for key in ("numerator", "denominator"):
        value = getattr(metric, key)
        if value is not None:
            yield (key,), value if isinstance(value, MetricInput) else MetricInput(name=value)
    for index, item in enumerate(metric.metrics):
        yield ("metrics", index), item


def metric_inputs(metric: MetricSpec) -> list[MetricInput]:
    """The metrics a ratio or derived metric reads (a bare name becomes a MetricInput)."""
    return [item for _, item in metric_input_paths(metric)]
