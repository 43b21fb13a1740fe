"""The nightly Prefect flow: one thin @flow for one run date, one small @task per stage.

Retries are for passing trouble only: every task that touches files or the warehouse retries with
backoff when `is_transient` says the error may go away (a lock held by another process, a slow disk);
a failed quality gate, dbt test or audit is a verdict and fails the flow at once, with the quality
report attached as an artifact. The run lock is held by the flow, across all stages.

Import this module only after `prefect_env.configure_prefect` (the CLI does): Prefect reads its
settings on first import.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date
from typing import Any, TypeVar

from prefect import Task, flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import TaskRun
from prefect.runtime import flow_run
from prefect.states import State

from kpiflow.config import Settings
from kpiflow.dashboard.after_publish import DashboardOutcome, build_after_publish
from kpiflow.errors import RunFailed
from kpiflow.orchestration import stages
from kpiflow.orchestration.audit import AuditReport, audit_warehouse
from kpiflow.orchestration.dbt import DbtBuildSummary
from kpiflow.orchestration.journal import RunJournal
from kpiflow.orchestration.pipeline import (
    CompileSummary,
    GateOutcome,
    LandingSummary,
    RunContext,
    RunOptions,
    ScorecardSummary,
    run_date_for,
)
from kpiflow.orchestration.publish import PublishReceipt, publish_marts
from kpiflow.orchestration.report import KpiReport, build_kpi_report, quality_markdown, run_markdown
from kpiflow.orchestration.transient import is_transient
from kpiflow.warehouse import warehouse_for

FLOW_NAME = "kpiflow-nightly"
RETRY_DELAYS_SECONDS = [10, 60, 300]

T = TypeVar("T")


def retry_if_transient(task: Any, task_run: TaskRun, state: State[Any]) -> bool:
    """Prefect retry condition: retry lock conflicts and I/O errors, never a data verdict."""
    error = state.data if isinstance(state.data, BaseException) else None
    return error is not None and is_transient(error)


IO_RETRIES: dict[str, Any] = {
    "retries": len(RETRY_DELAYS_SECONDS),
    "retry_delay_seconds": RETRY_DELAYS_SECONDS,
    "retry_condition_fn": retry_if_transient,
}
# Tasks have side effects and must run every time: no cache, no pickled results on disk.
NO_RESULTS: dict[str, Any] = {"cache_policy": NO_CACHE, "persist_result": False}


@task(name="land_or_verify_inputs", **IO_RETRIES, **NO_RESULTS)
def land_or_verify_inputs(ctx: RunContext) -> LandingSummary:
    return stages.land_or_verify_inputs(ctx)


@task(name="check_inputs", **IO_RETRIES, **NO_RESULTS)
def check_inputs(ctx: RunContext) -> GateOutcome:
    """Run the input quality gate; attach its report either way, and fail the flow when it fails."""
    outcome = stages.check_inputs(ctx)
    create_markdown_artifact(
        markdown=quality_markdown(outcome, ctx.run_date),
        key="kpiflow-quality",
        description=f"Input checks for {ctx.run_date}",
    )
    if not outcome.passed:
        docs = f"\nData Docs: {outcome.data_docs_path}" if outcome.data_docs_path else ""
        raise RunFailed(
            f"input checks failed for {ctx.run_date}; nothing was built or published.\n"
            f"{outcome.summary_text.strip()}{docs}"
        )
    return outcome


@task(name="compile_metrics", **NO_RESULTS)
def compile_metrics(ctx: RunContext) -> CompileSummary:
    return stages.compile_metrics(ctx)


@task(name="build", **IO_RETRIES, **NO_RESULTS)
def build(ctx: RunContext) -> DbtBuildSummary:
    """dbt seed + models + tests into the warehouse (the write of write-audit-publish)."""
    return stages.build_models(ctx)


@task(name="build_scorecards", **IO_RETRIES, **NO_RESULTS)
def build_scorecards(ctx: RunContext) -> ScorecardSummary:
    summary = stages.build_scorecards(ctx)
    for warning in summary.warnings:
        get_run_logger().warning("scorecards: %s", warning)
    return summary


@task(name="audit", **NO_RESULTS)
def audit(ctx: RunContext) -> AuditReport:
    report = audit_warehouse(warehouse_for(ctx.settings))
    report.raise_if_failed()
    return report


@task(name="publish", **IO_RETRIES, **NO_RESULTS)
def publish(ctx: RunContext, audited: AuditReport) -> PublishReceipt:
    return publish_marts(warehouse_for(ctx.settings), audited=audited.tables, run_id=ctx.run_id, run_date=ctx.run_date)


@task(name="dashboard", **NO_RESULTS)
def dashboard(ctx: RunContext) -> DashboardOutcome:
    """Rebuild the static dashboard from the marts just published; a failure is a warning, not a failed run."""
    outcome = build_after_publish(ctx.settings)
    create_markdown_artifact(markdown=outcome.markdown(), key="kpiflow-dashboard", description="KPI dashboard")
    return outcome


@task(name="report", **IO_RETRIES, **NO_RESULTS)
def report(ctx: RunContext, journal: RunJournal) -> KpiReport:
    """Attach the published KPIs (a table) and the run summary (markdown) to the flow run."""
    warehouse = warehouse_for(ctx.settings)
    kpis = build_kpi_report(warehouse, ctx.run_date)
    create_table_artifact(table=list(kpis.rows), key="kpiflow-kpis", description=f"KPIs published for {ctx.run_date}")
    stage_lines = [
        f"{stage.name}: {stage.headline} ({stage.seconds:.1f} s)"
        for stage in journal.stages
        if stage.status == "completed"
    ]
    create_markdown_artifact(
        markdown=run_markdown(ctx.run_date, warehouse.published_location, kpis, stage_lines),
        key="kpiflow-run-report",
        description=f"kpiflow nightly run for {ctx.run_date}",
    )
    return kpis


@flow(name=FLOW_NAME, persist_result=False, log_prints=False)
def nightly(options: RunOptions | None = None) -> dict[str, Any]:
    """Build, test and publish the KPI marts for one day (default: the day before the run was scheduled)."""
    settings = Settings.from_env()
    options = options or RunOptions()
    options = replace(options, run_date=options.run_date or default_run_date(options.timezone))
    ctx = RunContext(settings=settings, options=options, run_id=flow_run.get_id() or uuid.uuid4().hex)
    warehouse = warehouse_for(settings)
    with warehouse.run_lock(run_id=ctx.run_id, run_date=str(ctx.run_date), wait_seconds=options.wait_seconds):
        journal = RunJournal(settings.state_dir, ctx.run_id, ctx.run_date, settings.target)
        try:
            journal.begin(warehouse)
            warehouse.remove_publish_leftovers()
            _stage(journal, land_or_verify_inputs, ctx)
            gate = _stage(journal, check_inputs, ctx)
            _stage(journal, compile_metrics, ctx)
            _stage(journal, build, ctx)
            _stage(journal, build_scorecards, ctx)
            audited = _stage(journal, audit, ctx)
            receipt = _stage(journal, publish, ctx, audited)
            site = _stage(journal, dashboard, ctx)
            kpis = _stage(journal, report, ctx, journal)
        except BaseException as exc:
            journal.finish("failed", exc, warehouse)
            raise
        journal.finish("completed", warehouse=warehouse)
    return {
        **journal.to_dict(),
        "published": {
            "marts_path": receipt.location,
            "tables": {fp.qualified_name: {"rows": fp.row_count, "checksum": fp.checksum} for fp in receipt.tables},
        },
        "quality": {
            "passed": gate.passed,
            "summary": gate.summary_text,
            "data_docs": _str_or_none(gate.data_docs_path),
            "quarantined_by_check": dict(gate.quarantined_by_check),
        },
        "dashboard": site.to_dict(),
        "kpis": list(kpis.rows),
        "headline_kpis": list(kpis.headline_rows),
    }


def default_run_date(timezone: str | None = None) -> date:
    """The day before this flow run was scheduled (a 02:00 run closes yesterday)."""
    return run_date_for(flow_run.get_scheduled_start_time(), timezone)


def _stage(journal: RunJournal, stage_task: Task[..., T], *args: Any) -> T:
    """Call one task, recording its start, outcome and one-line summary in the journal and the run log."""
    name = stage_task.name
    journal.stage_started(name)
    try:
        result = stage_task(*args)
    except BaseException as exc:
        journal.stage_failed(name, exc)
        raise
    summary = result.headline() if hasattr(result, "headline") else "done"
    journal.stage_finished(name, summary, tuple(getattr(result, "warnings", ())))
    get_run_logger().info("%s: %s", name, summary)
    return result


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)
