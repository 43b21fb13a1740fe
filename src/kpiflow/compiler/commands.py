"""CLI commands of the compiler: compile, list, query, export."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kpiflow.config import Settings
from kpiflow.errors import UserInputError
from kpiflow.options import parse_date_option

if TYPE_CHECKING:  # the warehouse modules load only when a query runs (not for --explain: issue 16)
    from kpiflow.warehouse import Warehouse


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


def compile_command(
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing on success.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Fail (exit 1) if generated models are out of date.")] = False,
    dialect: Annotated[str | None, typer.Option(help="SQL dialect; default: the dbt target's adapter.")] = None,
) -> None:
    """Validate metrics/ and write the KPI mart models into models/generated."""
    from rich.console import Console

    from kpiflow.compiler import compile_project, generated_files
    from kpiflow.errors import RunFailed

    settings = Settings.from_env()
    if check:
        stale = [
            f.path.name
            for f in generated_files(settings, dialect)
            if not f.path.exists() or f.path.read_text(encoding="utf-8") != f.content
        ]
        if stale:
            raise RunFailed(f"generated models are out of date ({', '.join(stale[:5])}): run `kpiflow compile`")
        if not quiet:
            Console().print("generated models are up to date")
        return
    result = compile_project(settings, dialect)
    if not quiet:
        Console().print(
            f"compiled {len(result.kpis)} KPIs: {len(result.written)} file(s) written, "
            f"{len(result.unchanged)} unchanged, {len(result.removed)} removed -> "
            f"{settings.generated_dir.relative_to(settings.project_dir)}"
        )


def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List every metric with its type, unit, direction and owner."""
    from rich.console import Console
    from rich.table import Table

    from kpiflow.compiler.validate import load_graph

    settings = Settings.from_env()
    graph = load_graph(settings.project_dir, settings.metrics_dir)
    rows = []
    for name in sorted(graph.metrics):
        metric = graph.metrics[name]
        kpi = metric.kpi
        rows.append(
            {
                "name": name,
                "type": metric.type,
                "label": metric.label,
                "unit": kpi.unit if kpi else None,
                "direction": kpi.direction if kpi else None,
                "owner": kpi.owner if kpi else None,
                "perspective": kpi.perspective if kpi else None,
            }
        )
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"{len(rows)} metrics")
    for column in ("name", "type", "unit", "direction", "owner"):
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row[c] or "") for c in ("name", "type", "unit", "direction", "owner")))
    Console().print(table)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def query_command(
    metrics: Annotated[str, typer.Option("--metrics", help="Comma-separated metric names.")],
    group_by: Annotated[str | None, typer.Option("--group-by", help="e.g. metric_time__month,store__region")] = None,
    where: Annotated[list[str] | None, typer.Option("--where", help="Filter over group-by names.")] = None,
    start: Annotated[str | None, typer.Option("--start", help="First date (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last date (YYYY-MM-DD).")] = None,
    order: Annotated[str | None, typer.Option("--order", help="Comma-separated; prefix '-' for descending.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=0)] = None,
    output_format: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
    explain: Annotated[bool, typer.Option("--explain", help="Print the SQL without running it.")] = False,
    dialect: Annotated[str, typer.Option(help="Dialect for --explain.")] = "duckdb",
) -> None:
    """Query metrics ad hoc on the warehouse (MetricFlow-style group-by names)."""
    from kpiflow.compiler.dbt_models import load_dbt_models
    from kpiflow.compiler.plan import QueryRequest
    from kpiflow.compiler.render import DIALECTS
    from kpiflow.compiler.sqltext import build_query, to_sql, warehouse_relation
    from kpiflow.compiler.validate import load_graph

    if output_format not in ("table", "csv", "json"):
        raise UserInputError(f"--format {output_format!r}: use table, csv or json")
    if dialect not in DIALECTS:
        raise UserInputError(f"--dialect {dialect!r}: use one of {', '.join(DIALECTS)}")
    settings = Settings.from_env()
    dbt_models = load_dbt_models(settings.project_dir)
    graph = load_graph(settings.project_dir, settings.metrics_dir, dbt_models)
    request = QueryRequest(
        metrics=_split(metrics),
        group_by=_split(group_by),
        where=tuple(where or ()),
        start=parse_date_option(start, "--start") if start is not None else None,
        end=parse_date_option(end, "--end") if end is not None else None,
        order_by=_split(order),
        limit=limit,
    )
    tree = build_query(graph, request, warehouse_relation(dbt_models))
    if explain:
        typer.echo(to_sql(tree, dialect))
        return
    from kpiflow.warehouse import warehouse_for

    columns, rows = run_on_warehouse(warehouse_for(settings), to_sql(tree, "duckdb"))
    print_rows(columns, rows, output_format)


def run_on_warehouse(warehouse: Warehouse, sql: str) -> tuple[list[str], list[tuple]]:
    """Run the query read-only on the built warehouse: semantic models are built tables (intermediate.*), not the
    published marts."""
    from kpiflow.warehouse import MissingRelation
    from kpiflow.warehouse.reading import built_session

    reads = "kpiflow query reads the models its metrics are defined on (schema intermediate), not only marts"
    with built_session(warehouse, reads) as session:
        try:
            cursor = session.execute(sql)
        except MissingRelation as exc:
            raise UserInputError(
                f"the warehouse is missing a model the query needs ({exc}); run `kpiflow run` to build it"
            ) from None
        columns = [d[0] for d in cursor.description]
        return columns, cursor.fetchall()


def print_rows(columns: list[str], rows: list[tuple], output_format: str) -> None:
    from rich.console import Console
    from rich.table import Table

    if output_format == "json":
        typer.echo(json.dumps([{c: _jsonable(v) for c, v in zip(columns, row, strict=True)} for row in rows], indent=2))
    elif output_format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        writer.writerows([[_jsonable(v) for v in row] for row in rows])
        sys.stdout.write(buffer.getvalue())
    else:
        table = Table()
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*("" if v is None else str(_jsonable(v)) for v in row))
        Console().print(table)


def export_command(
    target: Annotated[str, typer.Argument(help="What to export: dbt-semantic-layer")],
    directory: Annotated[Path, typer.Argument(help="Folder to write YAML into.")],
) -> None:
    """Export the semantic models and metrics as dbt semantic-layer YAML (dbt 1.11 spec)."""
    from rich.console import Console

    from kpiflow.compiler.export_dbt_sl import export_semantic_layer
    from kpiflow.compiler.validate import load_graph

    if target != "dbt-semantic-layer":
        raise UserInputError(f"unknown export target {target!r}: use dbt-semantic-layer")
    settings = Settings.from_env()
    graph = load_graph(settings.project_dir, settings.metrics_dir)
    report = export_semantic_layer(graph, directory)
    console = Console()
    console.print(f"exported {len(report.exported)} metrics to {directory}")
    for name, reason in report.skipped.items():
        console.print(f"  not exported: {name}: {reason}")
