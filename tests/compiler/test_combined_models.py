"""Thin ratio and derived KPI models (compiler/combined_models.py): a KPI joins its inputs' models instead of
recomputing them, and returns the rows the KPI computed from the facts returns, over all history and when only a
window is rebuilt."""

from __future__ import annotations

import re
import shutil
from datetime import date

import pytest
import sqlglot
from sqlglot import exp

from kpiflow.compiler.combined_models import breakdowns_of, plan_combined
from kpiflow.compiler.dbt_writer import _combined_model, _kpi_model, _simple_model, generate
from kpiflow.compiler.measure_models import MeasureModels
from kpiflow.compiler.model_names import value_columns
from kpiflow.compiler.render import DIALECTS
from kpiflow.compiler.rollups import RollupCatalog, filter_digest
from kpiflow.compiler.validate import load_graph

from .conftest import PROJECT
from .test_compiler_queries import _normalise

SCHEMA = "generated_models"
NORTH = "store__region = 'north'"
EARLIEST = date(1900, 1, 1)
# The order a dbt build follows: rollups, the measures summed per period, the retention KPIs' activity, then the
# input models, then the ratio reading them.
BUILD_ORDER = ("rollup__", "measures__", "activity__", "metric__", "kpi__")


def _runnable(text: str, relation, start: date, schema: str = SCHEMA) -> str:
    """A generated model as the warehouse runs it from `start`: config and Jinja set lines dropped, ref() to tables,
    the window start to a date."""
    body = "\n".join(line for line in text.splitlines() if not line.startswith(("--", "{{ config", "{%- set")))

    def ref(match: re.Match[str]) -> str:
        name = match.group(1)
        return f"{schema}.{name}" if name.startswith(BUILD_ORDER) else relation(name).sql()

    body = re.sub(r"\{\{ ref\('(\w+)'\) \}\}", ref, body)
    return body.replace("{{ kpiflow_window_start_value }}", f"DATE '{start}'")


def _query(text: str) -> exp.Expression:
    """A generated model as a sqlglot tree: what its SQL does, however it is spelled."""
    return sqlglot.parse_one(_runnable(text, exp.to_table, EARLIEST), read="duckdb")


def _unions(text: str, distinct: bool | None = None) -> int:
    """How many set unions the model has (with `distinct`: only those, UNION or UNION ALL)."""
    unions = _query(text).find_all(exp.Union)
    return sum(1 for union in unions if distinct is None or bool(union.args.get("distinct")) == distinct)


def _has(text: str, node: type[exp.Expression]) -> bool:
    return _query(text).find(node) is not None


