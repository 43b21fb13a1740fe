"""HR privacy (DECISIONS rule 14): no published HR cell covering fewer than 5 employees carries a value, suppressed
cells say so, and no mart carries pay or per-person absence rows. That no hidden cell can be computed back from
published ones is checked in test_crosscheck_hr_complementary.py.

A cell's population is recomputed from raw.employees and raw.employee_assignments: the distinct employees active
(rule 13: hire_date <= d < termination_date) on some day of the period while assigned to the cell's store / region
and belonging to its department. The demo has no small cell inside its data window, so every check also runs on a
copy where most of one store's staff moved away for the last month (fixture `small_cell_build`).
"""

from __future__ import annotations

import duckdb
import pytest
from crosscheck_support import PERIOD_END_SQL, SmallCellBuild, load_metric_definitions

pytestmark = pytest.mark.slow  # reads dbt-built warehouses (the demo, and a copy rebuilt with small cells)

MIN_CELL_SIZE = 5  # DECISIONS rule 14; the dbt var hr_min_cell_size is left at its default in these builds

HR_MART = "mart_hr_store_department_month"
BUILDS = ("demo", "small_cells")
PEOPLE_KPIS = sorted(
    name
    for name, metric in load_metric_definitions().items()
    if (metric.get("kpi") or {}).get("perspective") == "people"
)
# Bugs found by these checks, owned elsewhere; strict, so the test says when they are fixed.
KNOWN_LEAKS: dict[tuple[str, str], str] = {}  # (build, kpi) -> reason; empty since the fixes landed
HR_MART_KEYS = ("period_start", "store_id", "department", "is_suppressed")

STINTS = """
    select e.employee_id, e.department, stores.store_id, stores.region,
           greatest(e.hire_date, coalesce(a.valid_from, e.hire_date)) as first_day,
           least(coalesce(e.termination_date - 1, date '9999-12-31'), coalesce(a.valid_to, date '9999-12-31'))
               as last_day
    from raw.employees as e
    left join raw.employee_assignments as a on a.employee_id = e.employee_id
    inner join raw.stores as stores on stores.store_id = coalesce(a.store_id, e.store_id)
"""


def _with_population(cells: str) -> str:
    """`cells` (with period_start, period_end and optional store_id / region / department) plus `population`."""
    return f"""
        with stints as ({STINTS}), cells as ({cells})
        select cells.*, count(distinct stints.employee_id) as population
        from cells
        left join stints
            on stints.first_day <= stints.last_day
            and stints.first_day <= cells.period_end and stints.last_day >= cells.period_start
            and (cells.store_id is null or stints.store_id = cells.store_id)
            and (cells.region is null or stints.region = cells.region)
            and (cells.department is null or stints.department = cells.department)
        group by all
    """


def _people_cells(connection: duckdb.DuckDBPyConnection, kpi: str | None = None) -> list[dict]:
    """Every kpi_values row of one KPI (default: every KPI in the 'people' perspective), with its population."""
    query = _with_population(
        f"""
        select kpi, grain, dimension_set, period_start, {PERIOD_END_SQL} as period_end,
               store_id, region, department, value, is_suppressed
        from marts.kpi_values
        where kpi in (select kpi from marts.kpi_catalog where perspective = 'people') and kpi = coalesce($kpi, kpi)
        """
    )
    cursor = connection.execute(query, {"kpi": kpi})
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _hr_mart_cells(connection: duckdb.DuckDBPyConnection) -> list[dict]:
    """Every row of the HR mart, its KPI columns gathered under `values`, with its population."""
    columns = [
        name
        for (name,) in connection.execute(
            "select column_name from information_schema.columns where table_schema = 'marts' "
            "and table_name = $table order by ordinal_position",
            {"table": HR_MART},
        ).fetchall()
    ]
    value_columns = [name for name in columns if name not in HR_MART_KEYS]
    query = _with_population(
        f"""
        select period_start, cast(period_start + interval 1 month - interval 1 day as date) as period_end,
               store_id, cast(null as varchar) as region, department, is_suppressed,
               [{", ".join(f"cast({name} as double)" for name in value_columns)}] as kpi_values
        from marts.{HR_MART}
        """
    )
    cursor = connection.execute(query)
    names = [column[0] for column in cursor.description]
    cells = []
    for row in cursor.fetchall():
        cell = dict(zip(names, row, strict=True))
        cell["values"] = dict(zip(value_columns, cell.pop("kpi_values"), strict=True))
        cells.append(cell)
    return cells


