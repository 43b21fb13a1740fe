"""Write-audit-publish without Prefect: fingerprints, the audit, and the atomic swap of the published file."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import duckdb
import pytest
from orchestration_helpers import RUN_DATE, Warehouse
from orchestration_standins import build, land, scorecards

from kpiflow.errors import RunFailed, UserInputError
from kpiflow.orchestration.audit import audit_warehouse
from kpiflow.orchestration.publish import PublishReceipt, publish_marts
from kpiflow.warehouse import duckdb_publish as publish_module
from kpiflow.warehouse.duckdb import fingerprint_file
from kpiflow.warehouse.duckdb_files import attached_read_only
from kpiflow.warehouse.duckdb_publish import (
    PUBLISH_LOG_VIEW,
    previous_path_for,
    remove_stray_tmp_files,
    tmp_path_for,
)


def _build_day(warehouse: Warehouse, run_date: date) -> None:
    ctx = warehouse.context(run_date)
    land(ctx)
    build(ctx)
    scorecards(ctx)


def _publish(warehouse: Warehouse, run_date: date, run_id: str) -> PublishReceipt:
    audit = audit_warehouse(warehouse.engine())
    audit.raise_if_failed()
    return publish_marts(warehouse.engine(), audited=audit.tables, run_id=run_id, run_date=run_date)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _table(con: duckdb.DuckDBPyConnection, sql: str) -> set[tuple]:
    return set(con.execute(sql).fetchall())


@pytest.mark.parametrize(
    ("left", "right", "same"),
    [
        ("values (1, 'a'), (2, 'b')", "values (2, 'b'), (1, 'a')", True),  # row order does not matter
        ("values (1, 'a'), (2, 'b')", "values (1, 'a'), (2, 'c')", False),  # one value changed
        ("values (1, 'a'), (1, 'a')", "values (1, 'a'), (2, 'b')", False),  # duplicates are not lost
        ("values (1, 'a'), (1, 'a')", "values (2, 'b'), (2, 'b')", False),  # duplicates do not cancel out
    ],
)
def test_fingerprint_is_order_independent_and_sees_every_change(
    tmp_path: Path, left: str, right: str, same: bool
) -> None:
    for name, rows in (("left", left), ("right", right)):
        with duckdb.connect(str(tmp_path / f"{name}.duckdb")) as con:
            con.execute(f"create schema marts; create table marts.t as select * from ({rows}) as v(id, s)")
    left_print = fingerprint_file(tmp_path / "left.duckdb")["marts.t"]
    right_print = fingerprint_file(tmp_path / "right.duckdb")["marts.t"]
    assert left_print.row_count == right_print.row_count == 2
    assert (left_print.checksum == right_print.checksum) is same


def test_audit_lists_empty_tables_and_missing_schemas(warehouse: Warehouse) -> None:
    ctx = warehouse.context()
    land(ctx)
    build(ctx)  # no scorecards: schema payroll is missing
    with duckdb.connect(str(warehouse.settings.warehouse_path)) as con:
        con.execute("create table marts.empty_mart (x integer)")
    report = audit_warehouse(warehouse.engine())
    assert not report.passed
    assert any("schema 'payroll' has no tables" in problem for problem in report.problems)
    assert any(problem.startswith("marts.empty_mart has 0 rows") for problem in report.problems)
    with pytest.raises(RunFailed, match="audit failed, nothing was published"):
        report.raise_if_failed()


def test_audit_passes_a_complete_build(warehouse: Warehouse) -> None:
    _build_day(warehouse, RUN_DATE)
    report = audit_warehouse(warehouse.engine())
    assert report.passed, report.problems
    assert {fp.qualified_name for fp in report.tables} == {"marts.kpi_catalog", "marts.kpi_values", "payroll.payouts"}
    assert all(fp.row_count > 0 for fp in report.tables)


def test_publish_copies_audited_tables_and_records_them(warehouse: Warehouse) -> None:
    _build_day(warehouse, RUN_DATE)
    receipt = _publish(warehouse, RUN_DATE, "run-1")
    marts_path = warehouse.settings.marts_path
    assert receipt.location == str(marts_path)
    assert warehouse.published() == {fp.qualified_name: fp for fp in receipt.tables}
    with attached_read_only(marts_path, "pub") as con:
        log = con.execute(
            "select run_id, run_date, table_schema || '.' || table_name, row_count, checksum "
            f"from pub.{PUBLISH_LOG_VIEW}"
        ).fetchall()
        con.execute(f"attach '{warehouse.settings.warehouse_path}' as wh (read_only)")
        assert _table(con, "select * from pub.marts.kpi_values") == _table(con, "select * from wh.marts.kpi_values")
    assert {(row[0], row[1], row[2], row[3], row[4]) for row in log} == {
        ("run-1", RUN_DATE, fp.qualified_name, fp.row_count, fp.checksum) for fp in receipt.tables
    }
    assert list(marts_path.parent.glob("*.tmp-*")) == []


def test_views_are_published_as_tables(warehouse: Warehouse) -> None:
    _build_day(warehouse, RUN_DATE)
    with duckdb.connect(str(warehouse.settings.warehouse_path)) as con:
        con.execute("create view marts.revenue_days as select * from marts.kpi_values where kpi = 'net_revenue'")
    _publish(warehouse, RUN_DATE, "run-1")
    with attached_read_only(warehouse.settings.marts_path, "pub") as con:
        kind = con.execute(
            "select table_type from information_schema.tables "
            "where table_catalog = 'pub' and table_name = 'revenue_days'"
        ).fetchone()
        assert kind == ("BASE TABLE",)
        assert con.execute("select count(*) from pub.marts.revenue_days").fetchone()[0] > 0


def test_reader_keeps_a_consistent_old_snapshot_while_a_new_file_is_published(warehouse: Warehouse) -> None:
    """A BI tool with the file open during the swap sees yesterday's marts, whole; new readers see today's."""
    _build_day(warehouse, date(2025, 3, 30))
    _publish(warehouse, date(2025, 3, 30), "run-1")
    marts_path = warehouse.settings.marts_path
    with attached_read_only(marts_path, "bi") as reader:
        before = reader.execute("select max(period_start), count(*) from bi.marts.kpi_values").fetchone()
        _build_day(warehouse, RUN_DATE)
        _publish(warehouse, RUN_DATE, "run-2")
        assert reader.execute("select max(period_start), count(*) from bi.marts.kpi_values").fetchone() == before
        assert reader.execute(f"select distinct run_id from bi.{PUBLISH_LOG_VIEW}").fetchall() == [("run-1",)]
    with attached_read_only(marts_path, "bi") as fresh:
        assert fresh.execute("select max(period_start) from bi.marts.kpi_values").fetchone() == (RUN_DATE,)
        assert fresh.execute(f"select distinct run_id from bi.{PUBLISH_LOG_VIEW}").fetchall() == [("run-2",)]


def test_the_previously_published_file_is_kept_for_rollback(warehouse: Warehouse) -> None:
    _build_day(warehouse, date(2025, 3, 30))
    _publish(warehouse, date(2025, 3, 30), "run-1")
    first_bytes = warehouse.published_bytes()
    _build_day(warehouse, RUN_DATE)
    _publish(warehouse, RUN_DATE, "run-2")
    previous = previous_path_for(warehouse.settings.marts_path)
    assert previous.read_bytes() == first_bytes
    assert warehouse.published_bytes() != first_bytes


def test_rollback_publishes_the_previous_version_again(warehouse: Warehouse) -> None:
    _build_day(warehouse, date(2025, 3, 30))
    _publish(warehouse, date(2025, 3, 30), "run-1")
    with pytest.raises(UserInputError, match="nothing to roll back to"):
        warehouse.engine().rollback(run_id="rollback-1")
    first_bytes = warehouse.published_bytes()
    _build_day(warehouse, RUN_DATE)
    _publish(warehouse, RUN_DATE, "run-2")
    version = warehouse.engine().rollback(run_id="rollback-1")
    assert version.location == str(warehouse.settings.marts_path)
    assert warehouse.published_bytes() == first_bytes
    assert warehouse.published_runs() == [("run-1", date(2025, 3, 30))]


def test_kpiflow_rollback_puts_the_previous_marts_back(warehouse: Warehouse) -> None:
    from typer.testing import CliRunner

    from kpiflow.cli import app

    _build_day(warehouse, date(2025, 3, 30))
    _publish(warehouse, date(2025, 3, 30), "run-1")
    _build_day(warehouse, RUN_DATE)
    _publish(warehouse, RUN_DATE, "run-2")
    result = CliRunner().invoke(app, ["rollback"])
    assert result.exit_code == 0, result.output
    assert warehouse.published_runs() == [("run-1", date(2025, 3, 30))]
    again = CliRunner().invoke(app, ["rollback"])
    assert isinstance(again.exception, UserInputError) and "nothing to roll back to" in str(again.exception)


def test_a_publish_that_fails_midway_leaves_the_published_file_byte_for_byte(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    _build_day(warehouse, date(2025, 3, 30))
    _publish(warehouse, date(2025, 3, 30), "run-1")
    digest = _sha256(warehouse.settings.marts_path)
    _build_day(warehouse, RUN_DATE)

    def disk_full(path: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(publish_module, "_fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        _publish(warehouse, RUN_DATE, "run-2")
    assert _sha256(warehouse.settings.marts_path) == digest
    assert list(warehouse.settings.marts_path.parent.glob("*.tmp-*")) == []


def test_publish_refuses_when_the_warehouse_changed_after_the_audit(warehouse: Warehouse) -> None:
    _build_day(warehouse, RUN_DATE)
    audit = audit_warehouse(warehouse.engine())
    with duckdb.connect(str(warehouse.settings.warehouse_path)) as con:
        con.execute("delete from payroll.payouts")
        con.execute("insert into payroll.payouts values ('E2', date '2025-03-31', 1.0)")
    settings = warehouse.settings
    with pytest.raises(RunFailed, match=r"payroll\.payouts changed between audit and publish"):
        publish_marts(warehouse.engine(), audited=audit.tables, run_id="r", run_date=RUN_DATE)
    assert not settings.marts_path.exists()


def test_publish_refuses_while_someone_writes_the_published_file(warehouse: Warehouse) -> None:
    _build_day(warehouse, RUN_DATE)
    _publish(warehouse, RUN_DATE, "run-1")
    wal = warehouse.settings.marts_path.with_name("marts.duckdb.wal")
    wal.write_bytes(b"uncommitted")
    with pytest.raises(RunFailed, match="open for writing"):
        _publish(warehouse, RUN_DATE, "run-2")


def test_stray_temp_files_of_dead_runs_are_removed(warehouse: Warehouse) -> None:
    marts_path = warehouse.settings.marts_path
    marts_path.parent.mkdir(parents=True)
    marts_path.write_bytes(b"published")
    strays = [tmp_path_for(marts_path, "dead-run"), marts_path.with_name(marts_path.name + ".tmp-dead-run.wal")]
    for stray in strays:
        stray.write_bytes(b"half written")
    assert remove_stray_tmp_files(marts_path) == sorted(strays)
    assert [path.name for path in marts_path.parent.iterdir()] == ["marts.duckdb"]


def test_audit_publishes_kpi_marts_without_scorecards_and_warns(warehouse: Warehouse) -> None:
    """Nobody on a card (issue 15.9): empty scorecard outputs are a warning; other empty tables still block."""
    _build_day(warehouse, RUN_DATE)
    with duckdb.connect(str(warehouse.settings.warehouse_path)) as con:
        con.execute("delete from payroll.payouts")
        con.execute("create table marts.scorecard_results (card varchar)")
        con.execute("create table payroll.scorecard_warnings (card varchar, message varchar)")  # nothing to warn
    report = audit_warehouse(warehouse.engine())
    assert report.passed, report.problems
    assert [w.split(" is empty")[0] for w in report.warnings] == ["marts.scorecard_results", "payroll.payouts"]
    assert "2 warnings" in report.headline()
    receipt = _publish(warehouse, RUN_DATE, "no-cards")
    assert {"marts.kpi_values", "payroll.payouts"} <= {fp.qualified_name for fp in receipt.tables}
    with duckdb.connect(str(warehouse.settings.warehouse_path)) as con:
        con.execute("create table marts.empty_mart (x integer)")
    assert any(p.startswith("marts.empty_mart has 0 rows") for p in audit_warehouse(warehouse.engine()).problems)
