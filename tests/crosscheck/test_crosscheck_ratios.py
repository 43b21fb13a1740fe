"""Ratio KPIs agree with their published inputs, and representative KPIs agree with hand-written SQL over the raw
tables (DECISIONS rules 1-13): the sqlglot pattern of checking every generated query against an independent one."""

from __future__ import annotations

import duckdb
import pytest
from crosscheck_support import (
    DataWindow,
    key_columns,
    load_metric_definitions,
    metric_input_name,
    rows_by_key,
    same_number,
    value_mismatches,
)

pytestmark = pytest.mark.slow  # reads the demo warehouse that dbt builds once per session

METRICS = load_metric_definitions()
KPIS = {name for name, metric in METRICS.items() if metric.get("kpi")}
RATIO_KPIS = sorted(name for name in KPIS if METRICS[name]["type"] == "ratio")


def _published_inputs(name: str) -> tuple[str, str] | None:
    numerator = metric_input_name(METRICS[name]["numerator"])
    denominator = metric_input_name(METRICS[name]["denominator"])
    if numerator in KPIS and denominator in KPIS:
        return numerator, denominator  # type: ignore[return-value]
    return None


CHECKABLE_RATIOS = [name for name in RATIO_KPIS if _published_inputs(name)]


def test_catalog_lists_the_ratio_kpis_of_the_yaml(demo_db: duckdb.DuckDBPyConnection) -> None:
    catalog = {
        kpi for (kpi,) in demo_db.execute("select kpi from marts.kpi_catalog where metric_type = 'ratio'").fetchall()
    }
    assert catalog == set(RATIO_KPIS)
    assert len(CHECKABLE_RATIOS) >= 5, "most ratio KPIs should have both inputs published"


@pytest.mark.parametrize("ratio", CHECKABLE_RATIOS)
def test_ratio_equals_published_numerator_over_denominator(ratio: str, demo_db: duckdb.DuckDBPyConnection) -> None:
    """Every cell (any grain, any breakdown) where the ratio and both inputs are published and unsuppressed."""
    numerator, denominator = _published_inputs(ratio)  # type: ignore[misc]
    keys = key_columns(demo_db)
    same_cell = " and ".join(f"{side}.{column} is not distinct from r.{column}" for side in "nd" for column in keys)
    rows = demo_db.execute(
        f"""
        select {", ".join(f"r.{column}" for column in keys)}, r.value, n.value, d.value
        from marts.kpi_values as r
        inner join marts.kpi_values as n on n.kpi = $numerator
        inner join marts.kpi_values as d on d.kpi = $denominator
        where r.kpi = $ratio and {same_cell}
            and not (r.is_suppressed or n.is_suppressed or d.is_suppressed)
        """,
        {"ratio": ratio, "numerator": numerator, "denominator": denominator},
    ).fetchall()
    mismatches = []
    for *key, value, top, bottom in rows:
        expected = None if top is None or not bottom else top / bottom
        if not same_number(value, expected):
            mismatches.append(f"{dict(zip(keys, key, strict=True))}: {value!r} != {top!r} / {bottom!r}")
    assert sum(value is not None for *_, value, _top, _bottom in rows) > 0, f"no published {ratio} cell to compare"
    assert not mismatches, f"{ratio} != {numerator} / {denominator}:\n" + "\n".join(mismatches[:12])


# Hand-written sources over the raw tables, one row per fact with the month it counts in (by its own date).
SALE_LINES = """
    select cast(date_trunc('month', o.order_ts) as date) as period_start, o.store_id, o.order_id,
           l.quantity, l.quantity * l.unit_price as gross, l.quantity * l.unit_price - l.discount_amount as net,
           l.quantity * l.unit_cost as cost
    from raw.order_lines as l
    inner join raw.orders as o on o.order_id = l.order_id
"""
REFUNDS = """
    select cast(date_trunc('month', r.return_ts) as date) as period_start, o.store_id,
           r.refund_amount as refund, r.quantity * l.unit_cost as returned_cost
    from raw.returns as r
    inner join raw.orders as o on o.order_id = r.order_id
    inner join raw.order_lines as l on l.order_id = r.order_id and l.line_no = r.line_no
"""
ORDERS = "select cast(date_trunc('month', order_ts) as date) as period_start, store_id, order_id from raw.orders"
NET_REVENUE = (
    f"select period_start, store_id, net as amount from ({SALE_LINES}) union all "
    f"select period_start, store_id, -refund from ({REFUNDS})"
)
COGS = (
    f"select period_start, store_id, cost as amount from ({SALE_LINES}) union all "
    f"select period_start, store_id, -returned_cost from ({REFUNDS})"
)
# Rule 4: orders of stores that count visitors, over their visitors.
TRAFFIC_STORE_ORDERS = f"select * from ({ORDERS}) where store_id in (select store_id from raw.store_traffic)"
TRAFFIC = """
    select cast(date_trunc('month', traffic_date) as date) as period_start, store_id, visitors from raw.store_traffic
"""
SNAPSHOTS = """
    select cast(date_trunc('month', snapshot_date) as date) as period_start, store_id,
           case when units_on_hand = 0 then 1 else 0 end as is_stockout
    from raw.inventory_snapshots
"""
COUNTS = """
    select cast(date_trunc('month', count_date) as date) as period_start, store_id,
           (book_units - counted_units) * unit_cost as shrinkage, book_units * unit_cost as book_value
    from raw.inventory_counts
"""
# Rule 13: active on d when hire_date <= d < termination_date; the store is the assignment valid that day.
EMPLOYEE_DAYS = """
    with days as (
        select cast(unnest(generate_series(
            cast(date_trunc('month', min(order_ts)) as date), cast(last_day(max(order_ts)) as date), interval 1 day
        )) as date) as day
        from raw.orders
    )
    select cast(date_trunc('month', days.day) as date) as period_start,
           coalesce(a.store_id, e.store_id) as store_id, e.employee_id, days.day,
           1.0 / day(last_day(days.day)) as share_of_month
    from raw.employees as e
    inner join days on e.hire_date <= days.day and (e.termination_date is null or days.day < e.termination_date)
    left join raw.employee_assignments as a
        on a.employee_id = e.employee_id and days.day between a.valid_from and coalesce(a.valid_to, days.day)
"""
TERMINATIONS = """
    select cast(date_trunc('month', e.termination_date) as date) as period_start,
           coalesce(a.store_id, e.store_id) as store_id, e.employee_id
    from raw.employees as e
    left join raw.employee_assignments as a
        on a.employee_id = e.employee_id
        and e.termination_date - 1 between a.valid_from and coalesce(a.valid_to, e.termination_date - 1)
    where e.termination_date is not null
"""


