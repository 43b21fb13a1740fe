"""Stand-in stages that do real, small work on a real DuckDB warehouse, without dbt, GE or the demo data.

`Stages(...).installed()` puts them in place of the functions of kpiflow.orchestration.stages that the flow's
tasks call (a field left None keeps the real one). They let the flow, write-audit-publish and the CLI be tested on
their own: land writes raw orders, check rejects negative quantities on the run date, build writes
`marts.kpi_values` / `kpi_catalog` from them (so every run date publishes different checksums), scorecards writes
`payroll.payouts`.
Used by conftest.py and by standin_cli.py (a `kpiflow` driver for subprocess tests).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb

from kpiflow.orchestration import stages as real
from kpiflow.orchestration.dbt import DbtBuildSummary
from kpiflow.orchestration.pipeline import (
    CompileSummary,
    GateOutcome,
    LandingSummary,
    RunContext,
    ScorecardSummary,
)

HISTORY_DAYS = 70
Stage = Callable[[RunContext], object]


@dataclass(frozen=True)
class Stages:
    """Replacements for the stage functions the flow's tasks call; None keeps the real one."""

    land: Stage | None = None
    check: Stage | None = None
    compile: Stage | None = None
    build: Stage | None = None
    scorecards: Stage | None = None

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Patch kpiflow.orchestration.stages for the body (the flow looks its functions up at call time)."""
        names = {
            "land_or_verify_inputs": self.land,
            "check_inputs": self.check,
            "compile_metrics": self.compile,
            "build_models": self.build,
            "build_scorecards": self.scorecards,
        }
        originals = {name: getattr(real, name) for name in names}
        try:
            for name, stage in names.items():
                if stage is not None:
                    setattr(real, name, stage)
            yield
        finally:
            for name, original in originals.items():
                setattr(real, name, original)


BAD_DATES_ENV = "KPIFLOW_TEST_BAD_DATES"
BUILD_MARKER_ENV = "KPIFLOW_TEST_BUILD_MARKER"
BUILD_SLEEP_ENV = "KPIFLOW_TEST_BUILD_SLEEP"


def land(ctx: RunContext, bad_dates: frozenset[date] = frozenset()) -> LandingSummary:
    """Orders for the HISTORY_DAYS before the run date (idempotent); a bad date gets a negative quantity."""
    path = ctx.settings.warehouse_path
    path.parent.mkdir(parents=True, exist_ok=True)
    first = ctx.run_date - timedelta(days=HISTORY_DAYS)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists raw")
        con.execute(
            "create table if not exists raw.orders (order_date date, order_id integer, quantity integer,"
            " unit_price decimal(12, 2))"
        )
        con.execute("delete from raw.orders where order_date between ? and ?", [first, ctx.run_date])
        con.execute(
            """
            insert into raw.orders
            select d::date, (extract(doy from d) * 10 + k)::integer, 1 + (k % 3),
                   (10 + extract(day from d) + k)::decimal(12, 2)
            from range(?::timestamp, ?::timestamp + interval 1 day, interval 1 day) as t(d),
                 range(5) as n(k)
            """,
            [first, ctx.run_date],
        )
        if ctx.run_date in bad_dates:
            con.execute("insert into raw.orders values (?, -1, -3, 10)", [ctx.run_date])
    return LandingSummary(path, False, ctx.run_date, "stand-in orders")


def check(ctx: RunContext) -> GateOutcome:
    with duckdb.connect(str(ctx.settings.warehouse_path), read_only=True) as con:
        bad = con.execute(
            "select count(*) from raw.orders where quantity < 0 and order_date = ?", [ctx.run_date]
        ).fetchone()[0]
    if bad:
        return GateOutcome(False, f"raw.orders: {bad} row(s) with quantity < 0 on {ctx.run_date}")
    return GateOutcome(True, "1 expectation passed")


def compile_metrics(ctx: RunContext) -> CompileSummary:
    return CompileSummary(model_count=2, note="stand-in")


def build(ctx: RunContext) -> DbtBuildSummary:
    """The 'write' of WAP: marts computed from raw orders up to the run date (the real one is dbt)."""
    marker = os.environ.get(BUILD_MARKER_ENV)
    if marker:
        Path(marker).write_text(str(os.getpid()))
    time.sleep(float(os.environ.get(BUILD_SLEEP_ENV, "0")))
    with duckdb.connect(str(ctx.settings.warehouse_path)) as con:
        con.execute("create schema if not exists marts")
        con.execute(
            """
            create or replace table marts.kpi_values as
            with orders as (select * from raw.orders where order_date <= $run_date and quantity > 0),
            by_grain as (
                select 'day' as grain, order_date as period_start, quantity * unit_price as amount, order_id
                from orders
                union all
                select 'month', date_trunc('month', order_date)::date, quantity * unit_price, order_id from orders
            )
            select 'net_revenue' as kpi, grain, period_start, 'overall' as dimension_set,
                   sum(amount)::double as value, false as is_suppressed
            from by_grain group by grain, period_start
            union all
            select 'order_count', grain, period_start, 'overall', count(distinct order_id)::double, false
            from by_grain group by grain, period_start
            """,
            {"run_date": ctx.run_date},
        )
        con.execute(
            """
            create or replace table marts.kpi_catalog as
            select * from (values ('net_revenue', 'Net revenue', 'currency'),
                                  ('order_count', 'Orders', 'count')) as c(kpi, label, unit)
            """
        )
    return DbtBuildSummary(nodes=(), log_path=ctx.settings.state_dir / "dbt.log", seconds=0.0)


def scorecards(ctx: RunContext) -> ScorecardSummary:
    with duckdb.connect(str(ctx.settings.warehouse_path)) as con:
        con.execute("create schema if not exists payroll")
        con.execute(
            "create or replace table payroll.payouts as select 'E1' as employee_id, $run_date as run_date, "
            "(select sum(value) from marts.kpi_values where kpi = 'net_revenue' and grain = 'day') / 1000 "
            "as bonus",
            {"run_date": ctx.run_date},
        )
    return ScorecardSummary("1 payout")


def standin_stages(bad_dates: frozenset[date] = frozenset()) -> Stages:
    return Stages(
        land=lambda ctx: land(ctx, bad_dates),
        check=check,
        compile=compile_metrics,
        build=build,
        scorecards=scorecards,
    )


def stages_from_env() -> Stages:
    """For subprocess drivers: bad dates from KPIFLOW_TEST_BAD_DATES (comma-separated ISO dates)."""
    raw = os.environ.get(BAD_DATES_ENV, "")
    return standin_stages(frozenset(date.fromisoformat(d) for d in raw.split(",") if d))


@dataclass
class ScriptedStage:
    """A stage that raises the scripted errors on its first calls, then does the real stand-in work."""

    work: Callable[[RunContext], object]
    errors: list[BaseException] = field(default_factory=list)
    calls: int = 0

    def __call__(self, ctx: RunContext) -> object:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.work(ctx)
