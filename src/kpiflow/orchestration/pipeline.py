"""The pipeline's vocabulary: the run's options, one run's context and each stage's summary.

The Prefect flow (flow.py) decides order, retries and artifacts; the functions of stages.py do the work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from kpiflow.config import Settings


@dataclass(frozen=True)
class RunOptions:
    """What the person (or the schedule) asked for: the one set of run options the CLI, backfill and the flow (its
    only parameter, so a deployment sets the same fields) share."""

    run_date: date | None = None  # None: the day before the run was scheduled, on the calendar of `timezone`
    full_refresh: bool = False
    ensure_demo_data: bool = False
    wait_seconds: float = 0.0
    late_days: int | None = None  # None: KPIFLOW_LATE_DAYS, else 3
    restatement_horizon: int | None = None  # None: KPIFLOW_RESTATEMENT_HORIZON_DAYS, else 90
    timezone: str | None = None  # None: the machine's


def run_date_for(scheduled: datetime, timezone: str | None = None) -> date:
    """The day a run scheduled at `scheduled` closes: the day before, on the calendar of `timezone`
    (else the machine's), so that 02:00 in Tokyo is not mistaken for 17:00 the day before in UTC."""
    local = scheduled.astimezone(ZoneInfo(timezone)) if timezone else scheduled.astimezone()
    return local.date() - timedelta(days=1)


@dataclass(frozen=True)
class RunContext:
    """Everything a stage needs to know about the run it is part of."""

    settings: Settings
    options: RunOptions
    run_id: str

    @property
    def run_date(self) -> date:
        if self.options.run_date is None:
            raise ValueError("a run's context needs options with the run date set (see flow.nightly)")
        return self.options.run_date


@dataclass(frozen=True)
class LandingSummary:
    """The inputs the run will read: where they are and how far they reach."""

    warehouse_path: Path
    created_demo_data: bool
    latest_input_date: date | None
    note: str

    def headline(self) -> str:
        reach = f"inputs through {self.latest_input_date}" if self.latest_input_date else "inputs present"
        return f"{reach}; {self.note}"


@dataclass(frozen=True)
class GateOutcome:
    """The input quality gate's verdict, in the form the flow reports and the CLI prints."""

    passed: bool
    summary_text: str
    data_docs_path: Path | None = None
    quarantined_by_check: dict[str, int] = field(default_factory=dict)  # rows moved aside, per check

    def headline(self) -> str:
        first_line = self.summary_text.strip().splitlines()[0] if self.summary_text.strip() else ""
        return ("passed" if self.passed else "FAILED") + (f": {first_line}" if first_line else "")


@dataclass(frozen=True)
class CompileSummary:
    """What the metric compiler wrote into models/generated."""

    model_count: int
    note: str = ""

    def headline(self) -> str:
        return f"{self.model_count} generated models" + (f"; {self.note}" if self.note else "")


@dataclass(frozen=True)
class ScorecardSummary:
    """Scorecards and payouts written into the warehouse after the KPI marts, and what to look at."""

    note: str
    warnings: tuple[str, ...] = ()

    def headline(self) -> str:
        return self.note + (f" ({len(self.warnings)} warnings)" if self.warnings else "")
