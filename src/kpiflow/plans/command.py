"""`kpiflow load-plans FILE`: put a plan CSV into the warehouse, where plans belong."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def load_plans_command(
    file: Annotated[Path, typer.Argument(help="CSV: employee_id|store_id,month_start,plan_net_revenue.")],
    table: Annotated[
        str | None, typer.Option(help="sales_plans or store_plans (default: from the file's header).")
    ] = None,
) -> None:
    """Replace raw.sales_plans or raw.store_plans of the warehouse (KPIFLOW_WAREHOUSE) with a CSV's rows."""
    from kpiflow.config import Settings
    from kpiflow.plans.loading import load_plans

    warehouse = Settings.from_env().warehouse_path
    loaded = load_plans(warehouse, file, table)
    span = f", {loaded.months[0]:%Y-%m}..{loaded.months[1]:%Y-%m}" if loaded.months else ""
    typer.echo(f"raw.{loaded.table}: {loaded.rows} plans loaded into {warehouse}{span}; run `kpiflow check` next")
