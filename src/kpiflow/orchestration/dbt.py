"""Run `dbt build` in-process and turn its result into a summary or an error a person can act on.

In-process (dbtRunner) rather than a subprocess: the node results come back as objects, and the two
seconds of dbt import are paid once per process, not once per run. The cost is that dbt-duckdb keeps
its DuckDB connection open between invocations (`keep_open`); `_release_warehouse` closes it so that
a long-running `kpiflow serve` does not hold the warehouse file between nightly runs.

On Spark (dbt-spark's `session` method) dbt runs in kpiflow's own Spark session (`shared_spark_env`): the embedded
Derby metastore admits one process, and one JVM holds one SparkContext.

`dbt build` runs seeds, models and tests in DAG order, so one invocation replaces `dbt seed` +
`dbt run` + `dbt test`, and a failed test stops everything downstream of it from being built.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from kpiflow.config import Settings
from kpiflow.errors import RunFailed
from kpiflow.orchestration.transient import TransientRunError, mentions_lock_conflict
from kpiflow.warehouse import Warehouse
from kpiflow.warehouse.spark_session import SPARK_DIR_VARIABLE

RUN_DATE_ENV = "KPIFLOW_RUN_DATE"  # models may read it with env_var('KPIFLOW_RUN_DATE')
FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})
_MESSAGE_LINES = 6


@dataclass(frozen=True)
class NodeResult:
    """One dbt node's outcome, with the files a person opens to investigate it."""

    unique_id: str
    resource_type: str
    status: str
    message: str
    source_path: str
    compiled_path: str | None
    seconds: float

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES

    def describe(self) -> str:
        first_lines = "\n      ".join(self.message.strip().splitlines()[:_MESSAGE_LINES]) or "(no message)"
        where = f" ({self.source_path})" if self.source_path else ""
        compiled = f"\n    compiled SQL: {self.compiled_path}" if self.compiled_path else ""
        return f"{self.resource_type} {self.unique_id}{where}: {self.status}\n      {first_lines}{compiled}"


@dataclass(frozen=True)
class DbtBuildSummary:
    """A successful build: every node passed (warnings allowed)."""

    nodes: tuple[NodeResult, ...]
    log_path: Path
    seconds: float
    mode: str = ""  # "full rebuild (...)" or "incremental from D (...)", when the caller planned it

    def count(self, resource_type: str) -> int:
        return sum(1 for node in self.nodes if node.resource_type == resource_type)

    @property
    def tests_passed(self) -> int:
        return sum(1 for node in self.nodes if node.resource_type in {"test", "unit_test"} and node.status == "pass")

    def headline(self) -> str:
        return (
            f"{self.count('model')} models, {self.count('seed')} seeds, {self.tests_passed} tests passed "
            f"in {self.seconds:.1f} s" + (f"; {self.mode}" if self.mode else "")
        )


@dataclass(frozen=True)
class DbtPaths:
    """dbt's target and log folders, per warehouse, so parallel projects and tests never share them."""

    target_dir: Path
    log_dir: Path

    @classmethod
    def for_settings(cls, settings: Settings) -> DbtPaths:
        return cls(target_dir=settings.state_dir / "dbt" / "target", log_dir=settings.state_dir / "dbt" / "logs")

    @property
    def log_file(self) -> Path:
        return self.log_dir / "dbt.log"


def build_args(
    settings: Settings, *, full_refresh: bool, select: str | None = None, exclude: str | None = None
) -> list[str]:
    """The `dbt build` command line. No --vars: a var that changes every night (the run date) would make dbt
    re-parse the whole project every night; the run date reaches models as env KPIFLOW_RUN_DATE instead."""
    paths = DbtPaths.for_settings(settings)
    args = [
        "build",
        "--project-dir", str(settings.project_dir),
        "--profiles-dir", str(settings.profiles_dir),
        "--target", settings.target,
        "--target-path", str(paths.target_dir),
        "--log-path", str(paths.log_dir),
        "--log-level", "none",
        "--log-level-file", "info",
    ]  # fmt: skip
    if full_refresh:
        args.append("--full-refresh")
    if select:
        args += ["--select", select]
    if exclude:
        args += ["--exclude", exclude]
    return args


