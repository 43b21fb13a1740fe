"""Incremental builds through the real build stage, and the comparison with a full rebuild, for the tests that
build chains of nights (test_incremental_build.py, test_changed_history.py)."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb

from kpiflow.config import Settings
from kpiflow.orchestration.dbt import DbtBuildSummary
from kpiflow.orchestration.incremental import BuildPlan, set_window
from kpiflow.orchestration.pipeline import RunContext, RunOptions
from kpiflow.orchestration.stages import build_models
from kpiflow.warehouse.duckdb import DuckDBWarehouse

LATE_DAYS = 3
BUILT_SCHEMAS = ("intermediate", "kpi", "marts")
REPO = Path(__file__).resolve().parents[2]


def demo_project(root: Path, project_copier: Callable[[Path], Path], start: date, end: date) -> Settings:
    """A copy of the project under `root` with a small demo warehouse (scale 0.02) from `start` to `end`, compiled."""
    from kpiflow.compiler import compile_project
    from kpiflow.demo import generate_demo_warehouse

    project = project_copier(root / "project")
    settings = Settings(
        project_dir=project,
        warehouse_path=root / "warehouse" / "kpiflow.duckdb",
        marts_path=root / "warehouse" / "marts.duckdb",
        target="dev",
    )
    generate_demo_warehouse(settings.warehouse_path, scale=0.02, start=start, end=end)
    compile_project(settings)
    return settings


def append_night(settings: Settings, day: date) -> None:
    """The demo's next day lands (through `day`)."""
    from kpiflow.demo import append_demo_days

    append_demo_days(settings.warehouse_path, day)


def tiny_dbt_project(root: Path, files: dict[str, str]) -> Path:
    """A dbt project of `files` (dedented) with the project's real macros and profiles."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).strip() + "\n")
    shutil.copytree(REPO / "macros", root / "macros")
    shutil.copytree(REPO / "profiles", root / "profiles")
    return root


def tiny_inputs(project: Path, rows: str, window: date | None) -> Path:
    """Seed `raw_events` with the CSV `rows` and record `window` as the build window (None: a full build); returns
    the warehouse."""
    (project / "seeds").mkdir(exist_ok=True)
    (project / "seeds" / "raw_events.csv").write_text(rows)
    warehouse = project / "warehouse.duckdb"
    set_window(
        DuckDBWarehouse.for_file(warehouse),
        BuildPlan(full_refresh=window is None, window_start=window, reason="test", fingerprint=""),
    )
    return warehouse


def build_night(
    settings: Settings, run_date: date, *, full_refresh: bool = False, restatement_horizon: int | None = None
) -> DbtBuildSummary:
    options = RunOptions(
        run_date=run_date, full_refresh=full_refresh, late_days=LATE_DAYS, restatement_horizon=restatement_horizon
    )
    return build_models(RunContext(settings=settings, options=options, run_id=f"test-{run_date}"))


def rounded_rows(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str) -> str:
    """SELECT of a table with doubles rounded: sums of floats may differ in the last bits with the order read."""
    columns = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = ? and table_schema = ? and table_name = ? order by ordinal_position",
        [catalog, schema, table],
    ).fetchall()
    select = ", ".join(f'round("{c}", 6) as "{c}"' if t == "DOUBLE" else f'"{c}"' for c, t in columns)
    return f'select {select} from "{catalog}"."{schema}"."{table}"'


def differences(left: Path, right: Path) -> dict[str, tuple[int, int]]:
    """table -> (rows only in left, rows only in right), for every table that differs."""
    con = duckdb.connect()
    con.execute(f"attach '{left}' as l (read_only)")
    con.execute(f"attach '{right}' as r (read_only)")
    tables = con.execute(
        "select table_schema, table_name from information_schema.tables where table_catalog = 'l' "
        f"and table_schema in {BUILT_SCHEMAS} and table_type = 'BASE TABLE' order by 1, 2"
    ).fetchall()
    assert len(tables) > 90, tables
    found = {}
    for schema, table in tables:
        a, b = rounded_rows(con, "l", schema, table), rounded_rows(con, "r", schema, table)
        only_left = con.execute(f"select count(*) from ({a} except all {b})").fetchone()[0]
        only_right = con.execute(f"select count(*) from ({b} except all {a})").fetchone()[0]
        if only_left or only_right:
            found[f"{schema}.{table}"] = (only_left, only_right)
    con.close()
    return found
