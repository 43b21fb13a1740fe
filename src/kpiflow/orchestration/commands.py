"""`kpiflow run`, `backfill`, `rollback`, `deploy` and `serve`. Option parsing and output only; the work is elsewhere.

Prefect and dbt are imported inside the commands (via execution/deployment), never at module import,
so `kpiflow --help` stays fast.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kpiflow.config import Settings
from kpiflow.errors import KpiflowError, RunFailed, UserInputError
from kpiflow.options import parse_date_option
from kpiflow.orchestration.deployment import DEFAULT_CRON, DEFAULT_TIMEZONE, DEPLOYMENT_NAME, NightlySchedule
from kpiflow.orchestration.pipeline import RunOptions

if TYPE_CHECKING:
    from rich.console import Console

    from kpiflow.orchestration.execution import RunOutcome

FullRefresh = Annotated[
    bool, typer.Option("--full-refresh", help="Rebuild incremental models from scratch (dbt --full-refresh).")
]
EnsureDemoData = Annotated[
    bool,
    typer.Option(
        "--ensure-demo-data",
        help="Create the demo warehouse if it is missing (scale: env KPIFLOW_DEMO_SCALE) and extend it "
        "through the run date.",
    ),
]
LateDays = Annotated[
    int | None,
    typer.Option(
        "--late-days",
        min=0,
        help="Recompute this many days before the run date, to pick up late rows (default: env KPIFLOW_LATE_DAYS, "
        "else 3). Ignored by a full rebuild.",
    ),
]
RestatementHorizon = Annotated[
    int | None,
    typer.Option(
        "--restatement-horizon",
        min=0,
        help="Rebuild raw history changed up to this many days before the run date; older changes fail the run and "
        "ask for --full-refresh (default: env KPIFLOW_RESTATEMENT_HORIZON_DAYS, else 90).",
    ),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors (and --json).")]
JsonOutput = Annotated[bool, typer.Option("--json", help="Print a machine-readable result on stdout.")]
Wait = Annotated[
    float,
    typer.Option("--wait", help="Seconds to wait for a run already in progress (default 0: refuse at once)."),
]
Cron = Annotated[str, typer.Option("--cron", help="When to run, as cron in --timezone.")]
Timezone = Annotated[str, typer.Option("--timezone", help="IANA time zone for --cron and the default run date.")]
DeploymentName = Annotated[str, typer.Option("--name", help="Deployment name.")]


def run(
    run_date: Annotated[
        str | None, typer.Option("--date", help="Day to build and publish, YYYY-MM-DD (default: yesterday).")
    ] = None,
    full_refresh: FullRefresh = False,
    ensure_demo_data: EnsureDemoData = False,
    late_days: LateDays = None,
    restatement_horizon: RestatementHorizon = None,
    quiet: Quiet = False,
    json_output: JsonOutput = False,
    wait: Wait = 0.0,
) -> None:
    """Run the nightly pipeline once: inputs, checks, compile, dbt build + tests, scorecards, publish, report."""
    from kpiflow.orchestration.console import print_json, print_summary, show_progress
    from kpiflow.orchestration.execution import run_nightly_once

    settings = Settings.from_env()
    day = parse_date_option(run_date, "--date") if run_date is not None else None
    request = RunOptions(
        run_date=day,
        full_refresh=full_refresh,
        ensure_demo_data=ensure_demo_data,
        wait_seconds=check_wait(wait),
        late_days=late_days,
        restatement_horizon=restatement_horizon,
    )
    if not quiet:
        _stderr().print(f"kpiflow run: warehouse {settings.warehouse_path}", highlight=False, soft_wrap=True)
    with show_progress(not quiet):
        outcome = run_nightly_once(settings, request)
    if json_output:
        print_json(_with_exit_code(outcome))
    if outcome.error is not None:
        raise outcome.error
    if not quiet and not json_output:
        print_summary(outcome.result)


def backfill(
    start: Annotated[str, typer.Option("--start", help="First day to run, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--end", help="Last day to run, YYYY-MM-DD (inclusive).")],
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Rebuild incremental models from scratch on the first day only.")
    ] = False,
    ensure_demo_data: EnsureDemoData = False,
    late_days: LateDays = None,
    restatement_horizon: RestatementHorizon = None,
    quiet: Quiet = False,
    json_output: JsonOutput = False,
    wait: Wait = 0.0,
) -> None:
    """Run the pipeline for each day from --start to --end in order; stop at the first failure."""
    from kpiflow.orchestration.backfill import run_backfill
    from kpiflow.orchestration.console import print_json, show_progress
    from kpiflow.orchestration.execution import run_nightly_once

    settings = Settings.from_env()
    first, last = parse_date_option(start, "--start"), parse_date_option(end, "--end")
    options = RunOptions(
        ensure_demo_data=ensure_demo_data,
        wait_seconds=check_wait(wait),
        late_days=late_days,
        restatement_horizon=restatement_horizon,
    )
    runs: list[dict[str, Any]] = []

    def run_one(day: date) -> KpiflowError | None:
        if not quiet:
            _stderr().print(f"kpiflow backfill: {day}", highlight=False)
        request = replace(options, run_date=day, full_refresh=full_refresh and day == first)
        with show_progress(not quiet):
            outcome = run_nightly_once(settings, request)
        runs.append(_with_exit_code(outcome))
        return outcome.error

    result = run_backfill(first, last, run_one)
    if json_output:
        print_json(
            {
                "status": "completed" if result.ok else "failed",
                "completed": [str(day) for day in result.completed],
                "failed_date": str(result.failed_date) if result.failed_date else None,
                "resume_command": result.resume_command() or None,
                "runs": runs,
            }
        )
    if result.error is not None:
        raise type(result.error)(result.explain_failure())
    if not quiet and not json_output:
        _stderr().print(f"backfill completed: {len(result.completed)} days, {first}..{last}", highlight=False)


def rollback(wait: Wait = 0.0) -> None:
    """Publish the previous marts again (bad numbers were published); the current version is dropped."""
    import uuid

    from kpiflow.warehouse import warehouse_for

    warehouse = warehouse_for(Settings.from_env())
    run_id = f"rollback-{uuid.uuid4().hex}"
    with warehouse.run_lock(run_id=run_id, run_date="rollback", wait_seconds=check_wait(wait)):
        version = warehouse.rollback(run_id=run_id)
    _stderr().print(
        f"rolled back: {version.location} holds the previously published marts again (recorded as run {run_id} "
        "in kpiflow_state.runs)",
        highlight=False,
        soft_wrap=True,
    )


def deploy(
    cron: Cron = DEFAULT_CRON,
    timezone: Timezone = DEFAULT_TIMEZONE,
    name: DeploymentName = DEPLOYMENT_NAME,
    ensure_demo_data: EnsureDemoData = False,
    work_pool: Annotated[
        str | None, typer.Option("--work-pool", help="Run by a Prefect worker of this pool instead of `serve`.")
    ] = None,
) -> None:
    """Register the nightly deployment (default 02:00 Europe/Warsaw) with the Prefect API."""
    from rich.console import Console

    from kpiflow.orchestration.deployment import nightly_deployment
    from kpiflow.orchestration.prefect_env import configure_prefect

    settings = Settings.from_env()
    configure_prefect(settings)

    schedule = NightlySchedule(cron, timezone)
    deployment = nightly_deployment(schedule, name=name, ensure_demo_data=ensure_demo_data)
    try:
        deployment_id = deployment.apply(work_pool_name=work_pool)
    except Exception as exc:  # the API refused it (unknown work pool, no server at PREFECT_API_URL)
        pool = f" Create the pool first: prefect work-pool create {work_pool} --type process." if work_pool else ""
        raise RunFailed(f"could not register the deployment: {str(exc).strip().splitlines()[0]}.{pool}") from exc
    runner = f"a worker: prefect worker start --pool {work_pool}" if work_pool else "`kpiflow serve`"
    Console().print(
        f"Deployment kpiflow-nightly/{name} ({deployment_id}) runs '{schedule.cron}' in {schedule.timezone}. "
        f"Its runs are executed by {runner}.",
        highlight=False,
        soft_wrap=True,
    )


def serve(
    cron: Cron = DEFAULT_CRON,
    timezone: Timezone = DEFAULT_TIMEZONE,
    name: DeploymentName = DEPLOYMENT_NAME,
    ensure_demo_data: EnsureDemoData = False,
    port: Annotated[
        int, typer.Option("--port", help="Port of the local Prefect server (when PREFECT_API_URL is unset).")
    ] = 4200,
) -> None:
    """Serve the nightly deployment until stopped (Ctrl-C): runs fire on the schedule, one at a time."""
    from rich.console import Console

    from kpiflow.orchestration.deployment import nightly_deployment, prefect_api_server
    from kpiflow.orchestration.execution import ensure_nightly_runs_on
    from kpiflow.orchestration.prefect_env import configure_prefect

    settings = Settings.from_env()
    ensure_nightly_runs_on(settings, ensure_demo_data=ensure_demo_data, served=True)
    schedule = NightlySchedule(cron, timezone)
    configure_prefect(settings)

    with prefect_api_server(settings, port) as api_url:
        from prefect import serve as prefect_serve

        deployment = nightly_deployment(schedule, name=name, ensure_demo_data=ensure_demo_data)
        Console().print(
            f"Serving kpiflow-nightly/{name}: '{schedule.cron}' in {schedule.timezone}; Prefect API {api_url} "
            f"(UI at {api_url.removesuffix('/api')}). Stop with Ctrl-C.",
            highlight=False,
            soft_wrap=True,
        )
        prefect_serve(deployment, print_starting_message=False)


def check_wait(seconds: float) -> float:
    if seconds < 0:
        raise UserInputError(f"--wait must be 0 or more seconds, got {seconds:g}")
    return seconds


def _with_exit_code(outcome: RunOutcome) -> dict[str, Any]:
    return {**outcome.result, "exit_code": outcome.error.exit_code if outcome.error else 0}


def _stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True)
