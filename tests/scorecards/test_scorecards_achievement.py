"""Achievement, status and variance by direction (rule 15), including the band slope and unbounded cases."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from kpiflow.scorecards.achievement import UNBOUNDED, Thresholds, achievement, status, variance

HIGHER = "higher_is_better"
LOWER = "lower_is_better"
BAND = "within_band"
LEVELS = Thresholds(target=D(100), minimum=D(80), stretch=D(120))
LOWER_LEVELS = Thresholds(target=D(60), minimum=D(120), stretch=D(30))  # minutes: less is better
SATISFACTION = Thresholds(target=None, band_low=D("0.90"), band_high=D("0.95"))  # articles-001: 90-95%


@pytest.mark.parametrize(
    ("actual", "levels", "direction", "expected_achievement", "expected_status", "expected_variance"),
    [
        (D(110), LEVELS, HIGHER, D("1.1"), "on_target", D(10)),
        (D(100), LEVELS, HIGHER, D(1), "on_target", D(0)),
        (D(90), LEVELS, HIGHER, D("0.9"), "below_target", D(-10)),
        (D(79), LEVELS, HIGHER, D("0.79"), "below_minimum", D(-21)),
        (D(120), LEVELS, HIGHER, D("1.2"), "above_stretch", D(20)),
        (D(45), LOWER_LEVELS, LOWER, D(60) / D(45), "on_target", D(-15)),
        (D(30), LOWER_LEVELS, LOWER, D(2), "above_stretch", D(-30)),
        (D(90), LOWER_LEVELS, LOWER, D(60) / D(90), "below_target", D(30)),
        (D(150), LOWER_LEVELS, LOWER, D("0.4"), "below_minimum", D(90)),
        (D(0), LOWER_LEVELS, LOWER, UNBOUNDED, "above_stretch", D(-60)),
        (D(-2), LOWER_LEVELS, LOWER, UNBOUNDED, "above_stretch", D(-62)),  # e.g. negative shrinkage
        (D(0), Thresholds(target=D(0)), LOWER, D(1), "on_target", D(0)),  # zero-defect target met
        (D(3), Thresholds(target=D(0)), LOWER, D(0), "below_target", D(3)),
        (D("0.92"), SATISFACTION, BAND, D(1), "on_target", D(0)),
        (D("0.90"), SATISFACTION, BAND, D(1), "on_target", D(0)),
        (D("0.85"), SATISFACTION, BAND, D("0.85") / D("0.90"), "below_target", D("-0.05")),
        (D("1.00"), SATISFACTION, BAND, 1 - D("0.05") / D("0.95"), "below_target", D("0.05")),
        (D("1.90"), SATISFACTION, BAND, D(0), "below_target", D("0.95")),
        (D("2.50"), SATISFACTION, BAND, D(0), "below_target", D("1.55")),
        (None, LEVELS, HIGHER, None, "no_data", None),
        (D(5), Thresholds(target=D(0)), HIGHER, None, "on_target", D(5)),
    ],
)
def test_achievement_status_and_variance(
    actual, levels, direction, expected_achievement, expected_status, expected_variance
):
    assert achievement(actual, levels, direction) == expected_achievement
    assert status(actual, levels, direction) == expected_status
    assert variance(actual, levels, direction) == expected_variance


def test_band_achievement_falls_linearly_with_slope_one_per_edge():
    """Each 1% of the edge value outside the band costs one percentage point of achievement."""
    band = Thresholds(target=None, band_low=D(50), band_high=D(100))
    below = [achievement(D(x), band, BAND) for x in (50, 45, 40, 25, 0)]
    above = [achievement(D(x), band, BAND) for x in (100, 110, 120, 150, 200)]
    assert below == [D(1), D("0.9"), D("0.8"), D("0.5"), D(0)]
    assert above == [D(1), D("0.9"), D("0.8"), D("0.5"), D(0)]
