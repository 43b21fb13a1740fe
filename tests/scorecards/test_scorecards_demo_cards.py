"""The demo cards and seeds in the repository: valid, typed like dbt loads them, and paying every month."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import jinja2
import pytest
import yaml

from kpiflow.scorecards import load_scorecards
from kpiflow.scorecards.inputs import INPUT_TABLES, load_csv

ROOT = Path(__file__).resolve().parents[2]
DEMO_KPIS = {
    "plan_attainment": "higher_is_better",
    "store_plan_attainment": "higher_is_better",
    "new_customers": "higher_is_better",
    "avg_first_response_minutes": "lower_is_better",
    "follow_ups_per_lead": "higher_is_better",
    "average_deal_size": "higher_is_better",
    "conversion_rate": "higher_is_better",
    "shrinkage_rate": "lower_is_better",
    "employee_turnover_rate": "lower_is_better",
}
MONTHS = [f"2024-{m:02d}-01" for m in range(1, 9)]


def test_demo_cards_are_valid_against_the_demo_kpis():
    cards, issues = load_scorecards(ROOT / "metrics" / "scorecards", DEMO_KPIS)
    assert [str(i) for i in issues] == []
    assert sorted(c.name for c in cards) == ["sales_manager", "store_manager"]
    by_name = {c.name: c for c in cards}
    assert {k.entity_type for k in by_name["sales_manager"].kpis} == {"employee"}
    assert {k.entity_type for k in by_name["store_manager"].kpis} == {"store"}


def seed_type(declared: str, adapter: str) -> str:
    """A seed's column type as dbt renders it for an adapter (text columns name Spark's own type)."""
    return jinja2.Template(declared).render(target={"type": adapter}).lower()


def test_seed_column_types_match_the_contract():
    """dbt loads the seeds with the types the scorecard code and its test fixtures assume."""
    document = yaml.safe_load((ROOT / "seeds" / "_seeds_scorecards.yml").read_text(encoding="utf-8"))
    for seed in document["seeds"]:
        declared = {name: seed_type(kind, "duckdb") for name, kind in seed["config"]["column_types"].items()}
        contract = dict(
            re.match(r"(\w+) (.+)", column.strip()).groups()  # type: ignore[union-attr]
            for column in re.split(r",\s*(?![^()]*\))", INPUT_TABLES[f"seeds.{seed['name']}"])
        )
        assert declared == contract
        on_spark = {seed_type(kind, "spark") for kind in seed["config"]["column_types"].values()}
        assert "varchar" not in on_spark and "string" in on_spark  # Spark's VARCHAR needs a length
        header = (ROOT / "seeds" / f"{seed['name']}.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
        assert header == list(contract) == [c["name"] for c in seed["columns"]]


@pytest.fixture
def demo(warehouse):
    """Eight months of plausible values for two sales managers and three stores, with the repo's cards and seeds."""
    for kpi, direction in DEMO_KPIS.items():
        warehouse.kpi(kpi, direction)
    for path in (ROOT / "metrics" / "scorecards").glob("*.yml"):
        (warehouse.cards_dir / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    load_csv(warehouse.con, "seeds.kpi_targets", ROOT / "seeds" / "kpi_targets.csv")
    load_csv(warehouse.con, "seeds.department_plans", ROOT / "seeds" / "department_plans.csv")
    for i, month in enumerate(MONTHS):
        warehouse.value("plan_attainment", "department", "sales", month, 0.93 + 0.03 * (i % 4))
        for n, employee in enumerate(("E1", "E2")):
            warehouse.value("plan_attainment", "employee", employee, month, 0.8 + 0.05 * ((i + n) % 6))
            warehouse.value("new_customers", "employee", employee, month, 20 + 3 * ((i * (n + 1)) % 5))
            warehouse.value("avg_first_response_minutes", "employee", employee, month, 40 + 10 * ((i + n) % 4))
            warehouse.value("follow_ups_per_lead", "employee", employee, month, 3 + 0.5 * ((i + n) % 3))
            warehouse.value("average_deal_size", "employee", employee, month, 900 + 50 * ((i + 2 * n) % 4))
        for n, store in enumerate(("S1", "S2", "S3")):
            warehouse.value("store_plan_attainment", "store", store, month, 0.9 + 0.04 * ((i + n) % 5))
            warehouse.value("conversion_rate", "store", store, month, 0.2 + 0.01 * ((i + n) % 7))
            if month.endswith(("03-01", "06-01")):
                warehouse.value("shrinkage_rate", "store", store, month, 0.01 + 0.002 * n)
            small_store = store == "S3" and i % 2 == 0
            turnover = None if small_store else 0.02 * (i % 3)  # 0% turnover: unbounded, capped at 1.5
            warehouse.value("employee_turnover_rate", "store", store, month, turnover, suppressed=small_store)
    warehouse.employee("E1", "sales_manager", base="3000", variable="1000", store_id="S1", department="sales")
    warehouse.employee("E2", "sales_manager", base="3200", variable="900", store_id="S2", department="sales")
    for n, store in enumerate(("S1", "S2", "S3")):
        warehouse.employee(f"M{n}", "store_manager", base="4000", variable="1500", store_id=store, department="retail")
    return warehouse


def test_demo_cards_pay_every_manager_every_month(demo):
    summary = demo.build()
    assert summary.cards == ("sales_manager", "store_manager")
    assert summary.payout_rows == len(MONTHS) * 5
    assert summary.held_payouts == 0
    assert summary.scorecard_rows == len(MONTHS) * (2 * 5 + 3 * 4)
    incomplete = demo.rows("select * from payroll.payouts where total_pay is null or kpi_index is null")
    assert incomplete == []
    months = demo.rows("select card, count(distinct period_start) as months from payroll.payouts group by card")
    assert {m["card"]: m["months"] for m in months} == {"sales_manager": 8, "store_manager": 8}
    # the department multiplier follows its plan level (0.95 / 1.00 / 1.10): 0.93 below, 0.96 minimum, 1.02 optimal
    factors = {
        p["period_start"].month: p["department_multiplier"]
        for p in demo.rows("select * from payroll.payouts where card = 'sales_manager' and employee_id = 'E1'")
    }
    assert (factors[1], factors[2], factors[3], factors[4]) == (Decimal(1), Decimal(1), Decimal(1), Decimal("1.1"))
    # first month: baselines have no history, so new_customers falls back to the peers' mean
    first = demo.rows(
        "select target_source from marts.kpi_achievement where kpi = 'new_customers' and period_start = '2024-01-01'"
    )
    assert {r["target_source"] for r in first} == {"baseline_fallback"}
    # store S3's suppressed turnover is reweighted away, not paid as zero
    s3 = demo.payout("store_manager", "M2", "2024-01-01")
    reweighted = "no achievement for shrinkage_rate, employee_turnover_rate (on_missing: reweight"
    assert reweighted in s3["bonus_note"] and reweighted in s3["reason"]
    assert s3["status"] == "paid"


def test_outputs_are_typed_and_rebuilt_in_place(demo):
    demo.build()
    first = demo.rows("select count(*) as n from payroll.payouts")[0]["n"]
    demo.build()
    assert demo.rows("select count(*) as n from payroll.payouts")[0]["n"] == first
    types = {
        (r["table_schema"], r["table_name"], r["column_name"]): r["data_type"]
        for r in demo.rows("select * from information_schema.columns where table_schema in ('marts', 'payroll')")
    }
    assert types[("payroll", "payouts", "total_pay")] == "DECIMAL(18,2)"
    assert types[("payroll", "payouts", "bonus")] == "DECIMAL(18,2)"
    assert types[("payroll", "payouts", "kpi_index")] == "DECIMAL(38,12)"
    assert types[("marts", "scorecard_results", "weighted_score")] == "DECIMAL(38,12)"
    assert types[("marts", "kpi_achievement", "achievement")] == "DECIMAL(38,12)"
    assert not any(table == "payouts" and schema == "marts" for schema, table, _ in types)


def declared_kpis() -> dict[str, str]:
    """KPI names and directions as analysts declare them in metrics/*.yml (`kpi:` blocks)."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "metrics").glob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for metric in document.get("metrics") or []:
            if isinstance(metric, dict) and isinstance(metric.get("kpi"), dict):
                found[metric["name"]] = metric["kpi"].get("direction", "higher_is_better")
    return found


def test_demo_card_kpis_exist_in_the_metric_definitions():
    """The names and directions the demo cards assume are the ones the compiler publishes."""
    declared = declared_kpis()
    if not declared:
        pytest.skip("no KPI metrics declared in metrics/*.yml yet")
    assert {kpi: declared.get(kpi) for kpi in DEMO_KPIS} == DEMO_KPIS
