"""`kpiflow dashboard`: build (and optionally serve) the static KPI site from the published marts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def default_out_dir(marts_path: Path) -> Path:
    """Beside the published marts file: `warehouse/dashboard` for the default layout (also on a server warehouse,
    whose marts are not a file: the site is local files all the same)."""
    return marts_path.parent / "dashboard"


def dashboard(
    out: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default: beside the marts, warehouse/dashboard).")
    ] = None,
    serve: Annotated[bool, typer.Option("--serve", help="Serve the site on localhost after building it.")] = False,
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port for --serve (0: any free port).")] = 8000,
    include_pay: Annotated[
        bool, typer.Option("--include-pay", help="Also write scorecards with pay (from payroll) under pay/.")
    ] = False,
) -> None:
    """Build a static KPI dashboard (overview, one page per domain, catalog) from the published marts."""
    from kpiflow.config import Settings
    from kpiflow.dashboard.build import build_dashboard
    from kpiflow.dashboard.serve import serve as serve_site
    from kpiflow.warehouse import warehouse_for

    settings = Settings.from_env()
    site = build_dashboard(
        warehouse_for(settings), out or default_out_dir(settings.marts_path), settings.project_dir,
        include_pay=include_pay,
    )  # fmt: skip
    typer.echo(f"dashboard: {site.headline()}")
    if serve:
        serve_site(site.out_dir, port)
