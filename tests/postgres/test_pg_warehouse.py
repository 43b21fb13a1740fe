"""The PostgreSQL engine of the warehouse interface, against a real PostgreSQL 15 server (no mocks).

Sessions: typed round trips through COPY, MissingRelation, the DuckDB SQL orchestration and scorecards really run.
Publish: a reader polling during repeated publishes sees one whole version or the other; rollback restores it.
Run lock: a second run is refused naming the holder, and a killed holder's lock is gone. No message holds the password.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from pg_server import PostgresServer

from kpiflow.config import PostgresConnection, Settings
from kpiflow.errors import RunFailed, UserInputError, WarehouseBusy
from kpiflow.orchestration.incremental import BuildPlan, last_build, record_build, set_window
from kpiflow.scorecards.inputs import create_input_tables, read_actuals
from kpiflow.scorecards.report import card_warnings
from kpiflow.warehouse import MissingRelation, TableFingerprint, WarehouseError, warehouse_for
from kpiflow.warehouse.fingerprints import fingerprint_schemas, fingerprint_table
from kpiflow.warehouse.postgres import ConcurrentConflict, PostgresSession, PostgresWarehouse
from kpiflow.warehouse.run_record import published_run, published_tables, read_run

DBNAME = "pg_warehouse"
COLUMNS = (
    ("name", "varchar"),
    ("day", "date"),
    ("amount", "decimal(18,4)"),
    ("ratio", "double"),
    ("active", "boolean"),
    ("units", "bigint"),
    ("seen_at", "timestamp"),
)


@pytest.fixture(scope="module")
def warehouse(pg_server: PostgresServer) -> PostgresWarehouse:
    pg_server.create_database(DBNAME)
    return PostgresWarehouse(_connection(pg_server, DBNAME))


def _connection(server: PostgresServer, dbname: str, **changes: object) -> PostgresConnection:
    connection = PostgresConnection(server.host, server.port, server.user, dbname, server.password)
    return replace(connection, **changes)


def test_the_factory_picks_postgres_for_a_postgres_target(
    pg_server: PostgresServer, warehouse: PostgresWarehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "profiles.yml").write_text(
        "kpiflow:\n  target: pg\n  outputs:\n    pg:\n      type: postgres\n", encoding="utf-8"
    )
    for var, value in pg_server.env(DBNAME).items():
        monkeypatch.setenv(var, value)
    chosen = warehouse_for(Settings(tmp_path, tmp_path / "unused.duckdb", tmp_path / "unused-marts.duckdb", "pg"))
    assert isinstance(chosen, PostgresWarehouse) and chosen.location == warehouse.location
    assert chosen.exists()


def test_write_table_round_trips_exact_decimals_dates_and_nulls(warehouse: PostgresWarehouse) -> None:
    rows = [
        ['a, "quoted"\nline', date(2026, 2, 28), Decimal("0.00015"), 0.1, True, 2**40, datetime(2026, 3, 1, 8, 30)],
        ["b", date(1999, 12, 31), Decimal("12345678901234.00005"), -2.5, False, -1, datetime(2026, 3, 1)],
        [None, None, None, None, None, None, None],
        ["inf", date(2026, 1, 1), Decimal("Infinity"), 1.0, True, 0, datetime(2026, 1, 1)],
    ]
    with warehouse.connect() as session:
        session.write_table("roundtrip.typed_rows", COLUMNS, rows)
        session.write_table("roundtrip.typed_rows", COLUMNS, rows)  # replaces, does not append
        back = session.execute("select * from roundtrip.typed_rows order by name nulls last").fetchall()
    assert back == [
        ('a, "quoted"\nline', date(2026, 2, 28), Decimal("0.0002"), 0.1, True, 2**40, datetime(2026, 3, 1, 8, 30)),
        ("b", date(1999, 12, 31), Decimal("12345678901234.0000"), -2.5, False, -1, datetime(2026, 3, 1)),
        ("inf", date(2026, 1, 1), None, 1.0, True, 0, datetime(2026, 1, 1)),  # unbounded -> NULL
        (None, None, None, None, None, None, None),
    ]


def test_missing_schema_table_or_column_is_missing_relation(warehouse: PostgresWarehouse) -> None:
    with warehouse.connect() as session:
        session.write_table("present.t", (("x", "integer"),), [[1]])
        for sql in ("select * from absent.t", "select * from present.absent", "select nope from present.t"):
            with pytest.raises(MissingRelation):
                session.execute(sql)
        with pytest.raises(WarehouseError) as error:
            session.execute("select 1 / 0")
        assert not isinstance(error.value, MissingRelation)
        assert session.has_relation("present.t") and not session.has_relation("present.absent")
        assert session.relations(["present", "absent"]) == [("present", "t")]
        assert session.execute("select x from present.t").fetchall() == [(1,)]  # the session is still usable


def test_read_only_session_refuses_writes(warehouse: PostgresWarehouse) -> None:
    with warehouse.connect(read_only=True) as session, pytest.raises(WarehouseError, match="read-only"):
        session.execute("create table ro_attempt (x integer)")


def test_transaction_commits_together_or_not_at_all(warehouse: PostgresWarehouse) -> None:
    with warehouse.connect() as session:
        session.write_table("tx.t", (("x", "integer"),), [[1]])
        with pytest.raises(MissingRelation), session.transaction():
            session.execute("insert into tx.t values (?)", [2])
            session.execute("insert into tx.absent values (?)", [3])
        with session.transaction():
            session.execute("insert into tx.t values (?)", [4])
        assert session.execute("select x from tx.t order by x").fetchall() == [(1,), (4,)]


def test_the_duckdb_sql_orchestration_and_scorecards_run_works(warehouse: PostgresWarehouse) -> None:
    """incremental.py's state statements (create or replace, ? parameters, ::date) and the scorecard report's
    lookups run unchanged through the Postgres session."""
    assert last_build(warehouse) is None  # kpiflow_state.runs (and builds) missing -> MissingRelation -> None
    set_window(warehouse, BuildPlan(False, date(2026, 3, 1), "", "fp-1"))
    set_window(warehouse, BuildPlan(False, date(2026, 3, 2), "", "fp-1"))  # create or replace, twice
    record_build(warehouse, date(2026, 3, 9), BuildPlan(False, date(2026, 3, 2), "", "fp-1"), run_id="run-1")
    recorded = last_build(warehouse)
    assert recorded is not None and (recorded.run_date, recorded.fingerprint) == (date(2026, 3, 9), "fp-1")
    with warehouse.connect() as session:
        assert session.execute("select window_start from kpiflow_state.build_window").fetchall() == [
            (date(2026, 3, 2),)
        ]
        session.write_table("payroll.scorecard_warnings", (("card", "varchar"), ("message", "varchar")),
                            [["sales", "sales: 50% of plan"], [None, "every card"], ["other", "x"]])  # fmt: skip
        assert card_warnings(session, "sales") == ["every card", "sales: 50% of plan"]
        like = "select count(*) from payroll.scorecard_warnings where message like '%plan' and card = ?"
        assert session.execute(like, ["sales"]).fetchone() == (1,)


def test_row_hash_and_checksum_are_stable_and_sensitive(warehouse: PostgresWarehouse) -> None:
    columns = (("k", "varchar"), ("v", "decimal(10,2)"), ("d", "date"))
    rows = [["a", Decimal("1.00"), date(2026, 1, 1)], ["b", Decimal("2.50"), None], ["a", Decimal("1.00"), None]]
    with warehouse.connect() as session:
        session.write_table("fp.base", columns, rows)
        session.write_table("fp.reordered", columns, list(reversed(rows)))
        variants = {
            "value": [["a", Decimal("1.01"), date(2026, 1, 1)], *rows[1:]],
            "date": [["a", Decimal("1.00"), date(2026, 1, 2)], *rows[1:]],
            "null": [["a", Decimal("1.00"), None], *rows[1:]],
            "duplicate": [*rows, rows[0]],
            "missing": rows[1:],
        }
        for name, changed in variants.items():
            session.write_table(f"fp.{name}", columns, changed)
        base = fingerprint_table(session, "fp", "base")
        assert fingerprint_table(session, "fp", "reordered") == replace(base, name="reordered")
        for name in variants:
            assert fingerprint_table(session, "fp", name).checksum != base.checksum, name
        hashes = session.execute(f"select {session.row_hash_sql('k', 'v', 'd')} from fp.base order by k, d").fetchall()
        assert all(-(2**63) <= value < 2**63 for (value,) in hashes) and len(set(hashes)) == 3
    with warehouse.connect(read_only=True) as again:  # another connection: the same numbers
        assert fingerprint_table(again, "fp", "base") == base
        assert again.execute(f"select {again.checksum_sql('x')} from fp.base as x where false").fetchone() == ("0",)


def _build(session: PostgresSession, version: str, rows: int) -> None:
    """What dbt would build into the build schemas: every table carries the version."""
    marker = (("version", "varchar"), ("n", "bigint"))
    session.write_table("marts__build.kpi_values", marker, [[version, n] for n in range(rows)])
    session.write_table("marts__build.kpi_catalog", marker, [[version, rows]])
    session.write_table("payroll__build.payouts", marker, [[version, rows]])


def _audit(warehouse: PostgresWarehouse) -> tuple[TableFingerprint, ...]:
    """What the run's audit hands publish: the build copies, fingerprinted under their published names."""
    with warehouse.connect_build(read_only=True) as build:
        return tuple(fingerprint_schemas(build).values())


