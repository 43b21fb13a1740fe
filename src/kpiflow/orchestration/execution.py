"""Run the nightly flow once on the local (ephemeral) Prefect API and turn its final state into an outcome.

The CLI's `run` and `backfill` share this: a failed flow becomes a KpiflowError with the exit code the
user expects (1 run failed, 2 bad input), never a traceback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from kpiflow.config import Settings
from kpiflow.errors import KpiflowError, RunFailed, UserInputError
from kpiflow.orchestration.journal import read_last_run
from kpiflow.orchestration.pipeline import RunOptions
from kpiflow.orchestration.prefect_env import configure_prefect


@dataclass(frozen=True)
class RunOutcome:
    """A finished run: the machine-readable result, and the error when it failed."""

    result: dict[str, Any]
    error: KpiflowError | None = None


NIGHTLY_DIALECTS = ("duckdb", "postgres", "spark")  # the engines the whole nightly is wired and tested on
SERVED_DIALECTS = ("duckdb", "postgres")  # the engines `kpiflow serve` is tested on


def ensure_nightly_runs_on(settings: Settings, *, ensure_demo_data: bool = False, served: bool = False) -> None:
    """Refuse a target the nightly is not wired to before anything runs, rather than check and build there and stop
    at publish (docs/operations.md, 'Warehouse interface'); --ensure-demo-data, which creates and extends a DuckDB
    demo file, on any other engine; and `kpiflow serve` (`served`) on Spark."""
    from kpiflow.compiler.dialects import target_dialect

    dialect = target_dialect(settings)
    if ensure_demo_data and dialect != "duckdb":
        raise UserInputError(
            f"--ensure-demo-data creates and extends a DuckDB demo file; KPIFLOW_TARGET={settings.target} is a "
            f"{dialect} target. Load the demo there with `kpiflow demo-data` (and land new days with "
            "`kpiflow demo-data --append-through DAY`), then run without --ensure-demo-data (docs/postgres.md)."
        )
    if dialect not in NIGHTLY_DIALECTS:
        raise UserInputError(
            f"KPIFLOW_TARGET={settings.target} is a {dialect} target: the nightly run (kpiflow run, backfill, serve) "
            f"runs on {', '.join(NIGHTLY_DIALECTS)} warehouses only, not on {dialect} yet; see docs/operations.md "
            "('Warehouse interface'). Run with a duckdb target (the default, KPIFLOW_TARGET=dev) or a postgres one "
            "(docs/postgres.md)."
        )
    if dialect == "spark":
        from kpiflow.warehouse import warehouse_for

        warehouse_for(settings)  # a spark target that is not Spark in this process is refused here, by name
    if served and dialect not in SERVED_DIALECTS:
        raise UserInputError(
            f"KPIFLOW_TARGET={settings.target} is a {dialect} target: `kpiflow serve` is not supported on {dialect} "
            "yet (Prefect's runner starts each nightly in a process of its own, which on Spark local means a new JVM "
            "and Derby metastore per night, untested). Schedule `kpiflow run` instead (cron or a Prefect worker: "
            "one process per night, as Spark's embedded metastore needs); see docs/spark.md."
        )


def run_nightly_once(settings: Settings, request: RunOptions) -> RunOutcome:
    """Run the flow in this process; the flow run is recorded by Prefect's local API."""
    ensure_nightly_runs_on(settings, ensure_demo_data=request.ensure_demo_data)
    configure_prefect(settings)
    from kpiflow.orchestration.flow import nightly

    try:
        state = nightly(request, return_state=True)
    except SystemExit as exc:  # a library exited inside a stage: a failed run, whatever its exit code said
        raise RunFailed(_exited(settings, exc)) from exc
    except Exception as exc:  # Prefect itself failed (its API did not start): the flow never ran
        raise RunFailed(
            f"Prefect could not run the flow: {type(exc).__name__}: {str(exc).strip().splitlines()[0]}\n"
            f"Prefect keeps its state in PREFECT_HOME={os.environ.get('PREFECT_HOME')}; check that it is "
            "writable, or point PREFECT_API_URL at a running Prefect server."
        ) from exc
    flow_run_id = str(state.state_details.flow_run_id)
    if state.is_completed():
        return RunOutcome(result=state.result())
    raised = state.result(raise_on_failure=False)
    error = as_user_error(raised, flow_run_id, settings)
    return RunOutcome(result=_failure_result(settings, flow_run_id, request, error), error=error)


def _exited(settings: Settings, exc: SystemExit) -> str:
    """pyspark calls sys.exit(0) when it takes the process for its doctest runner (a `python -c` main module); Prefect
    marks the stage failed and re-raises, and exit code 0 would tell cron the night was published."""
    journal = read_last_run(settings.state_dir) or {}
    stage = journal.get("failed_stage") if journal.get("status") == "failed" else None
    return f"the run failed: {stage or 'a stage'} called sys.exit({exc.code!r}); the stages after it did not run"


def as_user_error(raised: object, flow_run_id: str, settings: Settings) -> KpiflowError:
    """Keep kpiflow's own errors; wrap anything else with where to find the details."""
    if isinstance(raised, KpiflowError):
        return raised
    detail = f"{type(raised).__name__}: {raised}" if isinstance(raised, BaseException) else str(raised)
    return RunFailed(
        f"the run failed unexpectedly: {detail}\n"
        f"The traceback is in Prefect's log of flow run {flow_run_id}: "
        f"PREFECT_HOME={os.environ.get('PREFECT_HOME', settings.state_dir / 'prefect')} "
        f"prefect flow-run logs {flow_run_id}"
    )


def _failure_result(settings: Settings, flow_run_id: str, request: RunOptions, error: KpiflowError) -> dict[str, Any]:
    """The journal of the failed run when it got that far (it names the failed stage), else a minimal record."""
    journal = read_last_run(settings.state_dir)
    if journal and journal.get("run_id") == flow_run_id:
        return {**journal, "error": str(error)}
    return {
        "run_id": flow_run_id,
        "run_date": request.run_date.isoformat() if request.run_date else None,
        "status": "failed",
        "failed_stage": None,
        "error": str(error),
        "stages": [],
    }