def _describe(cell: dict) -> str:
    shown = {key: value for key, value in cell.items() if value is not None and key != "period_end"}
    return ", ".join(f"{key}={value}" for key, value in shown.items())


def _published_values(cell: dict) -> dict:
    values = cell.get("values", {"value": cell.get("value")})
    return {name: value for name, value in values.items() if value is not None}


def _connection(request: pytest.FixtureRequest, build: str) -> duckdb.DuckDBPyConnection:
    """The demo as built, or the copy with a store shrunk below the minimum."""
    if build == "demo":
        return request.getfixturevalue("demo_db")
    return request.getfixturevalue("small_cell_build").connection


def _small_cell_problems(cells: list[dict]) -> list[str]:
    problems = []
    for cell in cells:
        if cell["population"] >= MIN_CELL_SIZE:
            continue
        if _published_values(cell):
            problems.append(f"{_describe(cell)}: covers {cell['population']} employees but publishes a value")
        elif not cell["is_suppressed"]:
            problems.append(f"{_describe(cell)}: covers {cell['population']} employees but is not flagged")
    return problems


def _people_kpi_cases() -> list:
    return [
        pytest.param(
            build,
            kpi,
            id=f"{build}-{kpi}",
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_LEAKS[build, kpi])]
            if (build, kpi) in KNOWN_LEAKS
            else [],
        )
        for build in BUILDS
        for kpi in PEOPLE_KPIS
    ]


def test_people_perspective_matches_the_yaml(demo_db: duckdb.DuckDBPyConnection) -> None:
    catalog = demo_db.execute("select kpi from marts.kpi_catalog where perspective = 'people' order by kpi").fetchall()
    assert [kpi for (kpi,) in catalog] == PEOPLE_KPIS


@pytest.mark.parametrize(("build", "kpi"), _people_kpi_cases())
def test_small_people_cells_publish_no_value(build: str, kpi: str, request: pytest.FixtureRequest) -> None:
    cells = _people_cells(_connection(request, build), kpi)
    assert cells, f"{kpi} should be published"
    problems = _small_cell_problems(cells)
    assert not problems, f"{len(problems)} small {kpi} cells:\n" + "\n".join(problems[:12])


@pytest.mark.parametrize("build", BUILDS)
def test_small_hr_mart_cells_publish_no_value(build: str, request: pytest.FixtureRequest) -> None:
    cells = _hr_mart_cells(_connection(request, build))
    assert cells, f"{HR_MART} should not be empty"
    problems = _small_cell_problems(cells)
    assert not problems, f"{len(problems)} small {HR_MART} cells:\n" + "\n".join(problems[:12])


@pytest.mark.parametrize("build", BUILDS)
@pytest.mark.parametrize("read_cells", [_people_cells, _hr_mart_cells], ids=["kpi_values", HR_MART])
def test_suppressed_cells_are_empty_and_only_hidden_in_years_with_small_ones(
    read_cells, build: str, request: pytest.FixtureRequest
) -> None:
    """A flag with a value is a leak; a flag on a large cell (inside the data window) of a year without any small
    cell hides numbers for nothing. Large cells of a year with small ones may be hidden as their complements
    (docs/privacy.md; test_crosscheck_hr_complementary.py checks they are no more than needed)."""
    connection = _connection(request, build)
    first_day, last_day = connection.execute(
        "select cast(min(order_ts) as date), cast(max(order_ts) as date) from raw.orders"
    ).fetchone()  # type: ignore[misc]
    years_with_small_cells = {
        year_start.year
        for (year_start,) in connection.execute(
            "select distinct year_start from kpi.privacy_suppression where is_primary"
        ).fetchall()
    }
    cells = read_cells(connection)
    flagged_with_values = [_describe(cell) for cell in cells if cell["is_suppressed"] and _published_values(cell)]
    over_suppressed = [
        f"{_describe(cell)} (covers {cell['population']})"
        for cell in cells
        if cell["is_suppressed"]
        and cell["population"] >= MIN_CELL_SIZE
        and first_day <= cell["period_start"]
        and cell["period_end"] <= last_day
        and cell["period_start"].year not in years_with_small_cells
    ]
    assert not flagged_with_values, "suppressed cells with values:\n" + "\n".join(flagged_with_values[:12])
    assert not over_suppressed, "large cells suppressed:\n" + "\n".join(over_suppressed[:12])


