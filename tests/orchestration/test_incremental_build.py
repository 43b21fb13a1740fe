"""Incremental by run date, on a small demo warehouse, through the real build stage (plan -> window -> dbt -> record).

One story in order: a first build is full; the next nights are incremental and pick up a late order; re-running a
night changes nothing; a full rebuild of the same dates gives the same tables as the chain of nightly runs.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from incremental_helpers import BUILT_SCHEMAS, LATE_DAYS, append_night, build_night, demo_project, differences

from kpiflow.config import Settings
from kpiflow.orchestration.dbt import DbtBuildSummary
from kpiflow.orchestration.incremental import last_build
from kpiflow.warehouse import warehouse_for
from kpiflow.warehouse.duckdb import fingerprint_file

pytestmark = pytest.mark.slow  # five dbt builds: minutes

DEMO_START, FIRST_NIGHT = date(2025, 10, 1), date(2025, 11, 10)  # mid-month: the demo's monthly plan seeds hold


def _add_late_order(warehouse: Path, day: date) -> int:
    """A copy of the day's first order (and its lines) under a new id: a row that lands after its day was built."""
    with duckdb.connect(str(warehouse)) as con:
        new_id = con.execute("select max(order_id) + 1 from raw.orders").fetchone()[0]
        source_id = con.execute(
            "select min(order_id) from raw.orders where cast(order_ts as date) = ?", [day]
        ).fetchone()[0]
        con.execute(
            "insert into raw.orders select ? as order_id, * exclude (order_id) from raw.orders where order_id = ?",
            [new_id, source_id],
        )
        con.execute(
            "insert into raw.order_lines select ? as order_id, * exclude (order_id) from raw.order_lines "
            "where order_id = ?",
            [new_id, source_id],
        )
    return int(new_id)


@pytest.fixture(scope="module")
def nightly_chain(
    tmp_path_factory: pytest.TempPathFactory, project_copier
) -> tuple[Settings, list[DbtBuildSummary], int]:
    """Build night 0 (full), then two nights incrementally, a late order arriving between them."""
    settings = demo_project(tmp_path_factory.mktemp("incremental"), project_copier, DEMO_START, FIRST_NIGHT)
    summaries = [build_night(settings, FIRST_NIGHT)]
    second, third = FIRST_NIGHT + timedelta(days=1), FIRST_NIGHT + timedelta(days=2)
    append_night(settings, second)
    late_order = _add_late_order(settings.warehouse_path, second - timedelta(days=2))
    summaries.append(build_night(settings, second))
    append_night(settings, third)
    summaries.append(build_night(settings, third))
    return settings, summaries, late_order


def test_first_build_is_full_and_later_nights_are_incremental(nightly_chain) -> None:
    settings, summaries, _ = nightly_chain
    modes = [summary.mode for summary in summaries]
    assert modes[0] == "full rebuild (no earlier build recorded in the warehouse)"
    assert modes[1].startswith(f"incremental from {FIRST_NIGHT + timedelta(days=1) - timedelta(days=LATE_DAYS)} ")
    assert modes[2].startswith(f"incremental from {FIRST_NIGHT + timedelta(days=2) - timedelta(days=LATE_DAYS)} ")
    recorded = last_build(warehouse_for(settings))
    assert recorded is not None and recorded.run_date == FIRST_NIGHT + timedelta(days=2)


def test_late_order_inside_the_window_is_picked_up(nightly_chain) -> None:
    settings, _, late_order = nightly_chain
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        built = con.execute("select count(*) from intermediate.int_orders where order_id = ?", [late_order]).fetchone()[
            0
        ]
        events = con.execute(
            "select count(*) from intermediate.int_revenue_events where order_id = ?", [late_order]
        ).fetchone()[0]
    assert built == 1 and events >= 1


def test_rerun_is_idempotent_and_full_rebuild_equals_the_nightly_chain(nightly_chain, tmp_path: Path) -> None:
    settings, _, _ = nightly_chain
    last_night = FIRST_NIGHT + timedelta(days=2)
    chain_copy = tmp_path / "chain.duckdb"
    shutil.copy(settings.warehouse_path, chain_copy)
    before = fingerprint_file(settings.warehouse_path, BUILT_SCHEMAS)

    rerun = build_night(settings, last_night)
    assert rerun.mode.startswith("incremental")
    assert fingerprint_file(settings.warehouse_path, BUILT_SCHEMAS) == before  # same date again: same bytes

    full = build_night(settings, last_night, full_refresh=True)
    assert full.mode == "full rebuild (--full-refresh asked for)"
    assert differences(chain_copy, settings.warehouse_path) == {}
