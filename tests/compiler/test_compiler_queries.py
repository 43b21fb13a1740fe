"""Generated SQL executed against hand-written SQL on the same data (sqlglot's optimizer-fixture pattern)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from kpiflow.compiler.plan import QueryRequest, RuntimeDate
from kpiflow.compiler.render import reads_all_history
from kpiflow.compiler.sqltext import build_query, to_sql

CASES = [
    pytest.param(
        QueryRequest(("revenue", "order_count", "upt"), ("metric_time__month", "store__region")),
        """
        select date_trunc('month', s.sold_on)::date, d.region, sum(amount), count(distinct order_id),
               sum(quantity)::double / count(distinct order_id)
        from intermediate.int_sales s left join intermediate.dim_stores d using (store_id)
        group by all
        """,
        id="simple-and-ratio-by-month-and-region",
    ),
    pytest.param(
        QueryRequest(("upt",), ()),
        "select sum(quantity)::double / count(distinct order_id) from intermediate.int_sales",
        id="ratio-is-ratio-of-sums-not-mean-of-ratios",
    ),
    pytest.param(
        QueryRequest(("inventory_value", "avg_inventory"), ("metric_time__month",)),
        """
        with daily as (select snapshot_date, sum(value) as v from intermediate.int_inventory group by 1),
        ends as (select date_trunc('month', snapshot_date)::date as m, max(snapshot_date) as last_day,
                        count(*) as days, sum(v) as total from daily group by 1)
        select e.m, d.v, e.total / e.days from ends e join daily d on d.snapshot_date = e.last_day
        """,
        id="semi-additive-month-end-and-daily-average",
    ),
    pytest.param(
        QueryRequest(("inventory_value",), ("store",)),
        """
        select store_id, sum(value) from intermediate.int_inventory
        where snapshot_date = (select max(snapshot_date) from intermediate.int_inventory) group by 1
        """,
        id="semi-additive-without-time-takes-last-day",
    ),
    pytest.param(
        QueryRequest(("revenue", "revenue_yoy"), ("metric_time__month",)),
        """
        with m as (select date_trunc('month', sold_on)::date as m, sum(amount) as r from intermediate.int_sales
                   group by 1)
        select m.m, m.r, (m.r - p.r)::double / nullif(p.r, 0)
        from m left join m p on p.m = m.m - interval 1 year
        """,
        id="derived-with-year-offset",
    ),
    pytest.param(
        QueryRequest(("revenue_ytd",), ("metric_time__month",)),
        """
        with days as (select cast(range as date) as d from range(date '2024-01-05', date '2025-03-02',
                      interval 1 day)),
        ytd as (select d, (select sum(amount) from intermediate.int_sales
                           where sold_on <= d and sold_on >= date_trunc('year', d)) as v from days)
        select date_trunc('month', d)::date, v from ytd
        where d = (select max(d2.d) from days d2 where date_trunc('month', d2.d) = date_trunc('month', ytd.d))
          and v is not null
        """,
        id="cumulative-year-to-date-read-at-month-end",
    ),
    pytest.param(
        QueryRequest(("revenue_7d",), ("metric_time__day",), start=date(2024, 2, 9), end=date(2024, 2, 18)),
        """
        with days as (select cast(range as date) as d from range(date '2024-02-09', date '2024-02-19',
                      interval 1 day))
        select d, (select sum(amount) from intermediate.int_sales where sold_on <= d and sold_on > d - 7)
        from days where d >= date '2024-02-09'
        and (select count(*) from intermediate.int_sales where sold_on <= d and sold_on > d - 7) > 0
        """,
        id="cumulative-rolling-seven-days",
    ),
    pytest.param(
        QueryRequest(("retention",), ("metric_time__year",)),
        """
        with a as (select distinct date_trunc('year', sold_on)::date as y, customer_id from intermediate.int_sales
                   where customer_id is not null)
        select p.y + interval 1 year, count(c.customer_id)::double / count(*)
        from a p left join a c on c.customer_id = p.customer_id and c.y = p.y + interval 1 year
        where p.y + interval 1 year <= (select max(y) from a) group by 1
        """,
        id="retention-previous-and-this-period",
    ),
    pytest.param(
        QueryRequest(("north_revenue", "revenue"), ()),
        """
        select sum(amount) filter (where d.region = 'north'), sum(amount)
        from intermediate.int_sales s left join intermediate.dim_stores d using (store_id)
        """,
        id="metric-filter-on-joined-dimension",
    ),
    pytest.param(
        QueryRequest(
            ("revenue",),
            ("store__region",),
            where=("store__region <> 'south'",),
            start=date(2024, 1, 1),
            end=date(2024, 12, 31),
        ),
        """
        select d.region, sum(amount) from intermediate.int_sales s left join intermediate.dim_stores d
        using (store_id) where d.region <> 'south' and sold_on between '2024-01-01' and '2024-12-31' group by 1
        """,
        id="where-and-time-range-without-time-grain",
    ),
]


def _normalise(rows: list[tuple]) -> list[tuple]:
    def cell(value: object) -> object:
        if isinstance(value, float):
            return round(value, 9)
        if hasattr(value, "as_tuple"):  # Decimal
            return round(float(value), 9)
        if hasattr(value, "date") and callable(value.date):
            return value.date()
        return value

    return sorted((tuple(cell(v) for v in row) for row in rows), key=repr)


@pytest.mark.parametrize(("request_", "expected_sql"), CASES)
def test_generated_sql_matches_hand_written(graph, relation, con, request_, expected_sql):
    generated = to_sql(build_query(graph, request_, relation))
    assert _normalise(con.execute(generated).fetchall()) == _normalise(con.execute(expected_sql).fetchall())


def test_same_input_same_bytes(graph, relation):
    request = QueryRequest(("revenue", "revenue_yoy", "upt"), ("metric_time__month", "store__region"))
    assert to_sql(build_query(graph, request, relation)) == to_sql(build_query(graph, request, relation))


def test_ctes_are_named_after_what_they_compute(graph, relation):
    sql = to_sql(build_query(graph, QueryRequest(("upt",), ("metric_time__month",)), relation))
    for name in ("metric_upt", "metric_units", "metric_order_count"):
        assert re.search(rf"\b{name} as \(", sql, re.IGNORECASE)


WINDOWED = [
    ("revenue_yoy", "metric_time__month", date(2025, 1, 1), date(2025, 3, 31)),
    ("revenue_ytd", "metric_time__month", date(2024, 2, 1), date(2024, 3, 31)),
    ("revenue_7d", "metric_time__day", date(2024, 2, 12), date(2024, 2, 14)),
    ("retention", "metric_time__year", date(2025, 1, 1), date(2025, 12, 31)),
    ("inventory_value", "metric_time__month", date(2024, 2, 1), date(2024, 2, 29)),
    ("upt", "metric_time__month", date(2024, 2, 1), date(2025, 1, 31)),
]


@pytest.mark.parametrize(("metric", "grain", "start", "end"), WINDOWED, ids=[w[0] for w in WINDOWED])
def test_time_range_reads_only_what_periods_need(graph, relation, con, metric, grain, start, end):
    """A start date is pushed into every scan, moved back by offsets, windows, grain-to-date and retention, so
    the bounded query equals the unbounded one restricted to the same periods."""
    bounded = to_sql(build_query(graph, QueryRequest((metric,), (grain,), start=start, end=end), relation))
    unbounded = to_sql(build_query(graph, QueryRequest((metric,), (grain,)), relation))
    first_period = {
        "metric_time__day": start,
        "metric_time__month": start.replace(day=1),
        "metric_time__year": start.replace(month=1, day=1),
    }[grain]
    expected = [row for row in con.execute(unbounded).fetchall() if first_period <= row[0] <= end]
    assert _normalise(con.execute(bounded).fetchall()) == _normalise(expected)
    assert bounded.count(">=") > unbounded.count(">="), "the start date must reach the scans"


RUNTIME_START = RuntimeDate("kpiflow_window_start")


def _at(sql: str, start: date) -> str:
    """The query as the warehouse runs it: the runtime start placeholder replaced by a date."""
    assert RUNTIME_START.placeholder in sql
    return sql.replace(RUNTIME_START.placeholder, f"DATE '{start}'")


@pytest.mark.parametrize("by", ["store", "store__region"])
def test_runtime_window_fills_every_member_ever_seen(graph, relation, con, by):
    """An incremental model recomputes periods from its window start and must fill the members a full build
    fills: s1 sold only before the window (2025-01-07), yet gets its zero months in the window."""
    start = date(2025, 2, 1)
    windowed = build_query(
        graph, QueryRequest(("orders_filled",), ("metric_time__month", by), start=RUNTIME_START), relation
    )
    everything = to_sql(build_query(graph, QueryRequest(("orders_filled",), ("metric_time__month", by)), relation))
    expected = [row for row in con.execute(everything).fetchall() if row[0] >= start]
    got = con.execute(_at(to_sql(windowed), start)).fetchall()
    assert _normalise(got) == _normalise(expected)
    if by == "store":
        assert (date(2025, 2, 1), "s1", 0) in got  # the member the window alone does not show
    assert not reads_all_history(windowed)


def test_runtime_window_reports_members_it_cannot_read_from_history(graph, relation):
    """A zero-filled running total takes its members from the window; the renderer says the query then needs all
    history, so the dbt writer builds it in full rather than incrementally."""
    windowed = QueryRequest(("revenue_ytd_filled",), ("metric_time__month", "store"), start=RUNTIME_START)
    assert reads_all_history(build_query(graph, windowed, relation))
    dated = QueryRequest(("revenue_ytd_filled",), ("metric_time__month", "store"), start=date(2025, 2, 1))
    assert not reads_all_history(build_query(graph, dated, relation))
    overall = QueryRequest(("revenue_ytd_filled",), ("metric_time__month",), start=RUNTIME_START)
    assert not reads_all_history(build_query(graph, overall, relation))
