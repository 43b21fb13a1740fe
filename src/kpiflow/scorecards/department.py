"""Department multiplier (rule 21): which of the department's minimum / optimal / maximum plans was reached.

The department's actual is the multiplier KPI's value at dimension_set 'department' in kpi_values;
the plan comes from seeds/department_plans.csv (most specific row: department and period > department
> period > neither). No plan or no actual: factor 1 and a note, never a silent guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from kpiflow.scorecards.inputs import DepartmentPlan
from kpiflow.scorecards.model import DepartmentMultiplier
from kpiflow.scorecards.targets import Series

LEVELS = ("maximum", "optimal", "minimum")


@dataclass(frozen=True)
class DepartmentFactor:
    factor: Decimal
    level: str | None
    note: str


class DepartmentPlans:
    def __init__(self, plans: list[DepartmentPlan]) -> None:
        self._rows = {(p.department, p.kpi, p.grain, p.period_start): p for p in plans}

    def lookup(self, department: str, kpi: str, grain: str, period_start: date) -> DepartmentPlan | None:
        for d, p in ((department, period_start), (department, None), (None, period_start), (None, None)):
            if (plan := self._rows.get((d, kpi, grain, p))) is not None:
                return plan
        return None

    def problems(self) -> list[tuple[DepartmentPlan, str]]:
        """Plans whose levels are out of order (min <= optimal <= max, or reversed for lower-is-better)."""
        found = []
        for plan in self._rows.values():
            ascending = plan.minimum <= plan.optimal <= plan.maximum
            descending = plan.minimum >= plan.optimal >= plan.maximum
            if not (ascending or descending):
                found.append((plan, f"levels {plan.minimum} / {plan.optimal} / {plan.maximum} are not in order"))
        return found


def reached_level(plan: DepartmentPlan, actual: Decimal, direction: str) -> str | None:
    """The highest level reached; lower_is_better plans are reached from above."""
    for level in LEVELS:
        threshold: Decimal = getattr(plan, level)
        if (actual <= threshold) if direction == "lower_is_better" else (actual >= threshold):
            return level
    return None


def department_factor(
    rule: DepartmentMultiplier,
    plans: DepartmentPlans,
    department_values: Series,
    department: str | None,
    grain: str,
    period_start: date,
    direction: str,
) -> DepartmentFactor:
    if department is None:
        return DepartmentFactor(Decimal(1), None, "employee has no department: multiplier 1")
    plan = plans.lookup(department, rule.kpi, grain, period_start)
    if plan is None:
        return DepartmentFactor(Decimal(1), None, f"no {rule.kpi} plan for department {department}: multiplier 1")
    actual = department_values.get((department, period_start))
    if actual is None:
        return DepartmentFactor(Decimal(1), None, f"no {rule.kpi} value for department {department}: multiplier 1")
    level = reached_level(plan, actual, direction)
    factor = rule.factor(level or "below_minimum")
    plan_text = f"plans {plan.minimum} / {plan.optimal} / {plan.maximum}"
    reached = f"reached {level}" if level else "below minimum"
    return DepartmentFactor(
        factor, level, f"department {department} {rule.kpi} = {actual} ({plan_text}): {reached} -> x {factor}"
    )
