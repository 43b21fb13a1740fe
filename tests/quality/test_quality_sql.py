"""The failing-row predicates (shared by GE queries, example keys and quarantine), run on DuckDB."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal

import duckdb
import pytest

from kpiflow.quality import specs as s
from kpiflow.quality.sql import Context, check_query, plausible_bounds, unexpected_rows_query, warehouse_source

# "Future" is after `future_after` (the moment the check runs plus the clock-skew tolerance), not the run date.
CTX = Context(
    schema="raw",
    run_date=date(2024, 3, 31),
    founded_on=date(2015, 1, 1),
    future_after=datetime(2024, 3, 31, 23, 59, 59),
)
ERR = s.Severity.ERROR


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("""
        create schema raw;
        create table raw.parent as select * from (values (1, timestamp '2024-03-01 10:00'), (2, timestamp
            '2024-03-05 10:00')) v(id, created_ts);
        create table raw.child as select * from (values
            (10, 1, 5, 2.00, 1.00, timestamp '2024-03-02 09:00', date '2024-03-02', 'a', date '2020-01-01', null),
            (11, 2, 0, 1.00, 0.50, timestamp '2024-03-04 09:00', date '2024-04-01', 'b', date '2020-01-01',
                date '2019-12-31'),
            (12, 3, -1, 3.00, 9.00, timestamp '2014-12-31 23:59', date '2014-01-01', 'z', date '2020-01-01',
                date '2020-01-01'),
            (13, null, null, null, null, timestamp '2024-04-01 00:00', null, null, null, null),
            (14, 1, 2, 5.00, 0.00, timestamp '2024-03-31 23:59:59', date '2024-03-31', 'a', date '2021-01-01',
                date '2022-01-01')
        ) v(id, parent_id, quantity, unit_price, discount, event_ts, event_date, code, hired, left_on);
        insert into raw.child select * from raw.child where id = 14;
    """)
    return con


CASES = [
    ("not null", s.NotNull("c", "child", ERR, "", False, "parent_id"), [13]),
    ("accepted values skip NULL", s.AcceptedValues("c", "child", ERR, "", False, "code", ("a", "b")), [12]),
    ("positive", s.Range("c", "child", ERR, "", False, "quantity", Decimal(0), None, True, False), [11, 12]),
    ("non negative", s.Range("c", "child", ERR, "", False, "quantity", Decimal(0), None, False, False), [12]),
    (
        "range (0, 4]",
        s.Range("c", "child", ERR, "", False, "quantity", Decimal(0), Decimal(4), True, False),
        [10, 11, 12],
    ),
    ("timestamp not in future", s.DateBound("c", "child", ERR, "", False, "event_ts", True, latest=True), [13]),
    ("date not in future", s.DateBound("c", "child", ERR, "", False, "event_date", False, latest=True), [11]),
    ("not before founding", s.DateBound("c", "child", ERR, "", False, "event_ts", True, latest=False), [12]),
    ("compare skips NULL", s.Compare("c", "child", ERR, "", False, "left_on", ">=", "hired"), [11]),
    ("rule", s.Rule("c", "child", ERR, "", False, "discount <= quantity * unit_price", ()), [11, 12]),
    ("references", s.References("c", "child", ERR, "", False, ("parent_id",), "parent", ("id",)), [12]),
    (
        "compare with parent",
        s.CompareParent("c", "child", ERR, "", False, "event_ts", ">=", "parent", "created_ts", ("id",)),
        [],
    ),
    ("unique lists each repeated key once", s.Unique("c", "child", ERR, "", ("id",)), [14]),
]


@pytest.mark.parametrize(("case", "check", "expected"), CASES, ids=[c[0] for c in CASES])
def test_failing_rows_predicate(con: duckdb.DuckDBPyConnection, case, check, expected) -> None:
    query = check_query(check, CTX, ("id",), warehouse_source(CTX, "child")).order_by("id")
    assert [row[0] for row in con.execute(query.sql(dialect="duckdb")).fetchall()] == expected


@pytest.mark.parametrize(
    ("column", "is_timestamp", "expected"), [("event_ts", True, [13]), ("event_date", False, [11])]
)
def test_future_is_judged_against_the_check_moment_never_the_run_date(
    con: duckdb.DuckDBPyConnection, column: str, is_timestamp: bool, expected: list[int]
) -> None:
    """A run for an earlier day (rows 10, 11, 14 lie after 2024-03-01) finds the same future rows as one for the
    last day: only rows after `future_after` are in the future (DECISIONS rule 22)."""
    past_day = dataclasses.replace(CTX, run_date=date(2024, 3, 1))
    check = s.DateBound("c", "child", ERR, "", False, column, is_timestamp, latest=True)
    query = check_query(check, past_day, ("id",), warehouse_source(past_day, "child")).order_by("id")
    assert [row[0] for row in con.execute(query.sql(dialect="duckdb")).fetchall()] == expected


def test_compare_with_parent_joins_on_the_declared_columns(con: duckdb.DuckDBPyConnection) -> None:
    check = s.CompareParent("c", "child", ERR, "", False, "event_ts", ">=", "parent", "created_ts", ("parent_id",))
    con.execute("create or replace table raw.parent as select id as parent_id, created_ts from raw.parent")
    try:
        query = check_query(check, CTX, ("id",), warehouse_source(CTX, "child")).order_by("id")
        assert [row[0] for row in con.execute(query.sql(dialect="duckdb")).fetchall()] == [11]
    finally:
        con.execute("create or replace table raw.parent as select parent_id as id, created_ts from raw.parent")


@pytest.mark.parametrize("batch", ["raw.child", "(SELECT * FROM raw.child) AS subselect", "(SELECT * FROM raw.child)"])
def test_ge_query_works_with_every_form_of_batch(con: duckdb.DuckDBPyConnection, batch: str) -> None:
    """GE substitutes {batch} with a table name or a subquery, aliased or not; all must give the same rows."""
    check = s.Range("c", "child", ERR, "", False, "quantity", Decimal(0), None, True, False)
    text = unexpected_rows_query(check, CTX, ("id",))
    assert text.count("{batch}") == 1
    rows = con.execute(text.format(batch=batch)).fetchall()
    assert sorted(r[0] for r in rows) == [11, 12]


def test_freshness_and_volume_queries(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        create or replace table raw.events as
        select timestamp '2024-03-01' + to_days(d) + to_minutes(h) as event_ts
        from range(0, 30) r(d), range(0, 30) q(h) where d < 30
    """)
    fresh = s.Freshness("f", "events", ERR, "", "event_ts", True)
    volume = s.Volume("v", "events", ERR, "", "event_ts", True, 28, Decimal("0.5"), Decimal(2), Decimal(20))
    source = warehouse_source(CTX, "events")

    def rows(check: s.CheckSpec) -> list[tuple]:
        return con.execute(check_query(check, CTX, (), source).sql(dialect="duckdb")).fetchall()

    assert rows(fresh) == [(date(2024, 3, 31),)]  # the 30 days end on 2024-03-30
    assert rows(volume) == [(date(2024, 3, 31), 0, 30.0)]
    con.execute("insert into raw.events select timestamp '2024-03-31 08:00' + to_minutes(m) from range(0, 20) r(m)")
    assert rows(fresh) == [] and rows(volume) == []  # 20 rows vs 30 a day: within 0.5x..2x
    quiet = s.Volume("v", "events", ERR, "", "event_ts", True, 28, Decimal("0.9"), Decimal(2), Decimal(31))
    assert rows(quiet) == []  # fewer than 31 rows a day on average: not judged


