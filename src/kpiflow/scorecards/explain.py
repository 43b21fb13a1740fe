"""`--explain`: every number of a payout written out with the numbers filled in.

Built only from the published rows (scorecard_results and payouts), so the explanation shows what
was actually computed, e.g. `index = 0.5 x 1.100 + 0.25 x 0.850 + 0.25 x 1.500 = 1.1375` and
`pay = 560 + 240 x 1.1375 = 833.00`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from kpiflow.scorecards.formatting import amount, money, number, percent, score
from kpiflow.scorecards.periods import period_label

Row = Mapping[str, Any]


def achievement_formula(line: Row) -> str:
    actual, target, achieved = line["actual"], line["target"], line["achievement"]
    direction = line["direction"]
    if achieved is None and actual is None:
        return "no value for this period: achievement undefined"
    if direction == "lower_is_better":
        if achieved is None:
            return f"target / actual = {number(target)} / {number(actual)} = unbounded"
        text = f"target / actual = {number(target)} / {number(actual)} = {score(achieved)}"
    elif direction == "within_band":
        text = f"actual {number(actual)} against the band: {score(achieved)}"
    elif achieved is None:
        return f"actual / target = {number(actual)} / {number(target)}: undefined"
    else:
        text = f"actual / target = {number(actual)} / {number(target)} = {score(achieved)}"
    capped = line["capped_achievement"]
    if capped is not None and (achieved is None or capped != achieved):
        text += f", capped at {score(capped)}"
    return text


def index_formula(lines: list[Row], payout: Row) -> str:
    present = [line for line in lines if line["weighted_score"] is not None]
    terms = " + ".join(f"{number(line['weight'])} x {score(line['capped_achievement'])}" for line in present)
    index = payout["kpi_index"]
    if index is None:
        return f"index not computed: {payout['bonus_note']}"
    present_weight = sum((Decimal(line["weight"]) for line in present), Decimal(0))
    if present_weight != 1:
        terms = f"({terms}) / {number(present_weight)}"
    rounding = str(payout["index_rounding"])
    parts = [f"index = {terms}"]
    if rounding.startswith("component"):
        parts.append(" + ".join(score(line["weighted_score"]) for line in present))
    exact = sum((Decimal(line["weighted_score"]) for line in present), Decimal(0))
    if exact != index:
        parts.append(f"{number(exact)} -> {score(index)} ({rounding if rounding.startswith('index') else 'capped'})")
    else:
        parts.append(score(index))
    return " = ".join(parts) + f" = {percent(index)}"


def pay_formula(payout: Row) -> list[str]:
    fixed, variable, bonus, total = (
        payout["fixed_pay"],
        payout["variable_pay"],
        payout["bonus"],
        payout["total_pay"],
    )
    multiplier = payout["department_multiplier"]
    note = payout["bonus_note"] or ""
    if payout["status"] == "held":
        return [f"pay held for review: {payout['reason']}"]
    if total is None:  # provisional: the bonus to date, no payable total
        return [f"provisional: {payout['reason']}; bonus to date {money(bonus)}"]
    lines = [f"note: {note}"] if note else []
    if payout["pay_scheme"] == "additive":
        factor = f" x {number(multiplier)}" if multiplier != 1 else ""
        components = f"(components){factor} = {amount(fixed)} + {money(bonus)}"
        lines.append(f"pay = {amount(fixed)} + {components} = {money(total)}")
        return lines
    coefficient = payout["bonus_coefficient"]
    factor = f" x {number(multiplier)}" if multiplier != 1 else ""
    text = f"pay = {amount(fixed)} + {amount(variable)} x {number(coefficient)}{factor} = {money(total)}"
    if bonus > variable and multiplier == 1:
        text += f" (= {amount(fixed)} + {amount(variable)} + {money(bonus - variable)})"
    lines.append(text)
    return lines


def explain_payout(payout: Row, lines: list[Row]) -> str:
    """A few lines per employee: each KPI, the index, then pay."""
    period = period_label(payout["period_start"], payout["grain"])
    header = (
        f"{payout['card']} | employee {payout['employee_id']} | {period} | "
        f"{payout['pay_scheme']} pay, {payout['index_rounding']}"
    )
    out = [header]
    width = max((len(line["kpi"]) for line in lines), default=0)
    for line in lines:
        out.append(
            f"  {line['kpi']:<{width}}  weight {number(line['weight'])}: {achievement_formula(line)} [{line['status']}]"
        )
        out.append(f"  {'':<{width}}  target: {line['target_note']}")
    out.append("  " + index_formula(lines, payout))
    out.extend("  " + text for text in pay_formula(payout))
    return "\n".join(out)
