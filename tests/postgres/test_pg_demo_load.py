"""`kpiflow demo-data` on a PostgreSQL target: the same demo retailer as DuckDB's, loaded into schema raw by COPY."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import psycopg
import pytest
from pg_server import PostgresServer

from kpiflow.demo import generate_demo_warehouse
from kpiflow.demo.postgres import postgres_type
from kpiflow.demo.warehouse import DEMO_TABLES, META_TABLE
from kpiflow.errors import UserInputError

SEED, SCALE, START, END = 11, 0.02, date(2024, 1, 1), date(2024, 2, 29)
DEMO_ARGS = ["--scale", str(SCALE), "--start", START.isoformat(), "--end", END.isoformat(), "--seed", str(SEED)]
PASSWORD = "Pw-zq7-Unmistakable-91"


def kpiflow(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).parent / "kpiflow"), *args]
    return subprocess.run(command, env={**os.environ, **env}, cwd=cwd, capture_output=True, text=True, check=False)


def checksum(rows: list[tuple]) -> str:
    """Order-independent: the rows sorted by their text, hashed."""
    return hashlib.sha256("\n".join(sorted(repr(row) for row in rows)).encode()).hexdigest()


@pytest.fixture(scope="module")
def loaded(
    pg_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> tuple[PostgresServer, str, Path, str]:
    """The demo loaded into a fresh PostgreSQL database by the CLI, the DuckDB demo of the same seed, the output."""
    dbname = pg_server.create_database("demo_load")
    with psycopg.connect(pg_server.conninfo(dbname), autocommit=True) as connection:
        connection.execute(f"create role loader login password '{PASSWORD}'")
        connection.execute(f"grant all on database {dbname} to loader")
        connection.execute("alter database demo_load owner to loader")
    folder = tmp_path_factory.mktemp("demo_load")
    env = {**pg_server.env(dbname), "KPIFLOW_PG_USER": "loader", "KPIFLOW_PG_PASSWORD": PASSWORD}
    env |= {"KPIFLOW_TARGET": "pg", "KPIFLOW_WAREHOUSE": str(folder / "unused.duckdb")}
    done = kpiflow(["demo-data", *DEMO_ARGS, "--quiet"], env, Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stdout + done.stderr
    duckdb_file = folder / "demo.duckdb"
    generate_demo_warehouse(duckdb_file, scale=SCALE, start=START, end=END, seed=SEED)
    return pg_server, dbname, duckdb_file, done.stdout + done.stderr


def test_every_raw_table_has_the_duckdb_demo_rows(loaded) -> None:
    server, dbname, duckdb_file, _ = loaded
    with psycopg.connect(server.conninfo(dbname)) as pg, duckdb.connect(str(duckdb_file), read_only=True) as dd:
        for table in (*DEMO_TABLES, META_TABLE):
            expected = dd.execute(f'select * from raw."{table}"').fetchall()
            actual = pg.execute(f'select * from raw."{table}"').fetchall()
            assert len(actual) == len(expected), table
            assert checksum(actual) == checksum(expected), table


def test_column_types_follow_the_duckdb_tables(loaded) -> None:
    server, dbname, duckdb_file, _ = loaded
    query = "select table_name, column_name, {} from information_schema.columns where table_schema = 'raw'"
    with duckdb.connect(str(duckdb_file), read_only=True) as dd:
        wanted = {(t, c): postgres_type(k) for t, c, k in dd.execute(query.format("data_type")).fetchall()}
    with psycopg.connect(server.conninfo(dbname)) as pg:
        kind = "format_type(atttypid, atttypmod)"
        got = pg.execute(
            f"select c.relname, a.attname, {kind} from pg_attribute a join pg_class c on c.oid = a.attrelid "
            "join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'raw' and a.attnum > 0 "
            "and c.relkind = 'r'"
        ).fetchall()
    assert {(t, c): k for t, c, k in got} == wanted
    assert "double precision" in wanted.values() and "text" in wanted.values()


def test_the_password_never_appears_in_the_output(loaded) -> None:
    *_, output = loaded
    assert PASSWORD not in output
    assert "loader@127.0.0.1" in output  # the summary names the warehouse without its password


def test_a_wrong_password_is_a_clear_error_without_the_password(loaded, tmp_path: Path) -> None:
    server, dbname, _, _ = loaded
    env = {**server.env(dbname), "KPIFLOW_PG_USER": "loader", "KPIFLOW_PG_PASSWORD": "Wrong-" + PASSWORD}
    env |= {"KPIFLOW_TARGET": "pg", "KPIFLOW_WAREHOUSE": str(tmp_path / "unused.duckdb")}
    done = kpiflow(["demo-data", *DEMO_ARGS, "--quiet"], env, Path(__file__).resolve().parents[2])
    assert done.returncode == 2
    assert "cannot connect to PostgreSQL loader@127.0.0.1" in done.stderr + done.stdout
    assert "password authentication failed" in done.stderr + done.stdout
    assert PASSWORD not in done.stderr + done.stdout


@pytest.mark.parametrize(
    ("duckdb_type", "expected"),
    [("DOUBLE", "double precision"), ("VARCHAR", "text"), ("DECIMAL(12,2)", "numeric(12,2)"), ("DATE", "date")],
)
def test_postgres_type_maps_duckdb_types(duckdb_type: str, expected: str) -> None:
    assert postgres_type(duckdb_type) == expected


def test_an_unmapped_type_names_the_column() -> None:
    with pytest.raises(UserInputError, match=r"raw\.t\.c: DuckDB type MAP\(VARCHAR, INTEGER\)"):
        postgres_type("MAP(VARCHAR, INTEGER)", "raw.t.c")


def test_append_through_lands_the_duckdb_append_under_the_views_on_raw(
    loaded: tuple[PostgresServer, str, Path, str], tmp_path: Path
) -> None:
    """`demo-data --append-through` on PostgreSQL: the same rows as the DuckDB append, with a dbt staging view on a
    raw table (PostgreSQL refuses to drop a table a view reads: the replaced tables are emptied, not dropped)."""
    from kpiflow.config import PostgresConnection
    from kpiflow.demo import append_demo_days
    from kpiflow.demo.postgres import append_demo_days_in_postgres

    server, dbname, _, _ = loaded
    through = date(2024, 3, 2)
    with psycopg.connect(server.conninfo(dbname), autocommit=True) as connection:
        connection.execute("create schema if not exists staging")
        connection.execute("create or replace view staging.stg_stores as select * from raw.stores")
    loader = PostgresConnection(server.host, server.port, "loader", dbname, PASSWORD)
    summary = append_demo_days_in_postgres(loader, through)
    assert (summary.end, summary.action) == (through, "appended")
    duckdb_file = tmp_path / "appended.duckdb"
    generate_demo_warehouse(duckdb_file, scale=SCALE, start=START, end=END, seed=SEED)
    append_demo_days(duckdb_file, through)
    with duckdb.connect(str(duckdb_file), read_only=True) as duck, psycopg.connect(server.conninfo(dbname)) as pg:
        for table in (*DEMO_TABLES, META_TABLE):
            duck_rows = duck.execute(f'select * from raw."{table}"').fetchall()
            pg_rows = pg.execute(f'select * from raw."{table}"').fetchall()
            assert checksum(pg_rows) == checksum(duck_rows), table
        assert pg.execute("select count(*) from staging.stg_stores").fetchone() == (len(duck_rows_of(duck)),)
    assert append_demo_days_in_postgres(loader, through).action == "unchanged"


def duck_rows_of(duck: duckdb.DuckDBPyConnection) -> list[tuple]:
    return duck.execute("select * from raw.stores").fetchall()
