"""Pay is held, not guessed (issue 20): on_missing per card and per KPI, statuses and reasons in
payroll.payouts, periods after the run date never scored, the open period provisional, and cards
that nobody holds (a warning) versus role holders without any result (a failure)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from kpiflow.errors import RunFailed
from kpiflow.scorecards import build_scorecards

FOUR_KPIS = ("sales", "margin", "visits", "deals")
HALF_CARD = """
    role: clerk
    kpis:
      - {{kpi: sales, weight: 0.25}}
      - {{kpi: margin, weight: 0.25}}
      - {{kpi: visits, weight: 0.25{visits}}}
      - {{kpi: deals, weight: 0.25}}
    rounding: {{applies_to: none}}
    {policy}
    pay: {{scheme: linear, floor: 0.5}}
    """


@pytest.fixture
def half_card(warehouse):
    """An employee whose card has values for two of its four KPIs (visits and deals are missing)."""
    for kpi in FOUR_KPIS:
        warehouse.kpi(kpi)
        warehouse.target(kpi, "employee", None, "1")
    warehouse.value("sales", "employee", "E1", "2025-06-01", 1.2)
    warehouse.value("margin", "employee", "E1", "2025-06-01", 1.0)
    warehouse.employee("E1", "clerk", base="1000", variable="800")
    return warehouse


def test_a_missing_kpi_holds_the_payout_by_default(half_card):
    half_card.card("clerk", HALF_CARD.format(policy="", visits=""))
    summary = half_card.build()
    payout = half_card.payout("clerk", "E1", "2025-06-01")
    assert payout["status"] == "held"
    assert (payout["kpi_index"], payout["bonus"], payout["total_pay"]) == (None, None, None)
    assert payout["fixed_pay"] == Decimal("1000.00")  # fixed pay does not depend on KPIs
    assert payout["reason"] == "held: no achievement for visits, deals (on_missing: hold): index not computed"
    assert (summary.held_payouts, summary.provisional_payouts) == (1, 0)
    assert any("card clerk: 1 payouts held" in w and "E1 2025-06: held: no achievement for visits, deals" in w
               for w in summary.warnings)  # fmt: skip


@pytest.mark.parametrize(
    ("policy", "visits", "index", "bonus", "reason"),
    [
        # the case: two of four KPIs, weights scaled by 1/0.50 -> (0.3 + 0.25) x 2 = 1.1
        ("on_missing: reweight", "", "1.1", "880.00", "visits, deals (on_missing: reweight, weights scaled by 1/0.50)"),
        # zero: 0.3 + 0.25 + 0 + 0 = 0.55
        ("on_missing: zero", "", "0.55", "440.00", "no achievement for visits, deals (on_missing: zero)"),
        # the card holds, but visits may be reweighted: deals still holds the payout
        (
            "",
            ", on_missing: reweight",
            None,
            None,
            "held: no achievement for visits, deals (on_missing: hold for deals)",
        ),
        # the card zeroes, visits is reweighted: (0.3 + 0.25 + 0) / 0.75
        ("on_missing: zero", ", on_missing: reweight", "0.7333333333", "586.67", "visits (on_missing: reweight"),
    ],
)
def test_reweight_and_zero_only_when_the_card_says_so(half_card, policy, visits, index, bonus, reason):
    half_card.card("clerk", HALF_CARD.format(policy=policy, visits=visits))
    half_card.build()
    payout = half_card.payout("clerk", "E1", "2025-06-01")
    assert payout["status"] == ("held" if index is None else "paid")
    got = None if payout["kpi_index"] is None else payout["kpi_index"].quantize(Decimal("1E-10"))
    assert got == (None if index is None else Decimal(index).quantize(Decimal("1E-10")))
    assert payout["bonus"] == (None if bonus is None else Decimal(bonus))
    assert reason in payout["reason"]


def test_zeroed_kpi_shows_zero_achievement_on_the_card(half_card):
    half_card.card("clerk", HALF_CARD.format(policy="on_missing: zero", visits=""))
    half_card.build()
    lines = {r["kpi"]: r for r in half_card.rows("select * from marts.scorecard_results")}
    assert (lines["deals"]["capped_achievement"], lines["deals"]["weighted_score"]) == (Decimal(0), Decimal(0))
    assert "counted as 0 (on_missing: zero)" in lines["deals"]["target_note"]


def test_old_missing_kpi_name_still_works_with_a_warning(half_card):
    half_card.card("clerk", HALF_CARD.format(policy="missing_kpi: no_index", visits=""))
    summary = half_card.build()
    assert half_card.payout("clerk", "E1", "2025-06-01")["status"] == "held"
    assert any("missing_kpi is renamed on_missing; write `on_missing: hold`" in w for w in summary.warnings)


MONTHLY = """
    role: clerk
    kpis: [{kpi: sales, weight: 1}]
    rounding: {applies_to: none}
    pay: {scheme: linear}
    """


def test_only_periods_started_by_the_run_date_are_scored_and_the_open_one_is_provisional(warehouse):
    """Run date 2025-06-15: April and May are paid, June is provisional, July (a plan already loaded) is absent."""
    warehouse.kpi("sales")
    warehouse.target("sales", "employee", None, "1")
    for month in ("2025-04-01", "2025-05-01", "2025-06-01", "2025-07-01"):
        warehouse.value("sales", "employee", "E1", month, 1.0)
    warehouse.employee("E1", "clerk", base="1000", variable="100")
    warehouse.card("clerk", MONTHLY)
    summary = build_scorecards(warehouse.con, warehouse.project_dir, run_date=date(2025, 6, 15))
    payouts = warehouse.rows("select period_start, status, bonus, total_pay, reason from payroll.payouts order by 1")
    assert [(p["period_start"].month, p["status"]) for p in payouts] == [(4, "paid"), (5, "paid"), (6, "provisional")]
    assert payouts[1]["total_pay"] == Decimal("1100.00") and payouts[1]["reason"] is None
    june = payouts[2]
    assert june["total_pay"] is None and june["bonus"] == Decimal("100.00")  # to date, not payable
    assert (
        june["reason"] == "period 2025-06 is open until 2025-06-30 (run date 2025-06-15): figures to date, not payable"
    )
    for table in ("marts.kpi_achievement", "marts.scorecard_results", "payroll.payouts"):
        assert warehouse.rows(f"select * from {table} where period_start > '2025-06-15'") == []
    assert summary.provisional_payouts == 1
    assert any("card clerk: 1 payouts provisional" in w for w in summary.warnings)
    # on the month's last day the month has closed
    build_scorecards(warehouse.con, warehouse.project_dir, run_date=date(2025, 6, 30))
    assert warehouse.payout("clerk", "E1", "2025-06-01")["status"] == "paid"


def test_a_card_nobody_holds_warns_and_writes_empty_tables(warehouse):
    warehouse.kpi("sales")
    warehouse.value("sales", "employee", "E1", "2025-06-01", 1.0)
    warehouse.employee("E1", "cashier")
    warehouse.card("clerk", MONTHLY)
    summary = warehouse.build()
    assert summary.payout_rows == 0
    assert any("card clerk: no employee has job_role 'clerk'" in w for w in summary.warnings)
    assert warehouse.rows("select * from payroll.payouts") == []


def test_role_holders_without_any_result_fail_the_build(warehouse):
    warehouse.kpi("sales")
    warehouse.kpi("other")
    warehouse.value("other", "company", None, "2025-06-01", 1.0)  # the marts have data, the card's KPI has none
    warehouse.employee("E1", "clerk")
    warehouse.employee("E2", "clerk", termination_date="2019-01-01")  # gone long before the data: not eligible
    warehouse.card("clerk", MONTHLY)
    with pytest.raises(RunFailed, match=r"card clerk: 1 employees with job_role 'clerk' \(E1\) have no result"):
        warehouse.build()
    assert not warehouse.rows("select * from information_schema.tables where table_schema = 'payroll'")


def test_the_pipeline_stage_scores_as_of_the_run_date(file_warehouse, tmp_path):
    """`kpiflow run --date 2025-06-15`: the scorecard stage passes its run date (no July, June provisional)."""
    import duckdb

    from kpiflow.config import Settings
    from kpiflow.orchestration.pipeline import RunContext, RunOptions
    from kpiflow.orchestration.stages import build_scorecards as scorecard_stage

    file_warehouse.kpi("sales")
    file_warehouse.target("sales", "employee", None, "1")
    for month in ("2025-05-01", "2025-06-01", "2025-07-01"):
        file_warehouse.value("sales", "employee", "E1", month, 1.0)
    file_warehouse.employee("E1", "clerk")
    file_warehouse.card("clerk", MONTHLY)
    file_warehouse.con.close()
    path = tmp_path / "warehouse.duckdb"
    settings = Settings(file_warehouse.project_dir, path, tmp_path / "marts.duckdb", "dev")
    summary = scorecard_stage(RunContext(settings, RunOptions(run_date=date(2025, 6, 15)), "run"))
    assert "2 payouts (1 paid, 0 held, 1 provisional)" in summary.headline()
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("select period_start, status from payroll.payouts order by 1").fetchall()
    assert rows == [(date(2025, 5, 1), "paid"), (date(2025, 6, 1), "provisional")]
