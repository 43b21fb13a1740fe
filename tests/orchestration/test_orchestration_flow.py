"""The nightly Prefect flow on a test API, with stand-in stages doing real work on a real warehouse."""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import date
from typing import Any

import pytest
from orchestration_helpers import RUN_DATE, Warehouse, read_flow_run_record
from orchestration_standins import ScriptedStage, Stages, build, standin_stages

from kpiflow.errors import RunFailed, WarehouseBusy
from kpiflow.orchestration.journal import read_last_run
from kpiflow.orchestration.pipeline import GateOutcome
from kpiflow.orchestration.transient import TransientRunError
from kpiflow.warehouse.file_lock import run_lock

pytestmark = pytest.mark.usefixtures("prefect_api")

ALL_TASKS = {
    "land_or_verify_inputs",
    "check_inputs",
    "compile_metrics",
    "build",
    "build_scorecards",
    "audit",
    "publish",
    "dashboard",
    "report",
}


def _run(stages: Stages, run_date: date = RUN_DATE, **parameters: Any) -> Any:
    from kpiflow.orchestration.flow import nightly
    from kpiflow.orchestration.pipeline import RunOptions

    with stages.installed():
        return nightly(RunOptions(run_date=run_date, **parameters), return_state=True)


@pytest.fixture
def no_retry_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    from kpiflow.orchestration import flow

    for task in (flow.land_or_verify_inputs, flow.check_inputs, flow.build, flow.build_scorecards, flow.publish):
        monkeypatch.setattr(task, "retry_delay_seconds", [0, 0, 0])


def test_good_day_completes_every_task_and_attaches_the_artifacts(warehouse: Warehouse, stages: Stages) -> None:
    state = _run(stages)
    assert state.is_completed(), state.message
    flow_run_id = state.state_details.flow_run_id
    result = state.result()
    record = read_flow_run_record(flow_run_id)
    assert record.task_states == dict.fromkeys(ALL_TASKS, "Completed")
    assert set(record.artifacts) == {"kpiflow-quality", "kpiflow-kpis", "kpiflow-dashboard", "kpiflow-run-report"}
    kpi_rows = json.loads(record.artifacts["kpiflow-kpis"])
    assert [row["KPI"] for row in kpi_rows] == ["Net revenue", "Orders"]
    assert kpi_rows[1]["2025-03-31"] == "5"  # five stand-in orders a day
    assert "Input checks for 2025-03-31: passed" in record.artifacts["kpiflow-quality"]
    assert result["status"] == "completed"
    assert [stage["name"] for stage in result["stages"]] == [
        "land_or_verify_inputs", "check_inputs", "compile_metrics", "build", "build_scorecards", "audit",
        "publish", "dashboard", "report",
    ]  # fmt: skip
    assert set(result["published"]["tables"]) == {"marts.kpi_catalog", "marts.kpi_values", "payroll.payouts"}
    assert [run_id for run_id, _ in warehouse.published_runs()] == [str(flow_run_id)]
    # Issue 19: the dashboard is rebuilt from what was just published, and the artifact links to it.
    index = warehouse.settings.marts_path.parent / "dashboard" / "index.html"
    assert result["dashboard"] == {"index": str(index), "error": None}
    assert "Net revenue" in index.read_text()
    assert index.as_uri() in record.artifacts["kpiflow-dashboard"]
    assert read_last_run(warehouse.settings.state_dir)["status"] == "completed"


def test_bad_day_fails_in_the_check_and_leaves_published_marts_unchanged(warehouse: Warehouse) -> None:
    assert _run(standin_stages(), run_date=date(2025, 3, 30)).is_completed()
    before, before_bytes = warehouse.published(), warehouse.published_bytes()

    state = _run(standin_stages(bad_dates=frozenset({RUN_DATE})))

    assert state.is_failed()
    error = state.result(raise_on_failure=False)
    assert isinstance(error, RunFailed)
    assert "input checks failed for 2025-03-31" in str(error)
    assert "quantity < 0" in str(error)
    record = read_flow_run_record(state.state_details.flow_run_id)
    assert record.task_states == {"land_or_verify_inputs": "Completed", "check_inputs": "Failed"}
    assert "FAILED: nothing was built or published" in record.artifacts["kpiflow-quality"]
    assert warehouse.published() == before
    assert warehouse.published_bytes() == before_bytes
    assert read_last_run(warehouse.settings.state_dir)["failed_stage"] == "check_inputs"


