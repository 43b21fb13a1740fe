"""Complementary suppression (issue 21, docs/privacy.md): no suppressed HR cell can be recomputed by adding and
subtracting published cells, across breakdowns, grains and KPIs.

Each shape replaces the demo's staff with a small hand-made one (stores S001-S003, departments sales and operations
of 8 people each unless the shape says otherwise), rebuilds everything downstream of HR with dbt, and lets the
attacker of privacy_attack.py try every sum and difference of the published numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest
from conftest import _copy_build
from privacy_attack import HR_MART, recoverable

pytestmark = pytest.mark.slow  # five small dbt rebuilds of the HR models

STORES = ("S001", "S002", "S003")
DEPARTMENTS = ("sales", "operations")
HIRED = date(2023, 12, 1)
FULL = 8


@dataclass(frozen=True)
class Team:
    """`size` people of one store and department, hired on `hired`; `leave` of them terminate on `left`."""

    store: str
    department: str
    size: int
    hired: date = HIRED
    leave: int = 0
    left: date | None = None


def _teams(**sizes: int) -> list[Team]:
    """Every store x department at FULL people, except `S001_operations=3`-style overrides."""
    return [Team(s, d, sizes.get(f"{s}_{d}", FULL)) for s in STORES for d in DEPARTMENTS]


SHAPES: dict[str, list[Team]] = {
    "one_small_cell": _teams(S001_operations=3),
    "two_small_cells": _teams(S001_operations=3, S002_sales=2),
    "small_cell_in_every_store": _teams(S001_operations=3, S002_operations=3, S003_operations=3),
    "small_department": [*_teams(), Team("S001", "finance", 2), Team("S003", "finance", 1)],
    # S002 operations: 8 people in January, 3 in February (5 resign on Feb 1), 8 again from March (5 hires):
    # Q1 is large, February is not, and Q1 minus January minus March would give February.
    "small_month_in_quarter": [
        *(t for t in _teams() if (t.store, t.department) != ("S002", "operations")),
        Team("S002", "operations", 8, leave=5, left=date(2024, 2, 1)),
        Team("S002", "operations", 5, hired=date(2024, 3, 1)),
    ],
}


def _employees(teams: list[Team]) -> list[tuple]:
    rows = []
    for number, team in enumerate(teams):
        for i in range(team.size):
            leaves = i < team.leave
            rows.append(
                (
                    f"T{number:02d}{i:02d}",
                    team.store,
                    team.department,
                    team.hired,
                    team.left if leaves else None,
                    "resignation" if leaves else None,
                )
            )
    return rows


def _staff_warehouse(warehouse: Path, teams: list[Team]) -> None:
    """Replace the demo's staff by `teams`: no assignment history, absences or trainings of the old staff."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute("delete from raw.employee_assignments")
        con.execute("delete from raw.absences")
        con.execute("delete from raw.trainings")
        con.execute("delete from raw.employees")
        con.executemany(
            "insert into raw.employees (employee_id, store_id, department, job_role, hire_date, termination_date, "
            "termination_reason, monthly_base_pay, monthly_variable_pay) values (?, ?, ?, 'staff', ?, ?, ?, 2000, 0)",
            _employees(teams),
        )
        # a few absences (of people employed that day) so absence_days_per_employee carries numbers
        con.execute(
            "insert into raw.absences select employee_id, date '2024-01-15', 8, 'sick' from raw.employees "
            "where employee_id like '%01' and hire_date <= date '2024-01-15'"
        )


HR_SELECTION = ("stg_employees+", "stg_employee_assignments+", "stg_absences+", "stg_trainings+")


@pytest.fixture(scope="module", params=sorted(SHAPES))
def shaped_build(request: pytest.FixtureRequest, demo_build, tmp_path_factory, dbt_runner: Callable[..., str]):
    """The demo with its staff replaced by one shape, HR rebuilt in full."""
    shape = request.param
    project, warehouse = _copy_build(demo_build.project, demo_build.warehouse, tmp_path_factory.mktemp(shape))
    _staff_warehouse(warehouse, SHAPES[shape])
    dbt_runner(project, warehouse, "run", "--full-refresh", "--select", *HR_SELECTION)
    con = duckdb.connect(str(warehouse), read_only=True)
    yield shape, con
    con.close()


