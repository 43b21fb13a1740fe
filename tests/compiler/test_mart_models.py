"""Wide marts read the KPI models (mart_models.py): a column that is a KPI published at the mart's grain and
breakdown selects it from `kpi__<name>` (dbt lineage: mart <- kpi__x), other columns stay computed by the query
engine, and the mart keeps the rows, values and column types the query engine gives it: money stays DECIMAL, counts
integers, only ratios DOUBLE. kpi_values casts the KPI models' values to DOUBLE and their members to text."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from kpiflow.compiler.dbt_writer import generate
from kpiflow.compiler.lineage import seed_fed_models
from kpiflow.compiler.mart_models import _engine_query
from kpiflow.compiler.rollups import RollupCatalog
from kpiflow.compiler.sqltext import to_dbt_sql
from kpiflow.compiler.validate import load_graph

from .conftest import PROJECT
from .test_combined_models import (
    AVERAGE_BALANCE,
    BUILD_ORDER,
    DISTINCT_BALANCES,
    DISTINCT_COUNTS,
    EARLIEST,
    MORE_KPIS,
    OPENING_BALANCE,
    SMALLEST_LINE,
    _plan,
    _runnable,
)
from .test_compiler_queries import _normalise

SCHEMA = "mart_models"
CUSTOMER_KPI = "kpi: {unit: currency, direction: higher_is_better, owner: sales, perspective: finance, \
level: operational, natural_dimensions: [customer], grains: [month]}"
# A store mart of KPIs of every kind (money, a distinct count, a ratio, a derived difference, a spine-filled count, an
# offset growth) and a plain metric; a customer mart whose anonymous buyer (NULL customer) is a row of its own.
MARTS = f"""
  - {{name: customer_revenue, type: simple, label: CR, description: x, {CUSTOMER_KPI}, measure: revenue}}
marts:
  - name: mart_store_month
    description: x
    group_by: [metric_time__month, store]
    metrics: [revenue, order_count, units, upt, revenue_less_big_lines, lines_filled_kpi, revenue_yoy_kpi, lines]
  - name: mart_customer_month
    description: x
    group_by: [metric_time__month, customer]
    metrics: [customer_revenue, lines]
