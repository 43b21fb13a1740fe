"""The incremental strategy `kpiflow_window` (macros/kpiflow_window.sql), run by dbt on a tiny project with the
project's real macros: an incremental build replaces every period from the window start on, so a day that emptied
upstream loses its old rows (dbt's delete+insert keeps them: it deletes only the keys the new rows hold)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import pytest
from incremental_helpers import tiny_dbt_project, tiny_inputs

pytestmark = pytest.mark.slow  # three dbt processes: ~10 s each

WINDOW = date(2024, 2, 5)
CONFIG = "materialized='incremental', incremental_strategy='kpiflow_window'"
FILES = {
    "dbt_project.yml": """
        name: tiny_strategy
        version: "0.1.0"
        config-version: 2
        profile: kpiflow
    """,
    # One row per day (window_column, day grain).
    "models/daily.sql": f"""
        {{{{ config({CONFIG}, window_column='event_date', unique_key='event_date') }}}}
        select event_date, count(*) as events from {{{{ ref('raw_events') }}}} where kpi = 'events'
        {{% if is_incremental() %}} and event_date >= {{{{ kpiflow_window_start() }}}} {{% endif %}}
        group by event_date
    """,
    # KPI-shaped: day and month rows (window_grain_column), and a KPI replaced whole (window_rebuilt).
    "models/periods.sql": f"""
        {{{{ config({CONFIG}, window_column='period_start', window_grain_column='grain',
                  window_rebuilt={{'kpi': ['plan']}}, unique_key=['kpi', 'grain', 'period_start']) }}}}
        {{% set start = kpiflow_window_start() %}}
        select kpi, 'day' as grain, event_date as period_start, count(*) as value from {{{{ ref('raw_events') }}}}
        where event_date >= {{{{ start }}}} and kpi = 'events' group by 1, 2, 3
        union all
        select kpi, 'month', cast(date_trunc('month', event_date) as date), count(*) from {{{{ ref('raw_events') }}}}
        where event_date >= cast(date_trunc('month', {{{{ start }}}}) as date) and kpi = 'events' group by 1, 2, 3
        union all
        select kpi, 'month', cast(date_trunc('month', event_date) as date), count(*) from {{{{ ref('raw_events') }}}}
        where kpi = 'plan' group by 1, 2, 3
    """,
}
BEFORE = "kpi,event_date\nevents,2024-01-20\nevents,2024-02-05\nevents,2024-02-06\nevents,2024-02-07\nplan,2024-01-01\n"
# 2024-02-06 emptied upstream (its event moved to 2024-02-07); January's plan withdrawn.
AFTER = "kpi,event_date\nevents,2024-01-20\nevents,2024-02-05\nevents,2024-02-07\nevents,2024-02-07\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return tiny_dbt_project(tmp_path, FILES)


def _build(project: Path, dbt_runner: Callable[..., str], rows: str, window: date | None, *flags: str) -> None:
    dbt_runner(project, tiny_inputs(project, rows, window), "build", *flags)


def _rows(project: Path, query: str) -> list[tuple]:
    with duckdb.connect(str(project / "warehouse.duckdb"), read_only=True) as con:
        return [tuple(str(v) for v in row) for row in con.execute(query).fetchall()]


def test_an_incremental_build_replaces_every_period_of_the_window(
    project: Path, dbt_runner: Callable[..., str]
) -> None:
    _build(project, dbt_runner, BEFORE, None)
    _build(project, dbt_runner, AFTER, WINDOW)
    incremental = {
        "daily": _rows(project, "select * from main.daily order by all"),
        "periods": _rows(project, "select * from main.periods order by all"),
    }
    assert incremental["daily"] == [("2024-01-20", "1"), ("2024-02-05", "1"), ("2024-02-07", "2")]
    _build(project, dbt_runner, AFTER, WINDOW, "--full-refresh")
    assert incremental == {
        "daily": _rows(project, "select * from main.daily order by all"),
        "periods": _rows(project, "select * from main.periods order by all"),
    }
