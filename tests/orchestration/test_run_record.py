"""One record of a run in the warehouse (kpiflow_state.runs, run_tables): what the nightly flow, publish and rollback
write there, and what the readers (the next run, the dashboard) read back. DuckDB; the PostgreSQL publish's
transaction is tests/postgres/test_pg_warehouse.py's."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from orchestration_helpers import RUN_DATE, Warehouse
from orchestration_standins import Stages, build, land, scorecards, standin_stages

from kpiflow.dashboard.marts import read_as_of
from kpiflow.orchestration.audit import audit_warehouse
from kpiflow.orchestration.incremental import BuildPlan, record_build
from kpiflow.orchestration.journal import read_last_run
from kpiflow.orchestration.publish import publish_marts
from kpiflow.warehouse import TableFingerprint, warehouse_for
from kpiflow.warehouse.run_record import (
    begin_run,
    ensure_run_tables,
    published_run,
    published_tables,
    read_run,
)

FINGERPRINT = "fp-of-the-project"
RUN_DATE_TIME = datetime(2025, 3, 31, 2, 0)


def _recording_build(ctx: Any) -> object:
    """The stand-in build, recorded as the real build stage records it (window and project fingerprint)."""
    summary = build(ctx)
    plan = BuildPlan(False, ctx.run_date - timedelta(days=3), "test", FINGERPRINT)
    record_build(warehouse_for(ctx.settings), ctx.run_date, plan, run_id=ctx.run_id)
    return summary


def _stages(bad_dates: frozenset[date] = frozenset()) -> Stages:
    stages = standin_stages(bad_dates)
    return Stages(land=stages.land, check=stages.check, compile=stages.compile, build=_recording_build,
                  scorecards=stages.scorecards)  # fmt: skip


def _run(stages: Stages, run_date: date = RUN_DATE) -> Any:
    from kpiflow.orchestration.flow import nightly
    from kpiflow.orchestration.pipeline import RunOptions

    with stages.installed():
        return nightly(RunOptions(run_date=run_date), return_state=True)


def _rows(warehouse: Warehouse, sql: str, parameters: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with warehouse.engine().connect(read_only=True) as session:
        return session.execute(sql, parameters).fetchall()


def _run_row(warehouse: Warehouse, run_id: str) -> dict[str, Any]:
    with warehouse.engine().connect(read_only=True) as session:
        row = read_run(session, run_id)
    assert row is not None, f"no row for run {run_id}"
    return row


def _tables(warehouse: Warehouse, run_id: str) -> dict[str, TableFingerprint]:
    with warehouse.engine().connect(read_only=True) as session:
        return {fp.qualified_name: fp for fp in published_tables(session, run_id)}


@pytest.mark.usefixtures("prefect_api")
def test_a_run_writes_one_completed_row_with_its_window_and_what_it_published(warehouse: Warehouse) -> None:
    state = _run(_stages())
    assert state.is_completed(), state.message
    run_id = str(state.state_details.flow_run_id)
    assert _rows(warehouse, "select run_id from kpiflow_state.runs") == [(run_id,)]
    row = _run_row(warehouse, run_id)
    assert row["run_date"] == RUN_DATE and row["target"] == warehouse.settings.target
    assert (row["status"], row["failed_stage"], row["error"]) == ("completed", None, None)
    assert (row["full_refresh"], row["window_start"], row["fingerprint"]) == (
        False, RUN_DATE - timedelta(days=3), FINGERPRINT,
    )  # fmt: skip
    assert row["started_at"] <= row["built_at"] <= row["published_at"] <= row["finished_at"]
    assert [stage["name"] for stage in json.loads(row["stages"])][-3:] == ["publish", "dashboard", "report"]
    assert _tables(warehouse, run_id) == warehouse.published()  # what readers read, table by table
    # The published file carries its own publish's record, and the journal file mirrors the row.
    with warehouse.engine().read_published() as session:
        assert published_run(session).run_id == run_id  # type: ignore[union-attr]
        assert read_as_of(session) == RUN_DATE
    journal = read_last_run(warehouse.settings.state_dir)
    assert journal is not None and (journal["run_id"], journal["status"]) == (run_id, "completed")
    assert not (warehouse.settings.state_dir / "run_history.jsonl").exists()  # the table holds the history


@pytest.mark.usefixtures("prefect_api")
def test_a_failed_run_records_its_failed_stage_and_publishes_nothing(warehouse: Warehouse) -> None:
    good = _run(_stages(), run_date=RUN_DATE - timedelta(days=1))
    state = _run(_stages(bad_dates=frozenset({RUN_DATE})))
    assert state.is_failed()
    run_id = str(state.state_details.flow_run_id)
    row = _run_row(warehouse, run_id)
    assert (row["status"], row["failed_stage"]) == ("failed", "check_inputs")
    assert "input checks failed for 2025-03-31" in row["error"]
    assert row["published_at"] is None and row["fingerprint"] is None and row["finished_at"] is not None
    assert _tables(warehouse, run_id) == {}
    with warehouse.engine().read_published() as session:
        assert published_run(session).run_id == str(good.state_details.flow_run_id)  # type: ignore[union-attr]


@pytest.mark.usefixtures("prefect_api")
def test_a_run_left_running_is_marked_killed_by_the_next_run(warehouse: Warehouse) -> None:
    assert _run(_stages(), run_date=RUN_DATE - timedelta(days=1)).is_completed()
    with warehouse.engine().connect() as session:  # what a run killed after it began leaves behind
        begin_run(session, run_id="killed-run", run_date=RUN_DATE, target="dev", started_at=RUN_DATE_TIME)
    assert _run_row(warehouse, "killed-run")["status"] == "running"
    state = _run(_stages())
    assert state.is_completed(), state.message
    dead = _run_row(warehouse, "killed-run")
    assert dead["status"] == "killed" and dead["finished_at"] is not None
    assert str(state.state_details.flow_run_id) in dead["error"]
    assert _rows(warehouse, "select count(*) from kpiflow_state.runs where status = 'running'") == [(0,)]


def _publish_day(warehouse: Warehouse, run_date: date, run_id: str) -> None:
    ctx = warehouse.context(run_date, run_id)
    land(ctx)
    build(ctx)
    scorecards(ctx)
    audit = audit_warehouse(warehouse.engine())
    audit.raise_if_failed()
    publish_marts(warehouse.engine(), audited=audit.tables, run_id=run_id, run_date=run_date)


def test_a_rollback_writes_its_own_row_and_the_latest_published_row_is_what_readers_see(warehouse: Warehouse) -> None:
    _publish_day(warehouse, RUN_DATE - timedelta(days=1), "run-1")
    first = warehouse.published()
    _publish_day(warehouse, RUN_DATE, "run-2")
    warehouse.engine().rollback(run_id="rollback-1")
    assert warehouse.published() == first
    row = _run_row(warehouse, "rollback-1")
    assert (row["status"], row["restored_run_id"], row["run_date"]) == ("rolled_back", "run-1", RUN_DATE - timedelta(1))
    with warehouse.engine().connect(read_only=True) as session:
        latest = published_run(session)
    assert latest is not None and (latest.run_id, latest.marts_run_id) == ("rollback-1", "run-1")
    assert _tables(warehouse, "rollback-1") == first
    with warehouse.engine().read_published() as session:
        assert read_as_of(session) == RUN_DATE - timedelta(days=1)
    # A publish after the rollback, then a second rollback: it restores what the first rollback had published.
    _publish_day(warehouse, RUN_DATE, "run-3")
    warehouse.engine().rollback(run_id="rollback-2")
    assert _run_row(warehouse, "rollback-2")["restored_run_id"] == "run-1"
    assert _tables(warehouse, "rollback-2") == warehouse.published() == first


def test_an_older_warehouse_moves_builds_and_its_publish_log_into_the_record_once(warehouse: Warehouse) -> None:
    with warehouse.engine().connect() as session:
        session.execute("create schema kpiflow_state")
        session.execute(
            "create table kpiflow_state.builds (run_date date, window_start date, full_refresh boolean, "
            "fingerprint varchar, recorded_at timestamp)"
        )
        session.execute(
            "insert into kpiflow_state.builds values ('2025-03-29', null, true, 'fp-a', '2025-03-30 02:00:00'), "
            "('2025-03-30', '2025-03-27', false, 'fp-b', '2025-03-31 02:00:00')"
        )
        session.execute(
            "create table kpiflow_state._kpiflow_publish (run_id varchar, run_date date, published_at timestamptz, "
            "table_schema varchar, table_name varchar, row_count bigint, checksum varchar)"
        )
        session.execute(
            "insert into kpiflow_state._kpiflow_publish values "
            "('old-run', '2025-03-30', '2025-03-31 02:10:00+00', 'marts', 'kpi_values', 7, '123')"
        )
        ensure_run_tables(session)
        ensure_run_tables(session)  # idempotent: nothing is moved twice
        assert session.execute(
            "select run_date, fingerprint, recorded_at from kpiflow_state.builds order by recorded_at"
        ).fetchall() == [
            (date(2025, 3, 29), "fp-a", RUN_DATE_TIME.replace(day=30)),
            (date(2025, 3, 30), "fp-b", RUN_DATE_TIME),
        ]  # fmt: skip
        assert session.execute(
            "select run_id, run_date, table_name, row_count, checksum from kpiflow_state._kpiflow_publish"
        ).fetchall() == [("old-run", date(2025, 3, 30), "kpi_values", 7, "123")]
        assert published_run(session).run_id == "old-run"  # type: ignore[union-attr]
        assert session.execute("select count(*) from kpiflow_state.runs").fetchone() == (3,)


@pytest.mark.usefixtures("prefect_api")
def test_a_run_killed_between_the_file_swap_and_the_warehouse_write_has_its_publish_recorded_by_the_next(
    warehouse: Warehouse,
) -> None:
    """DuckDB swaps the published file, then writes the warehouse's record: a kill in between leaves the file naming
    a run whose row has no published_at. The next run records that publish from the file's own record."""
    _publish_day(warehouse, RUN_DATE - timedelta(days=1), "swapped-then-killed")
    published = warehouse.published()
    with warehouse.engine().connect() as session:  # the warehouse as the kill left it
        session.execute("update kpiflow_state.runs set published_at = null, status = 'running'")
        session.execute("delete from kpiflow_state.run_tables")
    state = _run(_stages(bad_dates=frozenset({RUN_DATE})))  # fails its gate: publishes nothing itself
    assert state.is_failed()
    row = _run_row(warehouse, "swapped-then-killed")
    assert row["status"] == "killed" and row["published_at"] is not None
    assert _tables(warehouse, "swapped-then-killed") == published
