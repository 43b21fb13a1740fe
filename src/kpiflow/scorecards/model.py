"""What a scorecard is, once its YAML has been validated: frozen, typed, no pydantic."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Literal

from kpiflow.scorecards.rounding import MoneyRounding, RoundingRule

EntityType = Literal["company", "store", "department", "employee"]
# What a card does when a KPI has no achievement in a period (no value or no target): hold the payout
# for review (default), scale the present KPIs' weights up to 1, or count the KPI as 0 achievement.
OnMissing = Literal["hold", "reweight", "zero"]
ON_MISSING: tuple[str, ...] = ("hold", "reweight", "zero")
ENTITY_TYPES: tuple[str, ...] = ("company", "store", "department", "employee")
# The kpi_values dimension_set that holds each entity's values, and the column holding its id.
ENTITY_DIMENSION_SET: dict[str, str] = {
    "company": "overall",
    "store": "store",
    "department": "department",
    "employee": "employee",
}
COMPANY_ENTITY_ID = "company"


@dataclass(frozen=True)
class SeedTarget:
    """Targets come from seeds/kpi_targets.csv."""

    def describe(self) -> str:
        return "seed kpi_targets"


@dataclass(frozen=True)
class ConstantTarget:
    """The same target (and thresholds or band) for every entity and period."""

    target: Decimal | None
    minimum: Decimal | None = None
    stretch: Decimal | None = None
    band_low: Decimal | None = None
    band_high: Decimal | None = None

    def describe(self) -> str:
        return f"constant {self.target}"


@dataclass(frozen=True)
class BaselineTarget:
    """Target = mean of the KPI's own last `periods` values for the entity x (1 + uplift) (rule 20).

    With fewer than `min_periods` values in the window the fallback applies: a constant, the mean of
    all entities of the same type in the same period (`peer_mean`), or nothing (no target).
    """

    periods: int
    uplift: Decimal
    min_periods: int
    fallback: Decimal | Literal["peer_mean"] | None = None
    minimum_factor: Decimal | None = None
    stretch_factor: Decimal | None = None

    def describe(self) -> str:
        return f"baseline mean of {self.periods} periods x (1 + {self.uplift})"


TargetRule = SeedTarget | ConstantTarget | BaselineTarget


@dataclass(frozen=True)
class CardKpi:
    """One line of a card: which KPI, for which entity, how much it weighs, how it is capped."""

    kpi: str
    weight: Decimal
    entity_type: str
    target_rule: TargetRule
    cap: Decimal | None = None
    on_missing: OnMissing | None = None  # None: the card's policy


@dataclass(frozen=True)
class LinearPay:
    """bonus = variable pay x index, nothing below the floor (rule 18)."""

    floor: Decimal = Decimal("0.70")


@dataclass(frozen=True)
class StepBand:
    """A half-open band [lower, upper) of the index in percent; upper None = no upper bound."""

    lower: Decimal
    upper: Decimal | None
    coefficient: Decimal

    def contains(self, percent: Decimal) -> bool:
        return percent >= self.lower and (self.upper is None or percent < self.upper)

    def describe(self) -> str:
        upper = "inf" if self.upper is None else f"{self.upper}%"
        return f"[{self.lower}%, {upper})"


@dataclass(frozen=True)
class StepTablePay:
    """bonus = variable pay x the coefficient of the band the index falls in (rule 19)."""

    bands: tuple[StepBand, ...]

    def band_for(self, index: Decimal) -> StepBand:
        percent = index * 100
        for band in self.bands:
            if band.contains(percent):
                return band
        return self.bands[0]  # below the first band (a negative index): the lowest band applies


@dataclass(frozen=True)
class AdditiveComponent:
    """One K of pay = base + K1 + K2 + ...: an amount at 100% achievement, or money per unit of actual."""

    name: str
    kpi: str
    amount: Decimal | None = None
    per_unit: Decimal | None = None
    floor: Decimal | None = None


@dataclass(frozen=True)
class AdditivePay:
    components: tuple[AdditiveComponent, ...]


PayScheme = LinearPay | StepTablePay | AdditivePay


@dataclass(frozen=True)
class DepartmentMultiplier:
    """The department's plan level reached multiplies every member's bonus (rule 21)."""

    kpi: str
    below_minimum: Decimal
    minimum: Decimal
    optimal: Decimal
    maximum: Decimal

    def factor(self, level: str) -> Decimal:
        return {
            "below_minimum": self.below_minimum,
            "minimum": self.minimum,
            "optimal": self.optimal,
            "maximum": self.maximum,
        }[level]


@dataclass(frozen=True)
class Scorecard:
    """A role's card: KPIs with weights, caps, target rules, rounding and how the index becomes pay."""

    name: str
    label: str
    role: str
    grain: str
    kpis: tuple[CardKpi, ...]
    rounding: RoundingRule
    money_rounding: MoneyRounding
    pay: PayScheme
    index_cap: Decimal | None = None
    department_multiplier: DepartmentMultiplier | None = None
    on_missing: OnMissing = "hold"
    source: Path | None = None

    def missing_policy(self, item: CardKpi) -> OnMissing:
        """The KPI's own `on_missing`, else the card's."""
        return item.on_missing or self.on_missing
