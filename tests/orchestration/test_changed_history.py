"""Incremental builds forget nothing: raw data changed the way real feeds change it, night after night, and after each
night every table of the intermediate, kpi and marts schemas equals a full rebuild of the same data, row for row.

The nights: (a) a whole day inside the window is deleted upstream; (b) a day's orders move to the next day; (d) an
order of a day before the window is removed and an old line repriced (their days' fingerprints change: the days are
restated and rebuilt); (c) an employee transfers mid-month, an assignment is back-dated and a termination date is
corrected two months back (all before the window: validity rows restate from the first day they affect). (c) comes
last: the demo generator's next appended day may rewrite HR rows, which restates them again. Then: NULL store ids
on old orders fail the input gate; a change beyond the restatement horizon fails the build and asks for
--full-refresh.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from incremental_helpers import LATE_DAYS, append_night, build_night, demo_project, differences

from kpiflow.config import Settings
from kpiflow.errors import RunFailed
from kpiflow.orchestration.pipeline import RunContext, RunOptions
from kpiflow.orchestration.stages import check_inputs

pytestmark = pytest.mark.slow  # nine dbt builds: minutes

DEMO_START, FIRST_NIGHT = date(2025, 7, 1), date(2025, 10, 20)  # history reaches beyond the 90-day horizon


@dataclass(frozen=True)
class Night:
    run_date: date
    mode: str
    differences: dict[str, tuple[int, int]]


def _sql(settings: Settings, *statements: tuple[str, list]) -> None:
    with duckdb.connect(str(settings.warehouse_path)) as con:
        for statement, params in statements:
            con.execute(statement, params)


def _one(settings: Settings, query: str, params: list) -> tuple:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        row = con.execute(query, params).fetchone()
    assert row is not None, query
    return row


def _delete_day(settings: Settings, day: date) -> None:
    """(a) A day voided upstream: its orders, their lines and returns are gone."""
    orders = "select order_id from raw.orders where cast(order_ts as date) = ?"
    _sql(
        settings,
        (f"update raw.crm_leads set won_order_id = null where won_order_id in ({orders})", [day]),
        (f"delete from raw.returns where order_id in ({orders})", [day]),
        (f"delete from raw.order_lines where order_id in ({orders})", [day]),
        (f"delete from raw.orders where order_id in ({orders})", [day]),
    )


def _move_day(settings: Settings, day: date) -> None:
    """(b) A time-zone slip in the feed: the day's orders are re-stamped onto the next day."""
    moved = "update raw.orders set order_ts = order_ts + interval 1 day where cast(order_ts as date) = ?"
    _sql(settings, (moved, [day]))


def _change_validity_rows(settings: Settings, run_date: date) -> date:
    """(c) Three corrections before the window; returns the first day they affect."""
    transfer_day = run_date.replace(day=1) - timedelta(days=31 - 15)  # mid-month, the month before
    transfer_day = transfer_day.replace(day=15)
    employee, store = _one(
        settings,
        "select employee_id, store_id from raw.employee_assignments where valid_to is null and valid_from < ? "
        "order by employee_id limit 1",
        [transfer_day],
    )
    other_store = _one(settings, "select min(store_id) from raw.stores where store_id <> ?", [store])[0]
    backdated_employee = _one(
        settings,
        "select employee_id from raw.employee_assignments where valid_to is null and employee_id <> ? "
        "and valid_from < ? order by employee_id limit 1",
        [employee, run_date - timedelta(days=60)],
    )[0]
    backdated_from = run_date - timedelta(days=40)
    terminated_on = run_date - timedelta(days=61)  # corrected two months back
    leaver = _one(
        settings,
        "select employee_id from raw.employees where termination_date is null and hire_date < ? "
        "and employee_id not in (?, ?) order by employee_id limit 1",
        [terminated_on - timedelta(days=30), employee, backdated_employee],
    )[0]
    _sql(
        settings,
        # The transfer: one assignment closed the day before, another opened on the 15th.
        (
            "update raw.employee_assignments set valid_to = ? where employee_id = ? and valid_to is null",
            [transfer_day - timedelta(days=1), employee],
        ),
        ("insert into raw.employee_assignments values (?, ?, ?, null)", [employee, other_store, transfer_day]),
        # A transfer entered late: the new assignment is back-dated 40 days.
        (
            "update raw.employee_assignments set valid_to = ? where employee_id = ? and valid_to is null",
            [backdated_from - timedelta(days=1), backdated_employee],
        ),
        ("insert into raw.employee_assignments values (?, ?, ?, null)", [backdated_employee, store, backdated_from]),
        # A termination recorded late, two months back.
        (
            "update raw.employees set termination_date = ?, termination_reason = 'resignation' where employee_id = ?",
            [terminated_on, leaver],
        ),
    )
    return min(transfer_day - timedelta(days=1), backdated_from - timedelta(days=1), terminated_on)


def _remove_old_order(settings: Settings, day: date) -> int:
    """(d) An old order cancelled after the fact: a day before the window changes."""
    order_id = _one(
        settings,
        "select min(order_id) from raw.orders where cast(order_ts as date) = ? and order_id not in "
        "(select won_order_id from raw.crm_leads where won_order_id is not null)",
        [day],
    )[0]
    _sql(
        settings,
        ("delete from raw.returns where order_id = ?", [order_id]),
        ("delete from raw.order_lines where order_id = ?", [order_id]),
        ("delete from raw.orders where order_id = ?", [order_id]),
    )
    return int(order_id)


