"""Targets per KPI, entity and period: from the kpi_targets seed, or from a card's rule.

One (kpi, entity type, grain) has exactly one source. If a card gives it a constant or baseline
rule, the rule decides (seed rows for it are ignored, with a warning); otherwise the seed does. In
the seed, an empty entity_id means every entity of that type and an empty period_start every
period; the most specific row wins (entity and period > entity > period > neither).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from kpiflow.scorecards.achievement import Thresholds
from kpiflow.scorecards.inputs import Actual, SeedTargetRow, strip_zeros
from kpiflow.scorecards.model import ENTITY_TYPES, BaselineTarget, ConstantTarget, TargetRule
from kpiflow.scorecards.periods import GRAINS, period_label, shift_period
from kpiflow.scorecards.rounding import round_decimal

TargetKey = tuple[str, str, str]  # (kpi, entity_type, grain)
Series = dict[tuple[str, date], Decimal | None]  # (entity_id, period_start) -> value


@dataclass(frozen=True)
class ResolvedTarget:
    """The thresholds for one entity and period, and how they were obtained (for --explain)."""

    levels: Thresholds
    source: str
    note: str


def index_actuals(actuals: Iterable[Actual]) -> dict[TargetKey, Series]:
    series: dict[TargetKey, Series] = defaultdict(dict)
    for a in actuals:
        series[(a.kpi, a.entity_type, a.grain)][(a.entity_id, a.period_start)] = a.value
    return series


class SeedTargets:
    """The kpi_targets seed, checked and indexed for most-specific-row lookup."""

    def __init__(self, rows: Iterable[SeedTargetRow]) -> None:
        self.rows = list(rows)
        self._by_key: dict[TargetKey, dict[tuple[str | None, date | None], SeedTargetRow]] = defaultdict(dict)
        self.duplicates: list[SeedTargetRow] = []
        for row in self.rows:
            slot = self._by_key[(row.kpi, row.entity_type, row.grain)]
            if (row.entity_id, row.period_start) in slot:
                self.duplicates.append(row)
            slot[(row.entity_id, row.period_start)] = row

    def keys(self) -> set[TargetKey]:
        return set(self._by_key)

    def lookup(self, key: TargetKey, entity_id: str, period_start: date) -> SeedTargetRow | None:
        slot = self._by_key.get(key, {})
        for candidate in ((entity_id, period_start), (entity_id, None), (None, period_start), (None, None)):
            if candidate in slot:
                return slot[candidate]
        return None

    def problems(self, known_kpis: set[str], directions: dict[str, str]) -> list[tuple[SeedTargetRow, str]]:
        """Rows a person must fix: unknown names, bad types or grains, no target, duplicates."""
        found: list[tuple[SeedTargetRow, str]] = []
        for row in self.rows:
            if row.kpi not in known_kpis:
                found.append((row, f"unknown KPI '{row.kpi}'"))
            if row.entity_type not in ENTITY_TYPES:
                found.append((row, f"entity_type '{row.entity_type}' is not one of {', '.join(ENTITY_TYPES)}"))
            if row.grain not in GRAINS:
                found.append((row, f"grain '{row.grain}' is not one of {', '.join(GRAINS)}"))
            is_band = directions.get(row.kpi) == "within_band"
            if row.target is None and not (is_band and row.band_low is not None and row.band_high is not None):
                found.append((row, "target is empty (a within_band KPI may give band_low and band_high instead)"))
        found.extend((row, "duplicate row for the same kpi, entity and period") for row in self.duplicates)
        return found


def seed_row_lines(csv_path: Path) -> dict[tuple[str, str, str, str, str], int]:
    """Line numbers of the seed CSV's rows, keyed like SeedTargetRow, so errors can name the line."""
    if not csv_path.is_file():
        return {}
    lines: dict[tuple[str, str, str, str, str], int] = {}
    with csv_path.open(newline="", encoding="utf-8") as handle:
        for number, record in enumerate(csv.DictReader(handle), start=2):
            kpi, entity_type, entity_id, grain, period = (
                (record.get(column) or "").strip().lower()
                for column in ("kpi", "entity_type", "entity_id", "grain", "period_start")
            )
            lines.setdefault((kpi, entity_type, entity_id, grain or "month", period), number)
    return lines


