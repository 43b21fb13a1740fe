"""The input quality gate on PostgreSQL: the same checks and the same report as on DuckDB, from the same demo.

The demo is loaded by `kpiflow demo-data` into a PostgreSQL database (a template each scenario copies) and into a
DuckDB file; `kpiflow check` runs on each as a person runs it, and the reports are compared check by check. Damaged
data is damaged with the same statements on both engines (through the warehouse interface, which translates DuckDB
SQL for PostgreSQL). Also: `kpiflow check` changes nothing, `--quarantine` moves rows and loses none, in one
transaction, the password appears nowhere, and changed history is detected on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlglot
from gate_damage import DAMAGE, DAMAGE_CAUGHT, FIRST_ORDER
from pg_server import PostgresServer
from psycopg import sql

from kpiflow.config import PostgresConnection, Settings
from kpiflow.quality.declarations import CHECKS_FILE, load_gate_spec
from kpiflow.warehouse import warehouse_for
from kpiflow.warehouse.fingerprints import fingerprint_schemas
from kpiflow.warehouse.postgres import PostgresWarehouse

pytestmark = pytest.mark.slow  # each scenario runs the whole gate (~400 GE expectations) once per engine

REPO = Path(__file__).resolve().parents[2]
SCALE, START, RUN_DATE = 0.05, date(2024, 1, 1), date(2024, 2, 29)
DEMO_ARGS = ["--scale", str(SCALE), "--start", START.isoformat(), "--end", RUN_DATE.isoformat(), "--quiet"]
PASSWORD = "Pw-gate-Q8x-Unmistakable-37"
USER, TEMPLATE = "gatekeeper", "pg_gate_clean"
# Rows `--quarantine` moves: three negative quantities, and an order dated in the future with its lines.
QUARANTINABLE = (
    DAMAGE[-1],
    f"update raw.orders set order_ts = timestamp '2099-04-15 10:00:00' where order_id = {FIRST_ORDER}",
)


@dataclass
class Demo:
    server: PostgresServer
    folder: Path
    duckdb_file: Path
    outputs: list[str] = field(default_factory=list)  # everything the commands printed


def kpiflow(demo: Demo, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).parent / "kpiflow"), *args]
    done = subprocess.run(command, env={**os.environ, **env}, cwd=REPO, capture_output=True, text=True, check=False)
    demo.outputs.append(done.stdout + done.stderr)
    return done


def pg_env(demo: Demo, dbname: str) -> dict[str, str]:
    """A postgres target; KPIFLOW_WAREHOUSE only places the state folder (reports, Data Docs)."""
    env = {**demo.server.env(dbname), "KPIFLOW_PG_USER": USER, "KPIFLOW_PG_PASSWORD": PASSWORD}
    return env | {"KPIFLOW_TARGET": "pg", "KPIFLOW_WAREHOUSE": str(demo.folder / dbname / "kpiflow.duckdb")}


def duck_env(path: Path) -> dict[str, str]:
    return {"KPIFLOW_TARGET": "dev", "KPIFLOW_WAREHOUSE": str(path)}


@pytest.fixture(scope="module")
def demo(pg_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    folder = tmp_path_factory.mktemp("pg_gate")
    pg_server.create_database(TEMPLATE)
    with psycopg.connect(pg_server.conninfo(TEMPLATE), autocommit=True) as connection:
        connection.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(USER)))
        role = sql.SQL("create role {} login password {}").format(sql.Identifier(USER), sql.Literal(PASSWORD))
        connection.execute(role)
        owner = sql.SQL("alter database {} owner to {}").format(sql.Identifier(TEMPLATE), sql.Identifier(USER))
        connection.execute(owner)
    result = Demo(pg_server, folder, folder / "duckdb" / "kpiflow.duckdb")
    for env in (pg_env(result, TEMPLATE), duck_env(result.duckdb_file)):
        done = kpiflow(result, env, "demo-data", *DEMO_ARGS)
        assert done.returncode == 0, done.stdout + done.stderr
    return result


def pg_copy(demo: Demo, name: str, *statements: str) -> dict[str, str]:
    """A database copied from the demo's, damaged by `statements`; its environment."""
    with psycopg.connect(demo.server.conninfo(), autocommit=True) as connection:
        connection.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        connection.execute(
            sql.SQL("create database {} template {} owner {}").format(
                sql.Identifier(name), sql.Identifier(TEMPLATE), sql.Identifier(USER)
            )
        )
    env = pg_env(demo, name)
    _run(env, statements)
    return env


def duck_copy(demo: Demo, name: str, *statements: str) -> dict[str, str]:
    path = demo.folder / name / "kpiflow.duckdb"
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(demo.duckdb_file, path)
    env = duck_env(path)
    _run(env, statements)
    return env