KPI = "kpi: {unit: count, direction: higher_is_better, owner: sales, perspective: finance, level: operational, \
natural_dimensions: [store, store__region], grains: [month, year]}"
WEEKLY_KPI = KPI.replace("grains: [month, year]", "grains: [day, week, month, quarter]")
DAILY_KPI = KPI.replace("grains: [month, year]", "grains: [day, week, month]")
# Derived KPIs over KPIs and over metrics that are not KPIs (one filled on a time spine), one with an offset input;
# ratios whose numerator is a KPI with a filter of its own (as plan_attainment's net revenue of sales managers).
MORE_KPIS = f"""
  - {{name: revenue_yoy_kpi, type: derived, label: YoY, description: x, {KPI},
      expr: (revenue - revenue_prior) / revenue_prior,
      metrics: [{{name: revenue}}, {{name: revenue, alias: revenue_prior, offset_window: 1 year}}]}}
  - {{name: lines_per_filled_order, type: derived, label: L, description: x, {KPI}, expr: lines / orders_filled,
      metrics: [{{name: lines}}, {{name: orders_filled}}]}}
  - {{name: big_line_share_kpi, type: ratio, label: B, description: x, {KPI}, numerator: big_line_revenue,
      denominator: revenue}}
  - {{name: north_revenue_per_line, type: ratio, label: NL, description: x, {KPI},
      numerator: {{name: revenue, filter: "store__region = 'north'"}}, denominator: lines}}
  - {{name: north_revenue_share, type: ratio, label: NS, description: x, {KPI},
      numerator: {{name: revenue, filter: "store__region = 'north'"}}, denominator: revenue}}
  - {{name: revenue_less_big_lines, type: derived, label: R, description: x, {KPI}, expr: revenue - big_line_revenue,
      metrics: [{{name: revenue}}, {{name: big_line_revenue}}]}}
  - {{name: lines_filled_kpi, type: simple, label: LF, description: x, {KPI}, measure: lines, fill_nulls_with: 0,
      join_to_timespine: true}}
  - {{name: big_lines_spine_kpi, type: simple, label: BS, description: x, {WEEKLY_KPI}, measure: big_line_revenue,
      join_to_timespine: true}}
  - {{name: largest_line_kpi, type: simple, label: LL, description: x, {WEEKLY_KPI}, measure: largest_line}}
  - {{name: multi_unit_lines_kpi, type: simple, label: MU, description: x, {KPI}, measure: multi_unit_lines,
      fill_nulls_with: 0}}
  - {{name: opening_value_kpi, type: simple, label: OV, description: x, {WEEKLY_KPI}, measure: opening_value}}
  - {{name: lines_mtd_kpi, type: cumulative, label: LM, description: x, {DAILY_KPI}, measure: lines,
      grain_to_date: month}}
  - {{name: buyers_kpi, type: simple, label: BU, description: x, {KPI}, measure: buyers}}
  - {{name: big_orders_spine_kpi, type: simple, label: BO, description: x, {WEEKLY_KPI}, measure: big_orders,
      fill_nulls_with: 0, join_to_timespine: true}}
  - {{name: stores_stocked_kpi, type: simple, label: SS, description: x, {WEEKLY_KPI}, measure: stores_stocked}}
  - {{name: avg_stores_stocked_kpi, type: simple, label: AS, description: x, {KPI}, measure: avg_stores_stocked}}
  - {{name: south_avg_stores_kpi, type: simple, label: SA, description: x, {WEEKLY_KPI}, measure: avg_stores_stocked,
      filter: "store__region = 'south'"}}
  - {{name: south_avg_inventory_kpi, type: simple, label: SI, description: x, {KPI}, measure: avg_inventory_value,
      filter: "store__region = 'south'"}}
  - {{name: average_line_kpi, type: simple, label: AL, description: x, {WEEKLY_KPI}, measure: average_line}}
  - {{name: average_big_line_kpi, type: simple, label: AB, description: x, {KPI}, measure: average_big_line}}
  - {{name: repeat_within_week_kpi, type: conversion, label: RW, description: x, {WEEKLY_KPI},
      conversion: {{base_measure: lines, conversion_measure: big_line_revenue, entity: customer, window: 7 days}}}}
  - {{name: repeats_within_month_kpi, type: conversion, label: RM, description: x, {KPI},
      conversion: {{base_measure: lines, conversion_measure: lines, entity: customer, window: 1 month,
                   calculation: conversions}}}}
  - {{name: buyer_retention_kpi, type: retention, label: BR, description: x, {WEEKLY_KPI},
      retention: {{measure: orders, entity: customer}}}}
  - {{name: yearly_retention_kpi, type: retention, label: YR, description: x, {KPI},
      retention: {{measure: orders, entity: customer}}}}
"""
# Distinct counts and averages of the sales lines (one of each filtered, as new customers are), and balances of a
# distinct count (as headcount is).
SMALLEST_LINE = "      - {name: smallest_line, agg: min, expr: amount}\n"
DISTINCT_COUNTS = """      - {name: buyers, agg: count_distinct, expr: customer_id}
      - {name: big_orders, agg: count_distinct, expr: order_id, filter: "amount >= 10"}
      - {name: average_line, agg: avg, expr: amount}
      - {name: average_big_line, agg: avg, expr: amount, filter: "amount >= 10"}
"""
DISTINCT_BALANCES = """      - name: stores_stocked
        agg: count_distinct
        expr: store_id
        non_additive_dimension: {name: snapshot_date, window_choice: last}
      - name: avg_stores_stocked
        agg: count_distinct
        expr: store_id
        non_additive_dimension: {name: snapshot_date, window_choice: average}
"""
# A balance taken on the first day of each period, beside the test project's last-day and average balances.
AVERAGE_BALANCE = "        non_additive_dimension: {name: snapshot_date, window_choice: average}\n"
OPENING_BALANCE = """      - name: opening_value
        agg: sum
        expr: value
        non_additive_dimension: {name: snapshot_date, window_choice: first}
"""


