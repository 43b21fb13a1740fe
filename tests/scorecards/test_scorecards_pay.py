"""Pay schemes beyond the articles' marketer: department multiplier (rule 21), additive pay, caps, gaps."""

from __future__ import annotations

from decimal import Decimal

import pytest

SELLER_CARD = """
    role: seller
    department_multiplier:
      kpi: plan_attainment
      factors: {{below_minimum: 0.9, minimum: 1.0, optimal: 1.1, maximum: 1.25}}
    kpis: [{{kpi: plan_attainment, weight: 1, target: seed}}]
    rounding: {{applies_to: none}}
    pay: {pay}
    """


@pytest.mark.parametrize(
    ("department_value", "level_factor", "bonus"),
    [(0.90, "0.9", "216.00"), (0.95, "1.0", "240.00"), (1.05, "1.1", "264.00"), (1.10, "1.25", "300.00")],
)
def test_department_plan_level_multiplies_every_members_bonus(warehouse, department_value, level_factor, bonus):
    """Rule 21: minimum / optimal / maximum reached -> factor 1.0 / 1.1 / 1.25 on each member's bonus."""
    warehouse.kpi("plan_attainment")
    warehouse.target("plan_attainment", "employee", None, "1")
    warehouse.plan("sales", "plan_attainment", "0.95", "1.00", "1.10")
    warehouse.value("plan_attainment", "department", "sales", "2025-06-01", department_value)
    for employee in ("E1", "E2"):
        warehouse.employee(employee, "seller", department="sales")
        warehouse.value("plan_attainment", "employee", employee, "2025-06-01", 1.0)
    warehouse.card("seller", SELLER_CARD.format(pay="{scheme: linear}"))
    warehouse.build()
    for employee in ("E1", "E2"):
        payout = warehouse.payout("seller", employee, "2025-06-01")
        assert payout["department_multiplier"] == Decimal(level_factor)
        assert payout["bonus"] == Decimal(bonus)  # 240 x index 1.0 x factor
        assert payout["total_pay"] == Decimal(560) + Decimal(bonus)


def test_department_without_plan_keeps_multiplier_one_and_says_why(warehouse):
    warehouse.kpi("plan_attainment")
    warehouse.target("plan_attainment", "employee", None, "1")
    warehouse.value("plan_attainment", "employee", "E1", "2025-06-01", 1.0)
    warehouse.employee("E1", "seller", department="support")
    warehouse.card("seller", SELLER_CARD.format(pay="{scheme: linear}"))
    warehouse.build()
    payout = warehouse.payout("seller", "E1", "2025-06-01")
    assert payout["department_multiplier"] == 1
    assert "no plan_attainment plan for department support: multiplier 1" in payout["bonus_note"]


def test_additive_pay_is_base_plus_components(warehouse):
    """Pay = base + K1 + K2 (articles-001 P1): an amount x achievement, and money per unit of actual."""
    for kpi in ("sales_share", "new_clients", "service"):
        warehouse.kpi(kpi)
    warehouse.target("sales_share", "employee", None, "0.5")
    warehouse.target("new_clients", "employee", None, "10")
    warehouse.target("service", "employee", None, "4")
    warehouse.value("sales_share", "employee", "E1", "2025-06-01", 0.6)  # achievement 1.2
    warehouse.value("new_clients", "employee", "E1", "2025-06-01", 7)
    warehouse.value("service", "employee", "E1", "2025-06-01", 3)  # achievement 0.75, below the 0.8 floor
    warehouse.employee("E1", "seller", base="1000", variable="0")
    warehouse.card(
        "seller",
        """
        role: seller
        kpis:
          - {kpi: sales_share, weight: 0.5}
          - {kpi: new_clients, weight: 0.25}
          - {kpi: service, weight: 0.25}
        rounding: {applies_to: none}
        pay:
          scheme: additive
          components:
            - {name: K1, kpi: sales_share, amount: 300}
            - {name: K2, kpi: new_clients, per_unit: 25.5}
            - {name: K3, kpi: service, amount: 100, floor: 0.8}
        """,
    )
    warehouse.build()
    payout = warehouse.payout("seller", "E1", "2025-06-01")
    assert payout["bonus"] == Decimal("538.50")  # 300 x 1.2 + 25.5 x 7 + 0
    assert payout["total_pay"] == Decimal("1538.50")
    assert payout["bonus_coefficient"] is None
    assert "K2 = 25.5 x 7 = 178.50" in payout["bonus_note"]


