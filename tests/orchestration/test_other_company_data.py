"""Another company's data through the real pipeline: its own regions, categories, roles, courses, lead sources and
departments, customers without a home store and products without a name, and a sales plan that never arrived. The
gate warns about the unknown names and passes; the build and the publish go through, the missing plan holds that
manager's pay with its reason; the KPI breakdowns carry the company's names, and a breakdown
with an unknown (NULL) member still adds up to the total (issues 15.8, 20.1 and 20.3)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import pytest
from orchestration_helpers import CliResult
from orchestration_standins import Stages

from kpiflow.config import Settings
from kpiflow.warehouse.duckdb_files import attached_read_only

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]  # a full dbt build: a minute or two

START, RUN_DATE = date(2025, 10, 1), date(2025, 12, 31)
RENAMED = (
    "update raw.products set category = 'Garden' where category = 'Home'",
    "update raw.stores set region = 'Online' where store_type = 'online'",
    "update raw.stores set region = 'Nordic' where region = 'North'",
    "update raw.customers set region = 'Nordic' where region = 'North'",
    "update raw.employees set job_role = 'checkout_operator' where job_role = 'cashier'",
    "update raw.job_applications set job_role = 'checkout_operator' where job_role = 'cashier'",
    "update raw.employees set department = 'logistics' where department = 'operations'",
    "update raw.job_applications set department = 'logistics' where department = 'operations'",
    "update raw.trainings set course_id = 'SAFETY-1' where course_id = 'C01'",
    "update raw.crm_leads set source = 'trade_fair' where source = 'chat'",
    "update raw.crm_activities set outcome = 'warm' where outcome = 'interested'",
)
MAY_BE_EMPTY = (
    "update raw.customers set home_store_id = null, region = null where hash(customer_id) % 3 = 0",
    "update raw.products set product_name = null where hash(product_id) % 4 = 0",
    # a physical store without a region: its sales are the unknown member of the region breakdown
    "update raw.stores set region = null where store_id = (select min(store_id) from raw.stores where region = 'West')",
)
# one sales manager's November plan never arrived: that card's plan attainment has no value, so its pay is held
NO_PLAN = (
    "delete from raw.sales_plans where month_start = date '2025-11-01' "
    "and employee_id = (select min(employee_id) from raw.sales_plans)"
)


def _published(path: Path, sql: str) -> list[tuple]:
    with attached_read_only(path, "pub") as con:
        return con.execute(sql).fetchall()


def test_other_company_names_and_empty_columns_publish(
    kpiflow_cli: Callable[..., CliResult], demo_in_project_copy: Callable[..., Settings]
) -> None:
    settings = demo_in_project_copy(START, RUN_DATE, scale=0.02)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        (no_plan_employee,) = con.execute("select min(employee_id) from raw.sales_plans").fetchone()
        for statement in (*RENAMED, *MAY_BE_EMPTY, NO_PLAN):
            con.execute(statement)
        (customers_without_store,) = con.execute(
            "select count(*) from raw.customers where home_store_id is null"
        ).fetchone()
    assert customers_without_store > 10

    done = kpiflow_cli("run", "--date", str(RUN_DATE), "--json", "--quiet", stages=Stages())
    assert done.returncode == 0, done.stderr + done.stdout[-3000:]
    result = json.loads(done.stdout)
    assert result["status"] == "completed"
    assert result["quality"]["passed"]
    summary = result["quality"]["summary"]
    for warned in ("products.category.vocabulary", "stores.region.vocabulary", "employees.job_role.vocabulary",
                   "employees.department.vocabulary", "trainings.course_id.vocabulary", "crm_leads.source.vocabulary",
                   "crm_activities.outcome.vocabulary", "customers.region.vocabulary"):  # fmt: skip
        assert f"WARN {warned} [" in summary, summary
    assert "Garden (" in summary and "trade_fair (" in summary

    marts = settings.marts_path
    month = "kpi = 'net_revenue' and grain = 'month' and period_start = date '2025-12-01'"
    categories = dict(_published(marts, f"select category, value from pub.marts.kpi_values where {month} "
                                        "and dimension_set = 'category'"))  # fmt: skip
    regions = dict(_published(marts, f"select region, value from pub.marts.kpi_values where {month} "
                                     "and dimension_set = 'region'"))  # fmt: skip
    ((overall,),) = _published(
        marts, f"select value from pub.marts.kpi_values where {month} and dimension_set = 'overall'"
    )
    assert "Garden" in categories and "Home" not in categories
    assert {"Online", "Nordic", None} <= set(regions) and "North" not in regions
    assert regions[None] > 0  # the store without a region: the unknown member, kept as NULL
    assert sum(categories.values()) == pytest.approx(overall)
    assert sum(regions.values()) == pytest.approx(overall)  # members including the unknown one add up

    retention = _published(marts, "select count(*) from pub.marts.kpi_values where kpi = 'customer_retention_rate' "
                                  "and dimension_set = 'region' and region is null and value is not null")  # fmt: skip
    assert retention[0][0] > 0  # customers without a region are retained or not like everyone else
    sellers = _published(marts, "select count(*) from pub.marts.kpi_values where kpi = 'new_customers' "
                                "and dimension_set = 'employee' and employee_id is null")  # fmt: skip
    assert sellers[0][0] > 0  # web orders have no seller: the unknown member of the employee breakdown
    departments = {d for (d,) in _published(marts, "select distinct department from pub.marts.kpi_values "
                                                   "where dimension_set = 'department'")}  # fmt: skip
    assert "logistics" in departments

    held = _published(marts, "select employee_id, period_start, status, reason, bonus, total_pay from "
                             "pub.payroll.payouts where status = 'held'")  # fmt: skip
    assert (no_plan_employee, date(2025, 11, 1)) in {(row[0], row[1]) for row in held}, held
    for _, _, _, reason, bonus, total_pay in held:
        assert reason and bonus is None and total_pay is None  # held with its reason, never a guessed amount
    missing_plan = [row for row in held if row[0] == no_plan_employee and row[1] == date(2025, 11, 1)]
    assert "plan_attainment" in missing_plan[0][3]
    (after_run_date,) = _published(marts, "select count(*) from pub.payroll.payouts where period_start > date "
                                          "'2025-12-31'")[0]  # fmt: skip
    assert after_run_date == 0