def test_a_build_session_names_the_build_copies_as_published(warehouse: PostgresWarehouse) -> None:
    with warehouse.connect_build() as build:
        build.write_table("marts.renamed_probe", (("n", "bigint"),), [[1], [2]])
        build.execute("insert into marts.renamed_probe select n + 10 from marts.renamed_probe")
        assert ("marts", "renamed_probe") in build.relations(("marts",))
        assert build.has_relation("marts.renamed_probe")
        assert fingerprint_table(build, "marts", "renamed_probe").row_count == 4
    with warehouse.connect() as session:
        assert session.execute('select sum(n) from "marts__build".renamed_probe').fetchone() == (26,)
        assert not session.has_relation("marts.renamed_probe")
    assert warehouse.remove_publish_leftovers() == ["marts__build"]  # a run that died before publishing
    with warehouse.connect() as session:
        assert not session.schema_exists("marts__build")


def test_the_scorecards_read_their_inputs_from_the_build_copies(warehouse: PostgresWarehouse) -> None:
    """The statements of scorecards/inputs.py, on the copy dbt built (a bound list unnested: text[])."""
    with warehouse.connect_build() as build:
        create_input_tables(build)  # DuckDB DDL, translated; marts.* land in marts__build
        build.execute(
            "insert into marts.kpi_values values ('net_revenue', 'month', '2026-03-01', 'store', 'S1', null, null, "
            "null, null, null, 12.5, false), ('other', 'month', '2026-03-01', 'overall', null, null, null, null, "
            "null, null, 1.0, false)"
        )
        actuals = read_actuals(build, {"net_revenue"})
    assert [(a.kpi, a.entity_id, a.value) for a in actuals] == [("net_revenue", "S1", Decimal("12.5"))]
    with warehouse.connect() as session:
        assert session.has_relation("marts__build.kpi_values") and session.has_relation("staging.stg_employees")
    warehouse.remove_publish_leftovers()


