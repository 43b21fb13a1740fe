"""`kpiflow demo-data`: generate, replace or extend the demo warehouse."""

from __future__ import annotations

import json
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kpiflow.errors import UserInputError
from kpiflow.options import parse_date_option

if TYPE_CHECKING:
    from kpiflow.demo.warehouse import DemoSummary


class OutputFormat(StrEnum):
    duckdb = "duckdb"
    parquet = "parquet"


def demo_data(
    scale: Annotated[float, typer.Option(help="Size: 1 is about a million order lines over two years.")] = 1.0,
    start: Annotated[str, typer.Option(help="First day (YYYY-MM-DD).")] = "2024-01-01",
    end: Annotated[str, typer.Option(help="Last day, inclusive (YYYY-MM-DD).")] = "2025-12-31",
    seed: Annotated[int, typer.Option(help="Same seed, same data.")] = 42,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="duckdb: schema raw of a DuckDB file; parquet: one file per table.")
    ] = OutputFormat.duckdb,
    out: Annotated[
        Path | None,
        typer.Option(help="DuckDB file (default: KPIFLOW_WAREHOUSE) or, with --format parquet, a directory."),
    ] = None,
    append_through: Annotated[
        str | None, typer.Option(help="Extend an existing warehouse by the days after its last day, through this day.")
    ] = None,
    if_missing: Annotated[bool, typer.Option(help="Do nothing if the warehouse already holds demo data.")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bars.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print the result (row counts) as JSON.")] = False,
) -> None:
    """Generate the demo retailer's raw data (sales, inventory, HR, CRM, plans) deterministically from a seed.

    Everything goes into the warehouse (or the Parquet folder): the project's files are never touched. With a
    PostgreSQL target (KPIFLOW_TARGET=pg), the warehouse is schema raw of the KPIFLOW_PG_* database, loaded by COPY;
    with a Spark target (KPIFLOW_TARGET=spark), database raw of the Spark warehouse in KPIFLOW_SPARK_DIR (parquet).
    """
    from kpiflow.compiler.dialects import target_dialect
    from kpiflow.config import Settings
    from kpiflow.demo.warehouse import append_demo_days, generate_demo_warehouse, read_demo_spec

    settings = Settings.from_env()
    show_progress = not quiet and not json_output
    summary: DemoSummary
    dialect = target_dialect(settings) if out is None and output_format is OutputFormat.duckdb else "duckdb"
    if dialect in {"postgres", "spark"}:
        load = _load_postgres if dialect == "postgres" else _load_spark
        loaded = load(scale, start, end, seed, append_through, if_missing, show_progress, json_output)
        if loaded is None:
            return
        summary = loaded
    elif append_through is not None:
        if output_format is OutputFormat.parquet:
            raise UserInputError("--append-through works on a DuckDB warehouse; drop --format parquet.")
        warehouse = out or settings.warehouse_path
        summary = append_demo_days(
            warehouse,
            parse_date_option(append_through, "--append-through"),
            progress=show_progress,
        )
    elif output_format is OutputFormat.parquet:
        if out is None:
            raise UserInputError("--format parquet needs --out DIR (the directory for the Parquet files).")
        if if_missing and (out / "orders.parquet").is_file():
            _report_unchanged(out, json_output)
            return
        with tempfile.TemporaryDirectory(prefix="kpiflow-demo-") as scratch:
            summary = generate_demo_warehouse(
                Path(scratch) / "demo.duckdb",
                scale=scale,
                start=parse_date_option(start, "--start"),
                end=parse_date_option(end, "--end"),
                seed=seed,
                parquet_dir=out,
                progress=show_progress,
            )
    else:
        warehouse = out or settings.warehouse_path
        if if_missing and read_demo_spec(warehouse) is not None:
            _report_unchanged(warehouse, json_output)
            return
        summary = generate_demo_warehouse(
            warehouse,
            scale=scale,
            start=parse_date_option(start, "--start"),
            end=parse_date_option(end, "--end"),
            seed=seed,
            progress=show_progress,
        )
    if json_output:
        typer.echo(json.dumps(summary.to_dict(), indent=2, sort_keys=True))
    else:
        _print_counts(summary)


def _load_postgres(
    scale: float,
    start: str,
    end: str,
    seed: int,
    append_through: str | None,
    if_missing: bool,
    show_progress: bool,
    json_output: bool,
) -> DemoSummary | None:
    """The demo retailer into schema raw of the PostgreSQL warehouse of the target (KPIFLOW_PG_*), by COPY."""
    from kpiflow.config import PostgresConnection
    from kpiflow.demo.postgres import append_demo_days_in_postgres, load_demo_into_postgres, postgres_has_demo_data

    connection = PostgresConnection.from_env()
    if append_through is not None:
        through = parse_date_option(append_through, "--append-through")
        return append_demo_days_in_postgres(connection, through, progress=show_progress)
    if if_missing and postgres_has_demo_data(connection):
        _report_unchanged(connection.address, json_output)
        return None
    return load_demo_into_postgres(
        connection,
        scale=scale,
        start=parse_date_option(start, "--start"),
        end=parse_date_option(end, "--end"),
        seed=seed,
        progress=show_progress,
    )


def _load_spark(
    scale: float,
    start: str,
    end: str,
    seed: int,
    append_through: str | None,
    if_missing: bool,
    show_progress: bool,
    json_output: bool,
) -> DemoSummary | None:
    """The demo retailer into database raw of the Spark warehouse in KPIFLOW_SPARK_DIR, as parquet tables."""
    from kpiflow.config import Settings
    from kpiflow.demo.spark import append_demo_days_in_spark, load_demo_into_spark, spark_has_demo_data
    from kpiflow.warehouse.spark_session import spark_dir

    directory = spark_dir(Settings.from_env().project_dir)
    if append_through is not None:
        through = parse_date_option(append_through, "--append-through")
        return append_demo_days_in_spark(directory, through, progress=show_progress)
    if if_missing and spark_has_demo_data(directory):
        _report_unchanged(directory, json_output)
        return None
    return load_demo_into_spark(
        directory,
        scale=scale,
        start=parse_date_option(start, "--start"),
        end=parse_date_option(end, "--end"),
        seed=seed,
        progress=show_progress,
    )


def _report_unchanged(location: Path | str, json_output: bool) -> None:
    from rich.console import Console

    if json_output:
        typer.echo(json.dumps({"action": "unchanged", "location": str(location)}))
    else:
        Console().print(f"Demo data already present in {location}; nothing to do (--if-missing).")


def _print_counts(summary: DemoSummary) -> None:
    from rich.console import Console
    from rich.table import Table

    where = summary.parquet_dir if summary.parquet_dir else summary.warehouse_path
    table = Table(
        title=f"Demo data {summary.action}: {where} ({summary.start}..{summary.end}, seed {summary.seed}, "
        f"scale {summary.scale:g})"
    )
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in summary.row_counts.items():
        table.add_row(name, f"{rows:,}")
    Console().print(table)