def test_the_shrunk_store_exercises_suppression(small_cell_build: SmallCellBuild) -> None:
    """The checks above only mean something if published cells below the minimum exist inside the data window."""
    connection = small_cell_build.connection
    first_day, last_day = connection.execute(
        "select cast(min(order_ts) as date), cast(max(order_ts) as date) from raw.orders"
    ).fetchone()  # type: ignore[misc]
    (region,) = connection.execute(
        "select region from raw.stores where store_id = $store", {"store": small_cell_build.shrunk_store}
    ).fetchone()  # type: ignore[misc]
    for read_cells in (_people_cells, _hr_mart_cells):
        small = [
            cell
            for cell in read_cells(connection)
            if 0 < cell["population"] < MIN_CELL_SIZE and first_day <= cell["period_start"] <= last_day
        ]
        assert small, f"{read_cells.__name__}: no small cell inside the data window"
        assert all(cell["store_id"] == small_cell_build.shrunk_store or cell["region"] == region for cell in small)
        assert any(cell["is_suppressed"] for cell in small)
    (headcount,) = connection.execute(
        "select value from marts.kpi_values where kpi = 'headcount' and grain = 'month' and dimension_set = 'store' "
        "and store_id = $store and period_start = $month",
        {"store": small_cell_build.receiving_store, "month": small_cell_build.moved_on},
    ).fetchone()  # type: ignore[misc]
    assert headcount is not None and headcount >= len(small_cell_build.moved_employees)


def test_no_mart_carries_pay(demo_db: duckdb.DuckDBPyConnection) -> None:
    tables = demo_db.execute(
        "select count(distinct table_name) from information_schema.columns where table_schema in ('marts', 'kpi')"
    ).fetchone()[0]  # type: ignore[index]
    pay_columns = demo_db.execute(
        "select table_schema || '.' || table_name || '.' || column_name from information_schema.columns "
        "where table_schema in ('marts', 'kpi') "
        "and (column_name ilike '%pay%' or column_name ilike '%salar%' or column_name ilike '%wage%')"
    ).fetchall()
    assert tables >= 7, "the published schemas should hold the KPI tables and marts"
    assert not pay_columns, f"pay columns in published tables: {pay_columns}"
    raw_pay = demo_db.execute(
        "select count(*) from information_schema.columns where table_schema = 'raw' and column_name ilike '%pay%'"
    ).fetchone()[0]  # type: ignore[index]
    assert raw_pay > 0, "the raw data has pay columns, so their absence downstream is a real filter"


def test_no_per_person_hr_rows(demo_db: duckdb.DuckDBPyConnection) -> None:
    """No absence (or other people-perspective) figure is published per employee."""
    per_person = demo_db.execute(
        """
        select distinct kpi from marts.kpi_values
        where employee_id is not null
            and (kpi in (select kpi from marts.kpi_catalog where perspective = 'people') or kpi ilike '%absen%')
        """
    ).fetchall()
    assert not per_person, f"HR KPIs published per employee: {per_person}"
    tables_with_both = demo_db.execute(
        """
        select table_schema || '.' || table_name from information_schema.columns
        where table_schema in ('marts', 'kpi')
        group by all
        having bool_or(column_name = 'employee_id') and bool_or(column_name ilike '%absen%')
        """
    ).fetchall()
    assert not tables_with_both, f"tables with absence figures per employee: {tables_with_both}"


@pytest.mark.parametrize("build", BUILDS)
def test_more_hr_cells_are_published_than_hidden_inside_the_data(build: str, request: pytest.FixtureRequest) -> None:
    """Complementary suppression costs cells, but the HR numbers inside the data window stay mostly published
    (issue 21; the demo hides none there, the shrunk store's year hides that store and one complement)."""
    connection = _connection(request, build)
    first_day, last_day = connection.execute(
        "select cast(min(order_ts) as date), cast(max(order_ts) as date) from raw.orders"
    ).fetchone()  # type: ignore[misc]
    for read_cells in (_people_cells, _hr_mart_cells):
        inside = [cell for cell in read_cells(connection) if first_day <= cell["period_start"] <= last_day]
        hidden = sum(1 for cell in inside if cell["is_suppressed"])
        assert len(inside) - hidden >= hidden, f"{read_cells.__name__}: {hidden} of {len(inside)} cells hidden"
        if build == "demo":
            assert hidden == 0, "the demo has no small cell inside its data window"