def _publish(warehouse: PostgresWarehouse, version: str, rows: int) -> None:
    with warehouse.connect() as session:
        _build(session, version, rows)
        audited = _audit(warehouse)
    warehouse.publish(audited, run_id=version, run_date=date(2026, 3, 1), published_at=datetime.now(UTC))


PUBLISHED_STATE = (
    "select (select count(*) from marts.kpi_values), (select min(version) || max(version) from marts.kpi_values), "
    "(select max(version) from marts.kpi_catalog), (select max(version) from payroll.payouts)"
)


def _published(warehouse: PostgresWarehouse) -> tuple[object, ...]:
    with warehouse.read_published() as session:
        return tuple(session.execute(PUBLISHED_STATE).fetchone() or ())


def test_publish_swaps_atomically_under_a_polling_reader(warehouse: PostgresWarehouse) -> None:
    _publish(warehouse, "v0", 100)
    assert warehouse.is_published() and _published(warehouse) == (100, "v0v0", "v0", "v0")
    seen: set[tuple[object, ...]] = set()
    failures: list[str] = []
    stop = threading.Event()

    def read() -> None:
        with warehouse.read_published() as session:
            while not stop.is_set():
                try:
                    seen.add(tuple(session.execute(PUBLISHED_STATE).fetchone() or ()))
                except ConcurrentConflict:
                    continue  # retryable by definition
                except WarehouseError as exc:
                    failures.append(str(exc))

    readers = [threading.Thread(target=read) for _ in range(2)]
    for reader in readers:
        reader.start()
    try:
        for version in range(1, 11):
            _publish(warehouse, f"v{version}", 100 + version * 50)
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    assert failures == []
    whole = {(100 + v * 50, f"v{v}v{v}", f"v{v}", f"v{v}") for v in range(11)}
    assert seen <= whole, seen - whole
    assert len(seen) >= 2  # the readers really read across publishes
    with warehouse.connect() as session:
        assert not session.schema_exists("marts__build") and session.schema_exists("marts__previous")
        log = session.execute(
            "select count(*), count(*) filter (where run_id = 'v10') from kpiflow_state.run_tables "
            "where run_id like 'v%'"
        ).fetchone()
    assert log == (11 * 3, 3)  # three audited tables per publish


