"""The proof that the project runs on Spark: `dbt seed` and `dbt build` with dbt-spark (session method, local[2]) on
the `spark` target, from the demo loaded as parquet tables, give every row of kpi_values and the wide marts that
the DuckDB build gives on the same data; an incremental rebuild of a window (kpiflow_window on Spark) keeps them.

The models are compiled for Spark into a copy of the project (the committed models/generated is DuckDB's). Spark's
tables are read back with DuckDB from their parquet files: a second JVM in the test process would hold the Derby
metastore of the next test.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from dbt_process import dbt, run_process
from warehouse_rows import REL_TOL, same_value, sort_key

from kpiflow.compiler import compile_project
from kpiflow.config import Settings
from kpiflow.demo import generate_demo_warehouse

pytestmark = pytest.mark.slow

SEED, SCALE, START, END = 5, 0.05, date(2024, 1, 1), date(2024, 2, 29)
WINDOW_START = date(2024, 2, 10)  # the incremental rebuild replaces the days from here on
INCREMENTAL = ("int_orders", "int_revenue_events", "int_inventory_daily")


@dataclass(frozen=True)
class Builds:
    duckdb_file: Path
    spark_tables: Path
    spark_project: Path
    dbt_output: str
    marts: tuple[str, ...]
    seconds: dict[str, float]


@pytest.fixture(scope="module")
def builds(project_copier, tmp_path_factory: pytest.TempPathFactory) -> Builds:
    root = tmp_path_factory.mktemp("spark_build")
    seconds: dict[str, float] = {}
    clock = time.monotonic()
    # DuckDB: the default target, the committed (DuckDB) rendering.
    duckdb_project = project_copier(root / "duckdb_project")
    duckdb_file = root / "warehouse.duckdb"
    generate_demo_warehouse(duckdb_file, scale=SCALE, start=START, end=END, seed=SEED)
    duckdb_env = {"KPIFLOW_WAREHOUSE": str(duckdb_file), "KPIFLOW_TARGET": "dev"}
    dbt(duckdb_project, duckdb_env, "seed")
    dbt(duckdb_project, duckdb_env, "run")
    seconds["duckdb demo and build"] = time.monotonic() - clock
    # Spark: the same demo loaded by `kpiflow demo-data` on the spark target, in a process of its own (Derby).
    spark_project = project_copier(root / "spark_project")
    spark_env = {"KPIFLOW_TARGET": "spark", "KPIFLOW_SPARK_DIR": str(root / "spark")}
    spark_env |= {"KPIFLOW_PROJECT_DIR": str(spark_project), "KPIFLOW_WAREHOUSE": str(root / "no-duckdb-here.duckdb")}
    clock = time.monotonic()
    kpiflow = str(Path(sys.executable).parent / "kpiflow")
    span = ["--scale", str(SCALE), "--start", START.isoformat(), "--end", END.isoformat(), "--seed", str(SEED)]
    run_process([kpiflow, "demo-data", *span, "--quiet"], spark_project, spark_env)
    seconds["spark demo load"] = time.monotonic() - clock
    settings = Settings(spark_project, root / "unused.duckdb", root / "unused2.duckdb", target="spark")
    compile_project(settings)  # the spark target's adapter type picks the Spark dialect
    clock = time.monotonic()
    output = dbt(spark_project, spark_env, "seed")
    seconds["spark dbt seed"] = time.monotonic() - clock
    clock = time.monotonic()
    output += dbt(spark_project, spark_env, "build")
    seconds["spark dbt build"] = time.monotonic() - clock
    clock = time.monotonic()
    window = f"{{kpiflow_window_start: '{WINDOW_START.isoformat()}'}}"
    output += dbt(spark_project, spark_env, "run", "--select", *INCREMENTAL, "--vars", window)
    seconds["spark incremental run"] = time.monotonic() - clock
    with duckdb.connect(str(duckdb_file), read_only=True) as con:
        marts = tuple(
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            ).fetchall()
        )
    print("timings (s):", {stage: round(took, 1) for stage, took in seconds.items()})
    return Builds(duckdb_file, root / "spark" / "spark-warehouse", spark_project, output, marts, seconds)


def _rows(builds: Builds, schema: str, table: str) -> tuple[list[str], list[tuple], list[str], list[tuple]]:
    with duckdb.connect(str(builds.duckdb_file), read_only=True) as con:
        cursor = con.execute(f'select * from {schema}."{table}"')
        duck_columns = [d[0] for d in cursor.description]
        duck_rows = cursor.fetchall()
    files = builds.spark_tables / f"{schema}.db" / table
    assert any(files.glob("*.parquet")), f"Spark wrote no {schema}.{table}"
    with duckdb.connect() as con:
        cursor = con.execute("select * from read_parquet(?)", [str(files / "*.parquet")])
        spark_columns = [d[0] for d in cursor.description]
        spark_rows = cursor.fetchall()
    return duck_columns, duck_rows, spark_columns, spark_rows


def test_the_spark_build_passes_its_tests_and_builds_every_mart(builds: Builds) -> None:
    assert "Completed successfully" in builds.dbt_output
    assert {"kpi_values", "kpi_catalog"} <= set(builds.marts)
    assert any(name.startswith("mart_") for name in builds.marts)
    assert "`order`" in (builds.spark_project / "models" / "generated" / "rollup__revenue_events.sql").read_text()
    assert sum(builds.seconds.values()) < 15 * 60, builds.seconds


@pytest.mark.parametrize("relation", ["kpi_values", "wide marts", "int_employee_days", *INCREMENTAL])
def test_every_row_equals_the_duckdb_build(builds: Builds, relation: str) -> None:
    if relation == "wide marts":
        tables = [("marts", name) for name in builds.marts if name != "kpi_values"]
    else:
        tables = [("intermediate" if relation.startswith("int_") else "marts", relation)]
    for schema, table in tables:
        duck_columns, duck_rows, spark_columns, spark_rows = _rows(builds, schema, table)
        assert spark_columns == duck_columns, table
        assert len(spark_rows) == len(duck_rows) > 0, table
        for duck_row, spark_row in zip(sorted(duck_rows, key=sort_key), sorted(spark_rows, key=sort_key), strict=True):
            differing = [
                (name, d, s)
                for name, d, s in zip(duck_columns, duck_row, spark_row, strict=True)
                if not same_value(d, s)
            ]
            assert differing == [], f"{schema}.{table} row {duck_row} (doubles within {REL_TOL} relative)"


def test_weekends_are_saturdays_and_sundays_on_spark(builds: Builds) -> None:
    """kpiflow_is_weekend on Spark (dayofweek numbers Sunday 1): no scheduled hours on exactly Sat and Sun."""
    _, _, columns, rows = _rows(builds, "intermediate", "int_employee_days")
    day, hours = columns.index("date_day"), columns.index("scheduled_hours")
    by_weekday = {(row[day].weekday(), float(row[hours])) for row in rows}
    assert by_weekday == {(weekday, 0.0 if weekday >= 5 else 8.0) for weekday in range(7)}
    assert min(row[day] for row in rows) <= START + timedelta(days=6)
