"""A run's own record on disk: which stage it is in, how each stage ended, and how the run ended.

Prefect keeps the same facts in its database, but an operator at 03:00 (or a test watching a run it is
about to kill) needs them without an API: `state/last_run.json` is rewritten atomically at every step,
and every finished run appends one line to `state/run_history.jsonl`.
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

LAST_RUN_FILE = "last_run.json"
HISTORY_FILE = "run_history.jsonl"

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
    def failed_stage(self) -> str | None:
        return next((stage.name for stage in self.stages if stage.status != "completed"), None)

    def finish(self, status: str, error: BaseException | None = None) -> None:
        self.status = status
        self.error = str(error) if error else None
        self._save()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with (self.state_dir / HISTORY_FILE).open("a", encoding="utf-8") as history:
            history.write(json.dumps(self.to_dict()) + "\n")

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "run_date": self.run_date.isoformat(),
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


def read_last_run(state_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((state_dir / LAST_RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
