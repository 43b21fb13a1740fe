"""`kpiflow run` through the real entry point: output, --json, exit codes and refusals."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
import yaml
from orchestration_helpers import RUN_DATE, CliResult, Warehouse
from orchestration_standins import Stages, scorecards, standin_stages

from kpiflow.orchestration.pipeline import RunContext, ScorecardSummary
from kpiflow.warehouse.file_lock import run_lock

Cli = Callable[..., CliResult]
BASELINE_DATE = date(2025, 3, 30)


def test_run_prints_progress_kpis_and_published_path(warehouse: Warehouse, kpiflow_cli: Cli) -> None:
    done = kpiflow_cli("run", "--date", str(RUN_DATE))
    assert done.returncode == 0, done.stderr
    assert "Headline KPIs for 2025-03-31" in done.stdout
    assert "Net revenue" in done.stdout
    assert f"Published 3 tables to {warehouse.settings.marts_path}" in done.stdout.replace("\n", "")
    index = warehouse.settings.marts_path.parent / "dashboard" / "index.html"
    assert f"Dashboard: {index.as_uri()}" in done.stdout.replace("\n", "")  # issue 19: make run links the site
    for stage in ("land_or_verify_inputs", "check_inputs", "build", "audit", "publish", "dashboard"):
        assert stage in done.stderr
    assert "Traceback" not in done.stderr


HELD = "card clerk: 1 payouts held (payroll.payouts.status/reason): E1 2025-03: held: no achievement for visits"


def test_every_warning_text_is_in_the_summary_and_the_json(kpiflow_cli: Cli) -> None:
    """Issue 20.1: not "(1 warnings)" alone, but what the warning says."""

    def warning_scorecards(ctx: RunContext) -> ScorecardSummary:
        return dataclasses.replace(scorecards(ctx), warnings=(HELD,))

    stages = dataclasses.replace(standin_stages(), scorecards=warning_scorecards)
    done = kpiflow_cli("run", "--date", str(RUN_DATE), stages=stages)
    assert done.returncode == 0, done.stderr
    assert f"warning (build_scorecards): {HELD}" in done.stdout.replace("\n", "")
    assert HELD in done.stderr.replace("\n", "")  # the progress line too
    as_json = kpiflow_cli("run", "--date", str(RUN_DATE), "--json", "--quiet", stages=stages)
    (stage,) = [s for s in json.loads(as_json.stdout)["stages"] if s["name"] == "build_scorecards"]
    assert stage["warnings"] == [HELD]


def test_quiet_run_prints_nothing(kpiflow_cli: Cli) -> None:
    done = kpiflow_cli("run", "--date", str(RUN_DATE), "--quiet")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_json_result_on_success_and_on_a_failed_check(warehouse: Warehouse, kpiflow_cli: Cli) -> None:
    done = kpiflow_cli("run", "--date", str(BASELINE_DATE), "--json", "--quiet")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["status"], result["exit_code"], result["run_date"]) == ("completed", 0, "2025-03-30")
    assert result["published"]["tables"]["marts.kpi_values"]["rows"] > 0

    bad_day = standin_stages(bad_dates=frozenset({RUN_DATE}))
    failed = kpiflow_cli("run", "--date", str(RUN_DATE), "--json", "--quiet", stages=bad_day)
    assert failed.returncode == 1
    result = json.loads(failed.stdout)
    assert (result["status"], result["failed_stage"], result["exit_code"]) == ("failed", "check_inputs", 1)
    assert "quantity < 0" in result["error"]
    assert "error: input checks failed for 2025-03-31" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert [day for _, day in warehouse.published_runs()] == [BASELINE_DATE]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("run", "--date", "2025-13-01"), "--date '2025-13-01' is not a date"),
        (("run", "--wait", "-1"), "--wait must be 0 or more seconds"),
        (("backfill", "--start", "2025-03-05", "--end", "2025-03-01"), "is before --start"),
        (("backfill", "--start", "yesterday", "--end", "2025-03-01"), "--start 'yesterday' is not a date"),
        (("deploy", "--timezone", "Mars/Olympus"), "not an IANA time zone"),
        (("deploy", "--cron", "at two"), "is not a cron expression"),
    ],
)
def test_bad_input_exits_2_with_a_message(kpiflow_cli: Cli, args: tuple[str, ...], expected: str) -> None:
    done = kpiflow_cli(*args)
    assert done.returncode == 2, done.stderr
    assert expected in done.stderr.replace("\n", "")
    assert "Traceback" not in done.stderr


def test_missing_warehouse_is_bad_input_for_the_real_pipeline(warehouse: Warehouse, kpiflow_cli: Cli) -> None:
    done = kpiflow_cli("run", "--date", str(RUN_DATE), "--quiet", stages=Stages())
    assert done.returncode == 2, done.stderr
    assert f"warehouse {warehouse.settings.warehouse_path} has no raw input data" in done.stderr.replace("\n", "")
    assert "--ensure-demo-data" in done.stderr


def test_second_run_is_refused_naming_the_holder(warehouse: Warehouse, kpiflow_cli: Cli) -> None:
    with run_lock(warehouse.settings.state_dir, run_id="nightly-1", run_date="2025-03-30"):
        done = kpiflow_cli("run", "--date", str(RUN_DATE), "--quiet")
    assert done.returncode == 1
    stderr = done.stderr.replace("\n", "")
    assert f"pid {os.getpid()}" in stderr
    assert "run nightly-1 for 2025-03-30" in stderr
    assert not warehouse.settings.marts_path.exists()


@pytest.mark.parametrize("args", [("run", "--quiet"), ("backfill", "--start", "2025-03-01", "--end", "2025-03-02")])
def test_the_nightly_refuses_a_target_it_is_not_wired_to(
    warehouse: Warehouse,
    kpiflow_cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    project_copier: Callable[[Path], Path],
    tmp_path: Path,
    args: tuple[str, ...],
) -> None:
    """The nightly runs on DuckDB, PostgreSQL and Spark (tests/postgres/test_pg_run.py, tests/spark/test_spark_run.py);
    on any other engine it says so up front, instead of checking and building there and stopping at publish: no
    stage is called, no journal written."""
    project = project_copier(tmp_path / "project")
    profiles = project / "profiles" / "profiles.yml"
    profile = yaml.safe_load(profiles.read_text(encoding="utf-8"))
    profile["kpiflow"]["outputs"]["lake"] = {"type": "snowflake", "account": "x", "schema": "x"}
    profiles.write_text(yaml.safe_dump(profile), encoding="utf-8")
    monkeypatch.setenv("KPIFLOW_PROJECT_DIR", str(project))
    monkeypatch.setenv("KPIFLOW_TARGET", "lake")
    done = kpiflow_cli(*args, stages=Stages())
    assert done.returncode == 2, done.stderr
    stderr = done.stderr.replace("\n", "")
    assert "KPIFLOW_TARGET=lake is a snowflake target" in stderr
    assert "runs on duckdb, postgres, spark warehouses only" in stderr


def test_ensure_demo_data_is_refused_on_a_postgres_target(
    warehouse: Warehouse, kpiflow_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It would create a DuckDB demo file beside a PostgreSQL warehouse: refused before anything runs."""
    monkeypatch.setenv("KPIFLOW_TARGET", "pg")
    done = kpiflow_cli("run", "--ensure-demo-data", "--quiet", stages=Stages())
    assert done.returncode == 2, done.stderr
    stderr = done.stderr.replace("\n", "")
    assert "--ensure-demo-data creates and extends a DuckDB demo file; KPIFLOW_TARGET=pg is a postgres" in stderr
    assert "kpiflow demo-data --append-through DAY" in stderr
    assert not warehouse.settings.warehouse_path.exists()
    assert "Traceback" not in done.stderr
    assert not list(warehouse.settings.state_dir.glob("**/last_run*"))


def test_a_stage_that_calls_sys_exit_0_fails_the_run_with_exit_1(warehouse: Warehouse, kpiflow_cli: Cli) -> None:
    """pyspark calls sys.exit(0) when it takes the process for its doctest runner (a `python -c` main module): the
    run failed at check_inputs, and `kpiflow run` exited 0, as if it had published."""

    def exits(ctx: RunContext) -> None:
        raise SystemExit(0)

    failed = kpiflow_cli("run", "--date", str(RUN_DATE), stages=dataclasses.replace(standin_stages(), check=exits))
    assert failed.returncode == 1, failed
    assert "error: the run failed: check_inputs called sys.exit(0)" in failed.stderr.replace("\n", " ")
    assert not warehouse.settings.marts_path.exists()  # nothing published
