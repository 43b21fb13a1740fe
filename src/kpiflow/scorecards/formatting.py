"""How scorecard numbers are shown: scores with at least 3 places, percentages with 2, money with 2."""

from __future__ import annotations

from decimal import Decimal

from kpiflow.scorecards.inputs import strip_zeros


def number(value: Decimal | None, min_places: int = 0) -> str:
    """Full precision without padding zeros, but at least `min_places` decimals (1.1 -> 1.100 at 3)."""
    if value is None:
        return "-"
    if not value.is_finite():
        return "inf"
    text = str(strip_zeros(value))
    places = len(text.split(".")[1]) if "." in text else 0
    if places < min_places:
        text = str(value.quantize(Decimal(1).scaleb(-min_places)))
    return text


def score(value: Decimal | None) -> str:
    return number(value, 3)


def percent(value: Decimal | None) -> str:
    return "-" if value is None else f"{number(value * 100, 2)}%"


def money(value: Decimal | None) -> str:
    return "-" if value is None else str(value.quantize(Decimal("0.01")))


def amount(value: Decimal | None) -> str:
    """A money input shown as written: 560 stays 560, 560.5 becomes 560.50."""
    if value is None:
        return "-"
    return number(value) if value == value.to_integral_value() else money(value)
