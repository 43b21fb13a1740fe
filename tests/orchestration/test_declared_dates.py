"""A column declared `data_type: date` that the build filled with timestamps fails the run before anything is
published (orchestration/declared_dates.py): `kpiflow compile` reads such a column uncast (compiler/known_dates.py),
so times of day would otherwise split its KPIs by timestamp without a word.

The fast tests use the compiler's test project (tests/compiler/project: `int_sales.sold_on`, `int_inventory.
snapshot_date` and the spine's `date_day` are declared DATEs) over its DuckDB tables, and the nightly flow with
stand-in stages whose build ends with the real check; the slow one runs the real pipeline on the demo."""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import pytest
from compiler_tables import FIXTURE_SQL, PROJECT, sales_at_times_of_day
from orchestration_helpers import RUN_DATE, CliResult, Warehouse, read_flow_run_record
from orchestration_standins import Stages, build

from kpiflow.compiler.dbt_models import load_dbt_models
from kpiflow.compiler.known_dates import declared_date_columns
from kpiflow.compiler.validate import load_graph
from kpiflow.config import Settings
from kpiflow.errors import RunFailed
from kpiflow.orchestration.declared_dates import check_declared_dates
from kpiflow.orchestration.pipeline import RunContext
from kpiflow.warehouse import warehouse_for

MODELS_YAML = Path("models") / "intermediate" / "_models.yml"
FIX = "declare data_type: timestamp (kpiflow compile then casts it to its day) or build the column as a DATE"


@pytest.fixture
def built(tmp_path: Path) -> Settings:
    """The compiler's test project (a copy) and a DuckDB warehouse holding its built tables, all declared DATEs days."""
    project = tmp_path / "project"
    shutil.copytree(PROJECT, project)
    settings = Settings(
        project_dir=project,
        warehouse_path=tmp_path / "warehouse" / "kpiflow.duckdb",
        marts_path=tmp_path / "warehouse" / "marts.duckdb",
        target="dev",
    )
    settings.warehouse_path.parent.mkdir(parents=True)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute(FIXTURE_SQL)
    return settings


def _run_sql(settings: Settings, sql: str) -> None:
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute(sql)


def test_the_declared_dates_are_the_columns_compile_reads_uncast() -> None:
    graph = load_graph(PROJECT)
    found = [(d.model.name, d.column) for d in declared_date_columns(graph)]
    # int_inventory.snapshot_date is the balance's non_additive time dimension
    assert found == [
        ("int_inventory", "snapshot_date"),
        ("int_sales", "sold_on"),
        ("metricflow_time_spine", "date_day"),
    ]
    sold_on = load_dbt_models(PROJECT)["int_sales"].declared_at("sold_on")
    assert sold_on == f"{PROJECT / MODELS_YAML}:9"


def test_columns_holding_days_pass(built: Settings) -> None:
    assert check_declared_dates(built, warehouse_for(built), None) == 3
    _run_sql(built, "create or replace table intermediate.int_sales as "
                    "select * replace (cast(sold_on as timestamp) as sold_on) from intermediate.int_sales")  # fmt: skip
    assert check_declared_dates(built, warehouse_for(built), None) == 3  # midnight timestamps are their own days


def test_timestamps_with_times_of_day_fail_naming_the_column_its_declaration_and_a_value(built: Settings) -> None:
    _run_sql(built, sales_at_times_of_day())
    with pytest.raises(RunFailed) as failed:
        check_declared_dates(built, warehouse_for(built), None)
    message = str(failed.value)
    assert "intermediate.int_sales.sold_on, declared data_type: date at " in message
    assert f"{built.project_dir / MODELS_YAML}:9" in message
    assert "holds 8 value(s) that are not days (e.g. 2024-01-05 00:15:00)" in message
    assert "nothing was published" in message
    assert FIX[1:] in message


def test_an_incremental_run_checks_its_window_only(built: Settings) -> None:
    _run_sql(built, sales_at_times_of_day(until=date(2025, 2, 14)))  # before the window: times of day; from it on: days
    assert check_declared_dates(built, warehouse_for(built), date(2025, 2, 14)) == 3
    one_from_window = r"holds 1 value\(s\) from 2025-01-07 on that are not days \(e\.g\. 2025-01-07 23:59"
    with pytest.raises(RunFailed, match=one_from_window):
        check_declared_dates(built, warehouse_for(built), date(2025, 1, 7))


