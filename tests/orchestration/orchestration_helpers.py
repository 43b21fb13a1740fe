"""Shared pieces of the orchestration tests: a test's warehouse, CLI runners and what Prefect recorded.

(Named uniquely: with --import-mode=importlib, test helpers are plain modules on sys.path.)
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from kpiflow.config import Settings
from kpiflow.orchestration.pipeline import RunContext, RunOptions
from kpiflow.warehouse import TableFingerprint, warehouse_for
from kpiflow.warehouse.duckdb import DuckDBWarehouse, fingerprint_file
from kpiflow.warehouse.duckdb_files import attached_read_only

HERE = Path(__file__).parent
PROJECT_DIR = HERE.parents[1]
RUN_DATE = date(2025, 3, 31)


@dataclass(frozen=True)
class Warehouse:
    """A test's own warehouse, published marts and state folder, wired into the environment."""

    settings: Settings

    def engine(self) -> DuckDBWarehouse:
        """The kpiflow Warehouse these settings choose (DuckDB: the test's files)."""
        engine = warehouse_for(self.settings)
        assert isinstance(engine, DuckDBWarehouse)
        return engine

    def published(self) -> dict[str, TableFingerprint]:
        return fingerprint_file(self.settings.marts_path)

    def published_bytes(self) -> bytes:
        return self.settings.marts_path.read_bytes()

    def published_runs(self) -> list[tuple[str, date]]:
        """(run id, run date) of the publish the published file records (its own `kpiflow_state.runs`)."""
        with attached_read_only(self.settings.marts_path, "pub") as con:
            return [(str(run_id), run_date) for run_id, run_date in con.execute(
                "select run_id, run_date from pub.kpiflow_state.runs where published_at is not null"
            ).fetchall()]  # fmt: skip

    def context(self, run_date: date = RUN_DATE, run_id: str = "test-run") -> RunContext:
        return RunContext(self.settings, RunOptions(run_date=run_date), run_id)


@dataclass(frozen=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class StandinCli:
    """Runs `kpiflow` (with stand-in stages) as a real process against the test Prefect API."""

    env: dict[str, str]

    def command(self, *args: str) -> list[str]:
        return [sys.executable, str(HERE / "standin_cli.py"), *args]

    def run(self, *args: str, extra_env: dict[str, str] | None = None, timeout: float = 120) -> CliResult:
        done = subprocess.run(
            self.command(*args),
            env={**self.env, **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=PROJECT_DIR,
        )
        return CliResult(done.returncode, done.stdout, done.stderr)

    def start(self, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(*args),
            env={**self.env, **(extra_env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=PROJECT_DIR,
        )


@dataclass(frozen=True)
class FlowRunRecord:
    """What the Prefect API recorded for one flow run: final task states by task name, and artifacts by key."""

    task_states: dict[str, str]
    task_run_counts: dict[str, int]
    artifacts: dict[str, object]


def read_flow_run_record(flow_run_id: object, timeout: float = 20.0) -> FlowRunRecord:
    """Task states arrive at the API as events, a moment after the flow returns: poll until all are final."""
    from prefect import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowRunFilter,
        FlowRunFilterId,
        TaskRunFilter,
    )
    from prefect.client.schemas.sorting import ArtifactSort, TaskRunSort

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            task_runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
                sort=TaskRunSort.EXPECTED_START_TIME_ASC,
                limit=100,
            )
            if all(run.state and run.state.is_final() for run in task_runs) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        artifacts = client.read_artifacts(  # the sync client sends None for omitted fields: give them all
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])),
            flow_run_filter=FlowRunFilter(),
            task_run_filter=TaskRunFilter(),
            sort=ArtifactSort.CREATED_DESC,
            limit=100,
            offset=0,
        )
    return FlowRunRecord(
        task_states={run.name.rsplit("-", 1)[0]: run.state.name for run in task_runs if run.state},
        task_run_counts={run.name.rsplit("-", 1)[0]: run.run_count for run in task_runs},
        artifacts={artifact.key: artifact.data for artifact in artifacts if artifact.key},
    )