@pytest.fixture(scope="module")
def combined_graph(tmp_path_factory):
    """The compiler test project with more ratio and derived KPIs."""
    project = tmp_path_factory.mktemp("project") / "project"
    shutil.copytree(PROJECT, project)
    metrics = project / "metrics" / "sales.yml"
    text = metrics.read_text(encoding="utf-8").replace(
        AVERAGE_BALANCE, AVERAGE_BALANCE + OPENING_BALANCE + DISTINCT_BALANCES
    )
    text = text.replace(SMALLEST_LINE, SMALLEST_LINE + DISTINCT_COUNTS)
    metrics.write_text(text + MORE_KPIS, encoding="utf-8")
    return load_graph(project)


@pytest.fixture(scope="module")
def built(combined_graph, relation, con, tmp_path_factory):
    """Every generated model but the thin KPIs, built in dependency order from the earliest date; every text."""
    graph = combined_graph
    files = {f.path.stem: f.content for f in generate(graph, tmp_path_factory.mktemp("generated"))}
    thin = _plan(graph).thin
    con.execute(f"create schema if not exists {SCHEMA}")
    for prefix in BUILD_ORDER:
        for name in sorted(n for n in files if n.startswith(prefix)):
            if prefix == "kpi__" and name.removeprefix("kpi__") in thin:
                continue
            con.execute(f"create or replace table {SCHEMA}.{name} as {_runnable(files[name], relation, EARLIEST)}")
    return files


def _kpis(graph):
    return [graph.metrics[n] for n in sorted(graph.metrics) if graph.metrics[n].kpi is not None]


def _plan(graph):
    """The thin KPIs as `generate` plans them: a filtered input where its source's measures model holds it."""
    measures = MeasureModels(graph, RollupCatalog(graph))
    return plan_combined(graph, _kpis(graph), (), filtered_readable=lambda m, *shape: bool(measures.read(m, *shape)))


THIN = (
    "big_line_share_kpi",
    "lines_per_filled_order",
    "north_revenue_per_line",
    "north_revenue_share",
    "revenue_less_big_lines",
    "revenue_yoy_kpi",
    "upt",
)


def test_combined_kpis_read_their_inputs_models(combined_graph, built):
    """upt = units / order_count: lineage says so, and the ratio reads neither rollups nor facts; an input that is
    not a KPI gets a model of its own, read by every KPI that needs it."""
    assert tuple(sorted(_plan(combined_graph).thin)) == THIN
    reads = {name: set(re.findall(r"ref\('(\w+)'\)", built[f"kpi__{name}"])) for name in THIN}
    assert reads["upt"] == {"kpi__units", "kpi__order_count"}
    assert reads["revenue_yoy_kpi"] == {"kpi__revenue"}
    assert reads["lines_per_filled_order"] == {"metric__lines", "metric__orders_filled"}
    big_line_readers = (reads["big_line_share_kpi"], reads["revenue_less_big_lines"])
    assert big_line_readers == ({"metric__big_line_revenue", "kpi__revenue"},) * 2
    north = f"metric__revenue__where_{filter_digest(NORTH)}"  # one model of the filtered revenue, read by both
    assert (reads["north_revenue_per_line"], reads["north_revenue_share"]) == (
        {north, "metric__lines"},
        {north, "kpi__revenue"},
    )
    assert set(re.findall(r"ref\('(\w+)'\)", built[north])) == {"measures__sales"}
    assert "m__revenue__where_" in built[north] and not _unions(built[north])
    assert "revenue_numerator" in built["kpi__north_revenue_share"]
    for name in THIN:
        assert not _has(built[f"kpi__{name}"], exp.Order) and len(built[f"kpi__{name}"]) < 10_000


