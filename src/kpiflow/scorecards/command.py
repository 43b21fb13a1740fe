"""`kpiflow scorecard`: one card's results for one period, read from the PUBLISHED marts file (read-only)."""

from __future__ import annotations

import typer

from kpiflow.errors import UserInputError


def scorecard(
    card: str = typer.Option(..., "--card", help="Scorecard name, e.g. sales_manager."),
    period: str = typer.Option(..., "--period", help="Period: 2025-06, 2025-Q2, 2025 or a start date."),
    employee: str | None = typer.Option(None, "--employee", help="Only this employee (shows the KPI lines)."),
    output_format: str = typer.Option("table", "--format", help="table, csv or json."),
    explain: bool = typer.Option(False, "--explain", help="Show how each number was computed."),
) -> None:
    """Show a scorecard's KPI index and pay for one period, from the published marts."""
    import duckdb

    from kpiflow.config import Settings
    from kpiflow.scorecards.periods import parse_period
    from kpiflow.scorecards.report import open_published_marts, render

    try:
        period_start = parse_period(period)
    except ValueError as exc:
        raise UserInputError(f"--period: {exc}") from None
    marts = Settings.from_env().marts_path
    con = open_published_marts(marts)
    try:
        try:
            text = render(con, card, period_start, employee, output_format, explain)
        except duckdb.CatalogException as exc:
            raise UserInputError(
                f"{marts} has no scorecard results ({exc}); the pipeline publishes them after `kpiflow run`"
            ) from None
    finally:
        con.close()
    typer.echo(text, nl=False)
