"""Build a warehouse from hand-made raw rows through the real pipeline: staging -> generated SQL -> DuckDB."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[2]
RAW_SQL = Path(__file__).parent / "worked_examples_raw.sql"
EMPTY_SEEDS = {
    "plans_sales_manager_monthly.csv": "employee_id,month_start,plan_net_revenue\n",
    "plans_store_monthly.csv": "store_id,month_start,plan_net_revenue\n",
}


def copy_project(target: Path) -> Path:
    """A throwaway copy of the dbt project and metric definitions (seeds replaced by the test's own)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("dbt_project.yml", "models", "macros", "metrics", "profiles", "seeds"):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("target", "*.duckdb"))
        else:
            shutil.copy(source, target / name)
    return target


def dbt(project: Path, warehouse: Path, *args: str) -> None:
    """Run dbt in a subprocess (dbt-duckdb holds the file open for the life of its process)."""
    env = dict(os.environ, KPIFLOW_WAREHOUSE=str(warehouse), DBT_SEND_ANONYMOUS_USAGE_STATS="False")
    command = [
        str(Path(sys.executable).parent / "dbt"),
        *args,
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project / "profiles"),
    ]
    done = subprocess.run(command, env=env, cwd=project, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}")


@pytest.fixture(scope="session")
def worked_examples(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    from kpiflow.compiler import compile_project
    from kpiflow.config import Settings

    root = tmp_path_factory.mktemp("worked_examples")
    project = copy_project(root / "project")
    for name, header in EMPTY_SEEDS.items():
        (project / "seeds" / name).write_text(header, encoding="utf-8")
    warehouse = root / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(RAW_SQL.read_text())
    settings = Settings(project_dir=project, warehouse_path=warehouse, marts_path=root / "marts.duckdb", target="dev")
    compile_project(settings)
    dbt(project, warehouse, "seed")
    dbt(project, warehouse, "run")
    connection = duckdb.connect(str(warehouse), read_only=True)
    yield connection
    connection.close()
