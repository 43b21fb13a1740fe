"""Targets: baseline rule (rule 20), seed precedence, fallbacks, and seed errors naming the CSV line."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from kpiflow.errors import UserInputError

BASELINE_CARD = """
    role: marketer
    kpis:
      - kpi: new_customers
        weight: 0.5
        target: {baseline: {periods: 6, uplift: 0.20}}
      - kpi: repeat_customers
        weight: 0.25
        target: {baseline: {periods: 6, uplift: 0.20}}
      - kpi: positive_reviews
        weight: 0.25
        target: {baseline: {periods: 6, uplift: 0.20}}
    rounding: {applies_to: none}
    pay: {scheme: linear}
    """
# Six months whose means are the article's baselines 160, 30 and 35 (articles-001 P5).
HISTORY = {
    "new_customers": [150, 170, 160, 155, 165, 160],
    "repeat_customers": [30, 30, 30, 30, 30, 30],
    "positive_reviews": [33, 37, 35, 34, 36, 35],
}
MONTHS = ["2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01", "2025-05-01", "2025-06-01"]


def test_baseline_is_mean_of_last_six_months_plus_uplift(warehouse):
    """Rule 20: 160 -> 192, 30 -> 36, 35 -> 42."""
    for kpi, values in HISTORY.items():
        warehouse.kpi(kpi)
        for month, value in zip(MONTHS, values, strict=True):
            warehouse.value(kpi, "employee", "M001", month, value)
        warehouse.value(kpi, "employee", "M001", "2025-07-01", values[0])
    warehouse.employee("M001", "marketer")
    warehouse.card("marketer", BASELINE_CARD)
    warehouse.build()
    targets = {
        r["kpi"]: r["target"]
        for r in warehouse.rows(
            "select kpi, target from marts.kpi_achievement where period_start = ?", [date(2025, 7, 1)]
        )
    }
    assert targets == {"new_customers": Decimal(192), "repeat_customers": Decimal(36), "positive_reviews": Decimal(42)}
    note = warehouse.rows("select target_note from marts.kpi_achievement where kpi = 'new_customers' "
                          "and period_start = '2025-07-01'")[0]["target_note"]  # fmt: skip
    assert "mean of 6 month values 2025-01..2025-06 = 160 x (1 + 0.20) = 192" in note
    # January has no history: no target, so no achievement and no index for that month
    january = warehouse.payout("marketer", "M001", "2025-01-01")
    assert january["kpi_index"] is None and january["total_pay"] is None


def test_baseline_window_is_calendar_periods_and_fallbacks_apply(warehouse):
    warehouse.kpi("deals")
    # E1 has history only in March; E2 in Jan-Mar. April: window Jan..Mar (3 periods), min_periods 2.
    warehouse.value("deals", "employee", "E1", "2025-03-01", 10)
    for month, value in (("2025-01-01", 8), ("2025-02-01", 10), ("2025-03-01", 12)):
        warehouse.value("deals", "employee", "E2", month, value)
    warehouse.value("deals", "employee", "E1", "2025-04-01", 11)
    warehouse.value("deals", "employee", "E2", "2025-04-01", 13)
    warehouse.employee("E1", "seller")
    warehouse.employee("E2", "seller")
    warehouse.card(
        "seller",
        """
        role: seller
        kpis:
          - kpi: deals
            weight: 1
            target: {baseline: {periods: 3, uplift: 0.5, min_periods: 2, fallback: peer_mean}}
        rounding: {applies_to: none}
        pay: {scheme: linear}
        """,
    )
    warehouse.build()
    april = {
        r["entity_id"]: (r["target"], r["target_source"])
        for r in warehouse.rows("select * from marts.kpi_achievement where period_start = '2025-04-01'")
    }
    assert april["E2"] == (Decimal(15), "baseline")  # mean(8, 10, 12) = 10 x 1.5
    assert april["E1"] == (Decimal(12), "baseline_fallback")  # only 1 of 2 periods: mean of peers (11 + 13) / 2


def test_most_specific_seed_row_wins(warehouse):
    warehouse.kpi("sales")
    for store in ("S1", "S2"):
        for month in ("2025-05-01", "2025-06-01"):
            warehouse.value("sales", "store", store, month, 100)
    warehouse.target("sales", "store", None, "50")  # every store, every month
    warehouse.target("sales", "store", None, "80", period="2025-06-01")  # every store in June
    warehouse.target("sales", "store", "S1", "200")  # S1, every month
    warehouse.target("sales", "store", "S1", "125", period="2025-06-01")  # S1 in June
    warehouse.build()
    targets = {
        (r["entity_id"], r["period_start"].isoformat()): r["target"]
        for r in warehouse.rows("select * from marts.kpi_achievement")
    }
    assert targets == {
        ("S1", "2025-05-01"): Decimal(200),
        ("S1", "2025-06-01"): Decimal(125),
        ("S2", "2025-05-01"): Decimal(50),
        ("S2", "2025-06-01"): Decimal(80),
    }


def test_card_rule_overrides_seed_with_a_warning(warehouse):
    warehouse.kpi("sales")
    warehouse.value("sales", "employee", "E1", "2025-06-01", 90)
    warehouse.target("sales", "employee", None, "50")
    warehouse.employee("E1", "seller")
    warehouse.card(
        "seller",
        """
        role: seller
        kpis: [{kpi: sales, weight: 1, target: {constant: 100, minimum: 80, stretch: 120}}]
        rounding: {applies_to: none}
        pay: {scheme: linear}
        """,
    )
    summary = warehouse.build()
    row = warehouse.rows("select * from marts.kpi_achievement")[0]
    assert (row["target"], row["minimum"], row["stretch"], row["target_source"]) == (100, 80, 120, "constant")
    assert (row["achievement"], row["variance"], row["status"]) == (Decimal("0.9"), Decimal(-10), "below_target")
    assert any("kpi_targets.csv rows for sales at employee/month are ignored" in w for w in summary.warnings)


def test_seed_problems_name_the_csv_line(warehouse):
    warehouse.kpi("sales")
    (warehouse.project_dir / "seeds" / "kpi_targets.csv").write_text(
        "kpi,entity_type,entity_id,grain,period_start,target,minimum,stretch,band_low,band_high\n"
        "sales,store,,month,,100,,,,\n"
        "salez,store,,month,,100,,,,\n"
        "sales,shop,,month,,100,,,,\n",
        encoding="utf-8",
    )
    warehouse.target("sales", "store", None, "100")
    warehouse.target("salez", "store", None, "100")
    warehouse.target("sales", "shop", None, "100")
    with pytest.raises(UserInputError) as error:
        warehouse.build()
    text = str(error.value)
    assert "kpi_targets.csv:3: unknown KPI 'salez'" in text
    assert "kpi_targets.csv:4: entity_type 'shop' is not one of company, store, department, employee" in text
    assert ":2:" not in text


def test_company_and_department_entities_read_their_dimension_sets(warehouse):
    warehouse.kpi("revenue")
    warehouse.value("revenue", "company", None, "2025-06-01", 1000)
    warehouse.value("revenue", "department", "sales", "2025-06-01", 400)
    warehouse.value("revenue", "store", "S1", "2025-06-01", 300)
    warehouse.target("revenue", "company", None, "800")
    warehouse.target("revenue", "department", "sales", "500")
    warehouse.build()
    rows = {(r["entity_type"], r["entity_id"]): r["achievement"] for r in warehouse.rows(
        "select * from marts.kpi_achievement")}  # fmt: skip
    assert rows == {("company", "company"): Decimal("1.25"), ("department", "sales"): Decimal("0.8")}


def test_rows_without_entity_or_period_are_left_out(warehouse):
    """kpi_values may hold an 'unattributed' bucket (no seller) or rows without a time: they get no target."""
    warehouse.kpi("sales")
    warehouse.value("sales", "employee", "E1", "2025-06-01", 10)
    warehouse.value("sales", "employee", None, "2025-06-01", 99)
    warehouse.con.execute(
        "insert into marts.kpi_values (kpi, grain, period_start, dimension_set, employee_id, value, is_suppressed) "
        "values ('sales', 'month', null, 'employee', 'E1', 5, false)"
    )
    warehouse.target("sales", "employee", None, "8")
    warehouse.build()
    rows = warehouse.rows("select entity_id, period_start, achievement from marts.kpi_achievement")
    assert [(r["entity_id"], r["achievement"]) for r in rows] == [("E1", Decimal("1.25"))]