@pytest.mark.parametrize("name", THIN)
@pytest.mark.parametrize("start", [EARLIEST, date(2024, 2, 11), date(2025, 2, 1)])
def test_combined_kpi_returns_the_rows_of_the_kpi_from_the_facts(combined_graph, relation, con, built, name, start):
    """From a window start, the inputs' models hold their full-build rows (they were rebuilt from the same window,
    and keep the periods before it): the KPI's rows from that window on equal the KPI computed from the facts."""
    graph = combined_graph
    from_facts, _ = _kpi_model(graph, graph.metrics[name], value_columns(graph), "duckdb", frozenset())
    want = con.execute(_runnable(from_facts, relation, start)).fetchall()
    got = con.execute(_runnable(built[f"kpi__{name}"], relation, start)).fetchall()
    assert want and _normalise(got) == _normalise(want)


def test_ratios_over_people_kpis_stay_computed_from_the_facts(graph):
    """A people KPI's model carries its head count's members: only a people KPI, whose cells include those members
    too, reads it; a people KPI needs a count metric."""
    kpis = _kpis(graph)
    assert "upt" not in plan_combined(graph, kpis, ("units",), "order_count").thin
    assert "upt" not in plan_combined(graph, kpis, ("upt",), None).thin


@pytest.mark.parametrize("start", [EARLIEST, date(2025, 2, 1)])
def test_people_ratio_counts_the_people_of_each_cell(combined_graph, relation, con, built, start):
    """upt as a people KPI over units, itself a people KPI, both counted by order_count: the thin model's cells and
    populations are those of the ratio computed from the facts with its count metric."""
    graph = combined_graph
    columns = value_columns(graph)
    plan = plan_combined(graph, _kpis(graph), ("upt", "units"), "order_count")
    assert plan.thin["upt"].population is not None
    con.execute("create schema if not exists people_models")
    units, _ = _kpi_model(graph, graph.metrics["units"], columns, "duckdb", frozenset(), None, "order_count")
    con.execute(f"create or replace table people_models.kpi__units as {_runnable(units, relation, EARLIEST)}")
    con.execute(f"create or replace table people_models.kpi__order_count as select * from {SCHEMA}.kpi__order_count")
    thin, _ = _combined_model(graph, graph.metrics["upt"], plan, columns, "duckdb", set())
    assert set(re.findall(r"ref\('(\w+)'\)", thin)) == {"kpi__units", "kpi__order_count"}
    upt = graph.metrics["upt"]
    from_facts, _ = _kpi_model(graph, upt, columns, "duckdb", frozenset(), None, "order_count")
    want = con.execute(_runnable(from_facts, relation, start)).fetchall()
    got = con.execute(_runnable(thin, relation, start, "people_models")).fetchall()
    assert want and _normalise(got) == _normalise(want)
    assert all(row[-1] is not None for row in got)


def test_no_generated_model_orders_its_rows(built, relation):
    """A table has no row order: ORDER BY is only in window functions, never on a model's query or its parts."""
    for name, text in built.items():
        if name.startswith(BUILD_ORDER):
            tree = sqlglot.parse_one(_runnable(text, relation, EARLIEST), read="duckdb")
            stray = [o for o in tree.find_all(exp.Order) if not isinstance(o.parent, exp.Window | exp.WithinGroup)]
            assert not stray, f"{name}: {stray[0].sql()}"


def _simple_thin(graph, built) -> list[str]:
    """The simple KPIs and (unfiltered) inputs that read their source's measures model."""
    names = [n for n in built if n.startswith(("kpi__", "metric__")) and "ref('measures__" in built[n]]
    names = [n for n in names if "__where_" not in n]
    return sorted(n.split("__", 1)[1] for n in names)


SIMPLE_THIN = (
    "average_big_line_kpi",
    "average_line_kpi",
    "avg_inventory",
    "avg_stores_stocked_kpi",
    "big_line_revenue",
    "big_lines_spine_kpi",
    "big_orders_spine_kpi",
    "buyers_kpi",
    "inventory_value",
    "largest_line_kpi",
    "lines",
    "lines_filled_kpi",
    "multi_unit_lines_kpi",
    "north_revenue",
    "opening_value_kpi",
    "order_count",
    "orders_filled",
    "revenue",
    "south_avg_inventory_kpi",
    "south_avg_stores_kpi",
    "stores_stocked_kpi",
    "units",
)


