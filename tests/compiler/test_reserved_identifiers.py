"""Reserved words used as names (an entity `order`, a column `user`) come out quoted in every dialect, so the SQL is
valid on each engine and not only on the ones whose sqlglot generator knows its reserved words."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest
import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from kpiflow.compiler import generated_files
from kpiflow.compiler.dbt_models import load_dbt_models
from kpiflow.compiler.plan import QueryRequest
from kpiflow.compiler.quoting import SQLGLOT_COPIED, SQLGLOT_TRINO_BIGQUERY, reserved_words
from kpiflow.compiler.render import DIALECTS
from kpiflow.compiler.sqltext import build_query, to_sql, warehouse_relation
from kpiflow.compiler.validate import load_graph
from kpiflow.config import Settings

HERE = Path(__file__).parent
REPO = HERE.parents[1]
ORDERS_MODEL = """
semantic_models:
  - name: orders
    model: int_orders
    entities:
      - {name: order, type: primary, expr: order_id}
    dimensions:
      - {name: user, type: categorical}
"""
ORDERS_DOCS = """
version: 2
models:
  - name: int_orders
    columns:
      - {name: order_id, data_type: varchar}
      - {name: user, data_type: varchar}
"""
TABLES = """
create schema intermediate;
create table intermediate.int_sales as select * from (values
  ('l1', 'o1', 50), ('l2', 'o2', 20), ('l3', 'o3', 30), ('l4', 'o4', 47), ('l5', 'o5', 8)
) t(line_id, order_id, amount);
create table intermediate.int_orders as select * from (values ('o1', 'web'), ('o2', 'store'), ('o3', 'web'),
  ('o4', 'store'), ('o5', 'web')) t(order_id, "user");
"""


def unquoted_reserved(sql: str, dialect: str) -> list[str]:
    """Identifiers named like a reserved word but not quoted, in `sql` as `dialect` parses it."""
    names = []
    for statement in sqlglot.parse(sql, read=dialect):
        assert statement is not None
        for identifier in statement.find_all(exp.Identifier):
            if not identifier.quoted and identifier.name.lower() in reserved_words():
                names.append(identifier.name)
    return names


@pytest.fixture(scope="module")
def reserved_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The compiler's small project plus orders whose entity is `order` and whose column is `user`."""
    project = tmp_path_factory.mktemp("reserved") / "project"
    shutil.copytree(HERE / "project", project)
    (project / "metrics" / "orders.yml").write_text(ORDERS_MODEL)
    (project / "models" / "intermediate" / "_orders.yml").write_text(ORDERS_DOCS)
    return project


def test_reserved_words_cover_every_dialects_keywords_for_joins_and_users() -> None:
    assert {"order", "user", "group", "select", "window", "qualify", "start"} <= reserved_words()


def test_the_copied_sqlglot_lists_match_the_installed_sqlglot() -> None:
    """quoting.py copies Trino's and BigQuery's lists so a query need not load those dialects; after a sqlglot
    upgrade that changes them, paste the union printed here into SQLGLOT_TRINO_BIGQUERY."""
    installed = set().union(*(Dialect.get_or_raise(name).generator_class.RESERVED_KEYWORDS for name in SQLGLOT_COPIED))
    assert set(SQLGLOT_TRINO_BIGQUERY.split()) == installed, " ".join(sorted(installed))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_reserved_words_include_every_list_sqlglot_keeps(dialect: str) -> None:
    assert reserved_words() >= Dialect.get_or_raise(dialect).generator_class.RESERVED_KEYWORDS


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_reserved_entity_and_column_are_quoted(reserved_project: Path, dialect: str) -> None:
    graph = load_graph(reserved_project, reserved_project / "metrics")
    request = QueryRequest(metrics=("revenue",), group_by=("metric_time__month", "order__user"))
    tree = build_query(graph, request, warehouse_relation(load_dbt_models(reserved_project)))
    sql = to_sql(tree, dialect)
    assert re.search(r'as [`"]order[`"]', sql, re.IGNORECASE), sql
    assert re.search(r'[`"]order[`"]\.[`"]user[`"]', sql), sql
    assert unquoted_reserved(sql, dialect) == []


def test_the_duckdb_query_with_reserved_names_runs(reserved_project: Path) -> None:
    graph = load_graph(reserved_project, reserved_project / "metrics")
    request = QueryRequest(metrics=("revenue",), group_by=("order__user",))
    tree = build_query(graph, request, warehouse_relation(load_dbt_models(reserved_project)))
    with duckdb.connect() as con:
        con.execute(TABLES)
        rows = con.execute(to_sql(tree, "duckdb")).fetchall()
    assert sorted(rows) == [("store", 67), ("web", 88)]


def jinja_free(model_sql: str) -> str:
    """A generated model as plain SQL: refs become table names, runtime values a date, config blocks nothing."""
    text = re.sub(r"\{\{\s*config\(.*?\)\s*\}\}", "", model_sql, flags=re.S)
    text = re.sub(r"\{%-?.*?%\}", "", text, flags=re.S)
    text = re.sub(r"\{\{\s*ref\('(\w+)'\)\s*\}\}", r"\1", text)
    text = re.sub(r"\{\{\s*var\('\w+',\s*(\d+)\)\s*\}\}", r"\1", text)
    text = re.sub(r"\{\{\s*\w+_value\s*\}\}", "DATE '2024-01-01'", text)
    assert "{{" not in text and "{%" not in text, text[:500]
    return text


@pytest.mark.slow
@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_generated_model_parses_back_with_reserved_names_quoted(dialect: str) -> None:
    files = [f for f in generated_files(Settings.from_env(REPO), dialect) if f.path.suffix == ".sql"]
    with_order = [f.path.name for f in files if re.search(r'as [`"]order[`"]', f.content, re.IGNORECASE)]
    assert with_order, "no generated model joins an entity named `order` any more: pick another reserved name"
    for file in files:
        assert unquoted_reserved(jinja_free(file.content), dialect) == [], file.path.name