def test_a_copy_that_differs_from_the_audit_publishes_nothing(warehouse: PostgresWarehouse) -> None:
    _publish(warehouse, "good", 10)
    with warehouse.connect() as session:
        _build(session, "bad", 10)
        audited = _audit(warehouse)
        session.execute("insert into marts__build.kpi_values values ('late', 99)")  # written after the audit
    with pytest.raises(RunFailed, match=r"marts__build\.kpi_values changed between audit and publish"):
        warehouse.publish(audited, run_id="bad", run_date=date(2026, 3, 2), published_at=datetime.now(UTC))
    assert _published(warehouse) == (10, "goodgood", "good", "good")
    with warehouse.connect() as session:
        _build(session, "extra", 10)
        audited = _audit(warehouse)
        session.write_table("payroll__build.unaudited", (("x", "integer"),), [[1]])
    with pytest.raises(RunFailed, match=r"payroll__build\.unaudited were built but not audited"):
        warehouse.publish(audited, run_id="extra", run_date=date(2026, 3, 2), published_at=datetime.now(UTC))
    assert _published(warehouse) == (10, "goodgood", "good", "good")
    with warehouse.connect() as session:
        assert session.schema_exists("marts__build")  # the build is kept for a look; the next build replaces it


def test_rollback_restores_the_previous_version(warehouse: PostgresWarehouse) -> None:
    _publish(warehouse, "old", 5)
    _publish(warehouse, "new", 7)
    assert warehouse.rollback(run_id="rollback-old").location == warehouse.published_location
    assert _published(warehouse) == (5, "oldold", "old", "old")
    with pytest.raises(UserInputError, match="nothing to roll back to"):
        warehouse.rollback(run_id="rollback-none")
    assert _published(warehouse) == (5, "oldold", "old", "old")
    with warehouse.read_published() as session:  # the latest published row describes what readers see
        latest = published_run(session)
        assert latest is not None and (latest.run_id, latest.status, latest.marts_run_id) == (
            "rollback-old", "rolled_back", "old",
        )  # fmt: skip
        assert published_tables(session, "rollback-old") == published_tables(session, "old")
        assert read_run(session, "rollback-none") is None


