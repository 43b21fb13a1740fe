"""KPI index = sum of weight x (capped) achievement, in Decimal, rounded where the card says (rule 17).

Order: cap each achievement -> weight it -> round the component (if `component`) -> sum -> round
the sum (if `index`) -> cap the index. An unbounded achievement (lower_is_better, actual 0) needs
a per-KPI cap or an index cap to become a number. A KPI without achievement (no value, no target)
follows the card's `on_missing` (or its own): `hold` (default) leaves the index undefined and the
payout held for review, `zero` counts it as 0 achievement, `reweight` drops it and scales the
remaining KPIs' weights up to sum to 1 (weight / sum of their weights).
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
    """The index, how it was computed, and what was missing (`missing_note` names the KPIs and the policy)."""

    lines: tuple[ScoreLine, ...]
    index: Decimal | None
    note: str
    missing_note: str = ""


def _capped(item: CardKpi, row: AchievementRow | None) -> Decimal | None:
    achieved = row.achievement if row else None
    return achieved if achieved is None or item.cap is None else min(achieved, item.cap)


def _line(
    card: Scorecard, item: CardKpi, entity_id: str | None, row: AchievementRow | None, scale: Decimal
) -> ScoreLine:
    capped = _capped(item, row)
    note = row.target_note if row else "no target or no value for this entity and period"
    if capped is None and card.missing_policy(item) == "zero":
        capped, note = Decimal(0), f"{note}; counted as 0 (on_missing: zero)"
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
        target_note=note,
    )


def _missing_note(missing: dict[str, list[str]], present_weight: Decimal) -> str:
    """E.g. `no achievement for plan_attainment (on_missing: hold)`; reweighting names the scale it applied."""
    parts = []
    for policy, kpis in missing.items():
        text = f"no achievement for {', '.join(kpis)} (on_missing: {policy}"
        if policy == "reweight" and kpis:
            text += f", weights scaled by 1/{present_weight}"
        parts.append(text + ")")
    return "; ".join(parts)


def score_card(card: Scorecard, lines: list[CardLine]) -> IndexResult:
    """The card's index for one employee and period from the achievement rows of its KPIs."""
    missing: dict[str, list[str]] = {}
    for item, _, row in lines:
        if _capped(item, row) is None:
            missing.setdefault(card.missing_policy(item), []).append(item.kpi)
    dropped = [
        id(item) for item, _, row in lines if _capped(item, row) is None and card.missing_policy(item) == "reweight"
    ]
    present_weight = sum((item.weight for item, _, _ in lines if id(item) not in dropped), Decimal(0))
    if dropped and present_weight == 0:
        missing = {"hold": [kpi for kpis in missing.values() for kpi in kpis]}
    scale = 1 / present_weight if dropped and "hold" not in missing else Decimal(1)
    missing_note = _missing_note(missing, present_weight)
    if "hold" in missing and len(missing) > 1:  # the other policies did not apply: name every missing KPI
        every = [item.kpi for item, _, row in lines if _capped(item, row) is None]
        missing_note = f"no achievement for {', '.join(every)} (on_missing: hold for {', '.join(missing['hold'])})"
    scored = tuple(_line(card, item, entity_id, row, scale) for item, entity_id, row in lines)
    if "hold" in missing:
        return IndexResult(scored, None, f"{missing_note}: index not computed", missing_note)
    present = [line.weighted_score for line in scored if line.weighted_score is not None]
    total = card.rounding.index(sum(present, Decimal(0)))
    notes = [missing_note] if missing_note else []
    if card.index_cap is not None and total > card.index_cap:
        notes.append(f"index capped at {card.index_cap}")
        total = card.index_cap
    if not total.is_finite():
        unbounded = [
            line.kpi for line in scored if line.weighted_score is not None and not line.weighted_score.is_finite()
        ]
        note = f"unbounded achievement of {', '.join(unbounded)}: give it a cap"
        return IndexResult(scored, None, note, missing_note)
    return IndexResult(scored, total, "; ".join(notes), missing_note)
