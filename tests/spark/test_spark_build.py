"""The proof that the project runs on Spark: `dbt seed` and `dbt build` with dbt-spark (session method, local[2]) on
the `spark` target, from the demo loaded as parquet tables, give every row of kpi_values, the wide marts,
int_employee_days and the incremental models that the DuckDB build gives on the same data; an incremental rebuild of
a window (kpiflow_window on Spark) keeps them.

The models are compiled for Spark into a copy of the project (the committed models/generated is DuckDB's). The Spark
side runs in one process of its own, as kpiflow will drive it (the demo load, then dbt seed, build and the
incremental run through dbt's Python API): the JVM and the Derby metastore start once. The DuckDB build runs in the
test process meanwhile. Spark's tables are read back with DuckDB from their parquet files once that process ended (a
JVM in the test process would hold the Derby metastore of the next test). Each stage's seconds are printed (`-s`);
the time depends on the machine's load, so no test asserts it (docs/spark.md, "Speed", records the measurements).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from dbt_process import dbt
from warehouse_rows import assert_same_rows

from kpiflow.compiler import compile_project
from kpiflow.config import Settings
from kpiflow.demo import generate_demo_warehouse

pytestmark = pytest.mark.slow

SEED, SCALE, START, END = 5, 0.05, date(2024, 1, 1), date(2024, 2, 29)
WINDOW_START = date(2024, 2, 10)  # the incremental rebuild replaces the days from here on
INCREMENTAL = ("int_orders", "int_revenue_events", "int_inventory_daily")
# The Spark side in one Python process: the demo load (as `kpiflow demo-data` does it), then each dbt invocation;
# the first that fails ends it with exit 1. Prints each stage's seconds as a JSON line.
SPARK_SIDE = """
import json, os, sys, time
from datetime import date
from pathlib import Path
from dbt.cli.main import dbtRunner
from kpiflow.demo.spark import load_demo_into_spark
demo, runs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
clock = time.monotonic()
span = {"start": date.fromisoformat(demo["start"]), "end": date.fromisoformat(demo["end"])}
load_demo_into_spark(Path(os.environ["KPIFLOW_SPARK_DIR"]), scale=demo["scale"], seed=demo["seed"], **span)
print(json.dumps({"spark demo load": time.monotonic() - clock}), flush=True)
for stage, args in runs:
    clock = time.monotonic()
    if not dbtRunner().invoke(args).success:
        sys.exit(1)
    print(json.dumps({stage: time.monotonic() - clock}), flush=True)
