"""Achievement, status and variance of one actual against its target (DECISIONS rule 15).

- higher_is_better: achievement = actual / target.
- lower_is_better:  achievement = target / actual; an actual of 0 or below (no shrinkage, or stock
  found at the count) is unbounded (Decimal Infinity), which a per-KPI or index cap turns into a
  number. A zero target is met (1) by an actual of 0 or below, missed (0) otherwise.
- within_band: 1 inside [band_low, band_high]; outside, it falls linearly by 1 for every 100% of the
  nearest edge that the actual lies beyond it: below, 1 - (low - actual) / |low| (= actual / low for
  a positive edge, the same as higher_is_better against the low edge); above, 1 - (actual - high) /
  |high|. It never goes below 0. Band 90-95%: 85% -> 0.9444, 100% -> 0.9474, 190% -> 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

Direction = Literal["higher_is_better", "lower_is_better", "within_band"]
Status = Literal["below_minimum", "below_target", "on_target", "above_stretch", "no_data"]
UNBOUNDED = Decimal("Infinity")


@dataclass(frozen=True)
class Thresholds:
    """What an actual is judged against; minimum and stretch are optional, bands only for within_band."""

    target: Decimal | None
    minimum: Decimal | None = None
    stretch: Decimal | None = None
    band_low: Decimal | None = None
    band_high: Decimal | None = None

    def is_usable(self, direction: str) -> bool:
        if direction == "within_band":
            return self.band_low is not None and self.band_high is not None
        return self.target is not None


def achievement(actual: Decimal | None, levels: Thresholds, direction: str) -> Decimal | None:
    """Achievement as a ratio (1 = on target); None when it cannot be defined (no actual, zero target)."""
    if actual is None or not levels.is_usable(direction):
        return None
    if direction == "within_band":
        return _band_achievement(actual, levels.band_low, levels.band_high)  # type: ignore[arg-type]
    target = levels.target
    assert target is not None
    if direction == "lower_is_better":
        if target == 0:
            return Decimal(1) if actual <= 0 else Decimal(0)  # a zero target is met or missed
        if target < 0:
            return None
        return UNBOUNDED if actual <= 0 else target / actual
    if target == 0:
        return None
    return actual / target


def _band_achievement(actual: Decimal, low: Decimal, high: Decimal) -> Decimal:
    if low <= actual <= high:
        return Decimal(1)
    edge = low if actual < low else high
    if edge == 0:
        return Decimal(0)
    return max(Decimal(0), 1 - abs(actual - edge) / abs(edge))


def _reached(actual: Decimal, level: Decimal, direction: str) -> bool:
    return actual <= level if direction == "lower_is_better" else actual >= level


def status(actual: Decimal | None, levels: Thresholds, direction: str) -> Status:
    """below_minimum / below_target / on_target / above_stretch (stretch reached counts as above)."""
    if actual is None or not levels.is_usable(direction):
        return "no_data"
    if direction == "within_band":
        inside = levels.band_low <= actual <= levels.band_high  # type: ignore[operator]
        return "on_target" if inside else "below_target"
    assert levels.target is not None
    if levels.minimum is not None and not _reached(actual, levels.minimum, direction):
        return "below_minimum"
    if not _reached(actual, levels.target, direction):
        return "below_target"
    if levels.stretch is not None and _reached(actual, levels.stretch, direction):
        return "above_stretch"
    return "on_target"


def variance(actual: Decimal | None, levels: Thresholds, direction: str) -> Decimal | None:
    """actual - target; for a band, the signed distance outside it (0 inside)."""
    if actual is None:
        return None
    if direction == "within_band" and levels.band_low is not None and levels.band_high is not None:
        if actual < levels.band_low:
            return actual - levels.band_low
        if actual > levels.band_high:
            return actual - levels.band_high
        return Decimal(0)
    return None if levels.target is None else actual - levels.target