def _daily_events(con: duckdb.DuckDBPyConnection, rows_a_day: str) -> None:
    """raw.events with `rows_a_day` (SQL over the day `d`) events on each day of 2024-01-01..2024-03-31."""
    con.execute(f"""
        create or replace table raw.events as
        select d + to_minutes(m) as event_ts
        from range(timestamp '2024-01-01', timestamp '2024-04-01', interval 1 day) r(d), range(0, 200) q(m)
        where m < ({rows_a_day})
    """)


def _volume(**band: object) -> s.Volume:
    days = band.pop("trailing_days", 28)
    return s.Volume("v", "events", ERR, "", "event_ts", True, days, Decimal("0.3"), Decimal("2.5"), Decimal(20))


def test_volume_judges_every_day_of_the_window_and_names_the_missing_one(con: duckdb.DuckDBPyConnection) -> None:
    _daily_events(con, "40")
    con.execute("delete from raw.events where cast(event_ts as date) = date '2024-03-20'")  # a day never landed
    source = warehouse_source(CTX, "events")
    query = check_query(_volume(), CTX, (), source).sql(dialect="duckdb")
    assert con.execute(query).fetchall() == [(date(2024, 3, 20), 0, 40.0)]
    in_window = Context("raw", CTX.run_date, CTX.founded_on, window_start=date(2024, 3, 19))
    assert con.execute(check_query(_volume(), in_window, (), source).sql(dialect="duckdb")).fetchall() == [
        (date(2024, 3, 20), 0, 40.0)
    ]
    after = Context("raw", CTX.run_date, CTX.founded_on, window_start=date(2024, 3, 21))
    assert con.execute(check_query(_volume(), after, (), source).sql(dialect="duckdb")).fetchall() == []


