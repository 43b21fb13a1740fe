"""The gate's own SQL (run date, row counts, example keys, quarantine) on the engine GE validates with.

DuckDB allows one configuration per database file and process, and duckdb-engine connects with its own; a
plain `duckdb.connect()` beside GE's engine would be refused. So everything goes through one SQLAlchemy engine
(one connection pool) and rows are always read inside the connection (see ge_duckdb_fix for why).

Queries arrive as sqlglot trees (kpiflow.quality.sql) and are rendered here in the engine's dialect (DuckDB or
PostgreSQL), so the gate runs the same checks on either warehouse. `GateWarehouse` is what the gate needs; on Spark
the same is done through the process's Spark session (spark_warehouse.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

import sqlalchemy as sa
from sqlglot import exp

from kpiflow.quality.sql import columns_query, to_sql

# SQLAlchemy dialect name -> sqlglot dialect name, where they differ.
_SQLGLOT_DIALECTS = {"postgresql": "postgres"}


class GateStatements(Protocol):
    """Statements of one quarantine step (see GateWarehouse.transaction)."""

    def execute(self, statement: exp.Expression) -> int: ...

    def rows(self, query: exp.Expression) -> list[dict[str, Any]]: ...

    def columns(self, schema: str) -> dict[str, tuple[str, ...]]: ...


class GateWarehouse(Protocol):
    """The raw tables as the gate reads and quarantines them, in the engine's dialect (`dialect`, sqlglot's name)."""

    dialect: str

    def rows(self, query: exp.Expression) -> list[dict[str, Any]]: ...

    def scalar(self, query: exp.Expression) -> Any: ...

    def columns(self, schema: str) -> dict[str, tuple[str, ...]]:
        """table -> its columns in order, for every table of `schema`."""
        ...

    def transaction(self) -> AbstractContextManager[GateStatements]:
        """The statements of one quarantine step: they all take effect or none does (where the engine can)."""
        ...

    def close(self) -> None: ...


def columns_by_table(rows: list[dict[str, Any]]) -> dict[str, tuple[str, ...]]:
    """table -> its columns in order, from `columns_query` rows."""
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row["table_name"], []).append(row["column_name"])
    return {name: tuple(columns) for name, columns in found.items()}


def sqlglot_dialect(engine: sa.Engine) -> str:
    """The sqlglot dialect the engine speaks (`duckdb`, `postgres`)."""
    return _SQLGLOT_DIALECTS.get(engine.dialect.name, engine.dialect.name)


class Statements:
    """Statements on one connection inside a transaction (see Warehouse.transaction)."""

    def __init__(self, connection: sa.Connection, render: Callable[[exp.Expression], str]) -> None:
        self.connection, self._render = connection, render

    def execute(self, statement: exp.Expression) -> int:
        """Run one statement; the number of rows it changed (-1 when the driver does not say)."""
        return int(self.connection.exec_driver_sql(self._render(statement)).rowcount)

    def rows(self, query: exp.Expression) -> list[dict[str, Any]]:
        return [dict(row._mapping) for row in self.connection.exec_driver_sql(self._render(query)).fetchall()]

    def columns(self, schema: str) -> dict[str, tuple[str, ...]]:
        return columns_by_table(self.rows(columns_query(schema)))


class Warehouse:
    """Reads and transactional writes against the raw warehouse, via `engine`, in the engine's SQL dialect."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.dialect = sqlglot_dialect(engine)
        # psycopg reads `%` as a parameter marker even without parameters (SQLAlchemy hands it an empty tuple).
        self._double_percent = engine.dialect.paramstyle in ("format", "pyformat")

    def sql(self, tree: exp.Expression) -> str:
        """`tree` as driver SQL for this engine."""
        text = to_sql(tree, self.dialect)
        return text.replace("%", "%%") if self._double_percent else text

    def rows(self, query: exp.Expression) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            return Statements(connection, self.sql).rows(query)

    def scalar(self, query: exp.Expression) -> Any:
        with self.engine.connect() as connection:
            return connection.exec_driver_sql(self.sql(query)).scalar()

    def columns(self, schema: str) -> dict[str, tuple[str, ...]]:
        return columns_by_table(self.rows(columns_query(schema)))

    @contextmanager
    def transaction(self) -> Iterator[Statements]:
        """All statements commit together or not at all."""
        with self.engine.begin() as connection:
            yield Statements(connection, self.sql)

    def close(self) -> None:
        """Close pooled connections so the file can be copied, replaced or reopened."""
        self.engine.dispose()
