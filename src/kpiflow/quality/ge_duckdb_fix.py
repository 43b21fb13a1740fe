"""Make Great Expectations 1.x give correct answers on DuckDB (GE 1.24, duckdb-engine 0.17, SQLAlchemy 2.1).

Three defects, silent or misleading without this module (upstream GE issues 10738 and 11579):

1. Lost rows. `SqlAlchemyExecutionEngine.execute_query` returns the cursor result *after* leaving
   `with self.get_connection()`. Closing the connection rolls back its (auto-begun) transaction and the pool
   resets it: two ROLLBACKs on the DuckDB connection, which duckdb-engine also hands out as the cursor, so
   the pending result is discarded and the caller's `fetchall()` gets `[]`. Bundled metrics then fail with
   `MetricResolutionError: list index out of range`; a single query can read as "no rows".
   Fix: fetch inside the connection and hand back an already-buffered result (`Result.freeze()`).
2. No columns. SQLAlchemy 2.1's PostgreSQL column reflection (which duckdb-engine inherits) joins
   `pg_catalog.pg_collation`, which DuckDB lacks; GE then falls back to `SELECT * FROM <table>` without
   the schema, so every column expectation on `raw.<table>` fails with "table does not exist".
   Fix: reflect DuckDB columns from `information_schema.columns`, with real SQLAlchemy types so that
   ExpectColumnValuesToBeOfType / ...InTypeList compare against the warehouse's declared types.
3. Leaks reported at exit. GE reads each table's primary key (`get_pk_constraint`) for column metadata; the
   inherited PostgreSQL reflection caches its catalog queries in class-level `functools.lru_cache`s keyed by the
   dialect, so every dialect stays alive until interpreter exit, with its result-type memo keyed by DuckDB's
   `DuckDBPyType` objects (cursor.description). DuckDB's nanobind module is torn down first and prints
   "nanobind: leaked instance ..." on every `kpiflow check`. Fix: read primary keys from `duckdb_constraints()`,
   so no process-wide cache holds a dialect and it is freed with its engine.

`install()` is idempotent and only changes behaviour for the `duckdb` dialect.
"""

from __future__ import annotations

import re
from typing import Any

import duckdb_engine
import sqlalchemy as sa
from great_expectations.execution_engine.sqlalchemy_execution_engine import SqlAlchemyExecutionEngine

_ORIGINAL_EXECUTE_QUERY = SqlAlchemyExecutionEngine.execute_query
_ORIGINAL_GET_COLUMNS = duckdb_engine.Dialect.__dict__.get("get_columns")  # None: inherited from PostgreSQL
_ORIGINAL_GET_PK = duckdb_engine.Dialect.__dict__.get("get_pk_constraint")  # None: inherited from PostgreSQL
_MARK = "_kpiflow_duckdb_fix"

# DuckDB type names (information_schema.columns.data_type, without arguments) -> SQLAlchemy types.
_DUCKDB_TYPES: dict[str, type[sa.types.TypeEngine[Any]]] = {
    "BOOLEAN": sa.BOOLEAN,
    "TINYINT": sa.SMALLINT,
    "SMALLINT": sa.SMALLINT,
    "INTEGER": sa.INTEGER,
    "BIGINT": sa.BIGINT,
    "HUGEINT": sa.BIGINT,
    "UTINYINT": sa.SMALLINT,
    "USMALLINT": sa.INTEGER,
    "UINTEGER": sa.BIGINT,
    "UBIGINT": sa.BIGINT,
    "FLOAT": sa.REAL,
    "DOUBLE": sa.DOUBLE,
    "VARCHAR": sa.VARCHAR,
    "DATE": sa.DATE,
    "TIME": sa.TIME,
    "TIMESTAMP": sa.TIMESTAMP,
    "BLOB": sa.LargeBinary,
    "UUID": sa.UUID,
}
_TYPE_NAME = re.compile(r"^([A-Z ]+?)\s*(?:\((\d+)\s*,\s*(\d+)\))?$")


