"""A run's journal: which stage it is in, how each stage ended, and how the run ended.

The record of runs is the warehouse's `kpiflow_state.runs` (warehouse/run_record.py): the journal inserts the run's
row when the run begins (marking runs that died as killed) and sets its status at the end. An operator at 03:00 (or
a test watching a run it is about to kill) needs the facts with no warehouse and no API: `state/last_run.json`, the
file mirror of the run's row, is rewritten atomically at every step. Prefect keeps its own record of the flow run.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from kpiflow.warehouse import TableFingerprint, Warehouse, WarehouseError, run_record

LAST_RUN_FILE = "last_run.json"

progress_log = logging.getLogger("kpiflow.progress")


@dataclass(frozen=True)
class StageRecord:
    name: str
    status: str  # running | completed | failed
    seconds: float = 0.0
    headline: str = ""
    warnings: tuple[str, ...] = ()  # every warning's text, for the console summary and --json


@dataclass
class RunJournal:
    """Append-only in memory, mirrored to `last_run.json` after every change."""

    state_dir: Path
    run_id: str
    run_date: date
    target: str = ""
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    stages: list[StageRecord] = field(default_factory=list)
    status: str = "running"
    error: str | None = None
    _stage_started: float = 0.0

    def stage_started(self, name: str) -> None:
        self._stage_started = time.perf_counter()
        self.stages.append(StageRecord(name, "running"))
        progress_log.info("> %s ...", name)
        self._save()

    def stage_finished(self, name: str, headline: str, warnings: tuple[str, ...] = ()) -> None:
        seconds = time.perf_counter() - self._stage_started
        self.stages[-1] = StageRecord(name, "completed", round(seconds, 3), headline, tuple(warnings))
        progress_log.info("  %-22s %s (%.1f s)", name, headline, seconds)
        for warning in warnings:
            progress_log.info("    warning: %s", warning)
        self._save()

    def stage_failed(self, name: str, error: BaseException) -> None:
        seconds = time.perf_counter() - self._stage_started
        self.stages[-1] = StageRecord(name, "failed", round(seconds, 3), _first_line(error))
        progress_log.info("  %-22s FAILED after %.1f s", name, seconds)
        self._save()

    @property
    def started(self) -> datetime:
        return datetime.fromisoformat(self.started_at)

    @property
    def failed_stage(self) -> str | None:
        return next((stage.name for stage in self.stages if stage.status != "completed"), None)

    def begin(self, warehouse: Warehouse) -> list[str]:
        """Insert the run's row (under the run lock) and mark the runs left running as killed; returns their ids. A
        warehouse that does not exist yet gets the row from the first stage that records in it."""
        self._save()
        if not warehouse.exists():
            return []
        shown, tables = _what_is_published(warehouse)
        with warehouse.connect() as session:
            run_record.ensure_run_tables(session)
            killed = run_record.begin_run(
                session, run_id=self.run_id, run_date=self.run_date, target=self.target, started_at=self.started
            )
            if shown is not None and run_record.record_missing_publish(session, shown, tables):
                progress_log.info("run %s published before it died: its publish is now recorded", shown.run_id)
        for dead in killed:
            progress_log.info("run %s died before it ended: recorded as killed", dead)
        return killed

    def finish(self, status: str, error: BaseException | None = None, warehouse: Warehouse | None = None) -> None:
        """The file first (it needs nothing), then the run's row in the warehouse. A warehouse that cannot take it is
        reported, not raised: it must not hide how the run ended, and the next run marks the row killed."""
        self.status = status
        self.error = str(error) if error else None
        self._save()
        if warehouse is None or not warehouse.exists():
            return
        try:
            with warehouse.connect() as session:
                run_record.ensure_run_tables(session)
                run_record.finish_run(
                    session,
                    run_id=self.run_id,
                    run_date=self.run_date,
                    target=self.target,
                    started_at=self.started,
                    status=status,
                    failed_stage=self.failed_stage if status == "failed" else None,
                    error=self.error,
                    stages=[asdict(stage) for stage in self.stages],
                )
        except WarehouseError as exc:
            progress_log.warning("the run's end could not be recorded in %s: %s", warehouse.location, exc)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "run_date": self.run_date.isoformat(),
            "target": self.target,
            "started_at": self.started_at,
            "status": self.status,
            "failed_stage": self.failed_stage if self.status == "failed" else None,
            "error": self.error,
            "stages": [asdict(stage) for stage in self.stages],
        }

    def _save(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        target = self.state_dir / LAST_RUN_FILE
        tmp = target.with_name(target.name + f".{os.getpid()}")
        tmp.write_text(json.dumps(self.to_dict(), indent=2), encoding="utf-8")
        os.replace(tmp, target)


def _what_is_published(
    warehouse: Warehouse,
) -> tuple[run_record.PublishedRun | None, list[TableFingerprint]]:
    """The run the published marts name in their own record, and its tables (nothing before the first publish)."""
    if not warehouse.is_published():
        return None, []
    with warehouse.read_published() as published:
        shown = run_record.published_run(published)
        return shown, run_record.published_tables(published, shown.run_id) if shown else []


def read_last_run(state_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((state_dir / LAST_RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
