"""The Spark warehouse (kpiflow.warehouse.spark) keeps the interface's contract on a real local Spark session.

One Spark session (and one fresh Derby metastore) for the module: starting Spark is most of the time. Rows are
written directly, a handful per table. What is proven: typed exact writes read back, bound parameters stay text,
fingerprints ignore row order (DuckDB's `hash()` and PostgreSQL's md5 differ from each other and from Spark's
xxhash64, so the interface promises equal fingerprints within one engine only), publish shows the new version,
rollback the previous one, a failed publish publishes nothing, a half-switched publish is finished by the next run,
the run lock names its holder, and `kpiflow demo-data --append-through` lands the DuckDB append's rows in raw (also
after an append that stopped part-way) or refuses a raw table that is missing or ahead of the demo, naming it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest
from warehouse_rows import sort_key

from kpiflow.demo.warehouse import DEMO_TABLES, META_TABLE
from kpiflow.errors import RunFailed, UserInputError, WarehouseBusy
from kpiflow.warehouse import AccessDenied, MissingRelation
from kpiflow.warehouse.fingerprints import fingerprint_schemas, fingerprint_table
from kpiflow.warehouse.run_record import BUILDS_VIEW, RUNS_TABLE, ensure_run_tables, last_build, published_run
from kpiflow.warehouse.spark import SparkWarehouse, SparkWarehouseSession
from kpiflow.warehouse.spark_publish import version_database

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = pytest.mark.slow

KPI_COLUMNS = (("kpi", "varchar"), ("day", "date"), ("value", "decimal(18,2)"))
PAY_COLUMNS = (("employee_id", "varchar"), ("payout", "decimal(18,2)"))
AT = datetime(2024, 3, 1, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkWarehouse]:
    spark_warehouse = SparkWarehouse(tmp_path_factory.mktemp("spark"))
    try:
        yield spark_warehouse
    finally:
        spark_warehouse.close()


def _kpi_rows(value: str) -> list[tuple[object, ...]]:
    return [("revenue", date(2024, 1, 1), Decimal(value)), ("orders", "2024-01-02", Decimal("3"))]


def _build(warehouse: SparkWarehouse, value: str, *, extra: bool = False) -> tuple:
    """Write the build copies (`marts__build`, `payroll__build`) as dbt and the scorecards would, and audit them."""
    with warehouse.connect_build() as build:
        build.write_table("marts.kpi_values", KPI_COLUMNS, _kpi_rows(value))
        build.write_table("payroll.payouts", PAY_COLUMNS, [("e1", Decimal(value))])
        if extra:
            build.write_table("marts.extra", (("x", "integer"),), [(1,)])
        return tuple(fingerprint_schemas(build).values())


def _published_value(warehouse: SparkWarehouse) -> tuple[Decimal, Decimal]:
    with warehouse.read_published() as published:
        kpi = published.execute("select value from marts.kpi_values where kpi = 'revenue'").fetchone()
        pay = published.execute("select payout from payroll.payouts").fetchone()
    assert kpi is not None and pay is not None
    return kpi[0], pay[0]


def test_write_table_is_typed_exact_and_replaces(warehouse: SparkWarehouse) -> None:
    columns = (("name", "varchar"), ("amount", "decimal(18,2)"), ("score", "decimal(38,12)"), ("day", "date"))
    rows = [
        ('a, "quoted"', Decimal("1.005"), Decimal("0.1234567890125"), "2025-03-31"),
        (None, None, Decimal("Infinity"), None),
    ]
    with warehouse.connect() as session:
        session.write_table("payroll_test.t", columns, rows)
        session.write_table("payroll_test.t", columns, rows)  # replaces: no duplicates
        assert session.relations(("payroll_test",)) == [("payroll_test", "t")]
        assert session.has_relation("payroll_test.t") and not session.has_relation("payroll_test.missing")
        assert session.relations(("no_such_schema",)) == []
    assert warehouse.exists()  # the metastore is there now
    with warehouse.connect() as session:
        cursor = session.execute("select name, amount, score, day from payroll_test.t order by name nulls last")
        found = cursor.fetchall()
        assert [d[:2] for d in cursor.description] == [
            ("name", "string"), ("amount", "decimal(18,2)"), ("score", "decimal(38,12)"), ("day", "date")
        ]  # fmt: skip
    assert found == [
        ('a, "quoted"', Decimal("1.00"), Decimal("0.123456789012"), date(2025, 3, 31)),  # half-even to the scale
        (None, None, None, None),  # an unbounded score is NULL
    ]
    with warehouse.connect() as session:
        session.write_table("payroll_test.empty", columns, [])
        assert session.execute("select * from payroll_test.empty").description[1][1] == "decimal(18,2)"


def test_bound_parameters_stay_text(warehouse: SparkWarehouse) -> None:
    hostile = "x'); drop table params_test.t; --"
    with warehouse.connect() as session:
        session.write_table("params_test.t", (("label", "varchar"), ("day", "date")), [])
        session.execute("insert into params_test.t values (?, ?)", [hostile, date(2024, 1, 2)])
        session.executemany("insert into params_test.t values (?, ?)", [["a;b", date(2024, 1, 3)], ["'", None]])
        assert session.execute("select label from params_test.t where label = ?", [hostile]).fetchall() == [(hostile,)]
        assert session.execute("select $label as v", {"label": hostile}).fetchone() == (hostile,)
        assert sorted(session.execute("select label from params_test.t").fetchall()) == [("'",), ("a;b",), (hostile,)]


def test_errors_are_named_and_a_read_only_session_cannot_write(warehouse: SparkWarehouse) -> None:
    with warehouse.connect(read_only=True) as session:
        with pytest.raises(MissingRelation, match="nowhere"):
            session.execute("select * from raw.nowhere")
        with pytest.raises(AccessDenied, match="queries only"):
            session.execute("create table ro_test.t as select 1 as a")
        assert not session.has_relation("ro_test.t")


class _ErrorRecords(logging.Handler):
    """The records pyspark logs at ERROR for a failed statement (it logs each one it raises with a query context)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def spark_errors() -> Iterator[_ErrorRecords]:
    from pyspark.logger import PySparkLogger

    records = _ErrorRecords()
    loggers = [PySparkLogger.getLogger(name) for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger")]
    for logger in loggers:
        logger.addHandler(records)
    try:
        yield records
    finally:
        for logger in loggers:
            logger.removeHandler(records)


def test_expected_lookups_log_no_error_and_a_bad_statement_still_does(
    warehouse: SparkWarehouse, spark_errors: _ErrorRecords
) -> None:
    """A run's questions whose answer may be "none" (the record's tables, their type, leftovers of a publish) are
    asked of Spark's catalog, not tried: pyspark logs every failed statement at ERROR, which reads as a failed run.
    Runs before the publish tests, so the record does not exist yet."""
    with warehouse.connect() as session:
        session.execute("select 1").fetchall()  # Spark started before the records are read
        spark_errors.messages.clear()
        assert last_build(warehouse) is None
        assert published_run(session) is None
        ensure_run_tables(session)
        ensure_run_tables(session)  # the second time finds the views
        assert warehouse.remove_publish_leftovers() == []
        assert spark_errors.messages == []
        assert session.table_type(BUILDS_VIEW) == "VIEW"
        assert session.table_type(RUNS_TABLE) == "BASE TABLE"
        assert session.table_type("kpiflow_state.nothing") is None
        assert session.table_type("no_such_database.nothing") is None
        missing_record = SparkWarehouseSession(session.spark, (("kpiflow_state", "no_such_state"),))
        assert published_run(missing_record) is None
        assert spark_errors.messages == []
        with pytest.raises(MissingRelation, match="nowhere"):  # a real error is still raised, and logged
            session.execute("select * from raw.nowhere")
    assert any("nowhere" in message for message in spark_errors.messages)


def test_fingerprints_ignore_row_order_and_see_every_difference(warehouse: SparkWarehouse) -> None:
    columns = (("a", "integer"), ("b", "integer"), ("c", "varchar"))
    rows = [(1, None, "x"), (None, 1, "x"), (2, 3, None), (2, 3, None)]
    with warehouse.connect() as session:
        session.write_table("fp_test.forward", columns, rows)
        session.write_table("fp_test.backward", columns, list(reversed(rows)))
        session.write_table("fp_test.one_duplicate_less", columns, rows[:3])
        session.write_table("fp_test.null_moved", columns, [(1, None, "x"), (1, None, "x"), *rows[2:]])
        forward, backward, fewer, moved = (
            fingerprint_table(session, "fp_test", name)
            for name in ("forward", "backward", "one_duplicate_less", "null_moved")
        )
        hashes = session.execute(
            f"select {session.row_hash_sql('a', 'b')} from fp_test.forward where c = 'x' order by a nulls first"
        ).fetchall()
    assert forward.row_count == 4 and forward.checksum == backward.checksum
    assert len({forward.checksum, fewer.checksum, moved.checksum}) == 3  # a duplicate counts; (1, NULL) != (NULL, 1)
    assert len(hashes) == 2 and hashes[0] != hashes[1] and all(isinstance(h, int) for (h,) in hashes)


def test_publish_shows_the_new_version_and_rollback_the_previous(warehouse: SparkWarehouse) -> None:
    first = _build(warehouse, "10.00")
    warehouse.publish(first, run_id="r1", run_date=date(2024, 2, 1), published_at=AT)
    assert warehouse.is_published()
    assert _published_value(warehouse) == (Decimal("10.00"), Decimal("10.00"))
    with warehouse.connect() as session:  # the build was copied out, and is built afresh by the next run
        assert session.relations(("marts__build", "payroll__build")) == []

    second = _build(warehouse, "20.00", extra=True)
    warehouse.publish(second, run_id="r2", run_date=date(2024, 2, 2), published_at=AT)
    assert _published_value(warehouse) == (Decimal("20.00"), Decimal("20.00"))
    with warehouse.read_published() as published:
        assert published.relations(("marts",)) == [("marts", "extra"), ("marts", "kpi_values")]
        assert {fp.qualified_name: fp for fp in second} == fingerprint_schemas(published)  # exactly the audited

    warehouse.rollback(run_id="rollback-1")
    assert _published_value(warehouse) == (Decimal("10.00"), Decimal("10.00"))
    with warehouse.read_published() as published:
        assert published.relations(("marts",)) == [("marts", "kpi_values")]
    with pytest.raises(UserInputError, match="nothing to roll back to"):
        warehouse.rollback(run_id="rollback-2")


def test_a_failed_publish_publishes_nothing(warehouse: SparkWarehouse) -> None:
    baseline = _build(warehouse, "30.00")
    warehouse.publish(baseline, run_id="r3", run_date=date(2024, 2, 3), published_at=AT)
    with warehouse.connect() as session:
        versions_before = sorted(d.name for d in session.spark.catalog.listDatabases() if "__v" in d.name)

    audited = _build(warehouse, "40.00")
    missing = (*audited, type(audited[0])("marts", "not_built", 1, "0"))
    with pytest.raises(RunFailed, match=r"marts__build\.not_built missing"):
        warehouse.publish(missing, run_id="r4", run_date=date(2024, 2, 4), published_at=AT)
    with warehouse.connect_build() as build:  # changed after the audit: the copy differs from what was audited
        build.write_table("marts.kpi_values", KPI_COLUMNS, _kpi_rows("41.00"))
    with pytest.raises(RunFailed, match=r"marts\.kpi_values changed between audit and publish"):
        warehouse.publish(audited, run_id="r4", run_date=date(2024, 2, 4), published_at=AT)

    assert _published_value(warehouse) == (Decimal("30.00"), Decimal("30.00"))
    with warehouse.connect() as session:
        assert sorted(d.name for d in session.spark.catalog.listDatabases() if "__v" in d.name) == versions_before


def test_the_next_run_finishes_a_half_switched_publish(warehouse: SparkWarehouse) -> None:
    warehouse.publish(_build(warehouse, "50.00"), run_id="r5", run_date=date(2024, 2, 5), published_at=AT)
    warehouse.publish(_build(warehouse, "60.00"), run_id="r6", run_date=date(2024, 2, 6), published_at=AT)
    with warehouse.connect() as session:  # as if the process died after re-pointing one view of two
        newest = max(int(d.name.rsplit("__v", 1)[1]) for d in session.spark.catalog.listDatabases() if "__v" in d.name)
        older = version_database("payroll", newest - 1)
        session.native(f"create or replace view payroll.payouts as select * from {older}.payouts")
        _leave_a_dead_build(session)
    assert _published_value(warehouse) == (Decimal("60.00"), Decimal("50.00"))  # a mix, until the next run

    removed = warehouse.remove_publish_leftovers()
    assert "marts__build" in removed and any("half-switched" in item for item in removed)
    assert _published_value(warehouse) == (Decimal("60.00"), Decimal("60.00"))
    assert warehouse.remove_publish_leftovers() == []


def _leave_a_dead_build(session: SparkWarehouseSession) -> None:
    session.write_table("marts__build.kpi_values", KPI_COLUMNS, _kpi_rows("70.00"))


def test_the_run_lock_refuses_a_second_holder_naming_the_first(warehouse: SparkWarehouse) -> None:
    with warehouse.run_lock(run_id="first-run", run_date="2024-02-07"):
        assert (warehouse.directory / "run.lock").is_file()
        second = warehouse.run_lock(run_id="second-run", run_date="2024-02-08")
        with pytest.raises(WarehouseBusy, match=r"run first-run for 2024-02-07"), second:
            pass
    with warehouse.run_lock(run_id="third-run", run_date="2024-02-09"):  # released with its holder
        pass


@pytest.fixture
def demo_on_spark(warehouse: SparkWarehouse, tmp_path: Path) -> tuple[SparkSession, date]:
    """A few demo days in raw of the module's Spark warehouse, as `kpiflow demo-data` loads them (the DuckDB demo in
    tmp_path/demo.duckdb)."""
    from kpiflow.demo import generate_demo_warehouse
    from kpiflow.demo.spark import copy_raw_into_spark

    end = date(2024, 1, 5)
    generate_demo_warehouse(tmp_path / "demo.duckdb", scale=0.01, start=date(2024, 1, 2), end=end, seed=3)
    copy_raw_into_spark(warehouse.spark(), tmp_path / "demo.duckdb")
    return warehouse.spark(), end


def _first_order_id(day: date) -> int:
    """The id the demo gives the first order of `day` (yyyymmdd * 10^7 + rank within the day)."""
    return int(f"{day:%Y%m%d}") * 10**7 + 1


def _replace_rows(spark: SparkSession, table: str, rows: list) -> None:
    spark.createDataFrame(rows, spark.table(table).schema).write.mode("overwrite").saveAsTable(table)


def test_append_through_refuses_a_missing_table_and_one_ahead_of_the_demo_naming_it(
    warehouse: SparkWarehouse, demo_on_spark: tuple[SparkSession, date]
) -> None:
    """Nothing is appended when an event table is missing or already holds other rows with the new days' keys (other
    data for those days): every table is checked before any is written."""
    from kpiflow.demo.spark import append_demo_days_to_session

    spark, end = demo_on_spark
    counts = {table: spark.table(f"raw.{table}").count() for table in ("orders", "order_lines", "absences")}
    spark.sql("alter table raw.returns rename to raw.returns_moved")
    with pytest.raises(UserInputError, match=r"raw\.returns is missing.*nothing was appended"):
        append_demo_days_to_session(spark, warehouse.directory, end + timedelta(days=1))
    spark.sql("alter table raw.returns_moved rename to raw.returns")
    (other,) = spark.table("raw.orders").limit(1).collect()
    ahead = other.asDict() | {"order_id": _first_order_id(end + timedelta(days=1))}
    _replace_rows(spark, "raw.orders", [*spark.table("raw.orders").collect(), ahead])
    with pytest.raises(UserInputError, match=r"raw\.orders already holds 1 row\(s\) with the keys \(order_id\)"):
        append_demo_days_to_session(spark, warehouse.directory, end + timedelta(days=1))
    counts["orders"] += 1  # the row put there
    assert {table: spark.table(f"raw.{table}").count() for table in counts} == counts
    assert spark.table("raw._demo_meta").collect()[0]["end_date"] == end


def test_append_through_lands_the_duckdb_rows_and_resumes_one_that_stopped_part_way(
    warehouse: SparkWarehouse, demo_on_spark: tuple[SparkSession, date], tmp_path: Path
) -> None:
    """The raw tables after `--append-through` on Spark are those of the same append on DuckDB, also when an earlier
    append stopped part-way (Spark has no transaction): here it wrote orders' new rows but not order_lines' nor
    raw._demo_meta, and the next append adds only what is missing."""
    from kpiflow.demo import append_demo_days
    from kpiflow.demo.spark import append_demo_days_to_session

    spark, end = demo_on_spark
    through = end + timedelta(days=2)
    meta, lines = spark.table("raw._demo_meta").collect(), spark.table("raw.order_lines").collect()
    assert append_demo_days_to_session(spark, warehouse.directory, through).action == "appended"
    _replace_rows(spark, "raw._demo_meta", meta)  # as if the first append had stopped after raw.orders
    _replace_rows(spark, "raw.order_lines", lines)
    summary = append_demo_days_to_session(spark, warehouse.directory, through)
    assert (summary.action, summary.end, summary.warehouse_path) == ("appended", through, warehouse.directory)
    assert append_demo_days_to_session(spark, warehouse.directory, through).action == "unchanged"
    append_demo_days(tmp_path / "demo.duckdb", through)
    with duckdb.connect(str(tmp_path / "demo.duckdb"), read_only=True) as duck:
        for table in (*DEMO_TABLES, META_TABLE):
            expected = sorted(duck.execute(f'select * from raw."{table}"').fetchall(), key=sort_key)
            found = sorted((tuple(row) for row in spark.table(f"raw.`{table}`").collect()), key=sort_key)
            assert found == expected, table
