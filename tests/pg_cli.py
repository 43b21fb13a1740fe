"""The real `kpiflow` CLI on a DuckDB file and on a PostgreSQL database side by side, for the tests that run whole
nights on both (tests/postgres/test_pg_run.py, test_pg_nightly_commands.py, test_pg_readers.py): each side's
environment, the demo loaded into both, the published marts compared row for row, and the one full run + nightly the
session builds once (`full_run_then_nightly`, fixture `nightly` in tests/postgres/conftest.py) and tests copy
(`copy_sides`) before they change anything."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import psycopg
from pg_server import PostgresServer
from psycopg import sql
from warehouse_rows import sort_key

from kpiflow.config import Settings
from kpiflow.digests import files_digest
from kpiflow.warehouse import TableFingerprint, warehouse_for
from kpiflow.warehouse.fingerprints import fingerprint_schemas

REPO = Path(__file__).resolve().parents[1]
KPIFLOW = str(Path(sys.executable).parent / "kpiflow")
REL_TOL = 1e-9
# Every published table the issue names; the wide marts are found in the DuckDB build (every marts.mart_*).
NAMED = ("marts.kpi_values", "marts.kpi_achievement", "marts.scorecard_results", "payroll.payouts")
# The session's one full run + nightly (issue 17: "scale 0.1 in the test suite"): the demo through RUN_DATE, the full
# run of RUN_DATE, one more day landed, the nightly of NEXT_DATE; on both engines.
NIGHTLY_DEMO = {"scale": 0.1, "start": date(2024, 2, 1), "end": date(2024, 3, 30), "seed": 5}
RUN_DATE = NIGHTLY_DEMO["end"]
NEXT_DATE = RUN_DATE + timedelta(days=1)
NIGHTLY_USER, NIGHTLY_PASSWORD = "runner", "Pw-run-Nightly-93"
Tables = dict[str, tuple[list[str], list[tuple]]]


@dataclass(frozen=True)
class Side:
    """One warehouse and the environment its CLI runs with."""

    env: dict[str, str]
    state_dir: Path

    def command(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`kpiflow args...` as a user runs it, with this side's environment; no password in what it prints."""
        done = subprocess.run(
            [KPIFLOW, *args], env={**os.environ, **self.env}, cwd=self.state_dir, capture_output=True, text=True,
            check=False,
        )  # fmt: skip
        password = self.env.get("KPIFLOW_PG_PASSWORD")
        assert not password or password not in done.stdout + done.stderr
        return done


def kpiflow(side: Side, *args: str) -> dict[str, Any] | str:
    """`kpiflow args...`, which must succeed: its JSON with --json, else its output."""
    done = side.command(*args)
    assert done.returncode == 0, f"kpiflow {' '.join(args)}:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
    return json.loads(done.stdout) if "--json" in args else done.stdout


def demo_sides(
    server: PostgresServer, root: Path, *, dbname: str, user: str, password: str, demo: dict[str, Any]
) -> tuple[Side, Side]:
    """A DuckDB side and a PostgreSQL side (a fresh database owned by `user`, who may create the reader roles), both
    loaded with the same demo by `kpiflow demo-data` (demo: scale, start, end, seed)."""
    server.create_database(dbname)
    with psycopg.connect(server.conninfo(dbname), autocommit=True) as connection:
        if not connection.execute("select 1 from pg_roles where rolname = %s", [user]).fetchone():
            connection.execute(sql.SQL("create role {} login createrole").format(sql.Identifier(user)))
        connection.execute(sql.SQL("alter role {} password {}").format(sql.Identifier(user), sql.Literal(password)))
        connection.execute(
            sql.SQL("alter database {} owner to {}").format(sql.Identifier(dbname), sql.Identifier(user))
        )
    common = {"KPIFLOW_PROJECT_DIR": str(REPO), "KPIFLOW_DEMO_SCALE": str(demo["scale"])}
    duck = Side(
        {
            **common,
            "KPIFLOW_TARGET": "dev",
            "KPIFLOW_WAREHOUSE": str(root / "duck" / "kpiflow.duckdb"),
            "KPIFLOW_MARTS": str(root / "duck" / "marts.duckdb"),
        },
        root / "duck" / "state",
    )
    pg = Side(
        {
            **common,
            **server.env(dbname),
            "KPIFLOW_PG_USER": user,
            "KPIFLOW_PG_PASSWORD": password,
            "KPIFLOW_TARGET": "pg",
            "KPIFLOW_WAREHOUSE": str(root / "pg" / "kpiflow.duckdb"),  # only its folder is used: run state
            "KPIFLOW_MARTS": str(root / "pg" / "marts.duckdb"),
        },
        root / "pg" / "state",
    )
    for side in (duck, pg):
        side.state_dir.mkdir(parents=True)
        kpiflow(side, "demo-data", "--scale", str(demo["scale"]), "--start", str(demo["start"]),
                "--end", str(demo["end"]), "--seed", str(demo["seed"]), "--quiet")  # fmt: skip
    return duck, pg


