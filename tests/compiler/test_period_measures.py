"""Per-period measures (compiler/period_measures.py) grouped by the counted entity first: the distinct counts become
plain counts of entities, with the rows of counting each distinct value directly, NULL entities and NULL breakdown
members included, over all history and when only a window is rebuilt."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from kpiflow.compiler.dbt_writer import generate
from kpiflow.compiler.period_measures import PeriodMeasures
from kpiflow.compiler.validate import load_graph

from .conftest import FIXTURE_SQL, PROJECT
from .test_combined_models import EARLIEST, _runnable
from .test_compiler_queries import _normalise

REPO = Path(__file__).resolve().parents[2]
KPI = (
    "kpi: {unit: count, direction: higher_is_better, owner: sales, perspective: finance, level: operational, "
    "natural_dimensions: [store, store__region], grains: [day, week, month, quarter, year]}"
)
# Two filtered distinct counts of the orders beside the project's unfiltered one (order_count counts `orders`).
ORDER_COUNTS = """      - {name: big_orders, agg: count_distinct, expr: order_id, filter: "amount >= 10"}
      - {name: multi_unit_orders, agg: count_distinct, expr: order_id, filter: "quantity > 1"}
"""
ORDER_KPIS = f"""
  - {{name: big_orders_kpi, type: simple, label: BO, description: x, {KPI}, measure: big_orders}}
  - {{name: multi_unit_orders_kpi, type: simple, label: MO, description: x, {KPI}, measure: multi_unit_orders}}
  - {{name: all_orders_kpi, type: simple, label: AO, description: x, {KPI}, measure: orders}}
"""
BUYERS = "      - {name: buyers, agg: count_distinct, expr: customer_id}\n"
BUYERS_KPI = f"  - {{name: buyers_kpi, type: simple, label: BU, description: x, {KPI}, measure: buyers}}\n"
# Lines without an order (a NULL entity: counted by no distinct count, yet in the rows of a filtered one), a store
# without a region and a line without a store (NULL breakdown members, not to be taken for rolled-up rows).
MORE_LINES = """
insert into intermediate.int_sales values
  ('l9', null, 's1', 'c1', date '2025-01-07', 15.00, 2),
  ('l10', null, 's9', 'c4', date '2025-01-08', 3.00, 1),
  ('l11', 'o8', 's9', 'c4', date '2025-01-08', 11.00, 3),
  ('l12', 'o8', null, 'c4', date '2025-01-09', 9.00, 1),
  ('l13', 'o9', null, null, date '2025-01-09', 25.00, 1),
  ('l14', null, null, null, date '2025-02-01', 30.00, 5);
"""
MODEL = "measures__sales__per_period"


def _project(tmp_path: Path, measures: str, kpis: str) -> Path:
    project = tmp_path / "project"
    shutil.copytree(PROJECT, project)
    metrics = project / "metrics" / "sales.yml"
    text = metrics.read_text(encoding="utf-8")
    smallest = "      - {name: smallest_line, agg: min, expr: amount}\n"
    metrics.write_text(text.replace(smallest, smallest + measures) + kpis, encoding="utf-8")
    return project


def _per_period(project: Path, out: Path) -> str:
    files = {f.path.stem: f.content for f in generate(load_graph(project), out)}
    return files[MODEL]


@pytest.fixture(scope="module")
def lines_con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute(FIXTURE_SQL + MORE_LINES)
    return connection


def test_orders_model_counts_customers_grouped_first():
    """The demo's per-period orders model (active, new and repeat customers) holds no distinct aggregate."""
    text = (REPO / "models" / "generated" / "measures__orders__per_period.sql").read_text(encoding="utf-8")
    assert "active_customers_in_periods as (" in text
    assert "count(distinct" not in text
    assert "count(case when m__new_customers > 0 then m__active_customers end) as m__new_customers" in text


@pytest.mark.parametrize("start", [EARLIEST, date(2025, 1, 8)])
def test_entities_first_returns_the_rows_of_distinct_counts(tmp_path, relation, lines_con, monkeypatch, start):
    """Grouped by order first, the model returns every row of today's count(distinct ...) form: NULL orders
    counted by no distinct count but in the filtered measures' rows, NULL stores and regions kept apart from
    the rolled-up rows, every grain from the earliest date and from a later window start."""
    project = _project(tmp_path, ORDER_COUNTS, ORDER_KPIS)
    grouped_first = _per_period(project, tmp_path / "new")
    assert "count(distinct" not in grouped_first and "orders_in_periods as (" in grouped_first
    monkeypatch.setattr(PeriodMeasures, "_counted_entity", lambda self, measures: None)
    distinct = _per_period(project, tmp_path / "old")
    assert "count(distinct m__big_orders)" in distinct
    want = lines_con.execute(_runnable(distinct, relation, start)).fetchall()
    got = lines_con.execute(_runnable(grouped_first, relation, start)).fetchall()
    assert len(want) > 50 and _normalise(got) == _normalise(want)
    null_region = [row for row in want if row[2] == "store__region" and row[4] is None]
    assert null_region, "the data has lines whose store has no region"


def test_two_counted_columns_keep_distinct_counts(tmp_path):
    """Orders and customers counted in one model: no single entity to group by, so count(distinct ...) stays."""
    project = _project(tmp_path, ORDER_COUNTS + BUYERS, ORDER_KPIS + BUYERS_KPI)
    text = _per_period(project, tmp_path / "out")
    assert "count(distinct m__buyers)" in text and "count(distinct m__orders)" in text
