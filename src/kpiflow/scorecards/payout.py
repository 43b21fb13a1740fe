"""From KPI index to pay: linear with a floor, a step table of coefficients, or additive components.

A payout is `paid`, `held` (no bonus could be computed: a KPI missing under `on_missing: hold`, an
unbounded achievement, an additive component without its KPI; bonus and total stay empty, never a
guess) or `provisional` (its period is still open at the run date: figures to date, not payable).

bonus = variable pay x coefficient x department multiplier (linear: coefficient = index, 0 below the
floor; step table: the band's coefficient), or (K1 + K2 + ...) x multiplier for additive pay.
Only money is rounded here, once, with the card's money rounding; total = fixed + bonus.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from kpiflow.scorecards.department import DepartmentFactor
from kpiflow.scorecards.formatting import number, percent
from kpiflow.scorecards.kpi_index import IndexResult
from kpiflow.scorecards.model import AdditivePay, LinearPay, Scorecard, StepTablePay


@dataclass(frozen=True)
class Payout:
    fixed_pay: Decimal
    variable_pay: Decimal
    kpi_index: Decimal | None
    bonus_coefficient: Decimal | None
    bonus: Decimal | None
    department_multiplier: Decimal
    total_pay: Decimal | None
    pay_scheme: str
    bonus_note: str
    status: str = "paid"  # paid | held | provisional
    reason: str | None = None  # why it is held or provisional, and any KPI the card did without

    def provisional(self, why: str) -> Payout:
        """The same figures for an open period: not payable, so no total (the bonus is to date)."""
        reason = "; ".join(text for text in (why, self.reason) if text)
        return replace(self, status="provisional", total_pay=None, reason=reason)


SCHEME_NAMES = {LinearPay: "linear", StepTablePay: "step_table", AdditivePay: "additive"}


def _additive_bonus(card: Scorecard, scheme: AdditivePay, result: IndexResult) -> tuple[Decimal | None, str]:
    lines = {line.kpi: line for line in result.lines}
    parts: list[str] = []
    total = Decimal(0)
    for component in scheme.components:
        line = lines[component.kpi]
        if component.per_unit is not None:
            if line.actual is None:
                return None, f"{component.name}: no value of {component.kpi}"
            amount = card.money_rounding(component.per_unit * line.actual)
            parts.append(f"{component.name} = {number(component.per_unit)} x {number(line.actual)} = {amount}")
        else:
            achieved = line.capped_achievement
            if achieved is None or not achieved.is_finite():
                return None, f"{component.name}: no finite achievement of {component.kpi}"
            if component.floor is not None and achieved < component.floor:
                amount = Decimal(0)
                parts.append(f"{component.name} = 0 (achievement {number(achieved)} below floor {component.floor})")
            else:
                amount = card.money_rounding(component.amount * achieved)  # type: ignore[operator]
                parts.append(f"{component.name} = {number(component.amount)} x {number(achieved)} = {amount}")
        total += amount
    return total, "; ".join(parts)


def compute_payout(
    card: Scorecard,
    result: IndexResult,
    fixed_pay: Decimal,
    variable_pay: Decimal,
    department: DepartmentFactor,
) -> Payout:
    """Pay for one employee and period; held (bonus and total None, with the reason) when it cannot be computed."""
    money = card.money_rounding
    fixed, variable = money(fixed_pay), money(variable_pay)
    scheme_name = SCHEME_NAMES[type(card.pay)]
    notes = [result.note] if result.note else []
    coefficient: Decimal | None = None
    base: Decimal | None = None
    index = result.index
    held_because = result.note
    if index is None:
        pass
    elif isinstance(card.pay, LinearPay):
        if index < card.pay.floor:
            coefficient = Decimal(0)
            notes.append(f"index {number(index)} is below the floor {card.pay.floor}: no bonus")
        else:
            coefficient = index
        base = variable * coefficient
    elif isinstance(card.pay, StepTablePay):
        band = card.pay.band_for(index)
        coefficient = band.coefficient
        notes.append(f"index {percent(index)} is in band {band.describe()} -> coefficient {coefficient}")
        base = variable * coefficient
    else:
        base, held_because = _additive_bonus(card, card.pay, result)
        notes.append(held_because)
    if card.department_multiplier is not None:
        notes.append(department.note)
    bonus = None if base is None else money(base * department.factor)
    held = bonus is None
    reason = f"held: {held_because}" if held else (result.missing_note or None)
    return Payout(
        fixed_pay=fixed,
        variable_pay=variable,
        kpi_index=index,
        bonus_coefficient=coefficient,
        bonus=bonus,
        department_multiplier=department.factor,
        total_pay=None if bonus is None else fixed + bonus,
        pay_scheme=scheme_name,
        bonus_note="; ".join(n for n in notes if n),
        status="held" if held else "paid",
        reason=reason,
    )