@dataclass(frozen=True)
class Nightly:
    """The demo after a full run of RUN_DATE and the nightly of NEXT_DATE on both engines; built once per session and
    read only: a test that runs, grants or rolls back works on `copy_sides(...)`."""

    duck: Side
    pg: Side
    results: dict[date, list[dict[str, Any]]]  # each day's `kpiflow run --json`, DuckDB's then PostgreSQL's
    published: dict[date, tuple[Tables, Tables]]  # each day's published tables, PostgreSQL's and DuckDB's
    published_after_full_run: dict[str, TableFingerprint]  # PostgreSQL's, as its rollback brings it back
    generated_before: str  # the digest of the repository's models/generated before the runs


def full_run_then_nightly(server: PostgresServer, root: Path) -> Nightly:
    """NIGHTLY_DEMO loaded into both engines by `kpiflow demo-data`, then `kpiflow run` of RUN_DATE and, after one more
    day landed, of NEXT_DATE on each; what each run returned and published, kept for the tests to check."""
    generated = REPO / "models" / "generated"
    generated_before = files_digest(sorted(generated.glob("*")), generated)
    duck, pg = demo_sides(
        server, root, dbname="kpiflow_run", user=NIGHTLY_USER, password=NIGHTLY_PASSWORD, demo=NIGHTLY_DEMO
    )
    results, published = {}, {}
    for day in (RUN_DATE, NEXT_DATE):
        if day == NEXT_DATE:
            for side in (duck, pg):
                kpiflow(side, "demo-data", "--append-through", str(day), "--quiet")
        results[day] = [kpiflow(side, "run", "--date", str(day), "--json", "--quiet") for side in (duck, pg)]
        published[day] = published_tables(pg, duck)
        if day == RUN_DATE:
            after_full_run = published_fingerprints(pg)
    return Nightly(duck, pg, results, published, after_full_run, generated_before)


def copy_sides(server: PostgresServer, nightly: Nightly, root: Path, *, dbname: str) -> tuple[Side, Side]:
    """A copy of both sides for a test to change: the database by `CREATE DATABASE ... TEMPLATE`, the DuckDB files and
    both state folders (run journal, compiled pg project, incremental bookkeeping) copied under `root`."""
    source = nightly.pg.env["KPIFLOW_PG_DBNAME"]
    with psycopg.connect(server.conninfo(), autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
        connection.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {} OWNER {}").format(
                sql.Identifier(dbname), sql.Identifier(source), sql.Identifier(NIGHTLY_USER)
            )
        )
    sides = []
    for side in (nightly.duck, nightly.pg):
        folder = side.state_dir.parent
        shutil.copytree(folder, root / folder.name)
        env = {
            key: str(root / folder.name / Path(value).relative_to(folder)) if key.startswith("KPIFLOW_") and
            value.startswith(str(folder)) else value
            for key, value in side.env.items()
        }  # fmt: skip
        sides.append(Side(env, root / folder.name / side.state_dir.relative_to(folder)))
    duck, pg = sides
    return duck, replace(pg, env={**pg.env, "KPIFLOW_PG_DBNAME": dbname})


