"""Each person's scorecard for the pay pages: the lines and the explanation `kpiflow scorecard --explain` prints.

Reuses the scorecard command's formatting and `explain_payout`, so the page and the terminal never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kpiflow.dashboard.marts import PayCard
from kpiflow.scorecards.explain import explain_payout
from kpiflow.scorecards.formatting import number, score


@dataclass(frozen=True)
class KpiLine:
    kpi: str
    cells: tuple[str, ...]  # weight, actual, target, achievement, capped, weighted, status


@dataclass(frozen=True)
class Person:
    employee_id: str
    lines: tuple[KpiLine, ...]
    explain: str


@dataclass(frozen=True)
class CardPage:
    card: str
    period_start: date
    people: tuple[Person, ...]


def people(card: PayCard) -> CardPage:
    persons = []
    for payout in card.payouts:
        lines = card.lines.get(payout["employee_id"], [])
        persons.append(
            Person(
                employee_id=payout["employee_id"],
                lines=tuple(
                    KpiLine(
                        line["kpi"],
                        (
                            number(line["weight"]),
                            number(line["actual"]),
                            number(line["target"]),
                            score(line["achievement"]),
                            score(line["capped_achievement"]),
                            score(line["weighted_score"]),
                            str(line["status"]),
                        ),
                    )
                    for line in lines
                ),
                explain=explain_payout(payout, lines),
            )
        )
    return CardPage(card.card, card.period_start, tuple(persons))
