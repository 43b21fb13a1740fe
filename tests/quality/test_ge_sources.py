"""GE's datasource is one small object per engine (quality/ge_sources.py); GeRunner takes either, with no engine
branch of its own. The gate's runs on DuckDB (test_quality_gate.py), PostgreSQL (tests/postgres/test_pg_gate.py) and
Spark (tests/spark/test_spark_gate.py) prove the behaviour end to end; this checks the seam itself."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import duckdb

from kpiflow.quality import validation
from kpiflow.quality.ge_sources import SqlSource
from kpiflow.warehouse.duckdb import DuckDBWarehouse


def test_the_ge_runner_has_no_engine_branch() -> None:
    tree = ast.parse(inspect.getsource(validation.GeRunner))
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    names |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    names |= {node.arg for node in ast.walk(tree) if isinstance(node, ast.arg)}
    assert sorted(name for name in names if "spark" in name.lower()) == []


def test_the_sql_source_reads_the_schemas_tables_and_makes_each_batch_once(tmp_path: Path) -> None:
    path = tmp_path / "kpiflow.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw; create table raw.orders (order_id integer, amount decimal(12, 2))")
    source = SqlSource(validation._context(None), DuckDBWarehouse.for_file(path).sqlalchemy_url(), "raw")
    try:
        assert source.warehouse.columns("raw") == {"orders": ("order_id", "amount")}
        batch = source.batch_definition("orders")
        assert source.batch_definition("orders") is batch  # an asset is added to the datasource once
        assert batch.data_asset.table_name == "orders" and source.batch_parameters("orders") is None
    finally:
        source.close()
    with duckdb.connect(str(path)) as con:  # closed: the file opens again with another configuration
        assert con.execute("select count(*) from raw.orders").fetchone() == (0,)
