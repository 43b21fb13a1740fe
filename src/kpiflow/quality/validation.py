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
from kpiflow.quality.ge_sources import SourceOpener
from kpiflow.quality.report import CheckResult
from kpiflow.quality.results import interpret, missing_table_results, not_run_for_missing_columns
from kpiflow.quality.sql import Context
from kpiflow.quality.warehouse import GateWarehouse

DATA_DOCS_SITE = "kpiflow_quality"
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
    """One GE context and datasource for a whole gate run, so re-validation after quarantine reuses them. What
    differs by engine (GE's datasource, a table's batch, the gate's own SQL) is the source `open_source` adds to the
    context (ge_sources.py: SqlSource for DuckDB and PostgreSQL, SparkSource for Spark)."""

    def __init__(self, open_source: SourceOpener, gate: s.GateSpec, data_docs_dir: Path | None) -> None:
        ge_duckdb_fix.install()
        ge_postgres_fix.install()
        self.gate, self.data_docs_dir = gate, data_docs_dir
        with _quiet_ge():
            self.context = _context(data_docs_dir)
            self.source = open_source(self.context)
        self.warehouse: GateWarehouse = self.source.warehouse

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
                    gx.ValidationDefinition(name=name, data=self.source.batch_definition(table.name), suite=suite)
                )
                outcome = definition.run(
                    result_format=_result_format(), batch_parameters=self.source.batch_parameters(table.name)
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
        """Close the source's connections (a DuckDB file can then be reopened; a Spark session stays the process's)."""
        self.source.close()
