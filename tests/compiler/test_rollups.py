"""Daily rollups (compiler/rollups.py): generated models read additive measures from a per-day rollup instead of the
facts. Every query must return the same rows either way: over all history, from an incremental window, and with the
rollup itself rebuilt from a window."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb
import pytest
import sqlglot

from kpiflow.compiler.dbt_writer import generate
from kpiflow.compiler.plan import QueryError, QueryRequest, RuntimeDate
from kpiflow.compiler.render import DIALECTS
from kpiflow.compiler.rollups import ROLLUP_PREFIX, RollupCatalog
from kpiflow.compiler.sqlbuild import table
from kpiflow.compiler.sqltext import build_query, to_sql

from .conftest import FIXTURE_SQL
from .test_compiler_queries import _normalise

START = RuntimeDate("kpiflow_window_start")
GRAINS = ("day", "week", "month", "quarter", "year")
BREAKDOWNS = ((), ("store",), ("store__region",), ("store", "store__region"))
WINDOWS = (date(2024, 2, 11), date(2025, 2, 1))
SCHEMA = "rollups"


def _at(sql: str, start: date) -> str:
    """The SQL as the warehouse runs it from `start`: the window placeholder replaced by the date."""
    return sql.replace(START.placeholder, f"DATE '{start}'")


@pytest.fixture(scope="module")
def rolled(graph, relation, con):
    """Every metric x grain x breakdown that compiles, as (direct SQL, rollup SQL) over all history and from a
    runtime window; the rollup tables are built (from the earliest date) once every query was rendered."""
    catalog = RollupCatalog(graph)

    def rollup_relation(name: str):
        return table(name, db=SCHEMA) if name.startswith(ROLLUP_PREFIX) else relation(name)

    queries = {}
    for metric in sorted(graph.metrics):
        for grain in GRAINS:
            for dims in BREAKDOWNS:
                for start in (None, START):
                    request = QueryRequest((metric,), (f"metric_time__{grain}", *dims), start=start)
                    try:
                        direct = to_sql(build_query(graph, request, relation))
                    except QueryError:
                        continue
                    rollup = to_sql(build_query(graph, request, rollup_relation, catalog))
                    queries[(metric, grain, dims, start is not None)] = (direct, rollup)
    con.execute(f"create schema if not exists {SCHEMA}")
    for name in catalog.names():
        sql = to_sql(catalog.model_query(name, relation, START))
        con.execute(f"create or replace table {SCHEMA}.{name} as {_at(sql, date(1900, 1, 1))}")
    return catalog, queries


def test_rollups_are_read_where_measures_add_up(rolled):
    catalog, queries = rolled
    assert catalog.names() == ["rollup__inventory", "rollup__sales"]
    reading = {key[0] for key, (_, sql) in queries.items() if "rollup__" in sql}
    for additive in ("revenue", "units", "lines", "big_line_revenue", "multi_unit_lines", "largest_line", "upt"):
        assert additive in reading
    assert {"revenue_ytd", "revenue_7d", "revenue_yoy", "big_line_revenue_filled"} <= reading
    # count_distinct does not add up over days; a metric filter needs columns the rollup does not keep
    for key, (_, sql) in queries.items():
        if key[0] in ("order_count", "north_revenue", "retention"):
            assert "rollup__" not in sql, key
    assert {"inventory_value", "avg_inventory"} <= reading  # balances: summed per day, then the edge day picked


def test_rollup_reads_return_the_rows_of_fact_reads(rolled, con):
    _, queries = rolled
    checked, wrong = 0, []
    for key, (direct, rollup) in sorted(queries.items(), key=repr):
        starts = WINDOWS if key[3] else (None,)
        for start in starts:
            want = con.execute(_at(direct, start) if start else direct).fetchall()
            got = con.execute(_at(rollup, start) if start else rollup).fetchall()
            checked += 1
            if _normalise(got) != _normalise(want):
                wrong.append((key, start, want[:3], got[:3]))
    assert not wrong, wrong[:3]
    assert checked > 300


def test_filtered_measure_keeps_periods_without_passing_rows_absent(rolled, con):
    """big_line_revenue counts lines of 10 or more: store s3 sold 8.00 in March 2025 only, so it has no row for
    that month, while its row count in the rollup keeps the day (for other measures)."""
    _, queries = rolled
    _, rollup = queries[("big_line_revenue", "month", ("store",), False)]
    rows = {(r[0], r[1]) for r in con.execute(rollup).fetchall()}
    assert (date(2025, 3, 1), "s3") not in rows
    assert (date(2024, 3, 1), "s3") in rows
    day = con.execute(
        f"select m__big_line_revenue, m__big_line_revenue__rows, m__revenue from {SCHEMA}.rollup__sales "
        "where __set = 'store' and d__store = 's3' and __day = date '2025-03-01'"
    ).fetchall()
    assert [row[:2] for row in day] == [(None, 0)] and day[0][2] is not None


def test_rollup_rebuilt_from_a_window_equals_the_full_rollup_from_there(rolled, con, relation):
    """The rollup is incremental by day: its rows from a window start depend only on facts from that day on."""
    catalog, _ = rolled
    sql = to_sql(catalog.model_query("rollup__sales", relation, START))
    start = date(2024, 2, 11)
    window = con.execute(_at(sql, start)).fetchall()
    full = con.execute(f"select * from {SCHEMA}.rollup__sales where __day >= DATE '{start}'").fetchall()
    assert window and _normalise(window) == _normalise(full)


def test_no_rollup_over_a_source_rebuilt_in_full(graph, relation):
    """A plan seed may change any past day: a rollup over it could not be incremental, so the facts are read."""
    catalog = RollupCatalog(graph, excluded=frozenset({"int_sales"}))
    sql = to_sql(build_query(graph, QueryRequest(("revenue",), ("metric_time__month",)), relation, catalog))
    assert "rollup__" not in sql and catalog.names() == []
    joined = RollupCatalog(graph, excluded=frozenset({"dim_stores"}))
    by_region = QueryRequest(("revenue",), ("metric_time__month", "store__region"))
    assert "rollup__" not in to_sql(build_query(graph, by_region, relation, joined))
    overall = QueryRequest(("revenue",), ("metric_time__month",))
    assert "rollup__" in to_sql(build_query(graph, overall, relation, joined))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_rollup_sql_parses_back_in_every_dialect(rolled, relation, dialect):
    catalog, _ = rolled
    model = to_sql(catalog.model_query("rollup__sales", relation, START), dialect)
    sqlglot.parse_one(model, read=dialect)
    assert "GROUPING SETS" in model.upper()


def test_rollup_reads_its_facts_once(rolled, relation):
    """Every breakdown comes from one scan of the facts (GROUPING SETS), not one scan per breakdown."""
    catalog, _ = rolled
    model = to_sql(catalog.model_query("rollup__sales", relation, START))
    assert model.count("intermediate.int_sales") == 1 and "UNION" not in model.upper()
    assert len(catalog.describe("rollup__sales")[1]) == 4  # four breakdowns, all in that one scan


def test_a_null_member_is_not_taken_for_a_rolled_up_row(graph, relation):
    """A sale of no known store is the NULL member of the store breakdown, told apart from the overall row by
    grouping(), and the breakdowns still add up to the overall value."""
    con = duckdb.connect()
    con.execute(FIXTURE_SQL)
    con.execute("insert into intermediate.int_sales values ('l9', 'o8', null, 'c1', date '2024-01-05', 4.00, 1)")
    catalog = RollupCatalog(graph)
    for dims in ((), ("store",), ("store__region",)):
        build_query(graph, QueryRequest(("revenue",), ("metric_time__month", *dims), start=START), relation, catalog)
    sql = _at(to_sql(catalog.model_query("rollup__sales", relation, START)), date(1900, 1, 1))
    rows = con.execute(
        f"select __set, d__store, d__store__region, m__revenue from ({sql}) where __day = date '2024-01-05'"
    ).fetchall()
    assert sorted(rows, key=repr) == sorted(
        [
            ("overall", None, None, Decimal("19.00")),
            ("store", "s1", None, Decimal("15.00")),
            ("store", None, None, Decimal("4.00")),
            ("store__region", None, "north", Decimal("15.00")),
            ("store__region", None, None, Decimal("4.00")),
        ],
        key=repr,
    )


def test_dbt_writer_writes_incremental_rollups_the_kpi_models_read(graph, tmp_path):
    files = {f.path.name: f.content for f in generate(graph, tmp_path)}
    rollup = files["rollup__sales.sql"]
    assert "materialized='incremental'" in rollup and "unique_key=['__day']" in rollup
    assert "schema='intermediate'" in rollup and "{{ kpiflow_window_start_value }}" in rollup
    for text in (rollup, files["kpi__revenue.sql"]):  # the window start is queried once per model, not per scan
        assert text.count("kpiflow_window_start()") == 1
        assert "{%- set kpiflow_window_start_value = kpiflow_window_start() %}" in text
    assert "{{ ref('rollup__sales') }}" in files["measures__sales.sql"]  # revenue's periods add its days
    assert "{{ ref('measures__sales') }}" in files["kpi__revenue.sql"]
    assert "{{ ref('rollup__sales') }}" not in files["kpi__order_count.sql"]  # count_distinct: facts
    assert "name: rollup__sales" in files["_generated.yml"]
