"""A column is cast to DATE only when the compiler does not know it is one (compiler/known_dates.py, issue 16).

The test project's YAML declares `int_sales.sold_on` and the time spine's `date_day` as DATE: the generated models
read them as they are. Declared as a TIMESTAMP, or with no type, they keep the cast that takes their day, and a
TIMESTAMP with times of day still gives the same days, rollups and KPI rows as the DATE it stands for."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from compiler_tables import FIXTURE_SQL, PROJECT, sales_at_times_of_day

from kpiflow.compiler.dbt_writer import generate
from kpiflow.compiler.plan import QueryRequest
from kpiflow.compiler.sqltext import build_query, to_sql
from kpiflow.compiler.validate import load_graph

from .test_combined_models import BUILD_ORDER, EARLIEST, SCHEMA, _runnable

MODELS_YAML = Path("models") / "intermediate" / "_models.yml"
SOLD_ON = "{name: sold_on, data_type: date}"
SPINE_DAY = "{name: date_day, data_type: date}"
# The same sales at times of day: late in the evening (a day boundary away) and just after midnight.
BALANCES = QueryRequest(("inventory_value", "avg_inventory"), ("metric_time__month",))
DAILY = QueryRequest(("revenue", "revenue_7d", "order_count"), ("metric_time__day", "store__region"))


def _project(tmp_path: Path, sold_on: str | None, spine_day: str | None = "date") -> Path:
    """The test project with `sold_on` and the spine's `date_day` declared with these types (None: no type)."""
    project = tmp_path / "project"
    shutil.copytree(PROJECT, project)
    path = project / MODELS_YAML
    text = path.read_text(encoding="utf-8")
    for declared, column, declaration in ((sold_on, "sold_on", SOLD_ON), (spine_day, "date_day", SPINE_DAY)):
        typed = f"{{name: {column}, data_type: {declared}}}" if declared else f"{{name: {column}}}"
        assert declaration in text
        text = text.replace(declaration, typed)
    path.write_text(text, encoding="utf-8")
    return project


def _models(project: Path, out: Path) -> dict[str, str]:
    return {f.path.stem: f.content for f in generate(load_graph(project), out)}


@pytest.mark.parametrize("declared", ["date", "DATE"])
def test_columns_declared_as_dates_are_not_cast(tmp_path, relation, declared):
    """The rollup takes its day and its window from `sold_on` as it is; the spine's day is read as it is; the
    window's start (a runtime value) stays cast; `kpiflow query` reads the column as it is too."""
    project = _project(tmp_path, sold_on=declared, spine_day=declared)
    files = _models(project, tmp_path / "out")
    every_model = "\n".join(files.values())
    assert "cast(base.sold_on as date)" not in every_model
    assert "cast(time_spine.date_day as date)" not in every_model
    rollup = files["rollup__sales"]
    assert "base.sold_on as __day" in rollup
    assert "base.sold_on >= cast({{ kpiflow_window_start_value }} as date)" in rollup
    assert "time_spine.date_day as __day" in files["kpi__revenue_ytd"]
    query = to_sql(build_query(load_graph(project), DAILY, relation))
    assert "cast(base.sold_on as date)" not in query and "cast(spine.date_day as date)" not in query
    balances = to_sql(build_query(load_graph(project), BALANCES, relation))
    assert "base.snapshot_date as __day" in balances and "cast(base.snapshot_date as date)" not in balances


@pytest.mark.parametrize("declared", ["timestamp", None])
def test_columns_not_declared_as_dates_keep_their_cast(tmp_path, relation, declared):
    """A TIMESTAMP (or a column of unknown type) is cast to take its day, in the models and in a query."""
    project = _project(tmp_path, sold_on=declared, spine_day=declared)
    files = _models(project, tmp_path / "out")
    assert "cast(base.sold_on as date) as __day" in files["rollup__sales"]
    assert "cast(base.sold_on as date) >= cast({{ kpiflow_window_start_value }} as date)" in files["rollup__sales"]
    assert "cast(time_spine.date_day as date) as __day" in files["kpi__revenue_ytd"]
    query = to_sql(build_query(load_graph(project), DAILY, relation))
    assert "cast(base.sold_on as date)" in query and "cast(spine.date_day as date)" in query


def _built(project: Path, out: Path, relation, fixture_sql: str) -> dict[str, list[tuple]]:
    """Every rollup, measures and KPI model of `project` built on DuckDB over `fixture_sql`, and a daily query's
    rows: each sorted."""
    con = duckdb.connect()
    con.execute(fixture_sql)
    con.execute(f"create schema {SCHEMA}")
    files = _models(project, out)
    rows: dict[str, list[tuple]] = {}
    for prefix in BUILD_ORDER:
        for name in sorted(n for n in files if n.startswith(prefix)):
            con.execute(f"create table {SCHEMA}.{name} as {_runnable(files[name], relation, EARLIEST)}")
            rows[name] = sorted(con.execute(f"select * from {SCHEMA}.{name}").fetchall(), key=repr)
    query = to_sql(build_query(load_graph(project), DAILY, relation))
    rows["query"] = sorted(con.execute(query).fetchall(), key=repr)
    return rows


def test_timestamp_time_column_groups_by_its_day(tmp_path, relation):
    """Sales at times of day, declared TIMESTAMP, give the rows the same sales on DATEs give: the same days (DATE
    values, not timestamps) in the rollups, the same KPI rows at every grain, the same daily query."""
    dates = _built(PROJECT, tmp_path / "dates", relation, FIXTURE_SQL)
    times = _built(
        _project(tmp_path, sold_on="timestamp"), tmp_path / "times", relation, FIXTURE_SQL + sales_at_times_of_day()
    )
    assert sorted(times) == sorted(dates) and "rollup__sales" in dates and "kpi__revenue_ytd" in dates
    assert len(dates["query"]) > 10
    for name, want in dates.items():
        assert times[name] == want, name
