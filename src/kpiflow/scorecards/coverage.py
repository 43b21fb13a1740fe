"""Who a card should score and what a person must hear about the payouts it could not simply pay.

A warehouse in which nobody holds a card's role gets no results for it: a warning, not a failure.
Employees who hold the role but got no result at all (none of the card's KPIs has a value) fail the
build: their pay would silently be missing. Held, partial and provisional payouts are summed up per
card in warnings that name the employees, periods and reasons (the full list is payroll.payouts).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from kpiflow.scorecards.inputs import Employee
from kpiflow.scorecards.model import Scorecard
from kpiflow.scorecards.payout import Payout
from kpiflow.scorecards.periods import period_label

EXAMPLES = 3
CardWarning = tuple[str, str]  # (card, message)


class ScoredPayout(Protocol):
    card: Scorecard
    employee: Employee
    period_start: date
    payout: Payout


def _listed(names: Sequence[str], separator: str = ", ") -> str:
    shown = separator.join(names[:EXAMPLES])
    return shown + (f" (+{len(names) - EXAMPLES} more)" if len(names) > EXAMPLES else "")


def missing_results(
    cards: Sequence[Scorecard],
    employees: Sequence[Employee],
    results: Sequence[ScoredPayout],
    first_day: date | None,
    run_date: date,
) -> tuple[list[str], list[CardWarning]]:
    """(problems, warnings): role holders employed in the data's range without any result, and empty cards."""
    problems: list[str] = []
    warnings: list[CardWarning] = []
    scored = {r.card.name for r in results}
    for card in cards:
        holders = [e for e in employees if e.job_role == card.role]
        if not holders:
            warnings.append(
                (
                    card.name,
                    f"card {card.name}: no employee has job_role '{card.role}' in staging.stg_employees, so it has "
                    "no results; the KPI marts are published without them",
                )
            )
            continue
        if card.name in scored:
            continue
        eligible = [e.employee_id for e in holders if e.active_between(first_day or date.min, run_date)]
        if eligible:
            kpis = ", ".join(item.kpi for item in card.kpis)
            problems.append(
                f"card {card.name}: {len(eligible)} employees with job_role '{card.role}' ({_listed(eligible)}) "
                f"have no result because none of its KPIs ({kpis}) has a value up to {run_date} in "
                "marts.kpi_values; check those KPIs' inputs (kpiflow query) or the card's role"
            )
    return problems, warnings


def payout_warnings(results: Sequence[ScoredPayout]) -> list[CardWarning]:
    """One line per card and kind: held, paid on a partial card, provisional; with examples and reasons."""
    by_kind: dict[tuple[str, str], list[str]] = {}
    for r in results:
        p = r.payout
        if p.status == "paid" and not p.reason:
            continue
        kind = "paid on a partial card" if p.status == "paid" else p.status
        example = f"{r.employee.employee_id} {period_label(r.period_start, r.card.grain)}: {p.reason}"
        by_kind.setdefault((r.card.name, kind), []).append(example)
    return [
        (
            card,
            f"card {card}: {len(examples)} payouts {kind} (payroll.payouts.status/reason): {_listed(examples, '; ')}",
        )
        for (card, kind), examples in by_kind.items()
    ]