def _warehouse(env: dict[str, str]) -> Any:
    """The engine `env` names (what `warehouse_for` gives kpiflow run with that environment)."""
    if env["KPIFLOW_TARGET"] == "pg":
        connection = PostgresConnection(
            env["KPIFLOW_PG_HOST"], int(env["KPIFLOW_PG_PORT"]), USER, env["KPIFLOW_PG_DBNAME"], PASSWORD
        )
        return PostgresWarehouse(connection)
    path = Path(env["KPIFLOW_WAREHOUSE"])
    return warehouse_for(Settings(REPO, path, path.parent / "marts.duckdb", "dev"))


def _run(env: dict[str, str], statements: tuple[str, ...]) -> None:
    with _warehouse(env).connect() as session:
        for statement in statements:
            session.execute(statement)


def check(demo: Demo, env: dict[str, str], *args: str) -> dict[str, Any]:
    """`kpiflow check --date RUN_DATE --json`: the report (exit 0 passed, 1 failed)."""
    done = kpiflow(demo, env, "check", "--date", RUN_DATE.isoformat(), "--json", *args)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["passed"] is (done.returncode == 0)
    return report


def verdicts(report: dict[str, Any]) -> set[tuple[Any, ...]]:
    """What the report says of each check: check, table, column, outcome, counts, the rows named, the message."""
    return {
        (
            r["name"],
            r["table"],
            r["column"],
            r["success"],
            r["failing_rows"],
            r["quarantined_rows"],
            tuple(r["example_keys"]),
            r["message"],
        )
        for r in report["results"]
    }


def _differences(pg: dict[str, Any], duck: dict[str, Any]) -> list[str]:
    only_pg, only_duck = verdicts(pg) - verdicts(duck), verdicts(duck) - verdicts(pg)
    return [f"pg: {v}" for v in sorted(only_pg, key=str)] + [f"duckdb: {v}" for v in sorted(only_duck, key=str)]


@pytest.fixture(scope="module")
def clean_reports(demo: Demo) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    env = pg_copy(demo, "pg_gate_a")
    return check(demo, env), check(demo, duck_copy(demo, "duck_a")), env


def test_the_clean_demo_passes_on_both_engines_with_the_same_report(clean_reports) -> None:
    pg, duck, env = clean_reports
    assert pg["passed"] and duck["passed"]
    assert len(pg["results"]) == len(duck["results"]) > 300
    assert _differences(pg, duck) == []
    assert pg["inputs_through"] == duck["inputs_through"] == RUN_DATE.isoformat()
    assert pg["warehouse"] == f"postgresql://{USER}@127.0.0.1:{env['KPIFLOW_PG_PORT']}/pg_gate_a"
    # Data Docs, one validation page per raw table, as on DuckDB
    docs = Path(pg["data_docs_path"])
    assert docs.is_file() and "raw.orders" in docs.read_text()
    pages = list((docs.parent / "validations").rglob("*.html"))
    assert len(pages) == len({r["table"] for r in pg["results"]})


def _schemas(session: Any) -> tuple[str, ...]:
    rows = session.native(
        "select nspname from pg_namespace where nspname not like 'pg\\_%' and nspname <> 'information_schema'"
    ).fetchall()
    return tuple(sorted(name for (name,) in rows))


def _snapshot(env: dict[str, str]) -> dict[str, Any]:
    """Every table of every schema: row count and checksum of its rows."""
    with _warehouse(env).connect(read_only=True) as session:
        return fingerprint_schemas(session, _schemas(session))


@pytest.fixture(scope="module")
def damaged_reports(demo: Demo) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
    env = pg_copy(demo, "pg_gate_b", *DAMAGE)
    before = _snapshot(env)
    pg = check(demo, env, "--no-data-docs")
    return pg, check(demo, duck_copy(demo, "duck_b", *DAMAGE), "--no-data-docs"), before, _snapshot(env)


def test_damaged_data_fails_on_postgres_naming_the_same_tables_columns_and_rows(damaged_reports) -> None:
    pg, duck, _, _ = damaged_reports
    failed = {r["name"] for r in pg["results"] if not r["success"]}
    assert failed == DAMAGE_CAUGHT
    assert not pg["passed"] and not duck["passed"]
    assert _differences(pg, duck) == []
    not_null = next(r for r in pg["results"] if r["name"] == "orders.store_id.not_null")
    assert (not_null["failing_rows"], not_null["example_keys"]) == (1, ["order_id=202401010000001 (store_id=NULL)"])
    vocabulary = next(r for r in pg["results"] if r["name"] == "products.category.vocabulary")
    assert "Garden (2 rows)" in vocabulary["message"] and vocabulary["severity"] == "warn"