"""
MART_KPIS = {
    "mart_store_month": (
        "revenue",
        "order_count",
        "units",
        "upt",
        "revenue_less_big_lines",
        "lines_filled_kpi",
        "revenue_yoy_kpi",
    ),
    "mart_customer_month": ("customer_revenue",),
}


@pytest.fixture(scope="module")
def mart_graph(tmp_path_factory):
    project = tmp_path_factory.mktemp("project") / "project"
    shutil.copytree(PROJECT, project)
    metrics = project / "metrics" / "sales.yml"
    text = metrics.read_text(encoding="utf-8").replace(
        AVERAGE_BALANCE, AVERAGE_BALANCE + OPENING_BALANCE + DISTINCT_BALANCES
    )
    text = text.replace(SMALLEST_LINE, SMALLEST_LINE + DISTINCT_COUNTS)
    metrics.write_text(text + MORE_KPIS + MARTS, encoding="utf-8")
    return load_graph(project)


@pytest.fixture(scope="module")
def models(mart_graph, relation, con, tmp_path_factory):
    """Every generated model built in dependency order from the earliest date (thin KPIs after their inputs); every
    text."""
    files = {f.path.stem: f.content for f in generate(mart_graph, tmp_path_factory.mktemp("generated"))}
    thin = [f"kpi__{name}" for name in _plan(mart_graph).thin]
    con.execute(f"create schema if not exists {SCHEMA}")
    for prefix in BUILD_ORDER:
        names = sorted(n for n in files if n.startswith(prefix) and n not in thin)
        for name in names + (thin if prefix == "kpi__" else []):
            text = _runnable(files[name], relation, EARLIEST, SCHEMA)
            con.execute(f"create or replace table {SCHEMA}.{name} as {text}")
    return files


def _engine_mart(graph, name: str) -> str:
    """The mart as the query engine alone computes it (every column from the rollups): the mart before it read the
    KPI models."""
    mart = graph.marts[name]
    return to_dbt_sql(_engine_query(graph, name, list(mart.metrics), RollupCatalog(graph), None), "duckdb")


@pytest.mark.parametrize("name", sorted(MART_KPIS))
def test_mart_columns_read_their_kpi_models(mart_graph, models, name):
    """Each KPI published at the mart's month and breakdown is read from its model, so dbt's lineage shows what the
    mart is made of; the plain metric `lines` is no KPI: it stays computed by the query engine."""
    reads = set(re.findall(r"ref\('(\w+)'\)", models[name]))
    assert {r for r in reads if r.startswith("kpi__")} == {f"kpi__{kpi}" for kpi in MART_KPIS[name]}
    assert reads - {f"kpi__{kpi}" for kpi in MART_KPIS[name]}, "lines is read from the rollup or the facts"
    assert "is not distinct from" in models[name].lower()  # an unknown member (NULL) is a row of its own


@pytest.mark.parametrize("name", sorted(MART_KPIS))
@pytest.mark.parametrize("start", [EARLIEST, date(2024, 2, 11), date(2025, 2, 1)])
def test_mart_keeps_the_rows_values_and_types_of_the_query_engine(mart_graph, relation, con, models, name, start):
    """Same cells (a month a single column has, the anonymous customer's row), same values (fills included) and the
    same column types as the mart computed by the query engine alone, over all history and from a window start."""
    got = _runnable(models[name], relation, start, SCHEMA)
    want = _runnable(_engine_mart(mart_graph, name), relation, start, SCHEMA)
    assert _normalise(con.execute(got).fetchall()) == _normalise(con.execute(want).fetchall())
    types = {query: [(r[0], r[1]) for r in con.execute(f"describe {query}").fetchall()] for query in (got, want)}
    assert types[got] == types[want]
    if start == EARLIEST:
        assert any(row[1] is None for row in con.execute(got).fetchall()) == (name == "mart_customer_month")


def test_mart_columns_have_the_metrics_types(mart_graph, relation, con, models):
    """Money stays DECIMAL (a sum and a derived difference of sums), counts integers, a ratio DOUBLE: the KPI
    models keep their values' types, which the marts publish."""
    query = _runnable(models["mart_store_month"], relation, EARLIEST, SCHEMA)
    types = dict((r[0], r[1]) for r in con.execute(f"describe {query}").fetchall())
    assert types["revenue"].startswith("DECIMAL") and types["revenue_less_big_lines"].startswith("DECIMAL")
    assert types["order_count"] == "BIGINT" and types["lines_filled_kpi"] in ("BIGINT", "HUGEINT")
    assert types["upt"] == types["revenue_yoy_kpi"] == "DOUBLE"


def test_kpi_values_casts_each_kpi_model_to_its_types(mart_graph, relation, con, models):
    """kpi_values unions models whose values are DECIMAL, integers and DOUBLE: each is cast, so its value column is
    DOUBLE and its members text, as before the KPI models kept their own types."""
    assert "cast(value as double) as value" in models["kpi_values"].lower()
    query = _runnable(models["kpi_values"], relation, EARLIEST, SCHEMA)
    types = dict((r[0], r[1]) for r in con.execute(f"describe {query}").fetchall())
    assert types["value"] == "DOUBLE" and types["store_id"] == types["customer_id"] == "VARCHAR"
    revenue = con.execute(f"select value from ({query}) where kpi = 'revenue' and grain = 'year'").fetchall()
    assert revenue and all(isinstance(value, float) for (value,) in revenue)


def test_a_mart_reading_a_kpi_model_rebuilt_in_full_is_rebuilt_in_full(tmp_path):
    """The sales-team mart reads plan attainment, a table over the seed-fed plans (any past month may change): the
    mart is a table too, though none of the models it reads is seed-fed itself; the store mart stays incremental."""
    repo = Path(__file__).resolve().parents[2]
    rebuilt = seed_fed_models(repo, skip=repo / "models" / "generated")
    files = {f.path.stem: f.content for f in generate(load_graph(repo), tmp_path, "duckdb", rebuilt)}
    team = files["mart_sales_team_employee_month"]
    assert "ref('kpi__plan_attainment')" in team and "materialized='table'" in files["kpi__plan_attainment"]
    assert "incremental" not in team.splitlines()[1]
    assert "materialized='incremental'" in files["mart_sales_store_month"].splitlines()[1]
