"""Explicit rounding: a scorecard says how many digits, which mode and where, so pay is reproducible.

The article's 113.70% exists only because each weighted component was rounded to 3 digits half-even;
exact arithmetic gives 113.75%. Neither is "right", so the card must say which one it means
(DECISIONS rule 17). Everything here works on `Decimal`, never on binary floats.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

RoundingMode = Literal["half_even", "half_up", "half_down", "down", "up", "floor", "ceiling"]
RoundingScope = Literal["none", "component", "index"]

DECIMAL_MODES: dict[str, str] = {
    "half_even": decimal.ROUND_HALF_EVEN,
    "half_up": decimal.ROUND_HALF_UP,
    "half_down": decimal.ROUND_HALF_DOWN,
    "down": decimal.ROUND_DOWN,
    "up": decimal.ROUND_UP,
    "floor": decimal.ROUND_FLOOR,
    "ceiling": decimal.ROUND_CEILING,
}


def round_decimal(value: Decimal, digits: int, mode: str) -> Decimal:
    """Round to `digits` places with a named mode; infinities pass through unchanged."""
    if not value.is_finite():
        return value
    return value.quantize(Decimal(1).scaleb(-digits), rounding=DECIMAL_MODES[mode])


@dataclass(frozen=True)
class RoundingRule:
    """Where scores are rounded: each weighted component, the summed index, or nowhere."""

    applies_to: RoundingScope = "none"
    digits: int = 0
    mode: RoundingMode = "half_even"

    def component(self, value: Decimal) -> Decimal:
        return round_decimal(value, self.digits, self.mode) if self.applies_to == "component" else value

    def index(self, value: Decimal) -> Decimal:
        return round_decimal(value, self.digits, self.mode) if self.applies_to == "index" else value

    def describe(self) -> str:
        if self.applies_to == "none":
            return "no intermediate rounding"
        return f"{self.applies_to} rounding: {self.digits} digits, {self.mode}"


@dataclass(frozen=True)
class MoneyRounding:
    """Money is paid in cents: bonus and total are rounded once, at the end."""

    digits: int = 2
    mode: RoundingMode = "half_up"

    def __call__(self, value: Decimal) -> Decimal:
        return round_decimal(value, self.digits, self.mode)
