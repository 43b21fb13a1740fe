"""The nightly report: which values are compared, and how changes are shown."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from kpiflow.orchestration.report import (
    build_kpi_report,
    format_change,
    format_value,
    latest_complete_month,
    read_kpi_changes,
)
from kpiflow.warehouse.duckdb import DuckDBWarehouse


@pytest.mark.parametrize(
    ("run_date", "month"),
    [
        (date(2025, 3, 31), date(2025, 3, 1)),  # the run closes March: March is complete
        (date(2025, 3, 30), date(2025, 2, 1)),
        (date(2025, 1, 1), date(2024, 12, 1)),
        (date(2024, 2, 29), date(2024, 2, 1)),
    ],
)
def test_latest_complete_month(run_date: date, month: date) -> None:
    assert latest_complete_month(run_date) == month


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (0.2277, "percent", "22.77%"),
        (1190.0, "count", "1,190"),
        (75461.614, "currency", "75,461.61"),
        (2.5, "times", "2.50"),
        (None, "currency", "—"),
    ],
)
def test_format_value(value: float | None, unit: str, shown: str) -> None:
    assert format_value(value, unit) == shown


@pytest.mark.parametrize(
    ("current", "previous", "unit", "shown"),
    [
        (110.0, 100.0, "currency", "+10.0%"),
        (90.0, 100.0, "count", "-10.0%"),
        (0.25, 0.20, "percent", "+5.00 pp"),  # rates change in percentage points, not percent of percent
        (5.0, 0.0, "currency", "—"),
        (5.0, None, "currency", "—"),
        (-50.0, -100.0, "currency", "+50.0%"),  # a loss halving is an improvement
    ],
)
def test_format_change(current: float | None, previous: float | None, unit: str, shown: str) -> None:
    assert format_change(current, previous, unit) == shown


@pytest.fixture
def published(tmp_path: Path) -> Path:
    path = tmp_path / "published.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            """
            create table marts.kpi_values as select * from (values
                ('net_revenue', 'day', date '2025-03-31', 'overall', null, 110.0, false),
                ('net_revenue', 'day', date '2025-03-30', 'overall', null, 100.0, false),
                ('net_revenue', 'day', date '2025-03-31', 'store', '7', 999.0, false),
                ('net_revenue', 'month', date '2025-03-01', 'overall', null, 3000.0, false),
                ('net_revenue', 'month', date '2025-02-01', 'overall', null, 2500.0, false),
                ('headcount', 'day', date '2025-03-31', 'overall', null, null, true),
                ('avg_basket', 'day', date '2025-03-31', 'overall', null, 2.0, false)
            ) as v(kpi, grain, period_start, dimension_set, store_id, value, is_suppressed)
            """
        )
        con.execute(
            """
            create table marts.kpi_catalog as select * from (values
                ('avg_basket', 'Basket size', 'units_per_order'),
                ('headcount', 'Headcount', 'count'),
                ('net_revenue', 'Net revenue', 'currency')
            ) as c(kpi, label, unit)
            """
        )
    return path


def _published(marts: Path) -> DuckDBWarehouse:
    return DuckDBWarehouse(marts.with_name("kpiflow.duckdb"), marts, marts.parent / "state")


def test_report_compares_overall_values_and_puts_headline_kpis_first(published: Path) -> None:
    changes = read_kpi_changes(_published(published), date(2025, 3, 31))
    assert [c.kpi for c in changes] == ["net_revenue", "headcount", "avg_basket"]
    revenue = changes[0]
    assert (revenue.day, revenue.previous_day, revenue.month, revenue.previous_month) == (110, 100, 3000, 2500)
    assert changes[1].day is None  # suppressed cells are never shown

    report = build_kpi_report(_published(published), date(2025, 3, 31))
    assert [row["KPI"] for row in report.headline_rows] == ["Net revenue", "Headcount"]
    assert report.rows[0] == {
        "KPI": "Net revenue",
        "2025-03-31": "110.00",
        "vs previous day": "+10.0%",
        "2025-03": "3,000.00",
        "vs previous month": "+20.0%",
    }


def test_nothing_published_yet_gives_an_empty_report(tmp_path: Path) -> None:
    assert read_kpi_changes(_published(tmp_path / "missing.duckdb"), date(2025, 3, 31)) == ()