def test_publish_records_the_run_in_the_swap_transaction(
    warehouse: PostgresWarehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    """published_at and run_tables are written in the swap's transaction: a swap that fails after writing them
    leaves neither, and the marts as they were; a swap that commits leaves both."""
    from kpiflow.warehouse import postgres_publish

    _publish(warehouse, "before", 4)
    recorded = postgres_publish.record_publish

    def record_then_fail(*args: object, **kwargs: object) -> None:
        recorded(*args, **kwargs)  # type: ignore[arg-type]
        raise WarehouseError("the server went away mid-swap")

    monkeypatch.setattr(postgres_publish, "record_publish", record_then_fail)
    with pytest.raises(WarehouseError, match="went away"):
        _publish(warehouse, "broken", 6)
    assert _published(warehouse) == (4, "beforebefore", "before", "before")
    with warehouse.connect(read_only=True) as session:
        assert published_run(session).run_id == "before"  # type: ignore[union-attr]
        assert read_run(session, "broken") is None and published_tables(session, "broken") == []
    monkeypatch.setattr(postgres_publish, "record_publish", recorded)
    _publish(warehouse, "after", 6)
    with warehouse.connect(read_only=True) as session:
        row = read_run(session, "after")
        assert row is not None and row["published_at"] is not None
        assert {fp.qualified_name: fp for fp in published_tables(session, "after")} == fingerprint_schemas(session)


def test_publish_regrants_the_reader_roles(pg_server: PostgresServer, warehouse: PostgresWarehouse) -> None:
    """The published schema is a new one each time: the BI role must still read it afterwards."""
    reader, password = "pgw_bi_reader", "Pw-pgw-Reader-41"
    with psycopg.connect(pg_server.conninfo(DBNAME), autocommit=True) as admin:
        admin.execute("drop role if exists kpiflow_bi_member")
        for role in ("kpiflow_bi", "kpiflow_payroll"):
            admin.execute(f"do $$ begin if not exists (select from pg_roles where rolname = '{role}') then "
                          f"create role {role} nologin; end if; end $$")  # fmt: skip
        admin.execute(f"do $$ begin if not exists (select from pg_roles where rolname = '{reader}') then "
                      f"create role {reader} login password '{password}'; end if; end $$")  # fmt: skip
        admin.execute(f"grant kpiflow_bi to {reader}")
    _publish(warehouse, "granted", 3)
    with psycopg.connect(pg_server.conninfo(DBNAME, reader, password)) as bi:
        assert bi.execute("select count(*) from marts.kpi_values").fetchone() == (3,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            bi.execute("select count(*) from payroll.payouts")


LOCK_HOLDER = """
import sys, time
from kpiflow.config import PostgresConnection, Settings
from kpiflow.warehouse.postgres import PostgresWarehouse
host, port, user, dbname, password = sys.argv[1:6]
warehouse = PostgresWarehouse(PostgresConnection(host, int(port), user, dbname, password))
with warehouse.run_lock(run_id="holder-run-7", run_date="2026-03-01"):
    print("held", flush=True)
    time.sleep(120)
"""


@pytest.fixture
def lock_holder(pg_server: PostgresServer, warehouse: PostgresWarehouse) -> Iterator[subprocess.Popen[str]]:
    args = [pg_server.host, str(pg_server.port), pg_server.user, DBNAME, pg_server.password]
    src = str(Path(__file__).resolve().parents[2] / "src")
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, *args], stdout=subprocess.PIPE, text=True,
                              env={"PYTHONPATH": src, "PATH": "/usr/bin:/bin"})  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        holder.kill()
        holder.wait()


def test_a_second_run_is_refused_naming_the_holder_until_the_holder_dies(
    warehouse: PostgresWarehouse, lock_holder: subprocess.Popen[str]
) -> None:
    started = time.monotonic()
    named = rf"kpiflow run holder-run-7 for 2026-03-01, pid {lock_holder.pid}"
    with (
        pytest.raises(WarehouseBusy, match=named),
        warehouse.run_lock(run_id="second", run_date="2026-03-01", wait_seconds=0.5),
    ):
        pass
    assert time.monotonic() - started >= 0.5
    lock_holder.kill()  # SIGKILL: no cleanup runs in the holder
    lock_holder.wait()
    with warehouse.run_lock(run_id="second", run_date="2026-03-01", wait_seconds=10) as holder:
        assert "second" in holder.describe()
        with pytest.raises(WarehouseBusy, match="kpiflow run second"), warehouse.run_lock(run_id="third", run_date="x"):
            pass
    with warehouse.run_lock(run_id="fourth", run_date="2026-03-01"):  # released on exit
        pass


def test_the_password_is_in_no_message(pg_server: PostgresServer, warehouse: PostgresWarehouse) -> None:
    secret = pg_server.password
    messages = [repr(warehouse), warehouse.location, warehouse.published_location]
    with warehouse.connect() as session:
        for sql in ("select * from nowhere.t", "select 'x'::date", "select syntax error here"):
            with pytest.raises(WarehouseError) as error:
                session.execute(sql)
            messages.append(str(error.value))
    for broken in (_connection(pg_server, DBNAME, port=1), _connection(pg_server, DBNAME, user="nobody")):
        with pytest.raises(UserInputError) as refused:
            PostgresWarehouse(broken).exists()
        messages.append(str(refused.value))
    assert not PostgresWarehouse(_connection(pg_server, "no_such_database")).exists()
    assert all(secret not in message for message in messages), messages
    url = warehouse.sqlalchemy_url()
    assert url.startswith("postgresql+psycopg://") and url.endswith(f"@{pg_server.host}:{pg_server.port}/{DBNAME}")