def test_a_column_that_cannot_be_compared_with_its_day_fails_as_clearly(built: Settings) -> None:
    _run_sql(built, "create or replace table intermediate.int_sales as "
                    "select * replace ('day ' || line_id as sold_on) from intermediate.int_sales")  # fmt: skip
    with pytest.raises(RunFailed) as failed:
        check_declared_dates(built, warehouse_for(built), None)
    message = str(failed.value)
    assert "intermediate.int_sales.sold_on, declared data_type: date at " in message
    assert "cannot be compared with its day in the built warehouse" in message
    assert FIX in message


@pytest.mark.usefixtures("prefect_api")
def test_the_flow_fails_in_the_build_and_publishes_nothing(
    warehouse: Warehouse, stages: Stages, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The stand-in build also writes the compiler project's tables and ends, like the real build stage, with the
    check: a good night publishes; a night whose sold_on holds times of day fails in `build` and publishes nothing."""
    from kpiflow.orchestration.flow import nightly
    from kpiflow.orchestration.pipeline import RunOptions

    project = tmp_path / "compiler-project"
    shutil.copytree(PROJECT, project)
    monkeypatch.setenv("KPIFLOW_PROJECT_DIR", str(project))

    def build_then_check(ctx: RunContext, extra_sql: str = "") -> object:
        summary = build(ctx)
        _run_sql(ctx.settings, f"drop schema if exists intermediate cascade; {FIXTURE_SQL} {extra_sql}")
        check_declared_dates(ctx.settings, warehouse_for(ctx.settings), None)
        return summary

    def run(extra_sql: str) -> object:
        night = dataclasses.replace(stages, build=lambda ctx: build_then_check(ctx, extra_sql))
        with night.installed():
            return nightly(RunOptions(run_date=RUN_DATE), return_state=True)

    assert run("").is_completed()
    before, before_bytes = warehouse.published(), warehouse.published_bytes()
    state = run(sales_at_times_of_day())
    assert state.is_failed()
    assert "intermediate.int_sales.sold_on, declared data_type: date" in str(state.message) + repr(
        state.result(raise_on_failure=False)
    )
    record = read_flow_run_record(state.state_details.flow_run_id)
    assert record.task_states["build"] == "Failed"
    assert "publish" not in record.task_states
    assert warehouse.published() == before
    assert warehouse.published_bytes() == before_bytes


@pytest.mark.slow  # a full dbt build of the demo: a minute or two
@pytest.mark.usefixtures("prefect_api")
def test_real_run_fails_when_a_declared_date_holds_sales_at_times_of_day(
    kpiflow_cli: Callable[..., CliResult], demo_in_project_copy: Callable[..., Settings]
) -> None:
    """The demo's int_store_traffic built with traffic_date at 09:00: `kpiflow run` fails and publishes no marts."""
    settings = demo_in_project_copy(date(2025, 11, 1), date(2025, 12, 31), scale=0.02)
    project = Settings.from_env().project_dir  # the copy (settings.project_dir is the repository's)
    assert project != settings.project_dir
    model = project / "models" / "intermediate" / "int_store_traffic.sql"
    text = model.read_text(encoding="utf-8")
    assert "    traffic_date,\n" in text
    model.write_text(text.replace("    traffic_date,\n", "    traffic_date + interval 9 hour as traffic_date,\n"))

    done = kpiflow_cli("run", "--date", "2025-12-31", "--json", "--quiet", stages=Stages())
    assert done.returncode == 1, done.stdout[-3000:]
    result = json.loads(done.stdout)
    assert (result["status"], result["failed_stage"]) == ("failed", "build")
    error = result["error"]
    assert "intermediate.int_store_traffic.traffic_date, declared data_type: date at " in error
    assert f"{project / 'models' / 'intermediate' / '_intermediate.yml'}:102" in error
    assert " 09:00:00)" in error and FIX[1:] in error, error
    assert not settings.marts_path.exists()  # nothing published
