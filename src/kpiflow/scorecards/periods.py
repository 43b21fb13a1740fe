"""Period arithmetic for targets and cards: month by default, day/quarter/year allowed."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Literal

Grain = Literal["day", "month", "quarter", "year"]
GRAINS: tuple[str, ...] = ("day", "month", "quarter", "year")
MONTHS_IN_GRAIN: dict[str, int] = {"month": 1, "quarter": 3, "year": 12}


def shift_period(period_start: date, grain: str, periods: int) -> date:
    """The start of the period `periods` steps away (negative = earlier)."""
    if grain == "day":
        return period_start + timedelta(days=periods)
    months = MONTHS_IN_GRAIN[grain] * periods
    index = period_start.year * 12 + (period_start.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def period_label(period_start: date, grain: str) -> str:
    """Human label: 2025-06 for a month, 2025-Q2, 2025, or the ISO day."""
    if grain == "month":
        return period_start.strftime("%Y-%m")
    if grain == "quarter":
        return f"{period_start.year}-Q{(period_start.month - 1) // 3 + 1}"
    if grain == "year":
        return str(period_start.year)
    return period_start.isoformat()


_PERIOD_FORMS = (
    (re.compile(r"^(\d{4})-(\d{2})$"), lambda m: date(int(m[1]), int(m[2]), 1)),
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"), lambda m: date(int(m[1]), int(m[2]), int(m[3]))),
    (re.compile(r"^(\d{4})-[Qq]([1-4])$"), lambda m: date(int(m[1]), 3 * int(m[2]) - 2, 1)),
    (re.compile(r"^(\d{4})$"), lambda m: date(int(m[1]), 1, 1)),
)


def parse_period(text: str) -> date:
    """Parse 2025-06, 2025-06-01, 2025-Q2 or 2025 into a period start; ValueError says the forms."""
    for pattern, build in _PERIOD_FORMS:
        match = pattern.match(text.strip())
        if match:
            try:
                return build(match)
            except ValueError:
                break
    raise ValueError(f"period {text!r} is not one of YYYY-MM, YYYY-MM-DD, YYYY-Qn, YYYY")


def period_end(period_start: date, grain: str) -> date:
    """The last day of the period."""
    return shift_period(period_start, grain, 1) - timedelta(days=1)


def open_period_note(period_start: date, grain: str, run_date: date) -> str | None:
    """Why a period is provisional at the run date (it ends after it), or None when it has closed."""
    last_day = period_end(period_start, grain)
    if last_day <= run_date:
        return None
    label = period_label(period_start, grain)
    return f"period {label} is open until {last_day} (run date {run_date}): figures to date, not payable"
