"""What to generate: the parameters of one demo warehouse and the sizes that follow from them.

Sizes grow sub-linearly with scale for the catalogue (stores, products) and linearly for the event
volume, so that scale 1 is about a million order lines over two years and scale 0.01 is a toy that
still has every kind of row a KPI needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from kpiflow.errors import UserInputError

GENERATOR_VERSION = "1"

DEFAULT_START = date(2024, 1, 1)
DEFAULT_END = date(2025, 12, 31)
DEFAULT_SEED = 42

# Customers who signed up before the first day exist, so retention looks settled from the first month.
CUSTOMER_HISTORY_DAYS = 1095
# Event tables of a day may depend on this many earlier days (returns up to 30 days after the order,
# a weekly replenishment cycle, CRM follow-ups up to 10 days after the lead).
LOOKBACK_DAYS = 45


@dataclass(frozen=True)
class DemoSpec:
    """Seed, scale and the first day of a demo warehouse; `end` is its last day (inclusive)."""

    seed: int
    scale: float
    start: date
    end: date

    def __post_init__(self) -> None:
        if not (self.scale > 0 and math.isfinite(self.scale)):
            raise UserInputError(f"--scale must be a positive number, got {self.scale!r}.")
        if self.scale > 1000:
            raise UserInputError(f"--scale {self.scale} is too large for a demo warehouse (at most 1000).")
        if self.end < self.start:
            raise UserInputError(f"--end {self.end} is before --start {self.start}; pass an end on or after it.")
        if not 0 <= self.seed < 2**31:
            raise UserInputError(f"--seed must be between 0 and {2**31 - 1}, got {self.seed}.")

    @property
    def physical_store_count(self) -> int:
        return max(4, round(12 * self.scale**0.4))

    @property
    def product_count(self) -> int:
        return max(40, round(300 * self.scale**0.45))

    @property
    def history_origin(self) -> date:
        return self.start - timedelta(days=CUSTOMER_HISTORY_DAYS)


@dataclass(frozen=True)
class GenerationWindow:
    """The days one build emits (first_day..last_day) and the earlier days it must replay to get them right."""

    first_day: date
    last_day: date
    work_start: date

    @classmethod
    def for_days(cls, spec: DemoSpec, first_day: date, last_day: date) -> GenerationWindow:
        work_start = max(spec.start, first_day - timedelta(days=LOOKBACK_DAYS))
        return cls(first_day=first_day, last_day=last_day, work_start=work_start)