def dbt_build(
    settings: Settings,
    *,
    run_date: date,
    full_refresh: bool = False,
    select: str | None = None,
    exclude: str | None = None,
    on_node: Callable[[NodeResult], None] | None = None,
    warehouse: Warehouse | None = None,
) -> DbtBuildSummary:
    """Build and test the project into the warehouse; raise RunFailed naming the failing nodes. `warehouse`: the
    run's warehouse, whose Spark session (on a spark target) dbt must share (`shared_spark_env`)."""
    from dbt.cli.main import dbtRunner

    paths = DbtPaths.for_settings(settings)
    started = time.perf_counter()
    callbacks = [_node_callback(on_node)] if on_node else []
    env = settings.dbt_env() | {RUN_DATE_ENV: run_date.isoformat()} | shared_spark_env(warehouse)
    with _environment(env):
        try:
            outcome = dbtRunner(callbacks=callbacks).invoke(
                build_args(settings, full_refresh=full_refresh, select=select, exclude=exclude)
            )
        finally:
            _release_warehouse()
    seconds = time.perf_counter() - started
    if outcome.exception is not None or outcome.result is None:
        _raise_for_text(f"dbt build could not run: {outcome.exception or 'no result'}", paths.log_file)
    nodes = tuple(_node_result(raw) for raw in getattr(outcome.result, "results", ()))
    failures = [node for node in nodes if node.failed]
    if failures or not outcome.success:
        skipped = sum(1 for node in nodes if node.status == "skipped")
        listed = "\n".join(f"  - {node.describe()}" for node in failures) or "  - (dbt reported failure)"
        _raise_for_text(
            f"dbt build failed: {len(failures)} of {len(nodes)} nodes failed, {skipped} skipped downstream; "
            f"nothing was published:\n{listed}",
            paths.log_file,
        )
    return DbtBuildSummary(nodes=nodes, log_path=paths.log_file, seconds=seconds)


def shared_spark_env(warehouse: Warehouse | None) -> dict[str, str]:
    """On Spark, start the process's Spark session on the warehouse's directory (if not yet) and point dbt's profile
    at that directory: dbt-spark's `session` method calls SparkSession.builder.getOrCreate() for every statement,
    which returns the running session, so dbt and kpiflow share one session and one Derby metastore (which admits
    one process). The profile's settings are kpiflow's (`spark_session.spark_conf`; test_spark_profile.py). Nothing
    for other engines."""
    from kpiflow.warehouse.spark import SparkWarehouse

    if not isinstance(warehouse, SparkWarehouse):
        return {}
    warehouse.spark()
    return {SPARK_DIR_VARIABLE: str(warehouse.directory.resolve())}


def _raise_for_text(text: str, log_file: Path) -> None:
    message = f"{text}\nFull dbt log: {log_file}"
    if mentions_lock_conflict(text):
        raise TransientRunError(message + "\nAnother process holds the warehouse file; the run will retry.")
    raise RunFailed(message)


def _node_result(raw: Any) -> NodeResult:
    node = raw.node
    return NodeResult(
        unique_id=str(node.unique_id),
        resource_type=str(node.resource_type),
        status=str(raw.status),
        message=str(raw.message or ""),
        source_path=str(getattr(node, "original_file_path", "") or ""),
        compiled_path=getattr(node, "compiled_path", None),
        seconds=float(getattr(raw, "execution_time", 0.0) or 0.0),
    )


def _node_callback(on_node: Callable[[NodeResult], None]) -> Callable[[Any], None]:
    """Adapt dbt's event stream to one call per finished node (for progress and run logs)."""

    def handle(event: Any) -> None:
        if event.info.name != "NodeFinished":
            return
        info, result = event.data.node_info, event.data.run_result
        on_node(
            NodeResult(
                unique_id=info.unique_id,
                resource_type=info.resource_type,
                status=str(result.status),
                message=str(result.message or ""),
                source_path=info.node_path,
                compiled_path=None,
                seconds=float(result.execution_time or 0.0),
            )
        )

    return handle


@contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    """dbt reads env_var() from os.environ; set the run's values for the invocation and put them back."""
    changed = {key: os.environ.get(key) for key, value in env.items() if os.environ.get(key) != value}
    os.environ.update({key: env[key] for key in changed})
    try:
        yield
    finally:
        for key, previous in changed.items():
            if previous is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = previous


def _release_warehouse() -> None:
    """Close dbt-duckdb's cached connection: the warehouse file is then free for later stages and tools."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # another adapter (a real warehouse target): nothing held locally
        return
    environment = getattr(DuckDBConnectionManager, "_ENV", None)
    if environment is not None:
        environment.close()
    DuckDBConnectionManager.close_all_connections()