def connect(pg: Side, **settings: Any) -> psycopg.Connection[tuple[Any, ...]]:
    """A psycopg connection as the side's build user."""
    env = pg.env
    return psycopg.connect(
        host=env["KPIFLOW_PG_HOST"], port=env["KPIFLOW_PG_PORT"], dbname=env["KPIFLOW_PG_DBNAME"],
        user=env["KPIFLOW_PG_USER"], password=env["KPIFLOW_PG_PASSWORD"], **settings,
    )  # fmt: skip


def published_fingerprints(side: Side) -> dict[str, TableFingerprint]:
    """Every published table's fingerprint, read through kpiflow's warehouse as the side's user."""
    with environment(side.env):
        warehouse = warehouse_for(Settings.from_env())
        with warehouse.read_published() as session:
            return fingerprint_schemas(session)


@contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    before = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(before)


def duckdb_tables(side: Side) -> Tables:
    """Every published table (marts, payroll) of a DuckDB side's marts file: its columns and rows, by name."""
    with duckdb.connect(side.env["KPIFLOW_MARTS"], read_only=True) as con:
        names = con.execute(
            "select table_catalog, table_schema, table_name from information_schema.tables "
            "where table_schema in ('marts', 'payroll') and table_catalog = current_database() order by 2, 3"
        ).fetchall()
        tables = {}
        for catalog, schema, table in names:  # the file is named marts too: name the catalog
            cursor = con.execute(f'select * from "{catalog}"."{schema}"."{table}"')
            tables[f"{schema}.{table}"] = ([d[0] for d in cursor.description], cursor.fetchall())
    return tables


def _postgres_rows(pg: Side, name: str) -> tuple[list[str], list[tuple]]:
    with connect(pg) as con:
        cursor = con.execute(f"select * from {name}")
        return [d.name for d in cursor.description or ()], cursor.fetchall()


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(float(a), float(b), rel_tol=REL_TOL, abs_tol=1e-12)  # type: ignore[arg-type]
    return a == b  # Decimals exact, dates, text


def published_tables(pg: Side, duck: Side) -> tuple[Tables, Tables]:
    """The named marts and every wide mart DuckDB published, as published on PostgreSQL and on DuckDB."""
    tables = duckdb_tables(duck)
    wide = [name for name in tables if name.startswith("marts.mart_")]
    assert wide and set(NAMED) <= set(tables)
    names = (*NAMED, *wide)
    return {name: _postgres_rows(pg, name) for name in names}, {name: tables[name] for name in names}


def assert_tables_equal(pg_tables: Tables, duck_tables: Tables) -> None:
    """Every row of each table published on PostgreSQL equals DuckDB's (doubles within 1e-9 relative, Decimals
    exact)."""
    assert list(pg_tables) == list(duck_tables)
    for name, (duck_columns, duck_rows) in duck_tables.items():
        pg_columns, pg_rows = pg_tables[name]
        assert pg_columns == duck_columns, name
        assert len(pg_rows) == len(duck_rows) > 0, name
        for d_row, p_row in zip(sorted(duck_rows, key=sort_key), sorted(pg_rows, key=sort_key), strict=True):
            differing = [(c, d, p) for c, d, p in zip(duck_columns, d_row, p_row, strict=True) if not _same(d, p)]
            assert differing == [], f"{name} row {d_row}"


def assert_published_equal(pg: Side, duck: Side) -> None:
    """Every row of the named marts and of every wide mart published on PostgreSQL equals DuckDB's (doubles within
    1e-9 relative, Decimals exact)."""
    assert_tables_equal(*published_tables(pg, duck))


def build_stage_headline(result: dict[str, Any]) -> str:
    """What the build stage of a `kpiflow run --json` result said (full rebuild / incremental from ...)."""
    (build,) = [stage for stage in result["stages"] if stage["name"] == "build"]
    return str(build["headline"])


def published_days(pg: Side) -> list[date]:
    """The run dates of the published runs (kpiflow_state.runs), in publish order."""
    with connect(pg) as con:
        rows = con.execute("select run_date from kpiflow_state.runs where published_at is not null "
                           "order by published_at").fetchall()  # fmt: skip
    return [day for (day,) in rows]
