"""Seeds on Spark (macros/kpiflow_spark.sql, spark__load_csv_rows): an empty cell loads as NULL, text stays text.

dbt-spark's `session` method formats every bound seed value as `'<value>'`, so an empty cell of a string column
became the text 'None' (kpi_targets' "every entity" rows matched no entity and marts.kpi_achievement lost six KPIs
on Spark) and a quote in a cell broke the insert. `dbt seed` of the project's own seeds and of a seed with hostile
text on Spark, read back with DuckDB from the parquet files once dbt's process ended (its Spark session holds the
Derby metastore).
"""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from dbt_process import REPO_ROOT, dbt

pytestmark = pytest.mark.slow

HOSTILE = "O'Brien \\ 50% '); drop table x; --"
CELLS_CSV = f'label,amount,day,note\na,0.015,2024-01-31,"{HOSTILE}"\n,,,\n'
CELLS_YML = """
version: 2
seeds:
  - name: cells
    config:
      column_types: {label: string, amount: "decimal(38,12)", day: date, note: string}
"""


def test_dbt_seed_on_spark_loads_empty_cells_as_null_and_text_as_written(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(REPO_ROOT / "macros", project / "macros")
    shutil.copytree(REPO_ROOT / "profiles", project / "profiles")
    shutil.copytree(REPO_ROOT / "seeds", project / "seeds")
    (project / "seeds" / "cells.csv").write_text(CELLS_CSV)
    (project / "seeds" / "_cells.yml").write_text(CELLS_YML)
    (project / "dbt_project.yml").write_text("name: kpiflow\nversion: '0.1.0'\nconfig-version: 2\nprofile: kpiflow\n")
    env = {"KPIFLOW_TARGET": "spark", "KPIFLOW_SPARK_DIR": str(tmp_path / "spark")}
    output = dbt(project, env, "seed")
    assert "Completed successfully" in output, output[-8000:]

    tables = tmp_path / "spark" / "spark-warehouse" / "main.db"
    with duckdb.connect() as con:

        def rows(table: str, columns: str) -> list[tuple[object, ...]]:
            files = str(tables / table / "*.parquet")
            return con.execute(f"select {columns} from read_parquet(?) order by all", [files]).fetchall()

        assert rows("cells", "*") == [
            ("a", Decimal("0.015"), date(2024, 1, 31), HOSTILE),
            (None, None, None, None),
        ]
        targets = rows("kpi_targets", "kpi, entity_type, entity_id, grain, period_start, target")
        assert len(targets) == len((REPO_ROOT / "seeds" / "kpi_targets.csv").read_text().splitlines()) - 1
        assert {(entity_id, period_start) for _, _, entity_id, _, period_start, _ in targets} == {(None, None)}
        assert ("shrinkage_rate", "store", None, "month", None, Decimal("0.015")) in targets
        assert rows("department_plans", "department, kpi, period_start") == [(None, "plan_attainment", None)]
