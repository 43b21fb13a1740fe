"""The YAML boundary: pydantic models that mirror a card file, converted at once to frozen dataclasses.

Shape checks (types, unknown keys, required fields) live here; rules that need the whole card or
the list of known KPIs (weights, names, band gaps) live in `validation`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kpiflow.scorecards import model as m
from kpiflow.scorecards.rounding import MoneyRounding, RoundingMode, RoundingRule, RoundingScope


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BaselineSpec(_Spec):
    periods: int = Field(6, ge=1)
    uplift: Decimal = Decimal(0)
    min_periods: int | None = Field(None, ge=1)
    fallback: Decimal | Literal["peer_mean"] | None = None


class TargetSpec(_Spec):
    """`target: seed`, `target: {constant: 0.2, ...}` or `target: {baseline: {periods: 6, uplift: 0.2}}`."""

    seed: bool = False
    constant: Decimal | None = None
    baseline: BaselineSpec | None = None
    minimum: Decimal | None = None
    stretch: Decimal | None = None
    band_low: Decimal | None = None
    band_high: Decimal | None = None
    minimum_factor: Decimal | None = None
    stretch_factor: Decimal | None = None

    @model_validator(mode="before")
    @classmethod
    def _seed_shorthand(cls, value: Any) -> Any:
        if value == "seed":
            return {"seed": True}
        if isinstance(value, str):
            raise ValueError(f"unknown target source {value!r}; use 'seed', {{constant: ...}} or {{baseline: ...}}")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> TargetSpec:
        band_only = self.constant is None and (self.band_low is not None or self.band_high is not None)
        sources = [self.seed, self.constant is not None or band_only, self.baseline is not None]
        if sum(sources) != 1:
            raise ValueError("give exactly one of: seed, constant (or band_low/band_high), baseline")
        if self.baseline is not None and (self.minimum is not None or self.stretch is not None):
            raise ValueError("a baseline target takes minimum_factor/stretch_factor, not minimum/stretch")
        if self.baseline is None and (self.minimum_factor is not None or self.stretch_factor is not None):
            raise ValueError("minimum_factor/stretch_factor only apply to a baseline target")
        if (self.band_low is None) != (self.band_high is None):
            raise ValueError("give both band_low and band_high")
        if self.band_low is not None and self.band_high is not None and self.band_low > self.band_high:
            raise ValueError(f"band_low {self.band_low} is above band_high {self.band_high}")
        return self

    def to_rule(self) -> m.TargetRule:
        if self.baseline is not None:
            b = self.baseline
            return m.BaselineTarget(
                periods=b.periods,
                uplift=b.uplift,
                min_periods=b.min_periods or b.periods,
                fallback=b.fallback,
                minimum_factor=self.minimum_factor,
                stretch_factor=self.stretch_factor,
            )
        if self.seed:
            return m.SeedTarget()
        return m.ConstantTarget(self.constant, self.minimum, self.stretch, self.band_low, self.band_high)


class CardKpiSpec(_Spec):
    kpi: str
    weight: Decimal
    entity: Literal["company", "store", "department", "employee"] | None = None
    cap: Decimal | None = Field(None, gt=0)
    target: TargetSpec = TargetSpec(seed=True)
    on_missing: m.OnMissing | None = None


class RoundingSpec(_Spec):
    applies_to: RoundingScope
    digits: int | None = Field(None, ge=0, le=12)
    mode: RoundingMode | None = None

    @model_validator(mode="after")
    def _digits_when_rounding(self) -> RoundingSpec:
        if self.applies_to != "none" and (self.digits is None or self.mode is None):
            raise ValueError(f"rounding at '{self.applies_to}' needs digits and mode (e.g. 3, half_even)")
        return self


class MoneyRoundingSpec(_Spec):
    digits: int = Field(2, ge=0, le=2)
    mode: RoundingMode = "half_up"


class StepBandSpec(_Spec):
    lower: Decimal = Field(alias="from")
    upper: Decimal | None = Field(None, alias="to")
    coefficient: Decimal = Field(ge=0)


class ComponentSpec(_Spec):
    name: str
    kpi: str
    amount: Decimal | None = None
    per_unit: Decimal | None = None
    floor: Decimal | None = None

    @model_validator(mode="after")
    def _one_amount(self) -> ComponentSpec:
        if (self.amount is None) == (self.per_unit is None):
            raise ValueError("give exactly one of amount (money at 100% achievement) or per_unit")
        return self


class PaySpec(_Spec):
    scheme: Literal["linear", "step_table", "additive"]
    floor: Decimal | None = Field(None, ge=0)
    bands: list[StepBandSpec] | None = None
    components: list[ComponentSpec] | None = None

    @model_validator(mode="after")
    def _fields_for_scheme(self) -> PaySpec:
        wanted = {"linear": "floor", "step_table": "bands", "additive": "components"}[self.scheme]
        for name in ("floor", "bands", "components"):
            if name != wanted and getattr(self, name) is not None:
                raise ValueError(f"'{name}' does not apply to scheme {self.scheme} (it takes '{wanted}')")
        if self.scheme != "linear" and not getattr(self, wanted):
            raise ValueError(f"scheme {self.scheme} needs a non-empty '{wanted}' list")
        return self

    def to_scheme(self) -> m.PayScheme:
        if self.scheme == "linear":
            return m.LinearPay(self.floor if self.floor is not None else Decimal("0.70"))
        if self.scheme == "step_table":
            bands = sorted(self.bands or [], key=lambda b: b.lower)
            return m.StepTablePay(tuple(m.StepBand(b.lower, b.upper, b.coefficient) for b in bands))
        return m.AdditivePay(
            tuple(m.AdditiveComponent(c.name, c.kpi, c.amount, c.per_unit, c.floor) for c in self.components or [])
        )


class DepartmentMultiplierSpec(_Spec):
    kpi: str
    factors: dict[Literal["below_minimum", "minimum", "optimal", "maximum"], Decimal]

    @model_validator(mode="after")
    def _three_levels(self) -> DepartmentMultiplierSpec:
        missing = [level for level in ("minimum", "optimal", "maximum") if level not in self.factors]
        if missing:
            raise ValueError(f"factors need minimum, optimal and maximum; missing {', '.join(missing)}")
        return self

    def to_model(self) -> m.DepartmentMultiplier:
        f = self.factors
        return m.DepartmentMultiplier(
            self.kpi, f.get("below_minimum", Decimal(1)), f["minimum"], f["optimal"], f["maximum"]
        )


class ScorecardSpec(_Spec):
    name: str | None = None
    label: str | None = None
    role: str
    entity: Literal["company", "store", "department", "employee"] = "employee"
    grain: Literal["month", "quarter", "year"] = "month"
    kpis: list[CardKpiSpec] = Field(min_length=1)
    index_cap: Decimal | None = Field(None, gt=0)
    rounding: RoundingSpec
    money_rounding: MoneyRoundingSpec = MoneyRoundingSpec()
    pay: PaySpec
    department_multiplier: DepartmentMultiplierSpec | None = None
    on_missing: m.OnMissing | None = None
    missing_kpi: Literal["no_index", "reweight"] | None = None  # the old name of on_missing (no_index = hold)

    def missing_policy(self) -> m.OnMissing:
        if self.on_missing is not None:
            return self.on_missing
        return "reweight" if self.missing_kpi == "reweight" else "hold"

    def to_model(self, default_name: str, source: Any) -> m.Scorecard:
        name = self.name or default_name
        return m.Scorecard(
            name=name,
            label=self.label or name.replace("_", " ").capitalize(),
            role=self.role,
            grain=self.grain,
            kpis=tuple(
                m.CardKpi(k.kpi, k.weight, k.entity or self.entity, k.target.to_rule(), k.cap, k.on_missing)
                for k in self.kpis
            ),
            rounding=RoundingRule(
                self.rounding.applies_to, self.rounding.digits or 0, self.rounding.mode or "half_even"
            ),
            money_rounding=MoneyRounding(self.money_rounding.digits, self.money_rounding.mode),
            pay=self.pay.to_scheme(),
            index_cap=self.index_cap,
            department_multiplier=self.department_multiplier.to_model() if self.department_multiplier else None,
            on_missing=self.missing_policy(),
            source=source,
        )
