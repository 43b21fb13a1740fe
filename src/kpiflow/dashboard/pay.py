"""Each person's scorecard for the pay pages: the lines and the explanation `kpiflow scorecard --explain` prints.

Reuses the scorecard command's line formatting and `explain_payout`, so the page and the terminal never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kpiflow.dashboard.marts import PayCard
from kpiflow.scorecards.explain import explain_payout
from kpiflow.scorecards.report import LINE_COLUMNS, line_cells


@dataclass(frozen=True)
class Person:
    employee_id: str
    lines: tuple[tuple[str, ...], ...]  # LINE_COLUMNS, as the terminal shows them
    explain: str


@dataclass(frozen=True)
class CardPage:
    card: str
    period_start: date
    columns: tuple[str, ...]
    people: tuple[Person, ...]


def card_page(card: PayCard) -> CardPage:
    people = []
    for payout in card.payouts:
        lines = card.lines.get(payout["employee_id"], [])
        cells = tuple(tuple(line_cells(line)) for line in lines)
        people.append(Person(payout["employee_id"], cells, explain_payout(payout, lines)))
    return CardPage(card.card, card.period_start, LINE_COLUMNS, tuple(people))