def duckdb_type_to_sqlalchemy(data_type: str) -> sa.types.TypeEngine[Any]:
    """One DuckDB column type as the SQLAlchemy type GE compares against (unknown -> NullType).

    >>> type(duckdb_type_to_sqlalchemy("DECIMAL(12,2)")).__name__
    'DECIMAL'
    """
    match = _TYPE_NAME.match(data_type.strip().upper())
    if not match:
        return sa.types.NullType()
    base, precision, scale = match.groups()
    if base == "DECIMAL":
        return sa.DECIMAL(int(precision), int(scale)) if precision else sa.DECIMAL()
    if base.startswith("TIMESTAMP"):
        return sa.TIMESTAMP(timezone="TIME ZONE" in base)
    return _DUCKDB_TYPES.get(base, sa.types.NullType)()


def _buffered_execute_query(self: SqlAlchemyExecutionEngine, query: Any) -> Any:
    """`execute_query`, but rows are read before the connection goes back to the pool (defect 1)."""
    if self.dialect_name != "duckdb":
        return _ORIGINAL_EXECUTE_QUERY(self, query)
    with self.get_connection() as connection:
        result = self._execute_query_with_recovery(connection, query)
        if not result.returns_rows:
            return result
        return result.freeze()()


def _duckdb_get_columns(
    self: duckdb_engine.Dialect, connection: sa.Connection, table_name: str, schema: str | None = None, **_: Any
) -> list[dict[str, Any]]:
    """Column reflection for DuckDB from information_schema (defect 2)."""
    query = sa.text(
        "select column_name, data_type, is_nullable, column_default from information_schema.columns "
        "where table_schema = coalesce(:schema, current_schema()) and table_name = :table "
        "order by ordinal_position"
    )
    rows = connection.execute(query, {"schema": schema, "table": str(table_name)}).fetchall()
    if not rows:
        raise sa.exc.NoSuchTableError(f"{schema}.{table_name}" if schema else str(table_name))
    return [
        {
            "name": name,
            "type": duckdb_type_to_sqlalchemy(data_type),
            "nullable": is_nullable == "YES",
            "default": default,
        }
        for name, data_type, is_nullable, default in rows
    ]


def _duckdb_get_pk_constraint(
    self: duckdb_engine.Dialect, connection: sa.Connection, table_name: str, schema: str | None = None, **_: Any
) -> dict[str, Any]:
    """Primary key reflection for DuckDB from duckdb_constraints() (defect 3)."""
    query = sa.text(
        "select constraint_column_names from duckdb_constraints() "
        "where schema_name = coalesce(:schema, current_schema()) and table_name = :table "
        "and constraint_type = 'PRIMARY KEY'"
    )
    row = connection.execute(query, {"schema": schema, "table": str(table_name)}).first()
    return {"constrained_columns": list(row[0]) if row else [], "name": None}


def install() -> None:
    """Apply the fixes once per process (safe to call from every gate run)."""
    if getattr(SqlAlchemyExecutionEngine, _MARK, False):
        return
    SqlAlchemyExecutionEngine.execute_query = _buffered_execute_query  # type: ignore[method-assign]
    duckdb_engine.Dialect.get_columns = _duckdb_get_columns  # type: ignore[method-assign]
    duckdb_engine.Dialect.get_pk_constraint = _duckdb_get_pk_constraint  # type: ignore[method-assign]
    setattr(SqlAlchemyExecutionEngine, _MARK, True)


def uninstall() -> None:
    """Undo `install()`; only the regression test needs this, to show the defects are real."""
    if not getattr(SqlAlchemyExecutionEngine, _MARK, False):
        return
    SqlAlchemyExecutionEngine.execute_query = _ORIGINAL_EXECUTE_QUERY  # type: ignore[method-assign]
    if _ORIGINAL_GET_COLUMNS is None:
        del duckdb_engine.Dialect.get_columns
    else:
        duckdb_engine.Dialect.get_columns = _ORIGINAL_GET_COLUMNS  # type: ignore[method-assign]
    if _ORIGINAL_GET_PK is None:
        del duckdb_engine.Dialect.get_pk_constraint
    else:
        duckdb_engine.Dialect.get_pk_constraint = _ORIGINAL_GET_PK  # type: ignore[method-assign]
    setattr(SqlAlchemyExecutionEngine, _MARK, False)