CAPPED_CARD = """
    role: clerk
    kpis:
      - {{kpi: sales, weight: 0.6, cap: 1.2}}
      - {{kpi: errors, weight: 0.4, cap: 1.5}}
    index_cap: 1.25
    missing_kpi: {missing}
    rounding: {{applies_to: none}}
    pay: {{scheme: linear}}
    """


@pytest.mark.parametrize(
    ("sales", "errors", "missing", "index", "capped"),
    [
        (2.0, 5, "no_index", "1.12", ("1.2", "1")),  # 0.6 x min(2, 1.2) + 0.4 x 1
        (2.0, 0, "no_index", "1.25", ("1.2", "1.5")),  # 0 errors is unbounded -> cap 1.5; 0.72 + 0.6 = 1.32 -> 1.25
        (1.0, None, "no_index", None, ("1", None)),  # a missing KPI: no index, no pay
        (1.1, None, "reweight", "1.1", ("1.1", None)),  # reweighted: 0.6 / 0.6 x 1.1
    ],
)
def test_caps_and_missing_kpis(warehouse, sales, errors, missing, index, capped):
    warehouse.kpi("sales")
    warehouse.kpi("errors", direction="lower_is_better")
    warehouse.target("sales", "employee", None, "1")
    warehouse.target("errors", "employee", None, "5")
    warehouse.value("sales", "employee", "E1", "2025-06-01", sales)
    warehouse.value("errors", "employee", "E1", "2025-06-01", errors, suppressed=errors is None)
    warehouse.employee("E1", "clerk")
    warehouse.card("clerk", CAPPED_CARD.format(missing=missing))
    summary = warehouse.build()
    payout = warehouse.payout("clerk", "E1", "2025-06-01")
    assert payout["kpi_index"] == (None if index is None else Decimal(index))
    assert (payout["total_pay"] is None) == (index is None)
    assert summary.held_payouts == (1 if index is None else 0)
    lines = warehouse.rows("select kpi, capped_achievement from marts.scorecard_results order by kpi desc")
    assert [line["capped_achievement"] for line in lines] == [None if c is None else Decimal(c) for c in capped]


def test_only_employees_active_in_the_period_are_scored_and_quarters_pay_three_months(warehouse):
    warehouse.kpi("sales")
    warehouse.target("sales", "employee", None, "1", grain="quarter")
    for employee in ("E1", "E2", "E3"):
        warehouse.value("sales", "employee", employee, "2025-04-01", 1.0, grain="quarter")
    warehouse.employee("E1", "clerk", base="1000", variable="100")
    warehouse.employee("E2", "clerk", termination_date="2025-04-01")  # left on the first day: not active
    warehouse.employee("E3", "clerk", hire_date="2025-06-30")  # joined on the last day: active
    warehouse.card(
        "clerk",
        """
        role: clerk
        grain: quarter
        kpis: [{kpi: sales, weight: 1}]
        rounding: {applies_to: none}
        pay: {scheme: linear}
        """,
    )
    warehouse.build()
    payouts = warehouse.rows("select employee_id, fixed_pay, total_pay from payroll.payouts order by employee_id")
    assert [p["employee_id"] for p in payouts] == ["E1", "E3"]
    assert (payouts[0]["fixed_pay"], payouts[0]["total_pay"]) == (Decimal("3000.00"), Decimal("3300.00"))
