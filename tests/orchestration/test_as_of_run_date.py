"""A run for a past day on a warehouse that already holds later days (issue 15, items 3 and 12; DECISIONS rule 22).

One story on a throwaway copy of the project and a small demo warehouse (2025-01-01..2025-03-31): the nightly run
for the last day, then a backfill of two earlier days (the first rebuilds in full: the incremental tables held
later days), each publishing the KPIs as of its day. The published `kpi_values` must equal, row by row, those of
a run on a copy of the warehouse cut at that day (rows dated later deleted, facts recorded later unknown).
Every command runs as a real process; none may print DuckDB's "nanobind: leaked ..." report at exit.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from kpiflow.warehouse.duckdb_files import attached_read_only

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]  # four pipeline runs: minutes

DEMO_START, DEMO_END = date(2025, 1, 1), date(2025, 3, 31)
PAST_DAY = date(2025, 3, 20)
KPI_KEY = ("kpi", "grain", "period_start", "dimension_set", "store_id", "region", "channel", "category",
           "department", "employee_id")  # fmt: skip


def cut_at(day: date) -> list[str]:
    """The warehouse as it stood at the end of `day`: later rows deleted, facts recorded later not yet known.
    Written from the raw contract, independently of the models' `kpiflow_as_of()`."""
    after = f"date '{day + timedelta(days=1)}'"
    later_orders = f"(select order_id from raw.orders where order_ts >= {after})"
    later_leads = f"(select lead_id from raw.crm_leads where created_ts >= {after})"
    later_hires = f"(select employee_id from raw.employees where hire_date >= {after})"
    return [
        f"delete from raw.returns where return_ts >= {after} or order_id in {later_orders}",
        f"delete from raw.order_lines where order_id in {later_orders}",
        f"update raw.crm_leads set won_order_id = null where won_order_id in {later_orders}",
        f"delete from raw.orders where order_ts >= {after}",
        f"delete from raw.crm_activities where activity_ts >= {after} or lead_id in {later_leads}",
        f"delete from raw.crm_leads where created_ts >= {after}",
        f"update raw.crm_leads set first_response_ts = null where first_response_ts >= {after}",
        *(
            f"delete from raw.{table} where {column} >= {after}"
            for table, column in (
                ("store_traffic", "traffic_date"),
                ("inventory_snapshots", "snapshot_date"),
                ("inventory_receipts", "received_on"),
                ("inventory_counts", "count_date"),
                ("absences", "absence_date"),
                ("expenses", "expense_date"),
                ("job_applications", "applied_on"),
                ("trainings", "completed_on"),
            )
        ),
        f"update raw.job_applications set hired_on = null, hired_employee_id = null where hired_on >= {after}",
        f"delete from raw.employee_assignments where employee_id in {later_hires}",
        f"delete from raw.employees where hire_date >= {after}",
        "update raw.employees set termination_date = null, termination_reason = null "
        f"where termination_date >= {after}",
    ]


@dataclass(frozen=True)
class Place:
    """One warehouse with its published file, and the environment that points kpiflow at it."""

    warehouse: Path
    env: dict[str, str]

    @property
    def marts(self) -> Path:
        return self.warehouse.parent / "marts.duckdb"

    def kpiflow(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "kpiflow.cli", *args]
        done = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=1800, check=False)
        assert "nanobind" not in done.stderr, f"kpiflow {' '.join(args)} leaked at exit:\n{done.stderr[-3000:]}"
        return done

    def kpi_values(self) -> dict[tuple[object, ...], tuple[float | None, bool]]:
        with attached_read_only(self.marts, "pub") as con:
            rows = con.execute(
                f"select {', '.join(KPI_KEY)}, value, is_suppressed from pub.marts.kpi_values"
            ).fetchall()
        found = {tuple(row[: len(KPI_KEY)]): (row[-2], row[-1]) for row in rows}
        assert len(found) == len(rows), "kpi_values has duplicate keys"
        return found


@dataclass(frozen=True)
class Story:
    full: Place
    cut: Place
    outputs: dict[str, subprocess.CompletedProcess[str]]


def _place(root: Path, project: Path, prefect_api: str, name: str) -> Place:
    warehouse = root / name / "kpiflow.duckdb"
    env = {
        **os.environ,
        "KPIFLOW_WAREHOUSE": str(warehouse),
        "KPIFLOW_MARTS": str(warehouse.parent / "marts.duckdb"),
        "KPIFLOW_PROJECT_DIR": str(project),
        "PREFECT_API_URL": prefect_api,
    }
    return Place(warehouse, env)


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory, project_copier: Callable[[Path], Path], prefect_api: str) -> Story:
    from kpiflow.demo import generate_demo_warehouse

    root = tmp_path_factory.mktemp("as_of")
    project = project_copier(root / "project")
    full, cut = _place(root, project, prefect_api, "full"), _place(root, project, prefect_api, "cut")
    generate_demo_warehouse(full.warehouse, scale=0.02, start=DEMO_START, end=DEMO_END, seed=7)
    cut.warehouse.parent.mkdir(parents=True)
    cut.warehouse.write_bytes(full.warehouse.read_bytes())
    with duckdb.connect(str(cut.warehouse)) as con:
        for statement in cut_at(PAST_DAY):
            con.execute(statement)
    outputs = {
        "nightly": full.kpiflow("run", "--date", str(DEMO_END)),
        "backfill": full.kpiflow("backfill", "--start", str(PAST_DAY - timedelta(days=1)), "--end", str(PAST_DAY)),
        "cut": cut.kpiflow("run", "--date", str(PAST_DAY)),
    }
    for name, done in outputs.items():
        assert done.returncode == 0, f"{name}:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    return Story(full, cut, outputs)


def _close(left: float | None, right: float | None) -> bool:
    if left is None or right is None:
        return left is right
    return math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-9)  # float sums may differ in the last bits


def test_backfill_of_past_days_completes_on_a_warehouse_holding_later_days(story: Story) -> None:
    backfill = story.outputs["backfill"].stderr
    assert f"backfill completed: 2 days, {PAST_DAY - timedelta(days=1)}..{PAST_DAY}" in backfill
    assert f"full rebuild (run date is before the last build's {DEMO_END})" in backfill
    assert f"inputs through {PAST_DAY}; verified existing inputs" in backfill
    assert f"rows after {PAST_DAY} (through {DEMO_END}) not counted" in backfill


def test_published_kpis_equal_those_of_a_warehouse_cut_at_the_run_date(story: Story) -> None:
    published, cut = story.full.kpi_values(), story.cut.kpi_values()
    assert len(published) > 10_000
    assert max(key[2] for key in published) <= PAST_DAY  # no period starts after the run date
    assert sorted(set(published) ^ set(cut), key=str)[:10] == []
    differing = [(key, published[key], cut[key]) for key in published if not _close(published[key][0], cut[key][0])]
    assert differing[:10] == []
    assert [key for key in published if published[key][1] != cut[key][1]][:10] == []


def test_reading_commands_exit_without_nanobind_leak_reports(story: Story) -> None:
    """`check`, `list`, `query`, `scorecard`, `compile --check` on the built warehouse (each asserts in kpiflow())."""
    for args in (
        ("check", "--date", str(PAST_DAY), "--no-data-docs"),
        ("list",),
        ("query", "--metrics", "net_revenue", "--group-by", "metric_time__month"),
        ("scorecard", "--card", "sales_manager", "--period", "2025-02"),
        ("compile", "--check"),
    ):
        done = story.full.kpiflow(*args)
        assert done.returncode == 0, f"{args}: {done.stdout[-2000:]}\n{done.stderr[-2000:]}"
