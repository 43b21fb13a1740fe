"""Full or incremental: which build a nightly run needs, and from which day it recomputes.

The warehouse's record of runs (kpiflow_state.runs, warehouse/run_record.py) holds each successful build: the
run date, the window it recomputed and a fingerprint of the project files that shape the models (model SQL, the
generated models included, macros, dbt_project.yml). A run is incremental when an earlier build is recorded and
nothing that shapes the models has changed since; it then recomputes from

    window_start = min(run_date, last built run date + 1 day) - late_days

so late rows of the last `late_days` days are picked up, missed nights are caught up, and re-running a date
recomputes the same window (identical marts). Raw history that changed before that day since the last build moves
the window back to the first day it affects (restatements.py), up to a horizon. Anything else - the first build,
`--full-refresh`, a changed model, macro or metric - rebuilds everything. Models over seeds are rebuilt in full
every night anyway. The build is recorded only after dbt succeeded, so a failed build is recomputed by the next run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from kpiflow.config import Settings
from kpiflow.digests import files_digest
from kpiflow.errors import UserInputError
from kpiflow.orchestration.restatements import (
    DEFAULT_HORIZON_DAYS,
    HORIZON_ENV,
    Restatements,
    forget_taker,
    keep_fingerprints,
    restated_before,
    take_fingerprints,
    taken_by,
)
from kpiflow.warehouse import Session, Warehouse, run_record, warehouse_for
from kpiflow.warehouse.run_record import RecordedBuild, last_build

LATE_DAYS_ENV = "KPIFLOW_LATE_DAYS"
DEFAULT_LATE_DAYS = 3
WINDOW_TABLE = "kpiflow_state.build_window"  # read by macros/kpiflow_window.sql while dbt runs
EARLIEST = date(1900, 1, 1)
# What shapes the built models: a change in any of these makes the history stale, so the next run is full.
# Seeds are not among them: every model that reads a seed is rebuilt in full nightly (compiler/lineage.py).
_SHAPING_FILES = (("models", "*.sql"), ("macros", "*.sql"))


@dataclass(frozen=True)
class BuildPlan:
    """The dbt build a run does: everything, or the periods from `window_start` on."""

    full_refresh: bool
    window_start: date | None
    reason: str
    fingerprint: str
    restated: Restatements = field(default_factory=Restatements)

    def headline(self) -> str:
        if self.full_refresh:
            return f"full rebuild ({self.reason})"
        restated = f"; {self.restated.headline()}" if self.restated.found else ""
        return f"incremental from {self.window_start} ({self.reason}{restated})"


def late_days_setting(value: int | None = None) -> int:
    """Days before the run date whose late rows a nightly run picks up: `value`, else KPIFLOW_LATE_DAYS, else 3."""
    return _days_setting(value, LATE_DAYS_ENV, DEFAULT_LATE_DAYS, "late days")


def horizon_setting(value: int | None = None) -> int:
    """How far back (days before the run date) changed raw history may restate an incremental run: `value`, else
    KPIFLOW_RESTATEMENT_HORIZON_DAYS, else 90. Older changes fail the run and ask for --full-refresh."""
    return _days_setting(value, HORIZON_ENV, DEFAULT_HORIZON_DAYS, "the restatement horizon")


def _days_setting(value: int | None, env: str, default: int, what: str) -> int:
    if value is None:
        raw = os.environ.get(env, str(default))
        try:
            value = int(raw)
        except ValueError:
            raise UserInputError(f"{env}={raw!r} is not a whole number of days; use e.g. {default}") from None
    if value < 0:
        raise UserInputError(f"{what} must be 0 or more days, got {value}")
    return value


def project_fingerprint(project_dir: Path) -> str:
    """sha256 over the model SQL, macros and dbt_project.yml (paths and bytes, in a stable order)."""
    files = [project_dir / "dbt_project.yml"]
    for folder, pattern in _SHAPING_FILES:
        files += sorted((project_dir / folder).rglob(pattern))
    return files_digest(files, project_dir)


def plan_build(
    settings: Settings,
    run_date: date,
    *,
    late_days: int,
    full_refresh: bool = False,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    run_id: str | None = None,
) -> BuildPlan:
    """The build this run does. Takes the raw fingerprints the build is recorded with (restatements.py; unless the
    run `run_id` took them before its gate), and for an incremental build starts the window on the earliest raw day
    restated before it."""
    fingerprint = project_fingerprint(settings.project_dir)
    warehouse = warehouse_for(settings)
    _take_fingerprints(settings, warehouse, run_id, reuse=True)
    if full_refresh:
        return BuildPlan(True, None, "--full-refresh asked for", fingerprint)
    previous = last_build(warehouse)
    if previous is None:
        return BuildPlan(True, None, "no earlier build recorded in the warehouse", fingerprint)
    if previous.fingerprint != fingerprint:
        return BuildPlan(True, None, "models, macros or metrics changed since the last build", fingerprint)
    if run_date < previous.run_date:
        # Incremental tables hold the later days of the last build; a run as of an earlier day must not keep them.
        return BuildPlan(True, None, f"run date is before the last build's {previous.run_date}", fingerprint)
    reason = f"{late_days} late day(s); last build {previous.run_date}"
    start, restated = _restated_window(warehouse, _window_start(previous, run_date, late_days), run_date, horizon_days)
    return BuildPlan(False, start, reason, fingerprint, restated)


def _window_start(previous: RecordedBuild, run_date: date, late_days: int) -> date:
    return min(run_date, previous.run_date + timedelta(days=1)) - timedelta(days=late_days)


def _restated_window(
    warehouse: Warehouse, window_start: date, run_date: date, horizon_days: int
) -> tuple[date, Restatements]:
    """The window start moved back to the earliest restated day (fingerprints taken just before); fails the run when
    that day is beyond the horizon."""
    with warehouse.connect(read_only=True) as session:
        restated = restated_before(session, window_start)
    restated.check_horizon(run_date, horizon_days)
    return min(window_start, restated.earliest or window_start), restated


def _take_fingerprints(settings: Settings, warehouse: Warehouse, run_id: str | None, *, reuse: bool = False) -> None:
    """Fingerprint the raw tables the gate declares (which are dated, which have validity ranges); with `reuse`, keep
    the pass this run took already."""
    from kpiflow.quality.declarations import CHECKS_FILE, load_gate_spec  # pydantic loads only when a run needs it

    with _state_schema(warehouse) as session:
        if reuse and run_id is not None and taken_by(session) == run_id:
            return
        take_fingerprints(session, load_gate_spec(settings.project_dir / CHECKS_FILE), run_id)


def raw_changed_after_check(warehouse: Warehouse) -> None:
    """The gate moved rows out of the raw tables: the build takes its own fingerprints."""
    with _state_schema(warehouse) as session:
        forget_taker(session)


def check_window(
    settings: Settings,
    run_date: date,
    *,
    late_days: int,
    full_refresh: bool = False,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    run_id: str | None = None,
) -> date | None:
    """First day whose rows the quality gate's row checks judge, before the build is planned: the window the build
    will use after an earlier successful build (moved back to raw history restated since, as the build will be),
    else None (every row). Rows before it were judged by the runs that brought them. The gate runs before the
    compile, so a model change found later still makes the build full while the gate judged the window;
    `--full-refresh` judges every row."""
    if full_refresh:
        return None
    warehouse = warehouse_for(settings)
    previous = last_build(warehouse)
    if previous is None or run_date < previous.run_date:  # the build will be full (see plan_build)
        return None
    _take_fingerprints(settings, warehouse, run_id)
    start, _ = _restated_window(warehouse, _window_start(previous, run_date, late_days), run_date, horizon_days)
    return start


@contextmanager
def _state_schema(warehouse: Warehouse) -> Iterator[Session]:
    """A session on the warehouse (created if missing) with the kpiflow_state schema present."""
    with warehouse.connect() as session:
        session.execute("create schema if not exists kpiflow_state")
        yield session


def set_window(warehouse: Warehouse, plan: BuildPlan) -> None:
    """Tell the models where this build's window starts. A table, not a dbt var: a var that changes every night
    would make dbt re-parse the whole project every night."""
    with _state_schema(warehouse) as session:
        session.execute(f"create or replace table {WINDOW_TABLE} (window_start date not null)")
        session.execute(f"insert into {WINDOW_TABLE} values (?)", [plan.window_start or EARLIEST])


def record_build(warehouse: Warehouse, run_date: date, plan: BuildPlan, *, run_id: str) -> None:
    """Remember a successful build in the run's row, so that the next run knows where to start."""
    with _state_schema(warehouse) as session:
        run_record.ensure_run_tables(session)
        run_record.record_build(
            session,
            run_id=run_id,
            run_date=run_date,
            window_start=plan.window_start,
            full_refresh=plan.full_refresh,
            fingerprint=plan.fingerprint,
        )
        keep_fingerprints(session)
