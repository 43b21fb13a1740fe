"""Unknown entities (DECISIONS rule 23): a row whose entity is NULL counts in sums and row counts but never as an
entity: not in distinct counts, not in retention or conversion cohorts. Generated SQL against hand-written SQL on
DuckDB, and `kpiflow query` on a warehouse file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from kpiflow.cli import app
from kpiflow.compiler.dbt_models import load_dbt_models
from kpiflow.compiler.plan import QueryRequest
from kpiflow.compiler.sqltext import build_query, to_sql, warehouse_relation
from kpiflow.compiler.validate import load_graph

PROJECT = Path(__file__).parent / "project"

# Rule 23's example: four known June buyers, two of whom buy again in July, and anonymous orders in both months.
# Visits: two known visitors and three anonymous ones on 1 June; only c1 orders within the week.
DATA_SQL = """
create schema intermediate;
create table intermediate.int_sales as select * from (values
  ('l1', 'o1', 's1', 'c1', date '2025-06-03', 10.00::decimal(12,2), 1),
  ('l2', 'o2', 's1', 'c2', date '2025-06-04', 10.00, 1),
  ('l3', 'o3', 's1', 'c3', date '2025-06-05', 10.00, 1),
  ('l4', 'o4', 's1', 'c4', date '2025-06-06', 10.00, 1),
  ('l5', 'o5', 's1', null, date '2025-06-02', 10.00, 1),
  ('l6', 'o6', 's1', null, date '2025-06-07', 10.00, 1),
  ('l7', 'o7', 's1', null, date '2025-06-08', 10.00, 1),
  ('l8', 'o8', 's1', 'c1', date '2025-07-01', 10.00, 1),
  ('l9', 'o9', 's1', 'c2', date '2025-07-02', 10.00, 1),
  ('l10', 'o10', 's1', 'c5', date '2025-07-03', 10.00, 1),
  ('l11', 'o11', 's1', null, date '2025-07-04', 10.00, 1),
  ('l12', 'o12', 's1', null, date '2025-07-05', 10.00, 1)
) t(line_id, order_id, store_id, customer_id, sold_on, amount, quantity);
create table intermediate.int_visits as select * from (values
  ('v1', 'c1', date '2025-06-01'), ('v2', 'c9', date '2025-06-01'), ('v3', null, date '2025-06-01'),
  ('v4', null, date '2025-06-01'), ('v5', null, date '2025-06-01')
) t(visit_id, customer_id, visited_on);
"""

VISITS_DOCS = """
  - name: int_visits
    columns:
      - {name: visit_id, data_type: varchar}
      - {name: customer_id, data_type: varchar}
      - {name: visited_on, data_type: date}
"""

METRICS = """
semantic_models:
  - name: sales
    model: int_sales
    agg_time_dimension: sold_on
    entities:
      - {name: line, type: primary, expr: line_id}
      - {name: customer, type: foreign, expr: customer_id}
    dimensions:
      - {name: sold_on, type: time, time_granularity: day}
    measures:
      - {name: orders, agg: count_distinct, expr: order_id}
      - {name: buyers, agg: count_distinct, expr: customer_id}
  - name: visits
    model: int_visits
    agg_time_dimension: visited_on
    entities:
      - {name: visit, type: primary, expr: visit_id}
      - {name: customer, type: foreign, expr: customer_id}
    dimensions:
      - {name: visited_on, type: time, time_granularity: day}
    measures:
      - {name: visits, agg: count, expr: visit_id}
metrics:
  - {name: orders, type: simple, label: Orders, description: x, measure: orders}
  - {name: buyers, type: simple, label: Buyers, description: x, measure: buyers}
  - {name: retention, type: retention, label: Ret, description: x, retention: {measure: orders, entity: customer}}
  - name: visit_conversion
    type: conversion
    label: Conv
    description: x
    conversion: {base_measure: visits, conversion_measure: orders, entity: customer, window: 7 days}
"""

RETENTION_SQL = """
with active as (
    select distinct date_trunc('month', sold_on)::date as m, customer_id
    from intermediate.int_sales where customer_id is not null
)
select p.m + interval 1 month, avg(case when c.customer_id is null then 0.0 else 1.0 end)
from active p left join active c on c.customer_id = p.customer_id and c.m = p.m + interval 1 month
where p.m + interval 1 month <= (select max(m) from active)
group by 1
"""

CONVERSION_SQL = """
select date_trunc('month', v.visited_on)::date,
       avg(case when exists (select 1 from intermediate.int_sales s where s.customer_id = v.customer_id
                             and s.sold_on between v.visited_on and v.visited_on + 7) then 1.0 else 0.0 end)
from intermediate.int_visits v where v.customer_id is not null group by 1
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("null_entities")
    shutil.copytree(PROJECT / "models", root / "models")
    shutil.copy(PROJECT / "dbt_project.yml", root / "dbt_project.yml")
    docs = root / "models" / "intermediate" / "_models.yml"
    docs.write_text(docs.read_text(encoding="utf-8") + VISITS_DOCS, encoding="utf-8")
    (root / "metrics").mkdir()
    (root / "metrics" / "sales.yml").write_text(METRICS, encoding="utf-8")
    with duckdb.connect(str(root / "warehouse.duckdb")) as con:
        con.execute(DATA_SQL)
    return root


def _generated(project: Path, metric: str) -> list[tuple]:
    graph = load_graph(project)
    relation = warehouse_relation(load_dbt_models(project))
    sql = to_sql(build_query(graph, QueryRequest((metric,), ("metric_time__month",)), relation))
    with duckdb.connect(str(project / "warehouse.duckdb"), read_only=True) as con:
        return _rounded(con.execute(sql).fetchall())


def _hand_written(project: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(project / "warehouse.duckdb"), read_only=True) as con:
        return _rounded(con.execute(sql).fetchall())


def _rounded(rows: list[tuple]) -> list[tuple]:
    return sorted((str(m)[:10], None if v is None else round(float(v), 6)) for m, v in rows)


def test_retention_ignores_anonymous_buyers(project):
    assert _generated(project, "retention") == _hand_written(project, RETENTION_SQL) == [("2025-07-01", 0.5)]


def test_conversion_cohort_ignores_anonymous_visitors(project):
    assert _generated(project, "visit_conversion") == _hand_written(project, CONVERSION_SQL) == [("2025-06-01", 0.5)]


def test_distinct_count_of_an_entity_ignores_null(project):
    assert _generated(project, "buyers") == [("2025-06-01", 4.0), ("2025-07-01", 3.0)]


def test_kpiflow_query_gives_the_same(project, monkeypatch):
    monkeypatch.setenv("KPIFLOW_PROJECT_DIR", str(project))
    monkeypatch.setenv("KPIFLOW_WAREHOUSE", str(project / "warehouse.duckdb"))
    result = CliRunner().invoke(
        app, ["query", "--metrics", "retention", "--group-by", "metric_time__month", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = [(row["metric_time__month"], row["retention"]) for row in json.loads(result.output)]
    assert _rounded(rows) == [("2025-07-01", 0.5)]
