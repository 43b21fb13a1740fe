"""`kpiflow scorecard`: one card's results for one period, read from the PUBLISHED marts (read-only)."""

from __future__ import annotations

from contextlib import ExitStack

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
    from kpiflow.config import Settings
    from kpiflow.scorecards.periods import parse_period
    from kpiflow.scorecards.report import render
    from kpiflow.warehouse import MissingRelation, WarehouseError, warehouse_for

    try:
        period_start = parse_period(period)
    except ValueError as exc:
        raise UserInputError(f"--period: {exc}") from None
    warehouse = warehouse_for(Settings.from_env())
    marts = warehouse.published_location
    if not warehouse.is_published():
        raise UserInputError(f"no published marts at {marts}; run `kpiflow run` first (or set KPIFLOW_MARTS)")
    with ExitStack() as stack:
        try:
            session = stack.enter_context(warehouse.read_published())
        except WarehouseError as exc:
            raise UserInputError(f"cannot open {marts} read-only: {exc}") from None
        try:
            text = render(session, card, period_start, employee, output_format, explain)
        except MissingRelation as exc:
            raise UserInputError(
                f"{marts} has no scorecard results ({exc}); the pipeline publishes them after `kpiflow run`"
            ) from None
    typer.echo(text, nl=False)
