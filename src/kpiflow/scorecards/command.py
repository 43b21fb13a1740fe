"""`kpiflow scorecard`: one card's results for one period, read from the PUBLISHED marts (read-only)."""

from __future__ import annotations

import typer

from kpiflow.errors import UserInputError

READS = "kpiflow scorecard reads marts.scorecard_results and payroll.payouts (pay: both reader roles)"


def scorecard(
    card: str = typer.Option(..., "--card", help="Scorecard name, e.g. sales_manager."),
    period: str = typer.Option(..., "--period", help="Period: 2025-06, 2025-Q2, 2025 or a start date."),
    employee: str | None = typer.Option(None, "--employee", help="Only this employee (shows the KPI lines)."),
    output_format: str = typer.Option("table", "--format", help="table, csv or json."),
    explain: bool = typer.Option(False, "--explain", help="Show how each number was computed."),
) -> None:
    """Show a scorecard's KPI index and pay for one period, from the published marts."""
    from kpiflow.config import Settings
    from kpiflow.scorecards.periods import parse_period
    from kpiflow.scorecards.report import render
    from kpiflow.warehouse import MissingRelation, warehouse_for
    from kpiflow.warehouse.reading import published_session

    try:
        period_start = parse_period(period)
    except ValueError as exc:
        raise UserInputError(f"--period: {exc}") from None
    warehouse = warehouse_for(Settings.from_env())
    with published_session(warehouse, READS) as session:
        try:
            text = render(session, card, period_start, employee, output_format, explain)
        except MissingRelation as exc:
            raise UserInputError(
                f"{warehouse.published_location} has no scorecard results ({exc}); "
                "the pipeline publishes them after `kpiflow run`"
            ) from None
    typer.echo(text, nl=False)
