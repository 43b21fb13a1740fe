"""KPI index = sum of weight x (capped) achievement, in Decimal, rounded where the card says (rule 17).

Order: cap each achievement -> weight it -> round the component (if `component`) -> sum -> round
the sum (if `index`) -> cap the index. An unbounded achievement (lower_is_better, actual 0) needs
a per-KPI cap or an index cap to become a number. A KPI without achievement (no value, no target)
leaves the index undefined, unless the card says `missing_kpi: reweight`: then the present KPIs'
weights are scaled up to sum to 1 (weight / sum of present weights).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from kpiflow.scorecards.achievement_table import AchievementRow
from kpiflow.scorecards.model import CardKpi, Scorecard

CardLine = tuple[CardKpi, str | None, AchievementRow | None]


@dataclass(frozen=True)
class ScoreLine:
    """One KPI of one employee's card for one period."""

    kpi: str
    entity_type: str
    entity_id: str | None
    weight: Decimal
    actual: Decimal | None
    target: Decimal | None
    achievement: Decimal | None
    capped_achievement: Decimal | None
    weighted_score: Decimal | None
    status: str
    direction: str | None
    cap: Decimal | None
    target_note: str


@dataclass(frozen=True)
class IndexResult:
    lines: tuple[ScoreLine, ...]
    index: Decimal | None
    note: str


def _capped(item: CardKpi, row: AchievementRow | None) -> Decimal | None:
    achieved = row.achievement if row else None
    return achieved if achieved is None or item.cap is None else min(achieved, item.cap)


def _line(
    card: Scorecard, item: CardKpi, entity_id: str | None, row: AchievementRow | None, scale: Decimal
) -> ScoreLine:
    capped = _capped(item, row)
    weighted = None
    if capped is not None and capped.is_finite():
        weighted = card.rounding.component(item.weight * scale * capped)
    elif capped is not None:
        weighted = capped  # unbounded: only an index cap can still make this a number
    return ScoreLine(
        kpi=item.kpi,
        entity_type=item.entity_type,
        entity_id=entity_id,
        weight=item.weight,
        actual=row.actual if row else None,
        target=row.target if row else None,
        achievement=row.achievement if row else None,
        capped_achievement=capped,
        weighted_score=weighted,
        status=row.status if row else "no_data",
        direction=row.direction if row else None,
        cap=item.cap,
        target_note=row.target_note if row else "no target or no value for this entity and period",
    )


def score_card(card: Scorecard, lines: list[CardLine]) -> IndexResult:
    """The card's index for one employee and period from the achievement rows of its KPIs."""
    missing = [item.kpi for item, _, row in lines if _capped(item, row) is None]
    present_weight = sum((item.weight for item, _, row in lines if _capped(item, row) is not None), Decimal(0))
    reweight = bool(missing) and card.missing_kpi == "reweight" and present_weight > 0
    scale = 1 / present_weight if reweight else Decimal(1)
    scored = tuple(_line(card, item, entity_id, row, scale) for item, entity_id, row in lines)
    if missing and not reweight:
        return IndexResult(scored, None, f"no achievement for {', '.join(missing)}: index not computed")
    present = [line.weighted_score for line in scored if line.weighted_score is not None]
    total = card.rounding.index(sum(present, Decimal(0)))
    notes = [f"reweighted: {', '.join(missing)} missing, weights scaled by 1/{present_weight}"] if reweight else []
    if card.index_cap is not None and total > card.index_cap:
        notes.append(f"index capped at {card.index_cap}")
        total = card.index_cap
    if not total.is_finite():
        unbounded = [
            line.kpi for line in scored if line.weighted_score is not None and not line.weighted_score.is_finite()
        ]
        return IndexResult(scored, None, f"unbounded achievement of {', '.join(unbounded)}: give it a cap")
    return IndexResult(scored, total, "; ".join(notes))
