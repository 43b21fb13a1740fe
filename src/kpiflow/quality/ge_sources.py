"""Where Great Expectations reads the raw tables, per engine: the one place the gate's engines differ in GE.

A SQL engine (DuckDB, PostgreSQL) is GE's SQL datasource on the warehouse's SQLAlchemy URL: each raw table a table
asset validated whole in the warehouse, and the gate's own SQL shares GE's SQLAlchemy engine (one connection pool:
warehouse.py says why). Spark is GE's Spark datasource in the process's Spark session: each raw table a dataframe
asset fed `spark.table(...)` at each validation, and the gate's own SQL runs through the warehouse session
(spark_warehouse.py). GeRunner (validation.py) takes either and has no engine branch.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, Protocol

from kpiflow.quality.spark_warehouse import SparkGateWarehouse
from kpiflow.quality.warehouse import GateWarehouse, Warehouse
from kpiflow.warehouse.spark import SparkWarehouseSession, quoted

DATASOURCE_NAME = "warehouse"


class GeSource(Protocol):
    """One GE datasource for a gate run, and the gate's own SQL on the same engine."""

    warehouse: GateWarehouse

    def batch_definition(self, table: str) -> Any:
        """GE's batch definition of every row of raw table `table` (made once per run, reused by later rounds)."""
        ...

    def batch_parameters(self, table: str) -> dict[str, Any] | None:
        """What a validation of `table` passes GE with its batch definition (None: nothing)."""
        ...

    def close(self) -> None: ...


SourceOpener = Callable[[Any], GeSource]  # the source, added to the GE context it is given


class _BatchDefinitions:
    """Each table's batch definition, made on first use: an asset can be added to a datasource once only."""

    def __init__(self) -> None:
        self._definitions: dict[str, Any] = {}

    def batch_definition(self, table: str) -> Any:
        if table not in self._definitions:
            self._definitions[table] = self._new_batch_definition(table)
        return self._definitions[table]

    def _new_batch_definition(self, table: str) -> Any:
        raise NotImplementedError


class SqlSource(_BatchDefinitions):
    """GE's SQL datasource on a SQLAlchemy URL (DuckDB, PostgreSQL); the URL may hold a password: never shown."""

    def __init__(self, context: Any, connection_string: str, schema: str) -> None:
        super().__init__()
        self.schema = schema
        self._source = context.data_sources.add_sql(
            name=DATASOURCE_NAME, connection_string=connection_string, create_temp_table=False
        )
        # the execution engine makes its own SQLAlchemy engine; the gate's own SQL shares it (one pool)
        self.warehouse: GateWarehouse = Warehouse(self._source.get_execution_engine().engine)

    def _new_batch_definition(self, table: str) -> Any:
        with warnings.catch_warnings():
            # The generic SQL datasource has no other way to name a schema than this deprecated argument.
            warnings.filterwarnings("ignore", message="`schema_name` is deprecated", category=DeprecationWarning)
            asset = self._source.add_table_asset(name=table, table_name=table, schema_name=self.schema)
        return asset.add_batch_definition_whole_table(name=f"{table}_all_rows")

    def batch_parameters(self, table: str) -> dict[str, Any] | None:
        """The table asset names its table: nothing to pass."""
        return None

    def close(self) -> None:
        """Close every pooled connection: a DuckDB file can then be reopened with any configuration."""
        self.warehouse.close()
        self._source.get_engine().dispose()


class SparkSource(_BatchDefinitions):
    """GE's Spark datasource on the process's Spark session (which belongs to the process: close leaves it)."""

    def __init__(self, context: Any, session: SparkWarehouseSession, schema: str) -> None:
        super().__init__()
        self.schema, self._session = schema, session
        # No spark_config: GE then takes the running session as it is (getOrCreate), never restarts it.
        # Not persisted: a table re-validated after quarantine is read again.
        self._source = context.data_sources.add_spark(name=DATASOURCE_NAME, persist=False)
        self.warehouse: GateWarehouse = SparkGateWarehouse(session)

    def _new_batch_definition(self, table: str) -> Any:
        asset = self._source.add_dataframe_asset(name=table)
        return asset.add_batch_definition_whole_dataframe(name=f"{table}_all_rows")

    def batch_parameters(self, table: str) -> dict[str, Any] | None:
        """The table's rows as a dataframe, read when the validation runs."""
        return {"dataframe": self._session.spark.table(f"{quoted(self.schema)}.{quoted(table)}")}

    def close(self) -> None:
        self.warehouse.close()
