"""The SQL standard's catalog views, for the engines that have them (DuckDB, PostgreSQL; Spark has none and answers
the same questions from its catalog, spark.py)."""

from __future__ import annotations

from kpiflow.warehouse.interface import Session

_TABLE_TYPE_SQL = (
    "select table_type from information_schema.tables "
    "where table_catalog = current_database() and table_schema = ? and table_name = ?"
)


def table_type(session: Session, qualified_name: str) -> str | None:
    """'BASE TABLE', 'VIEW' or None, in the session's own database (a DuckDB session may attach others)."""
    schema, name = qualified_name.split(".")
    row = session.execute(_TABLE_TYPE_SQL, [schema, name]).fetchone()
    return str(row[0]) if row else None