def test_simple_kpis_pick_their_column_from_the_sources_measures_model(combined_graph, built):
    """Simple KPIs and inputs over additive measures (sums, counts, extremes, filtered, joined to the time spine) read
    one measures model of the sales lines, which adds each measure once per period and breakdown, and balances (last,
    first day, daily mean) one of the inventory; the KPI model is small and reads nothing else. Distinct counts and
    averages (filtered, filled on the time spine) read one model aggregating them per period; distinct counts taken
    on a day (last day, daily mean) are balances of the inventory's measures model. A simple metric's own filter
    keeps its measure in a column of its own of the rollup; so does a filtered daily mean of a balance, divided by
    the days its filter passes on (the south's one day of February 2024, not the inventory's two)."""
    assert tuple(_simple_thin(combined_graph, built)) == SIMPLE_THIN
    per_period = ("kpi__order_count", "kpi__buyers_kpi", "kpi__big_orders_spine_kpi", "kpi__average_line_kpi")
    for name in (*per_period, "kpi__average_big_line_kpi", "metric__orders_filled"):
        reads = set(re.findall(r"ref\('(\w+)'\)", built[name])) - {"metricflow_time_spine"}
        assert reads == {"measures__sales__per_period"}
        assert not _unions(built[name]) and len(built[name]) < 6_000
    north = built["kpi__north_revenue"]  # a metric filter over a joined dimension: a filtered column of the rollup
    assert set(re.findall(r"ref\('(\w+)'\)", north)) == {"measures__sales"} and "m__revenue__where_" in north
    for name in ("kpi__stores_stocked_kpi", "kpi__avg_stores_stocked_kpi", "kpi__south_avg_stores_kpi"):
        assert set(re.findall(r"ref\('(\w+)'\)", built[name])) == {"measures__inventory"}
    assert _has(built["measures__sales__per_period"], exp.GroupingSets)
    for name in ("kpi__revenue", "kpi__units", "metric__lines", "kpi__lines_filled_kpi"):
        assert set(re.findall(r"ref\('(\w+)'\)", built[name])) - {"metricflow_time_spine"} == {"measures__sales"}
        assert not _unions(built[name]) and len(built[name]) < 6_000
    assert set(re.findall(r"ref\('(\w+)'\)", built["kpi__inventory_value"])) == {"measures__inventory"}
    for measures in (built["measures__sales"], built["measures__inventory"]):
        assert measures.count("ref(") == 1 and not _unions(measures)


@pytest.mark.parametrize("name", SIMPLE_THIN)
@pytest.mark.parametrize("start", [EARLIEST, date(2024, 2, 11), date(2025, 2, 1)])
def test_simple_kpi_returns_the_rows_of_the_kpi_from_the_rollup(combined_graph, relation, con, built, name, start):
    """From a window start, the measures model holds every period from the window's floor at each grain on: the
    simple KPI's rows equal those of the KPI computed period by period (same periods, members, NULL members, fill)."""
    graph = combined_graph
    model = f"kpi__{name}" if f"kpi__{name}" in built else f"metric__{name}"
    shape = None
    if model.startswith("metric__"):
        plan = plan_combined(graph, _kpis(graph), ())
        shape = (plan.input_models[model].grains, plan.input_models[model].breakdowns)
    from_facts, _ = _kpi_model(
        graph, graph.metrics[name], value_columns(graph), "duckdb", frozenset(), None, None, shape
    )
    want = con.execute(_runnable(from_facts, relation, start)).fetchall()
    got = con.execute(_runnable(built[model], relation, start)).fetchall()
    assert (want or start != EARLIEST) and _normalise(got) == _normalise(want)  # inventory ends before 2025


@pytest.mark.parametrize("name", ["revenue_ytd", "lines_mtd_kpi"])
@pytest.mark.parametrize("start", [EARLIEST, date(2024, 2, 11), date(2025, 2, 1)])
def test_grain_to_date_kpi_is_one_model_for_all_grains(combined_graph, relation, con, built, name, start):
    """Year and month to date (a sum; a count at day, week and month) as one model reading the daily rollup
    once, with the rows of the KPI computed period by period, over all history and from a window start."""
    text = built[f"kpi__{name}"]
    assert set(re.findall(r"ref\('(\w+)'\)", text)) == {"rollup__sales", "metricflow_time_spine"}
    assert not _unions(text) and len(text) < 6_000
    graph = combined_graph
    from_facts, _ = _kpi_model(graph, graph.metrics[name], value_columns(graph), "duckdb", frozenset())
    want = con.execute(_runnable(from_facts, relation, start)).fetchall()
    got = con.execute(_runnable(text, relation, start)).fetchall()
    assert want and _normalise(got) == _normalise(want)