def _reprice_old_line(settings: Settings, day: date) -> None:
    """(d) An old order line's price corrected: order lines have no date of their own, their order's day changes."""
    line = "select min(order_id) from raw.orders where cast(order_ts as date) = ?"
    _sql(settings, (f"update raw.order_lines set unit_price = unit_price + 1 where order_id = ({line})", [day]))


def _night(settings: Settings, run_date: date, scratch: Path) -> Night:
    """Build `run_date` incrementally, then rebuild a copy of the same warehouse in full, and compare."""
    mode = build_night(settings, run_date).mode
    copy = scratch / f"full-{run_date}" / "kpiflow.duckdb"
    copy.parent.mkdir(parents=True)
    shutil.copy(settings.warehouse_path, copy)
    full = Settings(
        project_dir=settings.project_dir, warehouse_path=copy, marts_path=copy.parent / "marts.duckdb", target="dev"
    )
    assert build_night(full, run_date, full_refresh=True).mode.startswith("full rebuild")
    found = differences(settings.warehouse_path, copy)
    shutil.rmtree(copy.parent)
    return Night(run_date, mode, found)


@dataclass(frozen=True)
class Chain:
    settings: Settings
    nights: dict[str, Night]
    restated_from: date
    old_day: date


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory, project_copier: Callable[[Path], Path]) -> Chain:
    root = tmp_path_factory.mktemp("changed-history")
    settings = demo_project(root, project_copier, DEMO_START, FIRST_NIGHT)
    build_night(settings, FIRST_NIGHT)
    nights: dict[str, Night] = {}
    day = FIRST_NIGHT

    day += timedelta(days=1)
    append_night(settings, day)
    _delete_day(settings, day - timedelta(days=2))
    nights["a"] = _night(settings, day, root)

    day += timedelta(days=1)
    append_night(settings, day)
    _move_day(settings, day - timedelta(days=1))
    nights["b"] = _night(settings, day, root)

    day += timedelta(days=1)
    append_night(settings, day)
    old_day = day - timedelta(days=20)
    _remove_old_order(settings, old_day)
    _reprice_old_line(settings, old_day + timedelta(days=1))
    nights["d"] = _night(settings, day, root)

    day += timedelta(days=1)
    append_night(settings, day)
    restated_from = _change_validity_rows(settings, day)
    nights["c"] = _night(settings, day, root)

    return Chain(settings, nights, restated_from, old_day)


@pytest.mark.parametrize("night", ["a", "b", "c", "d"])
def test_every_table_equals_a_full_rebuild_after_each_night(chain: Chain, night: str) -> None:
    built = chain.nights[night]
    assert built.mode.startswith("incremental from"), built.mode
    assert built.differences == {}


def test_a_deleted_day_inside_the_window_leaves_no_rows(chain: Chain) -> None:
    deleted = chain.nights["a"].run_date - timedelta(days=2)
    rows = _one(chain.settings, "select count(*) from intermediate.int_orders where order_date = ?", [deleted])[0]
    assert rows == 0


def test_changed_validity_rows_widen_the_window_to_the_first_day_they_affect(chain: Chain) -> None:
    mode = chain.nights["c"].mode
    assert mode.startswith(f"incremental from {chain.restated_from} "), mode
    assert "restated days: " in mode and "employee_assignments: from" in mode and "employees: from" in mode


def test_a_changed_day_before_the_window_is_restated_and_rebuilt(chain: Chain) -> None:
    mode = chain.nights["d"].mode
    assert mode.startswith(f"incremental from {chain.old_day} "), mode
    assert f"order_lines: {chain.old_day}, {chain.old_day + timedelta(days=1)}; orders: {chain.old_day}" in mode


def _context(settings: Settings, run_date: date) -> RunContext:
    return RunContext(settings=settings, options=RunOptions(run_date=run_date, late_days=LATE_DAYS), run_id="t")


def test_null_store_ids_on_old_orders_fail_the_gate(chain: Chain) -> None:
    run_date = chain.nights["c"].run_date + timedelta(days=1)
    old_day = run_date - timedelta(days=30)
    copy = chain.settings.warehouse_path.parent.parent / "gate" / "kpiflow.duckdb"
    copy.parent.mkdir()
    shutil.copy(chain.settings.warehouse_path, copy)
    settings = Settings(chain.settings.project_dir, copy, copy.parent / "marts.duckdb", target="dev")
    _sql(
        settings,
        (
            "update raw.orders set store_id = null where order_id in "
            "(select order_id from raw.orders where cast(order_ts as date) = ? order by order_id limit 3)",
            [old_day],
        ),
    )
    outcome = check_inputs(_context(settings, run_date))
    assert not outcome.passed
    assert "store_id" in outcome.summary_text and f"rows from {old_day}" in outcome.summary_text


def test_a_change_beyond_the_horizon_fails_and_asks_for_a_full_refresh(chain: Chain) -> None:
    run_date = chain.nights["c"].run_date + timedelta(days=1)
    _remove_old_order(chain.settings, DEMO_START + timedelta(days=4))
    with pytest.raises(RunFailed, match=r"restatement horizon \(90 days.*--full-refresh"):
        check_inputs(_context(chain.settings, run_date))
    with pytest.raises(RunFailed, match=r"orders: 2025-07-05.*--full-refresh"):
        build_night(chain.settings, run_date)
    assert "restated days" in build_night(chain.settings, run_date, restatement_horizon=120).mode
