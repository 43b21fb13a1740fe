"""The gate's own SQL (run date, example keys, quarantine) on Spark, through the process's Spark session.

The same sqlglot trees as on DuckDB and PostgreSQL (kpiflow.quality.sql), rendered in Spark's dialect. Two things
Spark does differently: it has no information_schema (a schema's columns come from its catalog), and its parquet
tables take no DELETE (the quarantine's delete rewrites the raw table: warehouse/spark_rewrite.py). Spark has no
transaction either: a quarantine step that fails part-way is reported as such, never as rolled back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlglot import exp

from kpiflow.errors import RunFailed
from kpiflow.quality.sql import to_sql
from kpiflow.warehouse.interface import WarehouseError
from kpiflow.warehouse.spark import ChangedRowsCursor, SparkWarehouseSession, quoted

SPARK_DIALECT = "spark"


class SparkStatements:
    """Statements of one quarantine step on Spark: each takes effect on its own (no transaction)."""

    def __init__(self, session: SparkWarehouseSession) -> None:
        self.session = session

    def execute(self, statement: exp.Expression) -> int:
        """Run one statement; the rows a DELETE or UPDATE changed (-1 for other statements)."""
        cursor = self.session.run_spark(to_sql(statement, SPARK_DIALECT))
        if isinstance(cursor, ChangedRowsCursor):
            row = cursor.fetchone()
            return int(row[0]) if row else 0
        return -1

    def rows(self, query: exp.Expression) -> list[dict[str, Any]]:
        cursor = self.session.native(to_sql(query, SPARK_DIALECT))
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def columns(self, schema: str) -> dict[str, tuple[str, ...]]:
        """table -> its columns in order, from Spark's catalog (views included; none for a missing schema)."""
        spark = self.session.spark
        return {
            table: tuple(spark.table(f"{quoted(schema)}.{quoted(table)}").columns)
            for table in self.session.tables_of(schema)
        }


class SparkGateWarehouse:
    """GateWarehouse (quality/warehouse.py) over a Spark session on the warehouse's tables."""

    dialect = SPARK_DIALECT

    def __init__(self, session: SparkWarehouseSession) -> None:
        self._statements = SparkStatements(session)

    def rows(self, query: exp.Expression) -> list[dict[str, Any]]:
        return self._statements.rows(query)

    def scalar(self, query: exp.Expression) -> Any:
        rows = self._statements.rows(query)
        return next(iter(rows[0].values())) if rows else None

    def columns(self, schema: str) -> dict[str, tuple[str, ...]]:
        return self._statements.columns(schema)

    @contextmanager
    def transaction(self) -> Iterator[SparkStatements]:
        """The statements, applied one by one. A failure leaves the ones before it applied: rows already copied to
        the quarantine table may still be in raw too (none is lost); the message says so."""
        try:
            yield self._statements
        except WarehouseError as exc:
            raise RunFailed(
                f"quarantine failed part-way on Spark, which has no transactions: {str(exc).splitlines()[0]}. Rows "
                "copied to the quarantine schema before the failure may also still be in raw (none is lost); "
                "remove them from quarantine or rerun the gate once the cause is fixed"
            ) from None

    def close(self) -> None:
        """The Spark session belongs to the process (warehouse/spark.py)."""
