"""Incremental builds through the real build stage, and the comparison with a full rebuild, for the tests that
build chains of nights (test_incremental_build.py, test_changed_history.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from kpiflow.config import Settings
from kpiflow.orchestration.dbt import DbtBuildSummary
from kpiflow.orchestration.pipeline import RunContext, RunOptions
from kpiflow.orchestration.stages import build_models

LATE_DAYS = 3
BUILT_SCHEMAS = ("intermediate", "kpi", "marts")


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