def by_month_and_store(source: str, aggregate: str) -> str:
    """One value per month overall and per month and store: rows (dimension_set, period_start, store_id, value)."""
    return f"""
        select case when grouping(store_id) = 1 then 'overall' else 'store' end as dimension_set,
               period_start, case when grouping(store_id) = 1 then null else store_id end as store_id,
               cast({aggregate} as double) as value
        from ({source})
        group by grouping sets ((period_start, store_id), (period_start))
    """


def ratio(numerator: str, denominator: str, formula: str = "coalesce(n.value, 0) / nullif(d.value, 0)") -> str:
    """Two by_month_and_store results combined cell by cell (an input with no rows counts as zero on top)."""
    return f"""
        select coalesce(n.dimension_set, d.dimension_set), coalesce(n.period_start, d.period_start),
               coalesce(n.store_id, d.store_id), case when d.value is null then null else {formula} end
        from ({numerator}) as n
        full outer join ({denominator}) as d
            on n.dimension_set = d.dimension_set and n.period_start = d.period_start
            and n.store_id is not distinct from d.store_id
    """


RAW_RECOMPUTATIONS = {
    # rule 1: lines by order date minus refunds by return date
    "net_revenue": by_month_and_store(NET_REVENUE, "sum(amount)"),
    "order_count": by_month_and_store(ORDERS, "count(distinct order_id)"),
    "average_order_value": ratio(
        by_month_and_store(NET_REVENUE, "sum(amount)"), by_month_and_store(ORDERS, "count(distinct order_id)")
    ),
    "conversion_rate": ratio(
        by_month_and_store(TRAFFIC_STORE_ORDERS, "count(distinct order_id)"),
        by_month_and_store(TRAFFIC, "sum(visitors)"),
    ),
    "return_rate": ratio(by_month_and_store(REFUNDS, "sum(refund)"), by_month_and_store(SALE_LINES, "sum(gross)")),
    # rule 7: units over distinct orders
    "units_per_transaction": ratio(
        by_month_and_store(SALE_LINES, "sum(quantity)"), by_month_and_store(ORDERS, "count(distinct order_id)")
    ),
    # rule 13: terminations over the mean daily headcount of the month
    "employee_turnover_rate": ratio(
        by_month_and_store(TERMINATIONS, "count(distinct employee_id)"),
        by_month_and_store(EMPLOYEE_DAYS, "sum(share_of_month)"),
    ),
    "stockout_rate": ratio(
        by_month_and_store(SNAPSHOTS, "sum(is_stockout)"), by_month_and_store(SNAPSHOTS, "count(*)")
    ),
    # rule 12: (book - counted) over book, at the counts of the month
    "shrinkage_rate": ratio(
        by_month_and_store(COUNTS, "sum(shrinkage)"), by_month_and_store(COUNTS, "sum(book_value)")
    ),
    # rules 1-2: (net revenue - perpetual COGS) / net revenue
    "gross_margin_pct": ratio(
        by_month_and_store(COGS, "sum(amount)"),
        by_month_and_store(NET_REVENUE, "sum(amount)"),
        formula="(d.value - coalesce(n.value, 0)) / nullif(d.value, 0)",
    ),
}


@pytest.mark.parametrize("kpi", sorted(RAW_RECOMPUTATIONS))
def test_kpi_matches_independent_sql_over_raw_tables(
    kpi: str, demo_db: duckdb.DuckDBPyConnection, data_window: DataWindow
) -> None:
    """Month grain, overall and by store: the published value equals the one recomputed from raw rows."""
    published = rows_by_key(
        demo_db.execute(
            "select dimension_set, period_start, store_id, value from marts.kpi_values "
            "where kpi = $kpi and grain = 'month' and dimension_set in ('overall', 'store') and not is_suppressed",
            {"kpi": kpi},
        ).fetchall()
    )
    expected = rows_by_key(demo_db.execute(RAW_RECOMPUTATIONS[kpi]).fetchall())
    # Months outside the data are published zero-filled on the time spine; raw SQL has no rows there.
    months = (data_window.first_day.replace(day=1), data_window.last_day.replace(day=1))
    published = {
        key: value for key, value in published.items() if value or key in expected or months[0] <= key[1] <= months[1]
    }
    in_window = [key for key, value in expected.items() if key[0] == "overall" and value is not None]
    assert len(in_window) >= 4, f"the demo should give {kpi} a value in every month of its data"
    assert not value_mismatches(published, expected), f"{kpi} differs from raw SQL:\n" + "\n".join(
        value_mismatches(published, expected)
    )
