"""The proof that the project is portable: `dbt build` with dbt-postgres on the `pg` target, from the demo loaded by
COPY, gives every row of kpi_values and the wide marts that the DuckDB build gives on the same data.

The models are compiled for PostgreSQL into a copy of the project (the committed models/generated is DuckDB's). On
PostgreSQL dbt builds the published schemas under their build names (`marts__build`), which `kpiflow run` publishes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import psycopg
import pytest
from pg_server import PostgresServer
from warehouse_rows import same_value, sort_key

from kpiflow.compiler import compile_project
from kpiflow.config import PostgresConnection, Settings
from kpiflow.demo import generate_demo_warehouse
from kpiflow.demo.postgres import load_demo_into_postgres

pytestmark = pytest.mark.slow

SEED, SCALE, START, END = 5, 0.05, date(2024, 1, 1), date(2024, 3, 31)
PASSWORD = "Pw-jx2-BuildOnly-58"


@dataclass(frozen=True)
class Builds:
    duckdb_file: Path
    pg: PostgresServer
    dbname: str
    pg_project: Path
    dbt_output: str
    marts: tuple[str, ...]


def dbt(project: Path, env: dict[str, str], *args: str) -> str:
    command = [str(Path(sys.executable).parent / "dbt"), *args, "--project-dir", str(project)]
    command += ["--profiles-dir", str(project / "profiles"), "--no-use-colors"]
    done = subprocess.run(command, env={**os.environ, **env}, cwd=project, capture_output=True, text=True, check=False)
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{output[-6000:]}")
    return output


@pytest.fixture(scope="module")
def builds(pg_server: PostgresServer, project_copier, tmp_path_factory: pytest.TempPathFactory) -> Builds:
    root = tmp_path_factory.mktemp("pg_build")
    # DuckDB: the default target, the committed (DuckDB) rendering.
    duckdb_project = project_copier(root / "duckdb_project")
    duckdb_file = root / "warehouse.duckdb"
    generate_demo_warehouse(duckdb_file, scale=SCALE, start=START, end=END, seed=SEED)
    duckdb_env = {"KPIFLOW_WAREHOUSE": str(duckdb_file), "KPIFLOW_TARGET": "dev"}
    dbt(duckdb_project, duckdb_env, "seed")
    dbt(duckdb_project, duckdb_env, "run")
    # PostgreSQL: a role of its own owning a fresh database, the same demo loaded by COPY.
    dbname = pg_server.create_database("kpiflow_build")
    with psycopg.connect(pg_server.conninfo(dbname), autocommit=True) as connection:
        connection.execute(f"create role builder login password '{PASSWORD}'")
        connection.execute(f"alter database {dbname} owner to builder")
    pg_env = {**pg_server.env(dbname), "KPIFLOW_PG_USER": "builder", "KPIFLOW_PG_PASSWORD": PASSWORD}
    pg_env |= {"KPIFLOW_TARGET": "pg", "KPIFLOW_WAREHOUSE": str(root / "no-duckdb-here.duckdb")}
    connection_settings = PostgresConnection("127.0.0.1", pg_server.port, "builder", dbname, PASSWORD)
    load_demo_into_postgres(connection_settings, scale=SCALE, start=START, end=END, seed=SEED)
    pg_project = project_copier(root / "pg_project")
    pg_settings = Settings(
        project_dir=pg_project, warehouse_path=root / "unused.duckdb", marts_path=root / "unused2.duckdb", target="pg"
    )
    compile_project(pg_settings)  # the pg target's adapter type picks the PostgreSQL dialect
    output = dbt(pg_project, pg_env, "seed") + dbt(pg_project, pg_env, "build")
    with duckdb.connect(str(duckdb_file), read_only=True) as con:
        marts = tuple(
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            ).fetchall()
        )
    return Builds(duckdb_file, pg_server, dbname, pg_project, output, marts)


def _rows(builds: Builds, schema: str, table: str) -> tuple[list[str], list[tuple], list[str], list[tuple]]:
    with duckdb.connect(str(builds.duckdb_file), read_only=True) as con:
        cursor = con.execute(f'select * from {schema}."{table}"')
        duck_columns = [d[0] for d in cursor.description]
        duck_rows = cursor.fetchall()
    built = "marts__build" if schema == "marts" else schema  # on a server dbt builds the copy that publish renames
    with psycopg.connect(builds.pg.conninfo(builds.dbname)) as pg:
        cursor = pg.execute(f'select * from {built}."{table}"')
        pg_columns = [d.name for d in cursor.description or ()]
        pg_rows = cursor.fetchall()
    return duck_columns, duck_rows, pg_columns, pg_rows


def test_the_postgres_build_passes_its_tests_and_builds_every_mart(builds: Builds) -> None:
    assert "Completed successfully" in builds.dbt_output
    assert {"kpi_values", "kpi_catalog"} <= set(builds.marts)
    assert any(name.startswith("mart_") for name in builds.marts)
    assert 'AS "order"' in (builds.pg_project / "models" / "generated" / "rollup__revenue_events.sql").read_text()


@pytest.mark.parametrize("relation", ["kpi_values", "wide marts", "int_employee_days"])
def test_every_row_equals_the_duckdb_build(builds: Builds, relation: str) -> None:
    if relation == "wide marts":
        tables = [("marts", name) for name in builds.marts if name != "kpi_values"]
    else:
        tables = [("intermediate" if relation.startswith("int_") else "marts", relation)]
    for schema, table in tables:
        duck_columns, duck_rows, pg_columns, pg_rows = _rows(builds, schema, table)
        assert pg_columns == duck_columns, table
        assert len(pg_rows) == len(duck_rows) > 0, table
        for duck_row, pg_row in zip(sorted(duck_rows, key=sort_key), sorted(pg_rows, key=sort_key), strict=True):
            differing = [
                (name, d, p) for name, d, p in zip(duck_columns, duck_row, pg_row, strict=True) if not same_value(d, p)
            ]
            assert differing == [], f"{schema}.{table} row {duck_row}"


def test_the_password_is_nowhere_in_dbt_output_logs_or_artifacts(builds: Builds) -> None:
    assert PASSWORD not in builds.dbt_output
    written = [p for p in builds.pg_project.rglob("*") if p.is_file() and {"logs", "target"} & set(p.parts)]
    assert any(p.name == "dbt.log" for p in written) and any(p.name == "manifest.json" for p in written)
    for path in written:
        assert PASSWORD.encode() not in path.read_bytes(), path
