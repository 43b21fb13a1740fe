"""The gate's own SQL (run date, row counts, example keys, quarantine) on the engine GE validates with.

DuckDB allows one configuration per database file and process, and duckdb-engine connects with its own; a
plain `duckdb.connect()` beside GE's engine would be refused. So everything goes through one SQLAlchemy engine
(one connection pool) and rows are always read inside the connection (see ge_duckdb_fix for why).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa


class Warehouse:
    """Reads and transactional writes against the DuckDB warehouse, via `engine`."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def rows(self, sql: str) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            result = connection.exec_driver_sql(sql)
            return [dict(row._mapping) for row in result.fetchall()]

    def scalar(self, sql: str) -> Any:
        with self.engine.connect() as connection:
            return connection.exec_driver_sql(sql).scalar()

    @contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """All statements commit together or not at all."""
        with self.engine.begin() as connection:
            yield connection

    def close(self) -> None:
        """Close pooled connections so the file can be copied, replaced or reopened."""
        self.engine.dispose()
