"""Build a warehouse from hand-made raw rows through the real pipeline: staging -> generated SQL -> DuckDB."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

RAW_SQL = Path(__file__).parent / "worked_examples_raw.sql"


@pytest.fixture(scope="session")
def worked_examples(tmp_path_factory, project_copier, dbt_runner) -> duckdb.DuckDBPyConnection:
    from kpiflow.compiler import compile_project
    from kpiflow.config import Settings

    root = tmp_path_factory.mktemp("worked_examples")
    project = project_copier(root / "project")
    warehouse = root / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(RAW_SQL.read_text())
    settings = Settings(project_dir=project, warehouse_path=warehouse, marts_path=root / "marts.duckdb", target="dev")
    compile_project(settings)
    dbt_runner(project, warehouse, "seed")
    dbt_runner(project, warehouse, "run")
    connection = duckdb.connect(str(warehouse), read_only=True)
    yield connection
    connection.close()
