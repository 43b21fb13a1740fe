"""SIGKILL a real `kpiflow run` process mid-build and mid-publish: the published marts must not change."""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import date
from pathlib import Path

import pytest
from orchestration_helpers import RUN_DATE, StandinCli, Warehouse
from orchestration_standins import BUILD_MARKER_ENV, BUILD_SLEEP_ENV
from standin_cli import PUBLISH_MARKER_ENV, PUBLISH_SLEEP_ENV

from kpiflow.orchestration.journal import read_last_run
from kpiflow.warehouse.file_lock import run_lock

pytestmark = pytest.mark.slow  # each case starts `kpiflow run` three times in subprocesses

BASELINE_DATE = date(2025, 3, 30)


def _wait_for(path: Path, process: subprocess.Popen[str], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"run ended (code {process.returncode}) before {path.name}: {process.stderr.read()}")
        assert time.monotonic() < deadline, f"{path.name} did not appear"
        time.sleep(0.1)


def test_sigkill_during_build_leaves_published_marts_as_they_were(
    warehouse: Warehouse, standin_cli: StandinCli, tmp_path: Path
) -> None:
    assert standin_cli.run("run", "--date", str(BASELINE_DATE), "--quiet").returncode == 0
    before, before_bytes = warehouse.published(), warehouse.published_bytes()
    marker = tmp_path / "building"
    run = standin_cli.start(
        "run", "--date", str(RUN_DATE), "--quiet", extra_env={BUILD_MARKER_ENV: str(marker), BUILD_SLEEP_ENV: "300"}
    )
    _wait_for(marker, run)
    run.send_signal(signal.SIGKILL)
    run.wait(30)

    assert warehouse.published_bytes() == before_bytes
    assert warehouse.published() == before
    journal = read_last_run(warehouse.settings.state_dir)
    assert (journal["run_date"], journal["stages"][-1]["name"], journal["status"]) == ("2025-03-31", "build", "running")
    with run_lock(warehouse.settings.state_dir, run_id="probe", run_date="-"):
        pass  # the dead run's lock went with it

    assert standin_cli.run("run", "--date", str(RUN_DATE), "--quiet").returncode == 0
    assert [day for _, day in warehouse.published_runs()] == [RUN_DATE]
    assert warehouse.published() != before
    with warehouse.engine().connect(read_only=True) as session:  # the next run, holding the lock, marked it killed
        statuses = dict(session.execute("select run_id, status from kpiflow_state.runs").fetchall())
    assert statuses[journal["run_id"]] == "killed"
    assert sorted(statuses.values()) == ["completed", "completed", "killed"]


def test_sigkill_during_publish_keeps_the_old_file_and_the_next_run_cleans_up(
    warehouse: Warehouse, standin_cli: StandinCli, tmp_path: Path
) -> None:
    assert standin_cli.run("run", "--date", str(BASELINE_DATE), "--quiet").returncode == 0
    before_bytes = warehouse.published_bytes()
    marker = tmp_path / "publishing"
    run = standin_cli.start(
        "run", "--date", str(RUN_DATE), "--quiet", extra_env={PUBLISH_MARKER_ENV: str(marker), PUBLISH_SLEEP_ENV: "300"}
    )
    _wait_for(marker, run)
    half_written = Path(marker.read_text())
    assert half_written.exists() and half_written.parent == warehouse.settings.marts_path.parent
    run.send_signal(signal.SIGKILL)
    run.wait(30)

    assert warehouse.published_bytes() == before_bytes
    assert [day for _, day in warehouse.published_runs()] == [BASELINE_DATE]

    assert standin_cli.run("run", "--date", str(RUN_DATE), "--quiet").returncode == 0
    assert not half_written.exists()
    assert list(warehouse.settings.marts_path.parent.glob("*.tmp-*")) == []
    assert [day for _, day in warehouse.published_runs()] == [RUN_DATE]
