"""The real pipeline end to end: demo data, quality gate, compiler, dbt, scorecards, publish; killed mid-build.

One story, in order, on a throwaway copy of the project: a run SIGKILLed during `dbt build` publishes
nothing; the next run publishes every mart; a later run killed during its build leaves the published
file byte for byte as it was.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date

import pytest
from orchestration_helpers import CliResult, Warehouse
from orchestration_standins import Stages

from kpiflow.config import Settings
from kpiflow.orchestration.dbt import DbtPaths
from kpiflow.orchestration.journal import read_last_run
from kpiflow.orchestration.report import HEADLINE_KPIS
from kpiflow.warehouse.file_lock import run_lock

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]  # a full dbt build: minutes

DEMO_START, FIRST_DAY, SECOND_DAY = date(2025, 10, 1), date(2025, 12, 30), date(2025, 12, 31)


def _start_real_run(env: dict[str, str], run_date: date, warehouse: Warehouse) -> subprocess.Popen[str]:
    DbtPaths.for_settings(warehouse.settings).log_file.unlink(missing_ok=True)  # watch this run's log only
    return subprocess.Popen(
        [sys.executable, "-m", "kpiflow.cli", "run", "--date", str(run_date), "--ensure-demo-data", "--quiet"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _kill_once_dbt_has_written_a_model(run: subprocess.Popen[str], warehouse: Warehouse, timeout: float = 600) -> None:
    """Wait until the run is inside `dbt build` and at least one model is written, then SIGKILL it."""
    log = DbtPaths.for_settings(warehouse.settings).log_file
    deadline = time.monotonic() + timeout
    while not (log.exists() and "OK created" in log.read_text(errors="replace")):
        if run.poll() is not None:
            raise AssertionError(f"run ended (code {run.returncode}) before building: {run.stderr.read()}")
        assert time.monotonic() < deadline, "dbt did not start building"
        time.sleep(0.5)
    journal = read_last_run(warehouse.settings.state_dir)
    assert journal is not None
    assert (journal["stages"][-1]["name"], journal["stages"][-1]["status"]) == ("build", "running")
    run.send_signal(signal.SIGKILL)
    run.wait(30)


def test_real_pipeline_survives_sigkill_mid_build_and_publishes_every_mart(
    warehouse: Warehouse,
    kpiflow_cli: Callable[..., CliResult],
    demo_in_project_copy: Callable[..., Settings],
    prefect_api: str,
) -> None:
    settings = demo_in_project_copy(DEMO_START, FIRST_DAY, scale=0.05)
    env = {**os.environ, "PREFECT_API_URL": prefect_api}

    # 1. Killed during its first build: nothing is published, the lock goes with the process.
    _kill_once_dbt_has_written_a_model(_start_real_run(env, FIRST_DAY, warehouse), warehouse)
    assert not settings.marts_path.exists()
    assert list(settings.marts_path.parent.glob("*.tmp-*")) == []
    with run_lock(settings.state_dir, run_id="probe", run_date="-"):
        pass

    # 2. The next run builds and publishes every mart (the demo data is not generated again).
    done = kpiflow_cli("run", "--date", str(FIRST_DAY), "--ensure-demo-data", "--json", "--quiet", stages=Stages())
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "completed"
    assert "demo data already present" in result["stages"][0]["headline"]
    assert result["quality"]["passed"]
    tables = result["published"]["tables"]
    assert {"marts.kpi_values", "marts.kpi_catalog", "marts.kpi_achievement", "payroll.payouts"} <= set(tables)
    assert all(table["rows"] > 0 for table in tables.values())
    on_disk = {name: (fp.row_count, fp.checksum) for name, fp in warehouse.published().items()}
    assert on_disk == {name: (table["rows"], table["checksum"]) for name, table in tables.items()}
    assert len(result["headline_kpis"]) == len(HEADLINE_KPIS)  # every headline KPI is in the real catalog
    net_revenue = next(row for row in result["kpis"] if row["KPI"] == "Net revenue")
    assert net_revenue[str(FIRST_DAY)] != "—"
    before_bytes = warehouse.published_bytes()

    # 3. A later run (which first lands the next demo day) is killed mid-build: the published file is untouched.
    _kill_once_dbt_has_written_a_model(_start_real_run(env, SECOND_DAY, warehouse), warehouse)
    assert warehouse.published_bytes() == before_bytes
    assert read_last_run(settings.state_dir)["run_date"] == str(SECOND_DAY)