def test_volume_baseline_is_the_same_weekday(con: duckdb.DuckDBPyConnection) -> None:
    """Closed on Sundays (0 rows) and busy on Saturdays (3x): no day is out of its weekday's band."""
    _daily_events(con, "case dayofweek(d) when 0 then 0 when 6 then 150 else 50 end")
    source = warehouse_source(CTX, "events")
    assert con.execute(check_query(_volume(), CTX, (), source).sql(dialect="duckdb")).fetchall() == []
    con.execute("delete from raw.events where cast(event_ts as date) = date '2024-03-30'")  # a Saturday lost
    con.execute(
        "delete from raw.events where event_ts >= timestamp '2024-03-27' and event_ts < '2024-03-28' "
        "and minute(event_ts) >= 10"
    )  # a Wednesday with 10 rows of 50
    assert con.execute(check_query(_volume(), CTX, (), source).sql(dialect="duckdb")).fetchall() == [
        (date(2024, 3, 27), 10, 50.0),
        (date(2024, 3, 30), 0, 150.0),
    ]  # fmt: skip


def _plausible(date_column: str | None = None, min_history: int = 1000) -> s.Plausible:
    return s.Plausible("p", "prices", ERR, "", False, "price", date_column, 90, Decimal(10), Decimal(10), min_history)


@pytest.fixture
def prices(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A long-tailed price list (1.00..400.00), 20 rows a day from 2023-10-03 to 2024-03-31 (ids 3600.. last)."""
    con.execute("""
        create or replace table raw.prices as
        select i as id, date '2023-10-03' + cast(i // 20 as integer) as sold_on,
               cast(round(1 + 399 * pow(i % 97 / 96.0, 6), 2) as decimal(12, 2)) as price
        from range(0, 3620) r(i)
    """)
    return con


def test_plausible_flags_a_value_far_beyond_the_history_only(prices: duckdb.DuckDBPyConnection) -> None:
    source = warehouse_source(CTX, "prices")

    def flagged(check: s.Plausible, ctx: Context = CTX) -> list[int]:
        query = check_query(check, ctx, ("id",), source).order_by("id").sql(dialect="duckdb")
        return [row[0] for row in prices.execute(query).fetchall()]

    assert flagged(_plausible()) == []  # the long tail itself (max 400, median ~1) is plausible
    prices.execute("update raw.prices set price = 9999999999.99 where id = 3619")  # on the run date
    prices.execute("update raw.prices set price = -5000 where id = 3599")  # the day before
    assert flagged(_plausible()) == [3599, 3619]
    assert flagged(_plausible("sold_on")) == [3599, 3619]  # history: the 90 days through the run date
    windowed = (("prices", "sold_on"),)
    window = Context("raw", CTX.run_date, CTX.founded_on, window_start=CTX.run_date, window_columns=windowed)
    assert flagged(_plausible("sold_on"), window) == [3619]  # only the window's rows are judged
    assert flagged(_plausible(min_history=5000)) == []  # too little history: not judged yet


def test_the_portable_plausible_bounds_equal_duckdbs_mad(prices: duckdb.DuckDBPyConnection) -> None:
    """Engines without DuckDB's `mad` aggregate (PostgreSQL) learn the MAD as the median distance to the median:
    both templates, run here on DuckDB, give the same numbers (and neither names a JOIN, see unexpected_rows_query)."""
    prices.execute("update raw.prices set price = null where id % 7 = 0")  # NULLs are left out by both
    bounds = {}
    for dialect in ("duckdb", "postgres"):
        ctx = dataclasses.replace(CTX, dialect=dialect)
        tree = plausible_bounds(_plausible("sold_on"), ctx)
        assert "JOIN" not in tree.sql(dialect=dialect).upper()
        bounds[dialect] = prices.execute(tree.sql(dialect="duckdb")).fetchone()
    assert "MAD(" not in plausible_bounds(_plausible(), dataclasses.replace(CTX, dialect="postgres")).sql().upper()
    assert bounds["duckdb"][0] > 1000
    assert bounds["postgres"] == pytest.approx(bounds["duckdb"], rel=1e-12)
