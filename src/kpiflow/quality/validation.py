"""Run the declared checks as Great Expectations 1.x suites in the warehouse and read back the results.

One ephemeral GE context and one SQL datasource per gate run (one SQLAlchemy engine and connection pool for
all tables and rounds), one suite and one validation definition per raw table and round. Every expectation is
computed by SQL in the warehouse (DuckDB or PostgreSQL, from `Warehouse.sqlalchemy_url()`); nothing loads a table
into pandas. On Spark the same suites run on GE's Spark datasource in the process's Spark session (Spark computes
them; the SQL checks' queries are rendered in Spark SQL). Data Docs render the stored validation results.
"""

from __future__ import annotations

import logging
import shutil
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import great_expectations as gx
from great_expectations.core.expectation_validation_result import ExpectationValidationResult
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)

from kpiflow.quality import ge_duckdb_fix, ge_postgres_fix
from kpiflow.quality import specs as s
from kpiflow.quality.expectations import CHECK_META_KEY, expectation_for
from kpiflow.quality.report import CheckResult
from kpiflow.quality.results import interpret, missing_table_results, not_run_for_missing_columns
from kpiflow.quality.spark_warehouse import SparkGateWarehouse
from kpiflow.quality.sql import Context
from kpiflow.quality.warehouse import GateWarehouse, Warehouse
from kpiflow.warehouse.spark import SparkWarehouseSession, quoted

DATA_DOCS_SITE = "kpiflow_quality"
_DATASOURCE = "warehouse"
# GE logs each type check's dialect lookup as a warning; it is expected for DuckDB and says nothing to a person.
_QUIET_LOGGERS = ("great_expectations.expectations.type_comparison",)


def _context(data_docs_dir: Path | None) -> Any:
    """In-memory stores (nothing written but Data Docs), no analytics, no progress bars."""
    sites: dict[str, Any] = {}
    if data_docs_dir is not None:
        sites[DATA_DOCS_SITE] = {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(data_docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
        data_docs_sites=sites,
    )
    return gx.get_context(mode="ephemeral", project_config=config)


@contextmanager
def _quiet_ge() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in _QUIET_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _result_format() -> dict[str, Any]:
    """BASIC: pass/fail and failing-row counts without GE's sample queries (they doubled the gate's time);
    example keys of failed checks are read afterwards with the check's own SQL."""
    return {"result_format": "BASIC", "partial_unexpected_count": 0}


class GeRunner:
    """One GE context and datasource for a whole gate run, so re-validation after quarantine reuses them: a SQL
    datasource on a SQLAlchemy URL (DuckDB, PostgreSQL), or with `spark`, GE's Spark datasource on the process's
    Spark session, each raw table a dataframe asset fed `spark.table(...)`."""

    def __init__(
        self,
        connection_string: str | None,
        gate: s.GateSpec,
        data_docs_dir: Path | None,
        spark: SparkWarehouseSession | None = None,
    ) -> None:
        ge_duckdb_fix.install()
        ge_postgres_fix.install()
        self.gate, self.data_docs_dir, self._spark = gate, data_docs_dir, spark
        with _quiet_ge():
            self.context = _context(data_docs_dir)
            if spark is not None:
                # No spark_config: GE then takes the running session as it is (getOrCreate), never restarts it.
                # Not persisted: a table re-validated after quarantine is read again.
                self.source = self.context.data_sources.add_spark(name=_DATASOURCE, persist=False)
            else:
                self.source = self.context.data_sources.add_sql(
                    name=_DATASOURCE, connection_string=connection_string, create_temp_table=False
                )
        self._batches: dict[str, Any] = {}
        self.warehouse: GateWarehouse
        if spark is not None:
            self.warehouse = SparkGateWarehouse(spark)
        else:  # the execution engine makes its own SQLAlchemy engine; the gate's own SQL shares it (one pool)
            self.warehouse = Warehouse(self.source.get_execution_engine().engine)

    def _batch(self, table: str) -> Any:
        if table not in self._batches:
            if self._spark is not None:
                asset = self.source.add_dataframe_asset(name=table)
                self._batches[table] = asset.add_batch_definition_whole_dataframe(name=f"{table}_all_rows")
                return self._batches[table]
            with warnings.catch_warnings():
                # The generic SQL datasource has no other way to name a schema than this deprecated argument.
                warnings.filterwarnings("ignore", message="`schema_name` is deprecated", category=DeprecationWarning)
                asset = self.source.add_table_asset(name=table, table_name=table, schema_name=self.gate.schema)
            self._batches[table] = asset.add_batch_definition_whole_table(name=f"{table}_all_rows")
        return self._batches[table]

    def _batch_parameters(self, table: str) -> dict[str, Any] | None:
        """On Spark, the table's rows as a dataframe (read when validated); the SQL datasource names its table."""
        if self._spark is None:
            return None
        return {"dataframe": self._spark.spark.table(f"{quoted(self.gate.schema)}.{quoted(table)}")}

    def validate(self, ctx: Context, label: str = "", tables: set[str] | None = None) -> list[CheckResult]:
        """Run the suites of `tables` (default: all) once; `label` tells rounds apart in Data Docs."""
        present = self.warehouse.columns(self.gate.schema)
        results: list[CheckResult] = []
        with _quiet_ge():
            for table in self.gate.tables:
                if tables is not None and table.name not in tables:
                    continue
                if table.name not in present:
                    results.extend(missing_table_results(table, self.gate.schema))
                    continue
                name = f"{self.gate.schema}.{table.name}{label}"
                suite = self.context.suites.add(
                    gx.ExpectationSuite(
                        name=name, expectations=[expectation_for(check, ctx, table.key) for check in table.checks]
                    )
                )
                definition = self.context.validation_definitions.add(
                    gx.ValidationDefinition(name=name, data=self._batch(table.name), suite=suite)
                )
                outcome = definition.run(
                    result_format=_result_format(), batch_parameters=self._batch_parameters(table.name)
                )
                by_check: dict[str, ExpectationValidationResult] = {
                    r.expectation_config.meta[CHECK_META_KEY]: r for r in outcome.results
                }
                judged = [interpret(check, table, by_check[check.name], ctx, self.warehouse) for check in table.checks]
                results.extend(not_run_for_missing_columns(table, judged, list(present[table.name])))
        return results

    def build_data_docs(self) -> Path | None:
        """Render Data Docs for every round of this run; returns the index page.

        Pages of earlier runs are removed first (GE would keep one set per run forever, unlinked from the
        index); the history of verdicts is in state_dir/quality/<run_date>.json.
        """
        if self.data_docs_dir is None:
            return None
        for generated in ("validations", "expectations"):
            shutil.rmtree(self.data_docs_dir / generated, ignore_errors=True)
        with _quiet_ge():
            self.context.build_data_docs(site_names=[DATA_DOCS_SITE])
        return self.data_docs_dir / "index.html"

    def close(self) -> None:
        """Close every pooled connection: a DuckDB file can then be reopened with any configuration. (The Spark
        session belongs to the process.)"""
        self.warehouse.close()
        if self._spark is None:
            self.source.get_engine().dispose()
