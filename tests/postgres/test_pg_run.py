"""`kpiflow run` end to end on PostgreSQL 15 beside DuckDB, through the real CLI: the same demo in both, a full run and
then a nightly with one new day; every published row equal.

land/verify -> gate -> compile -> dbt build + tests -> scorecards and payouts -> audit -> publish -> report, all on the
pg target's database; the repository's models/generated stays the DuckDB rendering.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest
from pg_server import PostgresServer

from kpiflow.config import Settings
from kpiflow.digests import files_digest
from kpiflow.warehouse import TableFingerprint, warehouse_for
from kpiflow.warehouse.fingerprints import fingerprint_schemas

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SEED, SCALE, START, RUN_DATE = 5, 0.1, date(2024, 2, 1), date(2024, 3, 30)
NEXT_DATE = RUN_DATE + timedelta(days=1)
PASSWORD = "Pw-run-Nightly-93"
REL_TOL = 1e-9
# Every published table the issue names; the wide marts are found in the DuckDB build (every marts.mart_*).
NAMED = ("marts.kpi_values", "marts.kpi_achievement", "marts.scorecard_results", "payroll.payouts")


@dataclass(frozen=True)
class Side:
    """One warehouse and the environment its CLI runs with."""

    env: dict[str, str]
    state_dir: Path


def kpiflow(side: Side, *args: str) -> dict[str, Any] | str:
    command = [str(Path(sys.executable).parent / "kpiflow"), *args]
    done = subprocess.run(
        command, env={**os.environ, **side.env}, cwd=side.state_dir, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"kpiflow {' '.join(args)}:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
    assert PASSWORD not in done.stdout + done.stderr
    return json.loads(done.stdout) if "--json" in args else done.stdout


@pytest.fixture(scope="module")
def sides(pg_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[Side, Side]:
    root = tmp_path_factory.mktemp("pg_run")
    dbname = pg_server.create_database("kpiflow_run")
    with psycopg.connect(pg_server.conninfo(dbname), autocommit=True) as connection:
        connection.execute(f"create role runner login password '{PASSWORD}'")
        connection.execute(f"alter database {dbname} owner to runner")
    common = {"KPIFLOW_PROJECT_DIR": str(REPO), "KPIFLOW_DEMO_SCALE": str(SCALE)}
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
            **pg_server.env(dbname),
            "KPIFLOW_PG_USER": "runner",
            "KPIFLOW_PG_PASSWORD": PASSWORD,
            "KPIFLOW_TARGET": "pg",
            "KPIFLOW_WAREHOUSE": str(root / "pg" / "kpiflow.duckdb"),  # only its folder is used: run state
            "KPIFLOW_MARTS": str(root / "pg" / "marts.duckdb"),
        },
        root / "pg" / "state",
    )
    for side in (duck, pg):
        side.state_dir.mkdir(parents=True)
        kpiflow(side, "demo-data", "--scale", str(SCALE), "--start", str(START), "--end", str(RUN_DATE),
                "--seed", str(SEED), "--quiet")  # fmt: skip
    return duck, pg


def _duckdb_tables(side: Side) -> dict[str, tuple[list[str], list[tuple]]]:
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


def _postgres_rows(server: PostgresServer, name: str) -> tuple[list[str], list[tuple]]:
    with psycopg.connect(server.conninfo("kpiflow_run")) as con:
        cursor = con.execute(f"select * from {name}")
        return [d.name for d in cursor.description or ()], cursor.fetchall()


def _sort_key(row: tuple) -> tuple:
    return tuple(
        (0, "") if v is None else (1, round(float(v), 6)) if isinstance(v, float | Decimal) else (2, str(v))
        for v in row
    )


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(float(a), float(b), rel_tol=REL_TOL, abs_tol=1e-12)  # type: ignore[arg-type]
    return a == b  # Decimals exact, dates, text


def assert_published_equal(server: PostgresServer, duck: Side) -> None:
    tables = _duckdb_tables(duck)
    wide = [name for name in tables if name.startswith("marts.mart_")]
    assert wide and set(NAMED) <= set(tables)
    for name in (*NAMED, *wide):
        duck_columns, duck_rows = tables[name]
        pg_columns, pg_rows = _postgres_rows(server, name)
        assert pg_columns == duck_columns, name
        assert len(pg_rows) == len(duck_rows) > 0, name
        for d_row, p_row in zip(sorted(duck_rows, key=_sort_key), sorted(pg_rows, key=_sort_key), strict=True):
            differing = [(c, d, p) for c, d, p in zip(duck_columns, d_row, p_row, strict=True) if not _same(d, p)]
            assert differing == [], f"{name} row {d_row}"


def _build_mode(result: dict[str, Any]) -> str:
    (build,) = [stage for stage in result["stages"] if stage["name"] == "build"]
    return str(build["headline"])


def test_a_full_run_then_a_nightly_equal_duckdb_row_for_row(
    sides: tuple[Side, Side], pg_server: PostgresServer
) -> None:
    duck, pg = sides
    generated = REPO / "models" / "generated"
    committed = files_digest(sorted(generated.glob("*")), generated)
    for day, mode in ((RUN_DATE, "full rebuild"), (NEXT_DATE, "incremental from")):
        if day == NEXT_DATE:
            for side in (duck, pg):
                kpiflow(side, "demo-data", "--append-through", str(day), "--quiet")
        results = [kpiflow(side, "run", "--date", str(day), "--json", "--quiet") for side in (duck, pg)]
        for result in results:
            assert isinstance(result, dict) and result["status"] == "completed", result
            assert not any(result["quality"]["quarantined_by_check"].values())  # the raw data stayed the same
            assert _build_mode(result).count(mode) == 1, _build_mode(result)
        pg_result = results[1]
        assert str(pg_result["published"]["marts_path"]).startswith("postgresql://runner@")
        assert_published_equal(pg_server, duck)
    # The pg run compiled PostgreSQL SQL into its own copy of the project; the repository kept DuckDB's rendering.
    assert files_digest(sorted(generated.glob("*")), generated) == committed
    pg_generated = pg.state_dir / "projects" / "pg" / "models" / "generated" / "rollup__revenue_events.sql"
    assert 'AS "order"' in pg_generated.read_text(encoding="utf-8")
    assert not Path(pg.env["KPIFLOW_WAREHOUSE"]).exists()  # nothing of the pg run went into a DuckDB file
    with psycopg.connect(pg_server.conninfo("kpiflow_run")) as con:
        builds = con.execute("select run_date, full_refresh from kpiflow_state.builds order by recorded_at").fetchall()
        published = con.execute("select count(distinct run_id) from kpiflow_state._kpiflow_publish").fetchone()
        schemas = {name for (name,) in con.execute("select nspname from pg_namespace").fetchall()}
    assert builds == [(RUN_DATE, True), (NEXT_DATE, False)]
    assert published == (2,)
    assert {"marts", "payroll", "marts__previous", "payroll__previous"} <= schemas
    assert not {"marts__build", "payroll__build"} & schemas


def _published_fingerprints(pg: Side) -> dict[str, TableFingerprint]:
    with _environment(pg.env):
        warehouse = warehouse_for(Settings.from_env())
        with warehouse.read_published() as session:
            return fingerprint_schemas(session)


@contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    before = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(before)


def test_a_run_killed_during_the_build_leaves_the_published_marts_and_the_next_run_publishes(
    sides: tuple[Side, Side], pg_server: PostgresServer
) -> None:
    """kill -9 of `kpiflow run` (the process and its children) while dbt builds: the published marts are the ones
    before, fingerprint for fingerprint; the rerun drops the dead run's build schemas and publishes."""
    _, pg = sides
    day = NEXT_DATE + timedelta(days=1)
    kpiflow(pg, "demo-data", "--append-through", str(day), "--quiet")
    before = _published_fingerprints(pg)
    command = [str(Path(sys.executable).parent / "kpiflow"), "run", "--date", str(day), "--quiet"]
    run = subprocess.Popen(command, env={**os.environ, **pg.env}, cwd=pg.state_dir, start_new_session=True)
    journal = pg.state_dir / "last_run.json"
    deadline = time.monotonic() + 600
    try:
        while not _building(journal, day, pg_server):
            assert run.poll() is None, "the run ended before its build was under way"
            assert time.monotonic() < deadline, "the build did not start within 10 minutes"
            time.sleep(0.5)
    finally:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
    assert _published_fingerprints(pg) == before
    result = kpiflow(pg, "run", "--date", str(day), "--json", "--quiet")
    assert isinstance(result, dict) and result["status"] == "completed"
    assert _published_fingerprints(pg) != before
    with psycopg.connect(pg_server.conninfo("kpiflow_run")) as con:
        assert con.execute("select max(run_date) from kpiflow_state._kpiflow_publish").fetchone() == (day,)


def _building(journal: Path, day: date, server: PostgresServer) -> bool:
    """The run of `day` is in its build stage and dbt has begun writing the marts' build copy."""
    try:
        record = json.loads(journal.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    stages = {stage["name"]: stage["status"] for stage in record.get("stages", [])}
    if record.get("run_date") != str(day) or stages.get("build") != "running":
        return False
    with psycopg.connect(server.conninfo("kpiflow_run")) as con:
        return con.execute("select 1 from pg_namespace where nspname = 'marts__build'").fetchone() is not None
