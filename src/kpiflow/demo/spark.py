"""Write the demo retailer into database `raw` of the Spark warehouse (parquet tables, Hive catalog).

The data is generated exactly as for DuckDB (into a scratch DuckDB file: same seed, same rows), exported to Parquet
by DuckDB and read by Spark whole, one table at a time: no row goes through Python. Spark has no transaction over
several tables: a load that fails part-way leaves some raw tables new and some old; load again. `--append-through`
regenerates the demo as it was in scratch DuckDB and appends only what the append adds (`append_in_scratch`).
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from kpiflow.demo.pipeline import EVENT_TABLES, ORDER_BY
from kpiflow.demo.spec import DemoSpec
from kpiflow.demo.warehouse import (
    DEMO_TABLES,
    META_COLUMNS,
    META_TABLE,
    RAW_SCHEMA,
    DemoSummary,
    append_in_scratch,
    demo_spec_from_meta,
    export_parquet,
    generate_demo_warehouse,
    open_warehouse,
)
from kpiflow.errors import UserInputError
from kpiflow.warehouse.spark_session import spark_session

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


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


def append_demo_days_in_spark(directory: Path, through: date, *, progress: bool = False) -> DemoSummary:
    """`append_demo_days_to_session` in a Spark session of its own on `directory`."""
    with spark_session(directory) as spark:
        return append_demo_days_to_session(spark, directory, through, progress=progress)


def append_demo_days_to_session(
    spark: SparkSession, directory: Path, through: date, *, progress: bool = False
) -> DemoSummary:
    """Extend the Spark warehouse's demo through `through` as `append_demo_days` extends a DuckDB one (same seed and
    scale, same rows): each event table gets the new days' rows appended (its rows are never rewritten, and rows the
    gate moved aside stay out, as on DuckDB), the other tables are replaced, and raw._demo_meta last.

    Every event table is checked before anything is written: a missing table, other columns, or rows with the keys
    of the new rows stop the append, naming the table. Spark has no transaction: an append that stops while writing
    leaves some event tables with the new days and raw._demo_meta without them; the next append finds exactly those
    rows there and adds the rest.
    """
    spec = _spark_demo_spec(spark, directory)
    if through <= spec.end:
        return DemoSummary(directory, spec.start, spec.end, spec.seed, spec.scale, action="unchanged")
    with tempfile.TemporaryDirectory(prefix="kpiflow-demo-") as scratch:
        duckdb_file = Path(scratch) / "demo.duckdb"
        summary = append_in_scratch(duckdb_file, spec, through, progress=progress)
        frames = _parquet_frames(spark, duckdb_file, Path(scratch) / "parquet")
        days = f"{spec.end + timedelta(days=1)}..{through}"
        added = {table: _rows_to_append(spark, directory, table, frames[table], days) for table in sorted(EVENT_TABLES)}
        for table, rows in added.items():
            if rows is not None:
                rows.write.insertInto(f"{RAW_SCHEMA}.`{table}`")
        for table in (*DEMO_TABLES, META_TABLE):
            if table not in EVENT_TABLES:
                _overwrite(frames[table], table)
    return replace(summary, warehouse_path=directory)


def copy_raw_into_spark(spark: SparkSession, duckdb_file: Path) -> None:
    """Replace the Spark warehouse's raw demo tables with those of the DuckDB demo file (via parquet)."""
    with tempfile.TemporaryDirectory(prefix="kpiflow-demo-") as scratch:
        for table, frame in _parquet_frames(spark, duckdb_file, Path(scratch) / "parquet").items():
            _overwrite(frame, table)


def spark_has_demo_data(directory: Path) -> bool:
    """Does the Spark warehouse already hold demo data (raw._demo_meta)?"""
    with spark_session(directory) as spark:
        return bool(spark.catalog.tableExists(f"{RAW_SCHEMA}.{META_TABLE}"))


def _parquet_frames(spark: SparkSession, duckdb_file: Path, parquet_dir: Path) -> dict[str, DataFrame]:
    """The raw tables of the DuckDB demo file, exported to parquet in `parquet_dir` and read by Spark (lazily: keep
    the directory until they are written)."""
    with open_warehouse(duckdb_file, read_only=True) as source:
        export_parquet(source, parquet_dir)
    spark.sql(f"create database if not exists {RAW_SCHEMA}")
    frames = {}
    for table in (*DEMO_TABLES, META_TABLE):
        # Hadoop skips files whose name starts with "_" (as _demo_meta's does): read a renamed file.
        readable = (parquet_dir / f"{table}.parquet").rename(parquet_dir / f"table-{table}.parquet")
        frames[table] = spark.read.parquet(str(readable))
    return frames


def _overwrite(frame: DataFrame, table: str) -> None:
    frame.write.mode("overwrite").format("parquet").saveAsTable(f"{RAW_SCHEMA}.`{table}`")


def _spark_demo_spec(spark: SparkSession, directory: Path) -> DemoSpec:
    if not spark.catalog.tableExists(f"{RAW_SCHEMA}.{META_TABLE}"):
        raise UserInputError(
            f"{directory}: no {RAW_SCHEMA}.{META_TABLE}, so no kpiflow demo data to append to; "
            "create it first with `kpiflow demo-data`."
        )
    rows = spark.sql(f"select {META_COLUMNS} from {RAW_SCHEMA}.`{META_TABLE}`").collect()
    return demo_spec_from_meta(tuple(rows[0]) if rows else None, str(directory))


def _rows_to_append(spark: SparkSession, directory: Path, table: str, rows: DataFrame, days: str) -> DataFrame | None:
    """The new days' rows of raw.<table>, in the table's column order; None when exactly they are there already (an
    earlier append that stopped part-way wrote them). UserInputError when the table cannot take them."""
    name = f"{RAW_SCHEMA}.{table}"
    if not spark.catalog.tableExists(name):
        raise UserInputError(
            f"{directory}: {name} is missing, so the days {days} cannot be appended to it; nothing was appended. "
            "Load the demo again with `kpiflow demo-data`."
        )
    existing = spark.table(f"{RAW_SCHEMA}.`{table}`")
    if sorted(existing.columns) != sorted(rows.columns):
        raise UserInputError(
            f"{directory}: {name} has the columns {', '.join(existing.columns)}, the demo writes "
            f"{', '.join(rows.columns)}; nothing was appended. Load the demo again with `kpiflow demo-data`."
        )
    keys = [key.strip() for key in ORDER_BY[table].split(",")]
    present = rows.join(existing.select(*keys), keys, "left_semi").count()
    if present == 0:
        return rows.select(*existing.columns)
    if present == rows.count() and rows.select(*existing.columns).exceptAll(existing).isEmpty():
        return None
    raise UserInputError(
        f"{directory}: {name} already holds {present} row(s) with the keys ({', '.join(keys)}) of rows the days "
        f"{days} add, though {RAW_SCHEMA}.{META_TABLE} says its demo ends before them: the table is ahead of the "
        "demo (other data for those days?); nothing was appended. Load the demo again with `kpiflow demo-data`."
    )
