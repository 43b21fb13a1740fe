"""A small semantic project (tests/compiler/project) and an in-memory DuckDB holding its tables."""

from __future__ import annotations

import duckdb
import pytest
from compiler_tables import FIXTURE_SQL, PROJECT

from kpiflow.compiler.dbt_models import load_dbt_models
from kpiflow.compiler.graph import SemanticGraph
from kpiflow.compiler.sqltext import warehouse_relation
from kpiflow.compiler.validate import load_graph


@pytest.fixture(scope="session")
def graph() -> SemanticGraph:
    return load_graph(PROJECT)


@pytest.fixture(scope="session")
def relation():
    return warehouse_relation(load_dbt_models(PROJECT))


@pytest.fixture(scope="session")
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute(FIXTURE_SQL)
    return connection