def test_the_attacker_recovers_nothing(shaped_build) -> None:
    shape, con = shaped_build
    (hidden_inside,) = con.execute(
        f"select count(*) from marts.{HR_MART} where is_suppressed and period_start >= date '2024-01-01'"
    ).fetchone()  # type: ignore[misc]
    assert hidden_inside > 0, f"{shape}: the shape should suppress cells inside the data"
    leaks = recoverable(con)
    assert not leaks, f"{shape}: {len(leaks)} suppressed values follow from published ones:\n" + "\n".join(leaks[:20])


def test_only_the_small_cells_and_their_complements_are_hidden(shaped_build) -> None:
    """A year without small cells hides nothing; otherwise every hidden member is small or completes a rectangle
    around one (at most three complements per small member), and published values are the unsuppressed ones."""
    shape, con = shaped_build
    rows = con.execute(
        "select year_start, count(*) filter (where is_primary), count(*) filter (where is_suppressed) "
        "from kpi.privacy_suppression group by all"
    ).fetchall()
    for year_start, primary, hidden in rows:
        assert hidden >= primary
        assert hidden <= 4 * primary, f"{shape} {year_start}: {hidden} hidden for {primary} small members"
    changed = con.execute(
        f"""select count(*) from marts.{HR_MART} as m
            join kpi.{HR_MART}__unsuppressed as r using (period_start, store_id, department)
            where not m.is_suppressed and m.headcount is distinct from r.headcount"""
    ).fetchone()[0]  # type: ignore[index]
    assert changed == 0
    for kpi in ("headcount", "hires", "employee_turnover_rate"):
        (changed,) = con.execute(
            f"""select count(*) from marts.kpi_values as v join kpi.kpi__{kpi} as k
                on v.kpi = k.kpi and v.grain = k.grain and v.period_start = k.period_start
                and v.dimension_set = k.dimension_set and v.store_id is not distinct from k.store_id
                and v.department is not distinct from k.department
                where not v.is_suppressed and v.value is distinct from k.value"""
        ).fetchone()  # type: ignore[misc]
        assert changed == 0, f"{shape}: {changed} published {kpi} values differ from the unsuppressed ones"


def _old_rule_publication(warehouse: str) -> duckdb.DuckDBPyConnection:
    """The same warehouse published as before issue 21: each cell of fewer than 5 people hidden on its own."""
    con = duckdb.connect(":memory:")
    con.execute(f"attach '{warehouse}' as w (read_only)")
    for schema in ("marts", "intermediate"):
        con.execute(f"create schema {schema}")
    small = "coalesce(population, 0) < 5"
    kpis = " union all ".join(
        f"select * from w.kpi.kpi__{kpi}"
        for kpi in (
            "headcount",
            "average_headcount",
            "hires",
            "terminations",
            "voluntary_turnover_rate",
            "retirement_rate",
            "absence_days_per_employee",
        )
    )
    con.execute(
        f"create view marts.kpi_values as select kpi, grain, period_start, dimension_set, store_id, department, "
        f"case when {small} then null else value end as value, {small} as is_suppressed from ({kpis})"
    )
    columns = ", ".join(
        f"case when {small} then null else {c} end as {c}"
        for c in (
            "headcount",
            "average_headcount",
            "hires",
            "terminations",
            "voluntary_turnover_rate",
            "absence_days_per_employee",
        )
    )
    con.execute(
        f"create view marts.{HR_MART} as select period_start, store_id, department, {columns}, "
        f"{small} as is_suppressed from w.kpi.{HR_MART}__unsuppressed"
    )
    con.execute("create view intermediate.int_employee_days as select * from w.intermediate.int_employee_days")
    return con


def test_the_old_rule_leaks(shaped_build) -> None:
    """The attack is real: hiding only the cells under 5 people, as before, gives small cells back."""
    shape, con = shaped_build
    (warehouse,) = con.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchone()
    old = _old_rule_publication(warehouse)
    try:
        assert recoverable(old), f"{shape}: the old rule should leak"
    finally:
        old.close()


