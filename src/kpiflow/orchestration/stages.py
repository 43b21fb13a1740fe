"""The stages: thin adapters from a RunContext to the packages that own each piece of work; the flow's tasks
call them directly.

Each imports its package inside the function, so the CLI stays fast.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import date, timedelta

from kpiflow.errors import UserInputError
from kpiflow.orchestration.build_project import build_settings, refresh_build_project
from kpiflow.orchestration.dbt import DbtBuildSummary, dbt_build
from kpiflow.orchestration.incremental import (
    check_window,
    horizon_setting,
    late_days_setting,
    plan_build,
    raw_changed_after_check,
    record_build,
    set_window,
)
from kpiflow.orchestration.pipeline import (
    CompileSummary,
    GateOutcome,
    LandingSummary,
    RunContext,
    ScorecardSummary,
)
from kpiflow.orchestration.transient import TransientRunError
from kpiflow.quality.restated import RESTATED_TAG
from kpiflow.warehouse import Warehouse, WarehouseError, warehouse_for

DEMO_SCALE_ENV = "KPIFLOW_DEMO_SCALE"


def demo_scale() -> float:
    """Scale of generated demo data: KPIFLOW_DEMO_SCALE, else 1.0 (see docs/operations.md)."""
    raw = os.environ.get(DEMO_SCALE_ENV, "1")
    try:
        scale = float(raw)
    except ValueError:
        raise UserInputError(f"{DEMO_SCALE_ENV}={raw!r} is not a number; use e.g. 0.25 or 1") from None
    if scale <= 0:
        raise UserInputError(f"{DEMO_SCALE_ENV}={raw!r} must be greater than 0")
    return scale


def land_or_verify_inputs(ctx: RunContext) -> LandingSummary:
    """Demo: create the warehouse once, then extend it through the run date. Otherwise: check the day landed."""
    if ctx.options.ensure_demo_data:
        return _ensure_demo_data(ctx)
    path = ctx.settings.warehouse_path
    warehouse = warehouse_for(ctx.settings)
    if not _has_raw_data(warehouse):
        raise UserInputError(
            f"warehouse {warehouse.location} has no raw input data. Create demo data with "
            "`kpiflow run --ensure-demo-data` (or `kpiflow demo-data`), or point KPIFLOW_WAREHOUSE at your warehouse."
        )
    latest = latest_input_date(warehouse)
    if latest is not None and latest < ctx.run_date:
        raise TransientRunError(
            f"inputs for {ctx.run_date} have not landed yet: raw.orders ends on {latest}. The run retries; "
            "if the load is late for good, rerun later or pass --date for a day that has landed."
        )
    return LandingSummary(path, False, _as_of(latest, ctx), "verified existing inputs")


def _as_of(latest: date | None, ctx: RunContext) -> date | None:
    """How far the inputs this run reads reach: rows after the run date do not count in it (DECISIONS rule 22)."""
    return None if latest is None else min(latest, ctx.run_date)


def _ensure_demo_data(ctx: RunContext) -> LandingSummary:
    from kpiflow.demo import append_demo_days, generate_demo_warehouse, read_demo_spec

    path = ctx.settings.warehouse_path
    spec = read_demo_spec(path)
    if spec is None and _has_raw_data(warehouse_for(ctx.settings)):
        raise UserInputError(
            f"warehouse {path} holds raw data that is not kpiflow demo data; --ensure-demo-data would replace it. "
            "Run without --ensure-demo-data, or set KPIFLOW_WAREHOUSE to a new file for the demo."
        )
    if spec is None:
        scale = demo_scale()
        # Two calendar years before the run date: enough history for year-over-year KPIs.
        summary = generate_demo_warehouse(
            path,
            scale=scale,
            start=date(ctx.run_date.year - 1, 1, 1),
            end=ctx.run_date,
        )
        return LandingSummary(path, True, summary.end, f"created demo data at scale {scale:g} from {summary.start}")
    if spec.end < ctx.run_date:
        summary = append_demo_days(path, ctx.run_date)
        return LandingSummary(path, False, summary.end, f"appended demo days {spec.end + timedelta(days=1)}..")
    return LandingSummary(path, False, _as_of(spec.end, ctx), "demo data already present")


def _has_raw_data(warehouse: Warehouse) -> bool:
    if not warehouse.exists():
        return False
    with warehouse.connect(read_only=True) as session:
        return bool(session.relations(("raw",)))


def latest_input_date(warehouse: Warehouse) -> date | None:
    """The last day with orders in the raw data, or None when the warehouse has no raw.orders to tell."""
    with warehouse.connect(read_only=True) as session:
        if not session.has_relation("raw.orders"):  # asked, not tried: Spark logs a failed statement at ERROR
            return None
        try:
            row = session.execute("select max(order_ts)::date from raw.orders").fetchone()
        except WarehouseError:
            return None
    return row[0] if row else None


def check_inputs(ctx: RunContext) -> GateOutcome:
    from kpiflow.quality import run_gate

    window = check_window(
        ctx.settings,
        ctx.run_date,
        late_days=late_days_setting(ctx.options.late_days),
        full_refresh=ctx.options.full_refresh,
        horizon_days=horizon_setting(ctx.options.restatement_horizon),
        run_id=ctx.run_id,
    )
    report = run_gate(ctx.settings, ctx.run_date, data_docs=True, quarantine=True, window_start=window)
    if any(report.quarantined_rows.values()):
        raw_changed_after_check(warehouse_for(ctx.settings))
    return GateOutcome(
        passed=report.passed,
        summary_text=report.summary_text(),
        data_docs_path=report.data_docs_path,
        quarantined_by_check=report.quarantined_by_check,
    )


def compile_metrics(ctx: RunContext) -> CompileSummary:
    from kpiflow.compiler.cache import compile_cached

    settings = refresh_build_project(ctx.settings)
    result, cached = compile_cached(settings)
    where = "" if settings == ctx.settings else f" in {settings.project_dir}"
    if cached:
        note = f"{len(result.kpis)} KPIs; metrics and compiler unchanged since the last compile{where} (skipped)"
    else:
        note = f"{len(result.kpis)} KPIs; {len(result.written)} files rewritten{where}, {len(result.removed)} removed"
    return CompileSummary(model_count=len(result.written) + len(result.unchanged), note=note)


def build_models(ctx: RunContext) -> DbtBuildSummary:
    """dbt build, incremental from the window start when the warehouse's record allows (see incremental.py). The
    input gate ran just before, so staging tests that restate its checks are left out (quality/restated.py). Columns
    the compiler reads as declared DATEs are then checked to hold days (declared_dates.py)."""
    from kpiflow.orchestration.declared_dates import check_declared_dates

    settings = build_settings(ctx.settings)  # the project the compile stage compiled
    plan = plan_build(
        settings,
        ctx.run_date,
        late_days=late_days_setting(ctx.options.late_days),
        full_refresh=ctx.options.full_refresh,
        horizon_days=horizon_setting(ctx.options.restatement_horizon),
        run_id=ctx.run_id,
    )
    warehouse = warehouse_for(ctx.settings)
    set_window(warehouse, plan)
    summary = dbt_build(
        settings,
        run_date=ctx.run_date,
        full_refresh=plan.full_refresh,
        exclude=f"tag:{RESTATED_TAG}",
        warehouse=warehouse,
    )
    check_declared_dates(ctx.settings, warehouse, plan.window_start)  # before the build is recorded or published
    record_build(warehouse, ctx.run_date, plan, run_id=ctx.run_id)
    return replace(summary, mode=plan.headline())


def build_scorecards(ctx: RunContext) -> ScorecardSummary:
    from kpiflow.scorecards import build_scorecards as write_scorecards

    with warehouse_for(ctx.settings).connect_build() as session:
        result = write_scorecards(session, ctx.settings.project_dir, run_date=ctx.run_date)
    return ScorecardSummary(note=result.headline(), warnings=result.warnings)
