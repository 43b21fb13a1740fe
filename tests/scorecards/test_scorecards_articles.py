"""The articles' worked examples, through card YAML + seeds + build_scorecards (DECISIONS rules 17-19)."""

from __future__ import annotations

from decimal import Decimal

import pytest

ARTICLE_BANDS = [(0, 70, "0"), (70, 80, "0.6"), (80, 90, "0.7"), (90, 96, "0.8"), (96, 99, "0.9"),
                 (99, 102, "1.0"), (102, 106, "1.3"), (106, 110, "1.4"), (110, None, "1.5")]  # fmt: skip
_BANDS_YAML = ", ".join(
    f"{{from: {low}, coefficient: {c}" + ("}" if high is None else f", to: {high}}}") for low, high, c in ARTICLE_BANDS
)
STEP_TABLE = f"{{scheme: step_table, bands: [{_BANDS_YAML}]}}"


@pytest.mark.parametrize(
    ("rounding", "index", "pay", "weighted"),
    [
        # rule 17: exact decimal arithmetic
        ("{applies_to: none}", "1.1375", "833.00", ("0.55", "0.2125", "0.375")),
        # rule 17: the article's figures, each component rounded to 3 digits half-even
        ("{applies_to: component, digits: 3, mode: half_even}", "1.137", "832.88", ("0.550", "0.212", "0.375")),
        # half-up on exact decimals gives 0.213 (articles-001 P6 caveat)
        ("{applies_to: component, digits: 3, mode: half_up}", "1.138", "833.12", ("0.550", "0.213", "0.375")),
        ("{applies_to: component, digits: 3, mode: down}", "1.137", "832.88", ("0.550", "0.212", "0.375")),
        # rounding once, at the index: 1.1375 -> 1.138 either way (7 is odd, so half-even rounds up too)
        ("{applies_to: index, digits: 3, mode: half_even}", "1.138", "833.12", ("0.55", "0.2125", "0.375")),
        ("{applies_to: index, digits: 2, mode: down}", "1.13", "831.20", ("0.55", "0.2125", "0.375")),
    ],
)
def test_marketer_index_and_pay_follow_the_rounding_rule(marketer, card_text, rounding, index, pay, weighted):
    marketer.card("marketer", card_text(rounding))
    summary = marketer.build()
    assert summary.payout_rows == 1 and summary.held_payouts == 0
    payout = marketer.payout("marketer", "M001", "2025-06-01")
    assert payout["kpi_index"] == Decimal(index)
    assert payout["total_pay"] == Decimal(pay)
    assert payout["fixed_pay"] + payout["bonus"] == payout["total_pay"]
    lines = marketer.rows("select kpi, weighted_score from marts.scorecard_results order by weight desc, kpi desc")
    assert [line["weighted_score"] for line in lines] == [Decimal(w) for w in weighted]


def test_marketer_article_figures_show_as_113_70_percent(marketer, card_text):
    marketer.card("marketer", card_text("{applies_to: component, digits: 3, mode: half_even}"))
    marketer.build()
    payout = marketer.payout("marketer", "M001", "2025-06-01")
    assert f"{payout['kpi_index'] * 100:.2f}%" == "113.70%"
    assert payout["bonus"] - payout["variable_pay"] == Decimal("32.88")  # 560 + 240 + 32.88


def test_step_table_pays_coefficient_of_the_band(marketer, card_text):
    """Rule 19: 113.7% -> 1.5 -> bonus 360, pay 920."""
    marketer.card("marketer", card_text("{applies_to: component, digits: 3, mode: half_even}", STEP_TABLE))
    marketer.build()
    payout = marketer.payout("marketer", "M001", "2025-06-01")
    assert (payout["bonus_coefficient"], payout["bonus"], payout["total_pay"]) == (
        Decimal("1.5"),
        Decimal("360.00"),
        Decimal("920.00"),
    )


def single_kpi_card(pay: str) -> str:
    return f"""
        role: analyst
        kpis: [{{kpi: score, weight: 1, target: seed}}]
        rounding: {{applies_to: none}}
        pay: {pay}
        """


@pytest.mark.parametrize(
    ("fact", "coefficient", "bonus"),
    [(0.6999, "0", "0.00"), (0.7, "0.6", "144.00"), (0.85, "0.7", "168.00"), (0.99, "1.0", "240.00"),
     (1.0199, "1.0", "240.00"), (1.04, "1.3", "312.00"), (1.0999, "1.4", "336.00"), (1.1, "1.5", "360.00")],
)  # fmt: skip
def test_step_table_band_edges_are_half_open(warehouse, fact, coefficient, bonus):
    """69.99% -> 0, 70% -> 0.6, 99% -> 1.0, 110% -> 1.5: a band includes its start, not its end."""
    warehouse.kpi("score")
    warehouse.target("score", "employee", None, "1")
    warehouse.value("score", "employee", "E1", "2025-06-01", fact)
    warehouse.employee("E1", "analyst")
    warehouse.card("analyst", single_kpi_card(STEP_TABLE))
    summary = warehouse.build()
    assert any("1 KPIs; 3 to 5 are recommended" in w for w in summary.warnings)
    payout = warehouse.payout("analyst", "E1", "2025-06-01")
    assert payout["bonus_coefficient"] == Decimal(coefficient)
    assert payout["bonus"] == Decimal(bonus)


@pytest.mark.parametrize(
    ("fact", "bonus", "pay"),
    [(0.69, "0.00", "560.00"), (0.6999, "0.00", "560.00"), (0.70, "168.00", "728.00"), (0.9, "216.00", "776.00")],
)
def test_linear_pay_has_a_floor_at_070(warehouse, fact, bonus, pay):
    """Rule 18: index 0.69 -> bonus 0, pay = fixed; at 0.70 and above the bonus is proportional."""
    warehouse.kpi("score")
    warehouse.target("score", "employee", None, "1")
    warehouse.value("score", "employee", "E1", "2025-06-01", fact)
    warehouse.employee("E1", "analyst")
    warehouse.card("analyst", single_kpi_card("{scheme: linear, floor: 0.70}"))
    warehouse.build()
    payout = warehouse.payout("analyst", "E1", "2025-06-01")
    assert (payout["bonus"], payout["total_pay"]) == (Decimal(bonus), Decimal(pay))