@pytest.mark.parametrize(
    "name", ["repeat_within_week_kpi", "repeats_within_month_kpi", "buyer_retention_kpi", "yearly_retention_kpi"]
)
@pytest.mark.parametrize("start", [EARLIEST, date(2024, 2, 11), date(2025, 2, 1)])
def test_conversion_and_retention_kpis_are_one_model_for_all_grains(combined_graph, relation, con, built, name, start):
    """A conversion KPI (a rate, and a number of conversions) as one model matching each base event once, and a
    retention KPI as one model joining each period's entities (its activity model's rows) to the previous period's,
    with the rows of the KPI computed period by period for each grain and breakdown, over all history and from a
    window."""
    text = built[f"kpi__{name}"]
    grouped = built.get(f"activity__{name}", text)  # a retention KPI's entities per period: a model of their own
    assert not _unions(text) and _has(grouped, exp.GroupingSets) and len(text) < 6_000
    graph = combined_graph
    from_facts, _ = _kpi_model(graph, graph.metrics[name], value_columns(graph), "duckdb", frozenset())
    want = con.execute(_runnable(from_facts, relation, start)).fetchall()
    got = con.execute(_runnable(text, relation, start)).fetchall()
    assert (want or start != EARLIEST) and _normalise(got) == _normalise(want)


@pytest.mark.parametrize("name", ["buyer_retention_kpi", "yearly_retention_kpi"])
@pytest.mark.parametrize("start", [date(2024, 2, 11), date(2025, 1, 1), date(2025, 2, 1)])
def test_retention_reads_the_activity_model_a_night_rebuilds_from_its_window(
    combined_graph, relation, con, built, name, start
):
    """A retention KPI reads its entities per period from its activity model, never the facts: a night does not
    re-read the source from the previous year's start. The activity model rebuilt from a window start returns
    exactly the full build's rows of the periods from each grain's floor on (a week may start before the year),
    so deleting those periods and inserting them, as strategy kpiflow_window does, leaves the full build's table."""
    text, activity = built[f"kpi__{name}"], built[f"activity__{name}"]
    assert set(re.findall(r"ref\('(\w+)'\)", text)) == {f"activity__{name}"}
    assert set(re.findall(r"ref\('(\w+)'\)", activity)) == {"int_sales", "dim_stores"}
    grains = tuple(combined_graph.metrics[name].kpi.grains)
    floors = " ".join(f"when '{g}' then date_trunc('{g}', DATE '{start}')" for g in grains)
    window = f"select * from {SCHEMA}.activity__{name} where period_start >= case grain {floors} end"
    want = con.execute(window).fetchall()
    got = con.execute(_runnable(activity, relation, start)).fetchall()
    assert want and sorted(got, key=repr) == sorted(want, key=repr)


