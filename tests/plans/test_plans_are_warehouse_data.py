"""Plans are data of the warehouse they were made for (issue 15.10): two demo warehouses build against their
own plans, `kpiflow demo-data` leaves the project's files alone, and `kpiflow load-plans` fills the raw tables
from a CSV or names every bad line and loads nothing."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from kpiflow.errors import UserInputError
from kpiflow.plans import load_plans

REPO = Path(__file__).resolve().parents[2]
PLAN_TABLES = {"sales_plans": "employee_id", "store_plans": "store_id"}


def _project_files() -> dict[str, str]:
    """Every file under the project's seeds/, models/ and metrics/ (ignored ones too) with its hash."""
    return {
        str(path.relative_to(REPO)): hashlib.sha256(path.read_bytes()).hexdigest()
        for folder in ("seeds", "models", "metrics")
        for path in sorted((REPO / folder).rglob("*"))
        if path.is_file() and "target" not in path.parts
    }


def _git_status() -> str:
    done = subprocess.run(
        ["git", "status", "--porcelain", "--ignored", "--", "seeds", "models", "metrics"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


@pytest.mark.slow  # two demo warehouses and two dbt runs of the plan models
def test_two_demo_warehouses_build_against_their_own_plans(tmp_path, project_copier, dbt_runner):
    from kpiflow.demo import generate_demo_warehouse

    before_files, before_status = _project_files(), _git_status()
    project = project_copier(tmp_path / "project")
    built = {}
    for name, seed, end in (("first", 7, date(2024, 2, 29)), ("second", 11, date(2024, 3, 31))):
        warehouse = tmp_path / name / "kpiflow.duckdb"
        env = {**os.environ, "KPIFLOW_WAREHOUSE": str(tmp_path / "unused.duckdb")}
        done = subprocess.run(
            [sys.executable, "-m", "kpiflow.cli", "demo-data", "--scale", "0.02", "--start", "2024-01-01",
             "--end", str(end), "--seed", str(seed), "--out", str(warehouse), "--quiet"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        built[name] = warehouse
    # generating a demo warehouse never touches the project's files
    assert _project_files() == before_files
    assert _git_status() == before_status
    # a third one generated in-process into the project copy's folder: still nothing under the copy's seeds/
    generate_demo_warehouse(project / "warehouse.duckdb", scale=0.01, start=date(2024, 1, 1), end=date(2024, 1, 7))
    assert sorted(p.name for p in (project / "seeds").rglob("*")) == sorted(p.name for p in (REPO / "seeds").glob("*"))

    plans = {}
    for name, warehouse in built.items():
        dbt_runner(project, warehouse, "run", "--select", "+int_sales_plans", "+int_store_plans")
        with duckdb.connect(str(warehouse), read_only=True) as con:
            for table, owner in PLAN_TABLES.items():
                model = "int_" + table
                raw = con.execute(f"select {owner}, month_start, plan_net_revenue from raw.{table} order by all")
                raw_rows = raw.fetchall()
                built_rows = con.execute(
                    f"select {owner}, month_start, plan_net_revenue from intermediate.{model} order by all"
                ).fetchall()
                assert raw_rows and built_rows == raw_rows, (name, table)
                plans[(name, table)] = raw_rows
            months = con.execute("select max(month_start) from raw.sales_plans").fetchone()[0]
            assert months == {"first": date(2024, 2, 1), "second": date(2024, 3, 1)}[name]
    assert plans[("first", "sales_plans")] != plans[("second", "sales_plans")]


def _csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_load_plans_replaces_the_table_from_a_csv(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    header = "employee_id,month_start,plan_net_revenue\n"
    first = _csv(tmp_path / "sales.csv", header + "E1,2025-01-01,1000.50\nE2,2025-01-01,20\n")
    loaded = load_plans(warehouse, first)
    assert (loaded.table, loaded.rows, loaded.months) == ("sales_plans", 2, (date(2025, 1, 1), date(2025, 1, 1)))
    stores = _csv(tmp_path / "stores.csv", "store_id,month_start,plan_net_revenue\nS1,2025-02-01,5000\n")
    assert load_plans(warehouse, stores).table == "store_plans"
    again = _csv(tmp_path / "again.csv", header + "E3,2025-03-01,7\n")
    load_plans(warehouse, again)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select * from raw.sales_plans").fetchall() == [("E3", date(2025, 3, 1), Decimal("7.00"))]
        assert con.execute("select count(*) from raw.store_plans").fetchone()[0] == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("employee,month,plan\nE1,2025-01-01,1\n", ":1: header 'employee,month,plan' is not a plan file"),
        ("employee_id,month_start,plan_net_revenue\nE1,2025-13-01,1\n", ":2: month_start '2025-13-01' is not a date"),
        ("employee_id,month_start,plan_net_revenue\nE1,2025-01-15,1\n", ":2: month_start 2025-01-15 is not the first"),
        ("employee_id,month_start,plan_net_revenue\nE1,2025-01-01,1.005\n", ":2: plan_net_revenue '1.005' is not"),
        ("employee_id,month_start,plan_net_revenue\n,2025-01-01,1\n", ":2: employee_id is empty"),
        ("employee_id,month_start,plan_net_revenue\nE1,2025-01-01\n", ":2: 2 values, 3 expected"),
        (
            "employee_id,month_start,plan_net_revenue\nE1,2025-01-01,1\nE1,2025-01-01,2\n",
            ":3: employee_id E1 2025-01 is already planned on line 2",
        ),
        ("employee_id,month_start,plan_net_revenue\nE1,2025-01-01,'); drop table raw.sales_plans; --\n", ":2: plan"),
    ],
)
def test_bad_plan_rows_are_named_and_nothing_is_loaded(tmp_path, text, message):
    warehouse = tmp_path / "w.duckdb"
    load_plans(warehouse, _csv(tmp_path / "good.csv", "employee_id,month_start,plan_net_revenue\nE9,2025-01-01,9\n"))
    bad = _csv(tmp_path / "bad.csv", text)
    with pytest.raises(UserInputError) as error:
        load_plans(warehouse, bad)
    assert f"{bad}{message}" in str(error.value)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select employee_id from raw.sales_plans").fetchall() == [("E9",)]


def test_load_plans_command(tmp_path, monkeypatch, capsys):
    from kpiflow import cli

    def run(*args: str) -> int:
        monkeypatch.setattr(sys, "argv", ["kpiflow", "load-plans", *args])
        try:
            cli.main()
        except SystemExit as exit_:
            return int(exit_.code or 0)
        return 0

    warehouse = tmp_path / "w.duckdb"
    plan = _csv(tmp_path / "p.csv", "store_id,month_start,plan_net_revenue\nS1,2025-01-01,10\nS1,2025-02-01,12\n")
    monkeypatch.setenv("KPIFLOW_WAREHOUSE", str(warehouse))
    assert run(str(plan)) == 0
    printed = capsys.readouterr().out.replace("\n", "")
    assert f"raw.store_plans: 2 plans loaded into {warehouse}, 2025-01..2025-02" in printed
    assert run(str(plan), "--table", "sales_plans") == 2
    assert "expected employee_id,month_start,plan_net_revenue" in capsys.readouterr().err.replace("\n", "")


def test_models_over_plans_are_rebuilt_in_full_every_night():
    """A plan may be reloaded for any past month: what reads the plan tables is never incremental."""
    from kpiflow.compiler.lineage import seed_fed_models

    fed = seed_fed_models(REPO, skip=REPO / "models" / "generated")
    assert {"stg_sales_plans", "stg_store_plans", "int_sales_plans", "int_store_plans"} <= fed
    for kpi in ("plan_attainment", "store_plan_attainment"):
        sql = (REPO / "models" / "generated" / f"kpi__{kpi}.sql").read_text(encoding="utf-8")
        assert "{{ config(materialized='table') }}" in sql