def seed_row_key(row: SeedTargetRow) -> tuple[str, str, str, str, str]:
    period = row.period_start.isoformat() if row.period_start else ""
    return (row.kpi.lower(), row.entity_type, (row.entity_id or "").lower(), row.grain, period)


def from_seed(row: SeedTargetRow) -> ResolvedTarget:
    levels = Thresholds(row.target, row.minimum, row.stretch, row.band_low, row.band_high)
    return ResolvedTarget(levels, "seed", f"kpi_targets row ({row.describe()})")


def from_constant(rule: ConstantTarget, card: str) -> ResolvedTarget:
    levels = Thresholds(rule.target, rule.minimum, rule.stretch, rule.band_low, rule.band_high)
    return ResolvedTarget(levels, "constant", f"constant target in card {card}")


def _scaled(target: Decimal, factor: Decimal | None) -> Decimal | None:
    return None if factor is None else target * factor


PeerMeans = dict[date, tuple[Decimal, int]]  # period -> (mean of all entities, how many)


def peer_means(series: Series) -> PeerMeans:
    """Mean value of all entities per period: the `peer_mean` fallback, computed once per KPI."""
    sums: dict[date, list[Decimal]] = defaultdict(list)
    for (_, period), value in series.items():
        if value is not None:
            sums[period].append(value)
    return {period: (sum(values, Decimal(0)) / len(values), len(values)) for period, values in sums.items()}


def _short(value: Decimal) -> str:
    """For notes only: at most 6 decimals (the target itself keeps full precision)."""
    return str(strip_zeros(round_decimal(value, 6, "half_even")))


def from_baseline(
    rule: BaselineTarget,
    card: str,
    series: Series,
    entity_id: str,
    period_start: date,
    grain: str,
    peers: PeerMeans | None = None,
) -> ResolvedTarget | None:
    """Mean of the entity's values in the `periods` periods just before this one, x (1 + uplift).

    The window is calendar periods, not "the last N values seen": a gap does not reach back further.
    """
    window = [shift_period(period_start, grain, -step) for step in range(rule.periods, 0, -1)]
    values = [v for p in window if (v := series.get((entity_id, p))) is not None]
    if len(values) >= rule.min_periods:
        mean = sum(values, Decimal(0)) / len(values)
        target = mean * (1 + rule.uplift)
        span = f"{period_label(window[0], grain)}..{period_label(window[-1], grain)}"
        note = (
            f"baseline: mean of {len(values)} {grain} values {span} = {_short(mean)}"
            f" x (1 + {rule.uplift}) = {_short(target)}"
        )
        source = "baseline"
    elif rule.fallback == "peer_mean":
        found = (peers if peers is not None else peer_means(series)).get(period_start)
        if found is None:
            return None
        target, count = found
        note = f"fallback: {len(values)} of {rule.min_periods} periods of history; mean of {count} peers"
        source = "baseline_fallback"
    elif rule.fallback is not None:
        target = rule.fallback
        note = f"fallback: only {len(values)} of {rule.min_periods} periods of history; constant {target}"
        source = "baseline_fallback"
    else:
        return None
    levels = Thresholds(target, _scaled(target, rule.minimum_factor), _scaled(target, rule.stretch_factor))
    return ResolvedTarget(levels, source, f"{note} (card {card})")


def resolve(
    rule: TargetRule | None,
    card: str,
    seeds: SeedTargets,
    key: TargetKey,
    series: Series,
    entity_id: str,
    period_start: date,
    catalog_band: tuple[Decimal | None, Decimal | None],
    peers: PeerMeans | None = None,
) -> ResolvedTarget | None:
    """The target for one entity and period, or None when nothing defines one."""
    if isinstance(rule, ConstantTarget):
        return from_constant(rule, card)
    if isinstance(rule, BaselineTarget):
        return from_baseline(rule, card, series, entity_id, period_start, key[2], peers)
    row = seeds.lookup(key, entity_id, period_start)
    if row is not None:
        return from_seed(row)
    low, high = catalog_band
    if low is not None and high is not None:
        return ResolvedTarget(Thresholds(None, band_low=low, band_high=high), "catalog", "band from kpi_catalog")
    return None