def test_check_without_the_flag_changes_nothing_on_postgres(damaged_reports) -> None:
    pg, _, before, after = damaged_reports
    quantity = next(r for r in pg["results"] if r["name"] == "order_lines.quantity.positive")
    assert (quantity["success"], quantity["failing_rows"], quantity["quarantined_rows"]) == (False, 3, 0)
    assert pg["quarantined_rows"] == {}
    assert len(before) > 20 and after == before  # every table of every schema, rows and checksums
    assert not any(name.startswith("quarantine.") for name in after)


def _counts(env: dict[str, str], tables: tuple[str, ...]) -> dict[str, int]:
    with _warehouse(env).connect(read_only=True) as session:
        return {
            f"{schema}.{name}": session.execute(f"select count(*) from {schema}.{name}").fetchone()[0]
            for schema in ("raw", "quarantine")
            for name in tables
            if session.has_relation(f"{schema}.{name}")
        }


def test_quarantine_moves_rows_on_postgres_and_loses_none(demo: Demo) -> None:
    env = pg_copy(demo, "pg_gate_d", *QUARANTINABLE)
    tables = ("orders", "order_lines")
    before = _counts(env, tables)
    columns = ", ".join(f'"{c}"' for c in load_gate_spec(REPO / CHECKS_FILE).table("order_lines").column_names)
    with _warehouse(env).connect(read_only=True) as session:
        bad_lines = session.execute(
            f"select {columns} from raw.order_lines where quantity < 0 "
            "or order_id = (select min(order_id) from raw.orders)"
        ).fetchall()
    pg = check(demo, env, "--quarantine", "--no-data-docs")
    duck = check(demo, duck_copy(demo, "duck_d", *QUARANTINABLE), "--quarantine", "--no-data-docs")
    assert pg["passed"] and _differences(pg, duck) == []
    assert pg["quarantined_by_check"] == duck["quarantined_by_check"]
    assert pg["quarantined_rows"] == {"orders": 1, "order_lines": len(bad_lines)}
    after = _counts(env, tables)
    for name in tables:  # nothing lost: every row is in raw or in quarantine
        assert after[f"raw.{name}"] + after[f"quarantine.{name}"] == before[f"raw.{name}"]
    with _warehouse(env).connect(read_only=True) as session:
        moved = session.execute(f"select {columns} from quarantine.order_lines").fetchall()
        kept = session.execute(f"select {columns} from raw.order_lines").fetchall()
    assert sorted(map(tuple, moved)) == sorted(map(tuple, bad_lines))  # the very rows, every value kept
    assert not {tuple(row) for row in bad_lines} & {tuple(row) for row in kept}


def test_a_failed_quarantine_rolls_back_every_move(demo: Demo) -> None:
    """A quarantine table that cannot take the rows (a column of another type) fails the move: nothing moved."""
    env = pg_copy(
        demo,
        "pg_gate_rollback",
        *QUARANTINABLE,
        "create schema quarantine",
        "create table quarantine.order_lines (order_id varchar, quantity date)",
    )
    tables = ("orders", "order_lines")
    before = _counts(env, tables)
    done = kpiflow(demo, env, "check", "--date", RUN_DATE.isoformat(), "--quarantine", "--no-data-docs")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "quarantine failed and was rolled back, raw tables are unchanged" in done.stdout + done.stderr
    assert _counts(env, tables) == before  # the orders moved in the same transaction came back too


def test_the_password_is_in_no_output_report_or_data_docs(demo: Demo, clean_reports, damaged_reports) -> None:
    assert demo.outputs and all(PASSWORD not in output for output in demo.outputs)
    written = [path for path in demo.folder.rglob("*") if path.is_file()]
    assert any(path.suffix == ".html" for path in written) and any(path.suffix == ".json" for path in written)
    assert [path for path in written if PASSWORD.encode() in path.read_bytes()] == []


def test_ge_row_conditions_on_dates_need_the_postgres_fix(demo: Demo) -> None:
    """Upstream defect (kpiflow.quality.ge_postgres_fix): without the fix a windowed check cannot run on PostgreSQL;
    when this fails, GE keeps dates in row conditions and the fix module can go."""
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    from kpiflow.quality import ge_postgres_fix
    from kpiflow.quality.validation import _context

    pg_copy(demo, "pg_gate_fix")
    warehouse = PostgresWarehouse(PostgresConnection("127.0.0.1", demo.server.port, USER, "pg_gate_fix", PASSWORD))

    def run(name: str) -> Any:
        context = _context(None)
        source = context.data_sources.add_sql(name="w", connection_string=warehouse.sqlalchemy_url())
        with pytest.warns(DeprecationWarning):  # schema_name: the generic SQL datasource has no other way
            asset = source.add_table_asset(name="orders", table_name="orders", schema_name="raw")
        expectation = gxe.ExpectColumnValuesToNotBeNull(column="store_id", row_condition=Column("order_ts") < RUN_DATE)
        suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=[expectation]))
        batch = asset.add_batch_definition_whole_table(name="all")
        definition = context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=suite))
        try:
            return definition.run(result_format={"result_format": "BASIC"}).results[0]
        finally:
            source.get_execution_engine().engine.dispose()
            source.get_engine().dispose()

    ge_postgres_fix.uninstall()
    try:
        unfixed = run("unfixed")
    finally:
        ge_postgres_fix.install()
    fixed = run("fixed")
    assert not unfixed.success and "operator does not exist" in json.dumps(unfixed.exception_info, default=str)
    assert fixed.success and fixed.result["element_count"] > 1000