@pytest.mark.usefixtures("no_retry_delay")
def test_transient_build_failure_is_retried_then_succeeds(warehouse: Warehouse, stages: Stages) -> None:
    flaky_build = ScriptedStage(build, errors=[TransientRunError("IO Error: Could not set lock on file")])
    state = _run(dataclasses.replace(stages, build=flaky_build))
    assert state.is_completed(), state.message
    assert flaky_build.calls == 2
    record = read_flow_run_record(state.state_details.flow_run_id)
    assert record.task_states["build"] == "Completed"
    assert record.task_run_counts["build"] == 2
    assert warehouse.published()


@pytest.mark.usefixtures("no_retry_delay")
def test_failed_dbt_test_is_not_retried_and_publishes_nothing(warehouse: Warehouse, stages: Stages) -> None:
    assert _run(stages, run_date=date(2025, 3, 30)).is_completed()
    before_bytes = warehouse.published_bytes()
    failing_build = ScriptedStage(build, errors=[RunFailed("dbt build failed: 1 of 40 nodes failed")])
    state = _run(dataclasses.replace(stages, build=failing_build))
    assert state.is_failed()
    assert failing_build.calls == 1
    record = read_flow_run_record(state.state_details.flow_run_id)
    assert record.task_states["build"] == "Failed"
    assert "publish" not in record.task_states
    assert warehouse.published_bytes() == before_bytes


def test_run_refused_while_another_holds_the_lock(warehouse: Warehouse, stages: Stages) -> None:
    with run_lock(warehouse.settings.state_dir, run_id="other", run_date="2025-03-30"):
        state = _run(stages)
    assert state.is_failed()
    error = state.result(raise_on_failure=False)
    assert isinstance(error, WarehouseBusy)
    assert "run other for 2025-03-30" in str(error)
    assert not warehouse.settings.marts_path.exists()


def test_run_with_wait_queues_behind_the_holder(warehouse: Warehouse, stages: Stages) -> None:
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        with run_lock(warehouse.settings.state_dir, run_id="other", run_date="2025-03-30"):
            locked.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    locked.wait(5)
    threading.Timer(1.0, release.set).start()
    state = _run(stages, wait_seconds=30)
    holder.join()
    assert state.is_completed(), state.message


@pytest.mark.filterwarnings("ignore:Artifact creation outside:FutureWarning")  # task.fn() runs outside a flow
def test_check_task_raises_with_the_data_docs_path(warehouse: Warehouse, stages: Stages, tmp_path: Any) -> None:
    from kpiflow.orchestration.flow import check_inputs

    docs = tmp_path / "data_docs" / "index.html"
    failing = GateOutcome(False, "orders.quantity: 3 rows < 0", data_docs_path=docs)
    with pytest.raises(RunFailed, match=f"Data Docs: {docs}"), Stages(check=lambda ctx: failing).installed():
        check_inputs.fn(warehouse.context())
    passing = GateOutcome(True, "12 expectations passed")
    with Stages(check=lambda ctx: passing).installed():
        assert check_inputs.fn(warehouse.context()) is passing


def test_audit_task_refuses_an_empty_build(warehouse: Warehouse) -> None:
    from kpiflow.orchestration.flow import audit

    with pytest.raises(RunFailed, match="does not exist"):
        audit.fn(warehouse.context())


def test_a_dashboard_that_cannot_be_built_is_a_warning_and_the_marts_stay_published(
    warehouse: Warehouse, stages: Stages, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 19: the dashboard follows a publish that has succeeded; its failure is reported, never un-publishes."""
    from kpiflow.dashboard import build

    def broken_site(*args: Any, **kwargs: Any) -> Any:
        raise OSError("disk full while writing the dashboard")

    monkeypatch.setattr(build, "build_dashboard", broken_site)
    state = _run(stages)
    assert state.is_completed(), state.message
    result = state.result()
    (stage,) = [s for s in result["stages"] if s["name"] == "dashboard"]
    assert list(stage["warnings"]) == [
        "dashboard not built: OSError: disk full while writing the dashboard; the marts are published"
    ]
    assert result["dashboard"]["index"] is None
    assert [run_id for run_id, _ in warehouse.published_runs()] == [str(state.state_details.flow_run_id)]
