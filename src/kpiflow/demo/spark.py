"""Write the demo retailer into database `raw` of the Spark warehouse (parquet tables, Hive catalog).

The data is generated exactly as for DuckDB (into a scratch DuckDB file: same seed, same rows), exported to Parquet
by DuckDB and read by Spark whole, one table at a time: no row goes through Python. Spark has no transaction over
several tables: a load that fails part-way leaves some raw tables new and some old; load again.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from kpiflow.demo.warehouse import (
    DEMO_TABLES,
    META_TABLE,
    RAW_SCHEMA,
    DemoSummary,
    export_parquet,
    generate_demo_warehouse,
    open_warehouse,
)
from kpiflow.warehouse.spark_session import spark_session

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def load_demo_into_spark(
    directory: Path, *, scale: float, start: date, end: date, seed: int, progress: bool = False
) -> DemoSummary:
    """Generate the demo data for start..end and replace the Spark warehouse's raw demo tables with it."""
    with tempfile.TemporaryDirectory(prefix="kpiflow-demo-") as scratch:
        duckdb_file = Path(scratch) / "demo.duckdb"
        summary = generate_demo_warehouse(duckdb_file, scale=scale, start=start, end=end, seed=seed, progress=progress)
        with spark_session(directory) as spark:
            copy_raw_into_spark(spark, duckdb_file)
    return replace(summary, warehouse_path=directory)


def copy_raw_into_spark(spark: SparkSession, duckdb_file: Path) -> None:
    """Replace the Spark warehouse's raw demo tables with those of the DuckDB demo file (via parquet)."""
    with tempfile.TemporaryDirectory(prefix="kpiflow-demo-") as scratch:
        parquet_dir = Path(scratch) / "parquet"
        with open_warehouse(duckdb_file, read_only=True) as source:
            export_parquet(source, parquet_dir)
        spark.sql(f"create database if not exists {RAW_SCHEMA}")
        for table in (*DEMO_TABLES, META_TABLE):
            # Hadoop skips files whose name starts with "_" (as _demo_meta's does): read a renamed file.
            readable = (parquet_dir / f"{table}.parquet").rename(parquet_dir / f"table-{table}.parquet")
            frame = spark.read.parquet(str(readable))
            frame.write.mode("overwrite").format("parquet").saveAsTable(f"{RAW_SCHEMA}.`{table}`")


def spark_has_demo_data(directory: Path) -> bool:
    """Does the Spark warehouse already hold demo data (raw._demo_meta)?"""
    with spark_session(directory) as spark:
        return bool(spark.catalog.tableExists(f"{RAW_SCHEMA}.{META_TABLE}"))
