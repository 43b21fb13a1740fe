"""kpiflow_window on Spark (macros/kpiflow_spark.sql): an incremental run replaces exactly the window's rows of a
parquet table, also the days that emptied upstream, and keeps every row before the window and the column order.

A two-model dbt project with the project's macros, built twice with dbt-spark's session method: a full build, then
an incremental one from 2024-01-03 after the upstream rows changed. Both builds are dbtRunner invocations in one
process, as kpiflow drives dbt (a backfill builds its days so): Spark, its JVM and the Derby metastore start once,
which cuts the test's time by a third or more. The table is read back with DuckDB from its parquet files once that
process ended (a Spark session in the test process would hold the Derby metastore).
"""

from __future__ import annotations

import json
import shutil
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest
from dbt_process import REPO_ROOT, run_process

pytestmark = pytest.mark.slow

UPSTREAM = """
{%- if var('phase') == 1 %}
select * from values
  (cast('2024-01-01' as date), 'a', cast(1.0 as double)), (cast('2024-01-02' as date), 'b', cast(2.0 as double)),
  (cast('2024-01-03' as date), 'c', cast(3.0 as double)), (cast('2024-01-04' as date), 'd', cast(4.0 as double))
  as upstream(day, label, amount)
{%- else %}
select * from values
  (cast('2024-01-01' as date), 'a-late', cast(10.0 as double)), (cast('2024-01-02' as date), 'b', cast(2.0 as double)),
  (cast('2024-01-04' as date), 'd-new', cast(40.0 as double)), (cast('2024-01-05' as date), 'e', cast(5.0 as double))
  as upstream(day, label, amount)
{%- endif %}
"""
WINDOWED = """
{{ config(materialized='incremental', incremental_strategy='kpiflow_window', window_column='day', unique_key='day') }}
select label, day, amount from {{ ref('upstream') }}
{% if is_incremental() %}where day >= {{ kpiflow_window_start() }}{% endif %}
"""
# dbt invocations one after the other in this one Python process; the first that fails ends it with exit 1.
DBT_IN_ONE_PROCESS = """
import json, sys
from dbt.cli.main import dbtRunner
for args in json.loads(sys.argv[1]):
    if not dbtRunner().invoke(args).success:
        sys.exit(1)
"""


def test_an_incremental_run_replaces_the_window_and_keeps_what_lies_before(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    shutil.copytree(REPO_ROOT / "macros", project / "macros")
    shutil.copytree(REPO_ROOT / "profiles", project / "profiles")
    (project / "dbt_project.yml").write_text("name: kpiflow\nversion: '0.1.0'\nconfig-version: 2\nprofile: kpiflow\n")
    (project / "models" / "upstream.sql").write_text(UPSTREAM)
    (project / "models" / "windowed.sql").write_text(WINDOWED)
    env = {"KPIFLOW_TARGET": "spark", "KPIFLOW_SPARK_DIR": str(tmp_path / "spark")}
    where = ["--project-dir", str(project), "--profiles-dir", str(project / "profiles"), "--no-use-colors"]
    runs = [
        ["run", "--vars", "{phase: 1}", *where],
        ["run", "--vars", "{phase: 2, kpiflow_window_start: '2024-01-03'}", *where],
    ]
    output = run_process([sys.executable, "-c", DBT_IN_ONE_PROCESS, json.dumps(runs)], project, env)
    assert output.count("Completed successfully") == 2, output[-8000:]
    files = tmp_path / "spark" / "spark-warehouse" / "main.db" / "windowed" / "*.parquet"
    with duckdb.connect() as con:
        cursor = con.execute("select * from read_parquet(?) order by day", [str(files)])
        columns, rows = [d[0] for d in cursor.description], cursor.fetchall()
    assert columns == ["label", "day", "amount"]
    assert rows == [
        ("a", date(2024, 1, 1), 1.0),  # before the window: kept, the late change is not picked up
        ("b", date(2024, 1, 2), 2.0),
        ("d-new", date(2024, 1, 4), 40.0),  # 2024-01-03 emptied upstream: gone; the 4th replaced
        ("e", date(2024, 1, 5), 5.0),
    ]
    assert not (tmp_path / "spark" / "spark-warehouse" / "main.db" / "windowed__kpiflow_kept").exists()