@pytest.fixture
def pg_session(demo: Demo) -> Iterator[Any]:
    env = pg_copy(demo, "pg_gate_restated")
    with _warehouse(env).connect() as session:
        session.execute("create schema if not exists kpiflow_state")
        yield session


def test_changed_history_is_detected_on_postgres(pg_session: Any) -> None:
    from kpiflow.orchestration.restatements import keep_fingerprints, restated_before, take_fingerprints

    gate = load_gate_spec(REPO / CHECKS_FILE)
    window_start = date(2024, 2, 27)
    take_fingerprints(pg_session, gate)
    keep_fingerprints(pg_session)  # as after a successful build
    take_fingerprints(pg_session, gate)
    assert restated_before(pg_session, window_start).found == ()  # nothing changed, nothing restated
    (order_id, day) = pg_session.execute(
        "select order_id, cast(order_ts as date) from raw.orders where cast(order_ts as date) = date '2024-01-17' "
        "order by order_id limit 1"
    ).fetchone()
    pg_session.execute(
        "update raw.order_lines set quantity = quantity + 1 where order_id = ? and line_no = 1", [order_id]
    )
    take_fingerprints(pg_session, gate)
    restated = restated_before(pg_session, window_start)
    assert restated.headline() == f"restated days: order_lines: {day}"
    assert restated.earliest == day == date(2024, 1, 17)  # the window moves back to the changed day


_ONE_LINE = "(select order_id, line_no from raw.order_lines order by order_id {order}, line_no limit 1)"


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_a_later_quarantine_keeps_a_column_added_to_raw_since(demo: Demo, engine: str) -> None:
    """The quarantine table gains the new raw column (typed as in raw); earlier rows get NULL, no value is lost."""
    import sqlalchemy as sa

    from kpiflow.quality.quarantine import QuarantineLedger, quarantine_failures
    from kpiflow.quality.sql import Context
    from kpiflow.quality.warehouse import Warehouse

    env = pg_copy(demo, "pg_gate_widen") if engine == "postgres" else duck_copy(demo, "duck_widen")
    gate = load_gate_spec(REPO / CHECKS_FILE)
    positive = [c for c in gate.checks if c.name == "order_lines.quantity.positive"]
    quality = Warehouse(sa.create_engine(_warehouse(env).sqlalchemy_url()))
    ctx = Context("raw", RUN_DATE, gate.founded_on, dialect=quality.dialect)

    def quarantine(*statements: str) -> int:
        quality.close()  # DuckDB: one configuration per file, so the session below needs the pool closed
        _run(env, statements)
        return quarantine_failures(quality, gate, ctx, positive, QuarantineLedger())

    first_line, last_line = _ONE_LINE.format(order=""), _ONE_LINE.format(order="desc")
    assert quarantine(f"update raw.order_lines set quantity = -1 where (order_id, line_no) in {first_line}") == 1
    added = "alter table raw.order_lines add column note decimal(6,2)"
    noted = f"update raw.order_lines set quantity = -1, note = 12.5 where (order_id, line_no) in {last_line}"
    assert quarantine(added, noted) == 1
    moved = quality.rows(sqlglot.parse_one("select note, quantity, _check from quarantine.order_lines"))
    quality.close()
    moved.sort(key=lambda row: row["note"] is None)
    assert [(r["note"], r["quantity"], r["_check"]) for r in moved] == [
        (Decimal("12.50"), -1, "order_lines.quantity.positive"),
        (None, -1, "order_lines.quantity.positive"),
    ]


def test_a_missing_database_is_named_without_the_password(
    demo: Demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kpiflow.errors import UserInputError
    from kpiflow.quality import run_gate

    for var, value in pg_env(demo, "pg_gate_no_such_database").items():
        monkeypatch.setenv(var, value)
    with pytest.raises(UserInputError) as refused:
        run_gate(Settings.from_env(REPO), RUN_DATE, data_docs=False)
    message = str(refused.value)
    assert f"postgresql://{USER}@127.0.0.1:{demo.server.port}/pg_gate_no_such_database not found" in message
    assert "KPIFLOW_PG_DBNAME" in message and PASSWORD not in message
