"""Semi-additive balances (DECISIONS rules 9 and 13): a period's balance is the closing balance of its last day with
data, summed across stores, products or departments but never across days."""

from __future__ import annotations

import duckdb
import pytest
from crosscheck_support import rows_by_key, value_mismatches

pytestmark = pytest.mark.slow  # reads the demo warehouse that dbt builds once per session

GRAINS = ("month", "quarter", "year")
DIMENSION_COLUMNS = {
    "overall": "cast(null as varchar)",
    "store": "store_id",
    "region": "region",
    "category": "category",
    "department": "department",
}

# Inventory on the last snapshot date of each period, by breakdown: (dimension column in kpi_values, raw expression).
INVENTORY_BREAKDOWNS = {
    "overall": None,
    "store": "s.store_id",
    "region": "st.region",
    "category": "p.category",
}
INVENTORY_MEASURES = {"inventory_units": "s.units_on_hand", "inventory_value": "s.units_on_hand * s.unit_cost"}

# Headcount on the last data day of each period, by breakdown (rule 13; the store is the assignment of that day).
HEADCOUNT_BREAKDOWNS = {
    "overall": None,
    "store": "coalesce(a.store_id, e.store_id)",
    "department": "e.department",
}


def _periods(grain: str) -> str:
    """Periods of `grain` covering the data, with the last day that has data (orders) in each."""
    return f"""
        with days as (
            select cast(unnest(generate_series(cast(min(order_ts) as date), cast(max(order_ts) as date),
                                               interval 1 day)) as date) as day
            from raw.orders
        )
        select cast(date_trunc('{grain}', day) as date) as period_start, max(day) as last_data_day
        from days group by 1
    """


def _inventory_sql(grain: str, measure: str, breakdown: str | None) -> str:
    dimension = breakdown or "cast(null as varchar)"
    return f"""
        with closing as (
            select cast(date_trunc('{grain}', snapshot_date) as date) as period_start,
                   max(snapshot_date) as closing_date
            from raw.inventory_snapshots group by 1
        )
        select closing.period_start, {dimension} as dimension_value, sum({measure})
        from raw.inventory_snapshots as s
        inner join closing on s.snapshot_date = closing.closing_date
        inner join raw.products as p on p.product_id = s.product_id
        inner join raw.stores as st on st.store_id = s.store_id
        group by all
    """


def _headcount_sql(grain: str, breakdown: str | None) -> str:
    dimension = breakdown or "cast(null as varchar)"
    return f"""
        select periods.period_start, {dimension} as dimension_value, count(distinct e.employee_id)
        from ({_periods(grain)}) as periods
        inner join raw.employees as e
            on e.hire_date <= periods.last_data_day
            and (e.termination_date is null or e.termination_date > periods.last_data_day)
        left join raw.employee_assignments as a
            on a.employee_id = e.employee_id
            and periods.last_data_day between a.valid_from and coalesce(a.valid_to, periods.last_data_day)
        group by all
    """


def _published(connection: duckdb.DuckDBPyConnection, kpi: str, grain: str, dimension_set: str) -> dict:
    column = DIMENSION_COLUMNS[dimension_set]
    return rows_by_key(
        connection.execute(
            f"select period_start, {column}, value from marts.kpi_values "
            "where kpi = $kpi and grain = $grain and dimension_set = $dimension_set and not is_suppressed",
            {"kpi": kpi, "grain": grain, "dimension_set": dimension_set},
        ).fetchall()
    )


def _within_data(connection: duckdb.DuckDBPyConnection, grain: str, published: dict) -> dict:
    """Published cells of periods that hold data (the time spine may add empty periods)."""
    periods = {period for (period, _day) in connection.execute(_periods(grain)).fetchall()}
    return {key: value for key, value in published.items() if key[0] in periods}


@pytest.mark.parametrize("grain", GRAINS)
@pytest.mark.parametrize("dimension_set", sorted(INVENTORY_BREAKDOWNS))
@pytest.mark.parametrize("kpi", sorted(INVENTORY_MEASURES))
def test_inventory_balance_is_the_last_snapshot_of_the_period(
    kpi: str, dimension_set: str, grain: str, demo_db: duckdb.DuckDBPyConnection
) -> None:
    expected = rows_by_key(
        demo_db.execute(_inventory_sql(grain, INVENTORY_MEASURES[kpi], INVENTORY_BREAKDOWNS[dimension_set])).fetchall()
    )
    published = _within_data(demo_db, grain, _published(demo_db, kpi, grain, dimension_set))
    assert expected, "the demo should have inventory snapshots"
    mismatches = value_mismatches(published, expected)
    assert not mismatches, f"{kpi} by {dimension_set} per {grain} != closing snapshot:\n" + "\n".join(mismatches)


@pytest.mark.parametrize("grain", GRAINS)
@pytest.mark.parametrize("dimension_set", sorted(HEADCOUNT_BREAKDOWNS))
def test_headcount_is_the_staff_active_on_the_last_data_day(
    dimension_set: str, grain: str, demo_db: duckdb.DuckDBPyConnection
) -> None:
    expected = rows_by_key(demo_db.execute(_headcount_sql(grain, HEADCOUNT_BREAKDOWNS[dimension_set])).fetchall())
    published = _within_data(demo_db, grain, _published(demo_db, "headcount", grain, dimension_set))
    assert expected, "the demo should have employees"
    mismatches = value_mismatches(published, expected)
    assert not mismatches, f"headcount by {dimension_set} per {grain} != active on last data day:\n" + "\n".join(
        mismatches
    )
