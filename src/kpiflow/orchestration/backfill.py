"""Backfill: one run per date, oldest first, stopping at the first failure.

Later dates depend on earlier ones (incremental models, published history), so running past a failed
date would publish marts with a hole in them. The result says exactly where to resume.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from kpiflow.errors import KpiflowError, UserInputError


@dataclass(frozen=True)
class BackfillResult:
    """Dates that completed, and the first one that failed (if any) with its error."""

    start: date
    end: date
    completed: tuple[date, ...]
    failed_date: date | None = None
    error: KpiflowError | None = None

    @property
    def ok(self) -> bool:
        return self.failed_date is None

    def resume_command(self) -> str:
        if self.failed_date is None:
            return ""
        return f"kpiflow backfill --start {self.failed_date} --end {self.end}"

    def explain_failure(self) -> str:
        done = f"{self.completed[0]}..{self.completed[-1]} completed and published; " if self.completed else ""
        return (
            f"backfill stopped at {self.failed_date}: {done}fix the cause, then resume from {self.failed_date} "
            f"with: {self.resume_command()}\n{self.error}"
        )


def dates_between(start: date, end: date) -> list[date]:
    if end < start:
        raise UserInputError(f"--end {end} is before --start {start}; give the oldest date as --start")
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def run_backfill(start: date, end: date, run_one: Callable[[date], KpiflowError | None]) -> BackfillResult:
    """Call `run_one` per date in order; it returns None on success or the run's error, and we stop there."""
    completed: list[date] = []
    for day in dates_between(start, end):
        error = run_one(day)
        if error is not None:
            return BackfillResult(start, end, tuple(completed), failed_date=day, error=error)
        completed.append(day)
    return BackfillResult(start, end, tuple(completed))
