"""The staging layer builds and its dbt tests pass on a generated warehouse (real dbt, real DuckDB)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from kpiflow.config import find_project_root
from kpiflow.demo.warehouse import DEMO_TABLES

PROJECT = find_project_root(Path(__file__).parent)


@pytest.fixture(scope="module")
def staging_build(make_tiny, tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run `dbt build --select staging` in a copy of the project that holds only the staging layer.

    The copy keeps this test about staging: models other engineers are still writing cannot break it.
    """
    root = tmp_path_factory.mktemp("staging_dbt")
    warehouse = make_tiny(root / "data").path
    project = root / "project"
    (project / "models").mkdir(parents=True)
    shutil.copy(PROJECT / "dbt_project.yml", project)
    shutil.copytree(PROJECT / "macros", project / "macros")
    shutil.copytree(PROJECT / "models" / "staging", project / "models" / "staging")
    dbt = Path(sys.executable).with_name("dbt")
    env = {
        **os.environ,
        "KPIFLOW_WAREHOUSE": str(warehouse),
        "DBT_PROFILES_DIR": str(PROJECT / "profiles"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DBT_VERSION_CHECK": "False",
    }
    result = subprocess.run(
        [str(dbt), "build", "--select", "staging"], cwd=project, env=env, capture_output=True, text=True, timeout=600
    )
    return result, warehouse


@pytest.mark.slow
def test_dbt_build_of_staging_passes(staging_build) -> None:
    result, _ = staging_build
    assert result.returncode == 0, result.stdout[-4000:]
    assert "ERROR=0" in result.stdout and "PASS=" in result.stdout


@pytest.mark.slow
def test_every_raw_table_has_a_staging_view(staging_build) -> None:
    _, warehouse = staging_build
    with duckdb.connect(str(warehouse), read_only=True) as con:
        views = {
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'staging'"
            ).fetchall()
        }
        assert views == {f"stg_{table}" for table in DEMO_TABLES}
        columns = {
            name
            for (name,) in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'staging' and table_name = 'stg_orders'"
            ).fetchall()
        }
        assert {"order_id", "ordered_at", "order_date", "store_id", "channel", "customer_id"} <= columns
        orders = con.execute("select count(*) from staging.stg_orders").fetchone()[0]
        assert orders == con.execute("select count(*) from raw.orders").fetchone()[0]
