"""Damage the gate must refuse before anything is built: `kpiflow run` on a demo warehouse with the real landing
check and input gate, and a small stand-in build that publishes net revenue by day from the raw order lines (so
a price of 9,999,999,999.99 or a missing day would show in the published marts if the gate let it through).

Each story: a clean run publishes (no false positive over the December/January boundary), the warehouse is
damaged, the next run fails in `check_inputs` naming table, column and day, and the published file is byte for
byte what it was.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date

import duckdb
import pytest
from orchestration_helpers import CliResult, Warehouse
from orchestration_standins import Stages, standin_stages

from kpiflow.orchestration.dbt import DbtBuildSummary
from kpiflow.orchestration.pipeline import RunContext

# the gate runs through Prefect: a minute or two each
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]

DEMO_START, CLEAN_DAY, RUN_DAY = date(2025, 9, 1), date(2026, 1, 4), date(2026, 1, 5)
MISSING_DAY = date(2025, 12, 30)
Cli = Callable[..., CliResult]


def revenue_build(ctx: RunContext) -> DbtBuildSummary:
    """marts.kpi_values: net revenue and orders by day and month, from raw orders and lines through the run date."""
    with duckdb.connect(str(ctx.settings.warehouse_path)) as con:
        con.execute("create schema if not exists marts")
        con.execute(
            """
            create or replace table marts.kpi_values as
            with lines as (
                select cast(o.order_ts as date) as order_date, o.order_id,
                       l.quantity * l.unit_price - l.discount_amount as amount
                from raw.orders as o join raw.order_lines as l on l.order_id = o.order_id
                where cast(o.order_ts as date) <= $run_date
            ),
            by_grain as (
                select 'day' as grain, order_date as period_start, amount, order_id from lines
                union all
                select 'month', cast(date_trunc('month', order_date) as date), amount, order_id from lines
            )
            select 'net_revenue' as kpi, grain, period_start, 'overall' as dimension_set,
                   cast(sum(amount) as double) as value, false as is_suppressed
            from by_grain group by grain, period_start
            union all
            select 'order_count', grain, period_start, 'overall', cast(count(distinct order_id) as double), false
            from by_grain group by grain, period_start
            """,
            {"run_date": ctx.run_date},
        )
        con.execute(
            "create or replace table marts.kpi_catalog as select * from (values ('net_revenue', 'Net revenue', "
            "'currency'), ('order_count', 'Orders', 'count')) as c(kpi, label, unit)"
        )
    return DbtBuildSummary(nodes=(), log_path=ctx.settings.state_dir / "dbt.log", seconds=0.0)


def demo_stages() -> Stages:
    """The real landing check and gate; stand-ins for compile, build and scorecards (no dbt: seconds, not minutes)."""
    return dataclasses.replace(standin_stages(), land=None, check=None, build=revenue_build)  # None: the real one


@pytest.fixture
def published_demo(warehouse: Warehouse, kpiflow_cli: Cli) -> bytes:
    """The marts a clean run for CLEAN_DAY published (their bytes), then RUN_DAY's demo data landed."""
    from kpiflow.demo import append_demo_days, generate_demo_warehouse

    path = warehouse.settings.warehouse_path
    generate_demo_warehouse(path, scale=0.02, start=DEMO_START, end=CLEAN_DAY)
    clean = kpiflow_cli("run", "--date", str(CLEAN_DAY), stages=demo_stages())
    assert clean.returncode == 0, clean.stdout + clean.stderr  # no false positive: the gate judged Dec 8..Jan 4
    append_demo_days(path, RUN_DAY)
    return warehouse.published_bytes()


def _run_damaged(warehouse: Warehouse, kpiflow_cli: Cli, *statements: str) -> CliResult:
    with duckdb.connect(str(warehouse.settings.warehouse_path)) as con:
        for statement in statements:
            con.execute(statement)
    done = kpiflow_cli("run", "--date", str(RUN_DAY), stages=demo_stages())
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"input checks failed for {RUN_DAY}; nothing was built or published" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    return done


def test_a_line_priced_9_999_999_999_99_is_refused_and_nothing_is_published(
    warehouse: Warehouse, kpiflow_cli: Cli, published_demo: bytes
) -> None:
    done = _run_damaged(
        warehouse,
        kpiflow_cli,
        "update raw.order_lines set unit_price = 9999999999.99 where line_no = 1 and order_id = "
        f"(select min(order_id) from raw.orders where cast(order_ts as date) = date '{RUN_DAY}')",
    )
    assert "FAIL order_lines.unit_price.plausible [order_lines.unit_price, 1 failing row(s)]" in done.stderr
    assert "(unit_price=9999999999.99)" in done.stderr and "have unit_price outside [" in done.stderr
    assert warehouse.published_bytes() == published_demo


def test_a_missing_day_before_the_run_date_is_refused_and_nothing_is_published(
    warehouse: Warehouse, kpiflow_cli: Cli, published_demo: bytes
) -> None:
    day_orders = f"(select order_id from raw.orders where cast(order_ts as date) = date '{MISSING_DAY}')"
    done = _run_damaged(
        warehouse,
        kpiflow_cli,
        f"delete from raw.returns where order_id in {day_orders}",
        f"delete from raw.order_lines where order_id in {day_orders}",
        f"update raw.crm_leads set won_order_id = null where won_order_id in {day_orders}",
        f"delete from raw.orders where order_id in {day_orders}",
    )
    assert "FAIL orders.volume [orders.order_ts]" in done.stderr
    assert f"({MISSING_DAY}: 0 row(s) vs " in done.stderr
    assert warehouse.published_bytes() == published_demo


def test_a_renamed_column_a_model_reads_is_refused_by_name_and_nothing_is_published(
    warehouse: Warehouse, kpiflow_cli: Cli, published_demo: bytes
) -> None:
    done = _run_damaged(warehouse, kpiflow_cli, "alter table raw.order_lines rename column discount_amount to discount")
    assert (
        "FAIL order_lines.schema [order_lines]: raw.order_lines lacks column(s) discount_amount "
        "(found instead: discount)" in done.stderr
    )
    assert "ProgrammingError" not in done.stderr and "the run failed unexpectedly" not in done.stderr
    assert (warehouse.settings.state_dir / "quality" / f"{RUN_DAY}.json").is_file()
    assert warehouse.published_bytes() == published_demo
