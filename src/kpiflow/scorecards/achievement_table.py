"""Rows of marts.kpi_achievement: every actual that has a target, judged by its KPI's direction."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from kpiflow.scorecards import achievement as judge
from kpiflow.scorecards.inputs import CatalogEntry
from kpiflow.scorecards.model import BaselineTarget, TargetRule
from kpiflow.scorecards.targets import SeedTargets, Series, TargetKey, peer_means, resolve


@dataclass(frozen=True)
class AchievementRow:
    kpi: str
    entity_type: str
    entity_id: str
    grain: str
    period_start: date
    actual: Decimal | None
    target: Decimal | None
    minimum: Decimal | None
    stretch: Decimal | None
    band_low: Decimal | None
    band_high: Decimal | None
    variance: Decimal | None
    achievement: Decimal | None  # Decimal Infinity = unbounded (lower_is_better with actual 0)
    status: str
    direction: str
    target_source: str
    target_note: str


AchievementIndex = dict[tuple[str, str, str, str, date], AchievementRow]


def build_achievements(
    series_by_key: dict[TargetKey, Series],
    seeds: SeedTargets,
    rules: dict[TargetKey, tuple[TargetRule, str]],
    card_keys: set[TargetKey],
    catalog: dict[str, CatalogEntry],
) -> tuple[list[AchievementRow], list[str]]:
    """Judge every actual of every KPI that has a seed target, a card rule or sits on a card."""
    warnings: list[str] = []
    for key in sorted(seeds.keys() & rules.keys()):
        warnings.append(
            f"seeds/kpi_targets.csv rows for {key[0]} at {key[1]}/{key[2]} are ignored: "
            f"card {rules[key][1]} sets a {type(rules[key][0]).__name__} rule for them"
        )
    rows: list[AchievementRow] = []
    for key in sorted(seeds.keys() | rules.keys() | card_keys):
        kpi, entity_type, grain = key
        entry = catalog.get(kpi)
        if entry is None:
            continue  # unknown names were reported by the seed and card checks
        series = series_by_key.get(key, {})
        if not series and key in card_keys | rules.keys():
            warnings.append(f"marts.kpi_values has no {grain} values of {kpi} at entity {entity_type}")
        rule, card = rules.get(key, (None, ""))
        band = (entry.band_low, entry.band_high)
        peers = peer_means(series) if isinstance(rule, BaselineTarget) and rule.fallback == "peer_mean" else None
        for (entity_id, period_start), actual in sorted(series.items()):
            resolved = resolve(rule, card, seeds, key, series, entity_id, period_start, band, peers)
            if resolved is None:
                continue
            levels = resolved.levels
            if levels.band_low is None and entry.direction == "within_band":
                levels = replace(levels, band_low=entry.band_low, band_high=entry.band_high)
            rows.append(
                AchievementRow(
                    kpi=kpi,
                    entity_type=entity_type,
                    entity_id=entity_id,
                    grain=grain,
                    period_start=period_start,
                    actual=actual,
                    target=levels.target,
                    minimum=levels.minimum,
                    stretch=levels.stretch,
                    band_low=levels.band_low,
                    band_high=levels.band_high,
                    variance=judge.variance(actual, levels, entry.direction),
                    achievement=judge.achievement(actual, levels, entry.direction),
                    status=judge.status(actual, levels, entry.direction),
                    direction=entry.direction,
                    target_source=resolved.source,
                    target_note=resolved.note,
                )
            )
    return rows, warnings


def index_achievements(rows: list[AchievementRow]) -> AchievementIndex:
    return {(r.kpi, r.entity_type, r.entity_id, r.grain, r.period_start): r for r in rows}