def _published_people(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    people = "select kpi from marts.kpi_catalog where perspective = 'people'"
    return {
        "kpi_values": con.execute(f"select * from marts.kpi_values where kpi in ({people}) order by all").fetchall(),
        HR_MART: con.execute(f"select * from marts.{HR_MART} order by all").fetchall(),
        "privacy_suppression": con.execute("select * from kpi.privacy_suppression order by all").fetchall(),
    }


def test_a_nightly_run_hides_what_a_full_rebuild_hides(demo_build, tmp_path, dbt_runner) -> None:
    """A store that shrinks below the minimum on the last days of April is hidden for all of 2024: a nightly run
    whose window starts on April 20 must re-hide its January cells, as a full rebuild of the same data does."""
    project, warehouse = _copy_build(demo_build.project, demo_build.warehouse, tmp_path)
    _staff_warehouse(warehouse, _teams())
    dbt_runner(project, warehouse, "run", "--full-refresh", "--select", *HR_SELECTION)
    with duckdb.connect(str(warehouse)) as con:
        (before,) = con.execute(
            "select count(*) from kpi.privacy_suppression where is_suppressed and year_start = date '2024-01-01'"
        ).fetchone()  # type: ignore[misc]
        con.execute(
            "update raw.employees set termination_date = date '2024-04-25', termination_reason = 'resignation' "
            "where store_id = 'S003' and employee_id not in "
            "(select min(employee_id) from raw.employees where store_id = 'S003' group by department "
            " union select max(employee_id) from raw.employees where store_id = 'S003' group by department)"
        )
    assert before == 0
    dbt_runner(project, warehouse, "run", "--select", *HR_SELECTION, "--vars", "{kpiflow_window_start: 2024-04-20}")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        nightly = _published_people(con)
        (january,) = con.execute(
            "select bool_and(is_suppressed) from marts.kpi_values where store_id = 'S003' and kpi = 'headcount' "
            "and period_start = date '2024-01-01' and grain = 'month'"
        ).fetchone()  # type: ignore[misc]
    assert january, "S003 falls to 4 people in April: its January must be hidden too"
    dbt_runner(project, warehouse, "run", "--full-refresh", "--select", *HR_SELECTION)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        full = _published_people(con)
    for table in full:
        assert nightly[table] == full[table], f"{table} differs between the nightly run and a full rebuild"


def test_sales_per_employee_stays_published_where_its_sales_cell_is(shaped_build) -> None:
    """Sales per employee gives back the average sales headcount of its cell, so it is hidden with that cell only
    (not for the whole year as soon as any cell is): in a store whose sales cell is published it is published, and
    equals net revenue / the published average sales headcount; overall it follows the sales department's total."""
    shape, con = shaped_build
    suppressed_sales = {
        s
        for (s,) in con.execute(
            "select coalesce(store_id, 'all stores') from kpi.privacy_suppression where is_suppressed "
            "and department = 'sales' and year_start = date '2024-01-01'"
        ).fetchall()
    }
    hidden = suppressed_sales & set(STORES)
    published = [s for s in STORES if s not in hidden]
    if shape == "one_small_cell":
        assert hidden and published, f"the rectangle hides some stores' sales cells, not all: {hidden}"
    rows = con.execute(
        f"""select v.store_id, v.period_start, v.value, r.value / m.average_headcount
            from marts.kpi_values as v
            join marts.kpi_values as r on r.kpi = 'net_revenue' and r.grain = 'month' and r.dimension_set = 'store'
              and r.store_id = v.store_id and r.period_start = v.period_start
            join marts.{HR_MART} as m on m.store_id = v.store_id and m.department = 'sales'
              and m.period_start = v.period_start
            where v.kpi = 'sales_per_employee' and v.grain = 'month' and v.dimension_set = 'store'
              and v.store_id in ({", ".join(f"'{s}'" for s in published) or "null"}) and year(v.period_start) = 2024"""
    ).fetchall()
    assert rows or not published, "the stores whose sales cell is published have sales per employee in 2024"
    for store_id, month, value, expected in rows:
        assert value is not None, f"{store_id} {month}: sales per employee of a published sales cell is hidden"
        assert value == pytest.approx(expected), f"{store_id} {month}"
    (overall_published,) = con.execute(
        "select bool_and(not is_suppressed) from marts.kpi_values where kpi = 'sales_per_employee' "
        "and dimension_set = 'overall' and year(period_start) = 2024"
    ).fetchone()  # type: ignore[misc]
    assert overall_published == ("all stores" not in suppressed_sales), (
        "overall sales per employee is published exactly when the sales department's total is"
    )
    hidden_stores = {
        s
        for (s,) in con.execute(
            "select distinct store_id from marts.kpi_values where kpi = 'sales_per_employee' "
            "and dimension_set = 'store' and is_suppressed and year(period_start) = 2024"
        ).fetchall()
    }
    assert hidden_stores & set(STORES) == hidden, "stores whose sales cell is hidden lose sales per employee"