@pytest.mark.parametrize("name", ["units", "lines_filled_kpi"])
@pytest.mark.parametrize("start", [EARLIEST, date(2025, 2, 1)])
def test_simple_people_kpi_counts_the_people_of_each_cell(combined_graph, relation, con, built, name, start):
    """units and lines (filled on the time spine) as people KPIs counted by order_count: read from the measures model
    and joined to order_count's model, their cells and populations are those computed from the facts."""
    graph = combined_graph
    columns = value_columns(graph)
    metric = graph.metrics[name]
    read = MeasureModels(graph, RollupCatalog(graph)).read(metric, tuple(metric.kpi.grains), breakdowns_of(metric))
    population = plan_combined(graph, _kpis(graph), (name,), "order_count", (name,)).populations[name]
    text = _simple_model(graph, metric, read, tuple(metric.kpi.grains), columns, "duckdb", population)
    assert set(re.findall(r"ref\('(\w+)'\)", text)) - {"metricflow_time_spine"} == {
        "measures__sales",
        "kpi__order_count",
    }
    from_facts, _ = _kpi_model(graph, metric, columns, "duckdb", frozenset(), None, "order_count")
    want = con.execute(_runnable(from_facts, relation, start)).fetchall()
    got = con.execute(_runnable(text, relation, start)).fetchall()
    assert want and _normalise(got) == _normalise(want)
    assert all(row[-1] is not None for row in got)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_combined_models_parse_back_in_every_dialect(combined_graph, relation, tmp_path, dialect):
    """The KPI models (thin ratios, simple KPIs over measures models), the input models, the measures models and the
    GROUPING SETS rollups are SQL of each warehouse kpiflow writes for (Jinja stripped)."""
    files = {f.path.stem: f.content for f in generate(combined_graph, tmp_path, dialect)}
    for name in [n for n in files if n.startswith(BUILD_ORDER)]:
        sql = _runnable(files[name], relation, EARLIEST)
        assert sqlglot.parse_one(sql, read=dialect) is not None, name


SEED_FED_SCHEMA = "seed_fed_models"


@pytest.fixture(scope="module")
def seed_fed(combined_graph, relation, con, tmp_path_factory):
    """Every generated model with the sales lines' source rebuilt in full nightly, built as a full build does (from
    the earliest date, inputs before the thin KPIs reading them); every text."""
    graph = combined_graph
    files = {f.path.stem: f.content for f in generate(graph, tmp_path_factory.mktemp("seed_fed"), rebuilt=SEED_FED)}
    thin = _plan(graph).thin
    con.execute(f"create schema if not exists {SEED_FED_SCHEMA}")
    names = sorted(n for n in files if n.startswith(BUILD_ORDER))
    ordered = [n for p in BUILD_ORDER for n in names if n.startswith(p) and n.removeprefix("kpi__") not in thin]
    for name in ordered + [f"kpi__{n}" for n in thin if f"kpi__{n}" in files]:
        sql = _runnable(files[name], relation, EARLIEST, SEED_FED_SCHEMA)
        con.execute(f"create or replace table {SEED_FED_SCHEMA}.{name} as {sql}")
    return files


SEED_FED = frozenset({"int_sales"})


@pytest.mark.parametrize("name", ["revenue", "lines", "big_line_revenue", "buyers_kpi", "upt", "big_line_share_kpi"])
def test_metrics_over_a_seed_fed_source_read_a_per_period_table(combined_graph, relation, con, seed_fed, name):
    """A source rebuilt in full nightly (fed by a seed, as the sales and store plans are) has no incremental daily
    rollup: its sums and counts are aggregated per period in a measures model that is a table like its source, and
    the simple KPIs and inputs over it, and the ratios reading those, are small tables with the rows of the KPI
    computed period by period (tables: built from the earliest date every night)."""
    graph, files = combined_graph, seed_fed
    assert "rollup__sales" not in files and "measures__sales" not in files
    per_period = files["measures__sales__per_period"]
    assert "materialized='table'" in per_period and "m__revenue" in per_period and "m__lines" in per_period
    model = f"kpi__{name}" if f"kpi__{name}" in files else f"metric__{name}"
    text = files[model]
    assert "materialized='table'" in text and not _unions(text, distinct=False) and len(text) < 6_000
    reads = set(re.findall(r"ref\('(\w+)'\)", text))
    if name in ("upt", "big_line_share_kpi"):
        assert reads in ({"kpi__units", "kpi__order_count"}, {"metric__big_line_revenue", "kpi__revenue"})
    else:
        assert reads == {"measures__sales__per_period"}
    shape = None
    if model.startswith("metric__"):
        plan = _plan(graph)
        shape = (plan.input_models[model].grains, plan.input_models[model].breakdowns)
    from_facts, _ = _kpi_model(graph, graph.metrics[name], value_columns(graph), "duckdb", SEED_FED, None, None, shape)
    assert "materialized='table'" in from_facts
    want = con.execute(_runnable(from_facts, relation, EARLIEST)).fetchall()
    got = con.execute(f"select * from {SEED_FED_SCHEMA}.{model}").fetchall()
    assert want and _normalise(got) == _normalise(want)