"""


@dataclass(frozen=True)
class Builds:
    duckdb_file: Path
    spark_tables: Path
    spark_project: Path
    dbt_output: str
    marts: tuple[str, ...]
    seconds: dict[str, float]


def _start_spark_side(project: Path, spark_dir: Path, log: Path) -> subprocess.Popen:
    """The Spark side, started; its output goes to `log` (a pipe could fill while the DuckDB side runs)."""
    env = {"KPIFLOW_TARGET": "spark", "KPIFLOW_SPARK_DIR": str(spark_dir), "KPIFLOW_PROJECT_DIR": str(project)}
    env["KPIFLOW_WAREHOUSE"] = str(spark_dir.parent / "no-duckdb-here.duckdb")
    where = ["--project-dir", str(project), "--profiles-dir", str(project / "profiles"), "--no-use-colors"]
    window = f"{{kpiflow_window_start: '{WINDOW_START.isoformat()}'}}"
    runs = [
        ("spark dbt seed", ["seed", *where]),
        ("spark dbt build", ["build", *where]),
        ("spark incremental run", ["run", "--select", *INCREMENTAL, "--vars", window, *where]),
    ]
    demo = {"scale": SCALE, "start": START.isoformat(), "end": END.isoformat(), "seed": SEED}
    command = [sys.executable, "-c", SPARK_SIDE, json.dumps(demo), json.dumps(runs)]
    with log.open("w") as output:
        environment = {**os.environ, **env}
        return subprocess.Popen(command, cwd=project, env=environment, stdout=output, stderr=subprocess.STDOUT)


@pytest.fixture(scope="module")
def builds(project_copier, tmp_path_factory: pytest.TempPathFactory) -> Builds:
    root = tmp_path_factory.mktemp("spark_build")
    started = time.monotonic()
    spark_project = project_copier(root / "spark_project")
    settings = Settings(spark_project, root / "unused.duckdb", root / "unused2.duckdb", target="spark")
    compile_project(settings)  # the spark target's adapter type picks the Spark dialect
    log = root / "spark_side.log"
    spark_side = _start_spark_side(spark_project, root / "spark", log)
    try:
        # DuckDB meanwhile: the default target, the committed (DuckDB) rendering.
        clock = time.monotonic()
        duckdb_project = project_copier(root / "duckdb_project")
        duckdb_file = root / "warehouse.duckdb"
        generate_demo_warehouse(duckdb_file, scale=SCALE, start=START, end=END, seed=SEED)
        duckdb_env = {"KPIFLOW_WAREHOUSE": str(duckdb_file), "KPIFLOW_TARGET": "dev"}
        dbt(duckdb_project, duckdb_env, "seed")
        dbt(duckdb_project, duckdb_env, "run")
        seconds = {"duckdb demo and build (beside Spark)": time.monotonic() - clock}
        spark_side.wait()
    finally:
        spark_side.kill()
        spark_side.wait()
    output = log.read_text()
    assert spark_side.returncode == 0, f"the Spark side failed:\n{output[-8000:]}"
    for line in output.splitlines():
        if line.startswith('{"spark '):
            seconds |= json.loads(line)
    seconds["whole"] = time.monotonic() - started
    with duckdb.connect(str(duckdb_file), read_only=True) as con:
        marts = tuple(
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            ).fetchall()
        )
    print("timings (s):", {stage: round(took, 1) for stage, took in seconds.items()})
    return Builds(duckdb_file, root / "spark" / "spark-warehouse", spark_project, output, marts, seconds)


def _spark_schema(schema: str) -> str:
    """Spark builds the published schemas under their build name (macros/generate_schema_name.sql)."""
    return f"{schema}__build" if schema in ("marts", "payroll") else schema


def _rows(builds: Builds, schema: str, table: str) -> tuple[list[str], list[tuple], list[str], list[tuple]]:
    with duckdb.connect(str(builds.duckdb_file), read_only=True) as con:
        cursor = con.execute(f'select * from {schema}."{table}"')
        duck_columns = [d[0] for d in cursor.description]
        duck_rows = cursor.fetchall()
    files = builds.spark_tables / f"{_spark_schema(schema)}.db" / table
    assert any(files.glob("*.parquet")), f"Spark wrote no {_spark_schema(schema)}.{table}"
    with duckdb.connect() as con:
        cursor = con.execute("select * from read_parquet(?)", [str(files / "*.parquet")])
        spark_columns = [d[0] for d in cursor.description]
        spark_rows = cursor.fetchall()
    return duck_columns, duck_rows, spark_columns, spark_rows


def test_the_spark_build_passes_its_tests_and_builds_every_mart(builds: Builds) -> None:
    assert builds.dbt_output.count("Completed successfully") == 3, builds.dbt_output[-8000:]
    assert {"kpi_values", "kpi_catalog"} <= set(builds.marts)
    assert any(name.startswith("mart_") for name in builds.marts)
    assert "`order`" in (builds.spark_project / "models" / "generated" / "rollup__revenue_events.sql").read_text()


@pytest.mark.parametrize("relation", ["kpi_values", "wide marts", "int_employee_days", *INCREMENTAL])
def test_every_row_equals_the_duckdb_build(builds: Builds, relation: str) -> None:
    if relation == "wide marts":
        tables = [("marts", name) for name in builds.marts if name != "kpi_values"]
    else:
        tables = [("intermediate" if relation.startswith("int_") else "marts", relation)]
    for schema, table in tables:
        assert_same_rows(f"{schema}.{table}", *_rows(builds, schema, table))


def test_weekends_are_saturdays_and_sundays_on_spark(builds: Builds) -> None:
    """kpiflow_is_weekend on Spark (dayofweek numbers Sunday 1): no scheduled hours on exactly Sat and Sun."""
    _, _, columns, rows = _rows(builds, "intermediate", "int_employee_days")
    day, hours = columns.index("date_day"), columns.index("scheduled_hours")
    by_weekday = {(row[day].weekday(), float(row[hours])) for row in rows}
    assert by_weekday == {(weekday, 0.0 if weekday >= 5 else 8.0) for weekday in range(7)}
    assert min(row[day] for row in rows) <= START + timedelta(days=6)
