"""The warehouse kpiflow runs on, behind one interface (interface.py); `warehouse_for` picks the engine.

Importing this package loads no engine driver: an engine's module is imported when it is chosen.
"""

from __future__ import annotations

from kpiflow.config import Settings
from kpiflow.errors import UserInputError
from kpiflow.warehouse.fingerprints import PUBLISHED_SCHEMAS
from kpiflow.warehouse.interface import (
    AccessDenied,
    Columns,
    MissingRelation,
    PublishedVersion,
    Session,
    TableFingerprint,
    Warehouse,
    WarehouseError,
)

__all__ = [
    "PUBLISHED_SCHEMAS",
    "AccessDenied",
    "Columns",
    "MissingRelation",
    "PublishedVersion",
    "Session",
    "TableFingerprint",
    "Warehouse",
    "WarehouseError",
    "warehouse_for",
]


def warehouse_for(settings: Settings) -> Warehouse:
    """The warehouse of the active dbt target (KPIFLOW_TARGET's adapter type in profiles/profiles.yml)."""
    from kpiflow.compiler.dialects import target_dialect

    dialect = target_dialect(settings)
    if dialect == "duckdb":
        from kpiflow.warehouse.duckdb import DuckDBWarehouse

        return DuckDBWarehouse(settings.warehouse_path, settings.marts_path, settings.state_dir)
    if dialect == "postgres":
        from kpiflow.config import PostgresConnection
        from kpiflow.warehouse.postgres import PostgresWarehouse

        return PostgresWarehouse(PostgresConnection.from_env())
    if dialect == "spark":
        return _spark_warehouse(settings)
    raise UserInputError(
        f"KPIFLOW_TARGET={settings.target} is a {dialect} target, and kpiflow has no {dialect} warehouse yet "
        "(supported: duckdb, postgres, spark). Run with a duckdb target, or see docs/operations.md, "
        "'Warehouse interface'."
    )


def _spark_warehouse(settings: Settings) -> Warehouse:
    """Spark in this process (dbt-spark's `session` method): a thrift server's tables are not on this machine."""
    from kpiflow.compiler.dialects import target_output
    from kpiflow.warehouse.spark import SparkWarehouse
    from kpiflow.warehouse.spark_session import spark_dir

    method = str(target_output(settings).get("method", "session"))
    if method != "session":
        raise UserInputError(
            f"KPIFLOW_TARGET={settings.target} is a spark target with method {method}: kpiflow's Spark warehouse runs "
            "Spark in its own process (dbt-spark's `session` method) and cannot reach a thrift server or cluster "
            "yet. Use a target with `method: session` (docs/spark.md)."
        )
    return SparkWarehouse(spark_dir(settings.project_dir))
