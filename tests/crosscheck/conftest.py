"""Fixtures for the cross-checks: the shared demo warehouse (read-only), a copy rebuilt after moving employees so
that some HR cells are small, and a copy of the project with `dbt docs generate` run on it."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from crosscheck_support import DataWindow, DocsArtifacts, SmallCellBuild

# Employees left in the store that is made small: fewer than the privacy minimum of DECISIONS rule 14 (5).
EMPLOYEES_LEFT_BEHIND = 3


def _copy_build(source_project: Path, source_warehouse: Path, root: Path) -> tuple[Path, Path]:
    """A private copy of a built project and its warehouse, so dbt may write to both."""
    project = root / "project"
    shutil.copytree(source_project, project, ignore=shutil.ignore_patterns("target", "logs", "*.duckdb"))
    warehouse = root / "warehouse" / source_warehouse.name
    warehouse.parent.mkdir(parents=True)
    shutil.copy(source_warehouse, warehouse)
    return project, warehouse


def read_data_window(connection: duckdb.DuckDBPyConnection) -> DataWindow:
    first_day, last_day = connection.execute(
        "select cast(min(order_ts) as date), cast(max(order_ts) as date) from raw.orders"
    ).fetchone()  # type: ignore[misc]
    return DataWindow(first_day, last_day)


@pytest.fixture(scope="session")
def demo_db(demo_build) -> Iterator[duckdb.DuckDBPyConnection]:
    """The shared demo warehouse, opened read-only."""
    connection = duckdb.connect(str(demo_build.warehouse), read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def data_window(demo_db: duckdb.DuckDBPyConnection) -> DataWindow:
    return read_data_window(demo_db)


def _move_employees(connection: duckdb.DuckDBPyConnection, moved_on: date) -> tuple[str, str, tuple[str, ...]]:
    """Move all but a few employees of the smallest store to the largest one on `moved_on`, as the HR system
    records a transfer: the old assignment ends the day before, a new one starts, and the employee's store changes."""
    active = """
        select coalesce(a.store_id, e.store_id) as store_id, e.employee_id
        from raw.employees as e
        left join raw.employee_assignments as a
            on a.employee_id = e.employee_id and a.valid_from <= $day and (a.valid_to is null or a.valid_to >= $day)
        where e.hire_date <= $day and (e.termination_date is null or e.termination_date > $day)
    """
    sizes = connection.execute(
        f"select store_id, count(*) from ({active}) group by store_id order by count(*), store_id", {"day": moved_on}
    ).fetchall()
    shrunk_store, receiving_store = sizes[0][0], sizes[-1][0]
    staff = [
        employee_id
        for (employee_id,) in connection.execute(
            f"select employee_id from ({active}) where store_id = $store order by employee_id",
            {"day": moved_on, "store": shrunk_store},
        ).fetchall()
    ]
    moved = tuple(staff[EMPLOYEES_LEFT_BEHIND:])
    day_before = moved_on - timedelta(days=1)
    for employee_id in moved:
        connection.execute(  # an employee without assignment history gets one, so the move leaves the past alone
            "insert into raw.employee_assignments (employee_id, store_id, valid_from, valid_to) "
            "select employee_id, store_id, hire_date, null from raw.employees as e where employee_id = $employee "
            "and not exists (select 1 from raw.employee_assignments as a where a.employee_id = e.employee_id)",
            {"employee": employee_id},
        )
        connection.execute(
            "update raw.employee_assignments set valid_to = $before "
            "where employee_id = $employee and valid_from <= $day and (valid_to is null or valid_to >= $day)",
            {"employee": employee_id, "day": moved_on, "before": day_before},
        )
        connection.execute(
            "insert into raw.employee_assignments (employee_id, store_id, valid_from, valid_to) "
            "values ($employee, $store, $day, null)",
            {"employee": employee_id, "store": receiving_store, "day": moved_on},
        )
        connection.execute(
            "update raw.employees set store_id = $store where employee_id = $employee",
            {"employee": employee_id, "store": receiving_store},
        )
    return shrunk_store, receiving_store, moved


@pytest.fixture(scope="session")
def small_cell_build(
    demo_build, data_window: DataWindow, tmp_path_factory: pytest.TempPathFactory, dbt_runner: Callable[..., str]
) -> Iterator[SmallCellBuild]:
    """The demo has no HR cell under 5 employees inside its data window, so suppression would go untested: move
    employees out of the smallest store for the last month of data and rebuild everything downstream of HR."""
    project, warehouse = _copy_build(demo_build.project, demo_build.warehouse, tmp_path_factory.mktemp("small_cells"))
    moved_on = data_window.last_day.replace(day=1)
    with duckdb.connect(str(warehouse)) as connection:
        shrunk_store, receiving_store, moved = _move_employees(connection, moved_on)
    dbt_runner(project, warehouse, "run", "--select", "stg_employees+", "stg_employee_assignments+")
    connection = duckdb.connect(str(warehouse), read_only=True)
    yield SmallCellBuild(connection, shrunk_store, receiving_store, moved_on, moved)
    connection.close()


@pytest.fixture(scope="session")
def docs_artifacts(
    demo_build, tmp_path_factory: pytest.TempPathFactory, dbt_runner: Callable[..., str]
) -> DocsArtifacts:
    """`dbt docs generate` on a copy of the built demo project (it compiles every model and reads the catalog)."""
    project, warehouse = _copy_build(demo_build.project, demo_build.warehouse, tmp_path_factory.mktemp("dbt_docs"))
    dbt_runner(project, warehouse, "docs", "generate")
    target = project / "target"
    return DocsArtifacts(
        manifest=json.loads((target / "manifest.json").read_text(encoding="utf-8")),
        catalog=json.loads((target / "catalog.json").read_text(encoding="utf-8")),
    )
