"""Card validation: issues name file, line and field (rule 16, rule 19, unknown names)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from kpiflow.errors import UserInputError
from kpiflow.scorecards import load_scorecards

KNOWN = ["plan_attainment", "new_customers", "average_deal_size", "conversion_rate", "follow_ups_per_lead"]
VALID = """\
role: sales_manager
kpis:
  - kpi: plan_attainment
    weight: 0.5
  - kpi: new_customers
    weight: 0.25
  - kpi: average_deal_size
    weight: 0.25
rounding: {applies_to: none}
pay: {scheme: linear}
"""


def issues_for(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "card.yml").write_text(textwrap.dedent(text), encoding="utf-8")
    cards, issues = load_scorecards(tmp_path, KNOWN)
    if any(i.severity == "error" for i in issues):
        assert cards == []
    return [str(i).replace(f"{tmp_path}/", "") for i in issues]


def test_valid_card_loads_with_defaults(tmp_path):
    (tmp_path / "sales_manager.yml").write_text(VALID, encoding="utf-8")
    cards, issues = load_scorecards(tmp_path, lambda: KNOWN)
    assert issues == []
    (card,) = cards
    assert (card.name, card.role, card.grain, card.rounding.applies_to) == (
        "sales_manager",
        "sales_manager",
        "month",
        "none",
    )
    assert [str(k.weight) for k in card.kpis] == ["0.5", "0.25", "0.25"]  # exact, from the YAML text
    assert {k.entity_type for k in card.kpis} == {"employee"}


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            ("weight: 0.25\n  - kpi: average", "weight: 0.2\n  - kpi: average"),
            "card.yml:2: error: kpis: weights sum to 0.95 (0.5 + 0.2 + 0.25), not 1; "
            "adjust them so they add up to exactly 1",
        ),
        (
            ("weight: 0.5", "weight: 0.45\n  - kpi: conversion_rate\n    weight: 0.05"),
            "card.yml:6: error: kpis[1].weight: conversion_rate weighs 0.05, below the minimum 0.10; "
            "raise it or drop the KPI",
        ),
        (
            ("kpi: new_customers", "kpi: new_customer"),
            "card.yml:5: error: kpis[1].kpi: unknown KPI 'new_customer'; did you mean new_customers?",
        ),
        (
            ("kpi: average_deal_size", "kpi: plan_attainment"),
            "card.yml:7: error: kpis[2].kpi: plan_attainment is already on the card (kpis[0]); list it once",
        ),
        (
            ("    weight: 0.25\n  - kpi: average", "    wieght: 0.25\n  - kpi: average"),
            "card.yml:5: error: kpis[1].weight: required field 'weight' is missing\n"
            "card.yml:6: error: kpis[1].wieght: unknown field 'wieght' Did you mean 'weight'? "
            "See docs/scorecards.md for the fields of a card.",
        ),
        (
            ("rounding: {applies_to: none}", "rounding: {applies_to: component}"),
            "card.yml:9: error: rounding: rounding at 'component' needs digits and mode (e.g. 3, half_even)",
        ),
        (
            ("pay: {scheme: linear}", "pay: {scheme: bonus}"),
            "card.yml:10: error: pay.scheme: Input should be 'linear', 'step_table' or 'additive' (got 'bonus')",
        ),
        (
            ("role: sales_manager", "role: sales_manager\nroles: [x]"),
            "card.yml:2: error: roles: unknown field 'roles' Did you mean 'role'? "
            "See docs/scorecards.md for the fields of a card.",
        ),
        (
            ("weight: 0.5", "weight: half"),
            "card.yml:4: error: kpis[0].weight: Input should be a valid decimal",
        ),
        (
            ("weight: 0.25\n  - kpi: average", "weight: 0.25\n    target: {constant: -0.5}\n  - kpi: average"),
            "card.yml:7: error: kpis[1].target.constant: new_customers has constant -0.5: achievement divides by the "
            "target, so a negative level inverts it; give 0 or more (a rate as a fraction: 0.05 for 5%) or a band "
            "(band_low, band_high)",
        ),
    ],
)
def test_card_errors_name_file_line_and_field(tmp_path, edit, expected):
    old, new = edit
    assert old in VALID
    assert issues_for(tmp_path, VALID.replace(old, new, 1)) == expected.split("\n")


def test_kpi_count_outside_three_to_five_is_a_warning(tmp_path):
    text = VALID.replace("  - kpi: average_deal_size\n    weight: 0.25\n", "").replace("weight: 0.25", "weight: 0.5")
    cards_issues = issues_for(tmp_path, text)
    assert cards_issues == ["card.yml:2: warning: kpis: the card has 2 KPIs; 3 to 5 are recommended"]
    cards, _ = load_scorecards(tmp_path, KNOWN)
    assert len(cards) == 1  # a warning does not drop the card


def bands_card(bands: str) -> str:
    return VALID.replace("pay: {scheme: linear}", f"pay:\n  scheme: step_table\n  bands:\n{bands}")


@pytest.mark.parametrize(
    ("bands", "expected"),
    [
        (
            "    - {from: 0, to: 70, coefficient: 0}\n    - {from: 70, to: 89, coefficient: 0.7}\n"
            "    - {from: 90, coefficient: 1}\n",
            "card.yml:15: error: pay.bands[2]: bands[1] [70%, 89%) and bands[2] [90%, inf) leave a gap [89%, 90%); "
            "make bands[1].to equal 90",
        ),
        (
            "    - {from: 0, to: 80, coefficient: 0}\n    - {from: 70, coefficient: 1}\n",
            "card.yml:14: error: pay.bands[1]: bands[0] [0%, 80%) and bands[1] [70%, inf) overlap; "
            "make one end where the other starts",
        ),
        (
            "    - {from: 10, to: 80, coefficient: 0}\n    - {from: 80, coefficient: 1}\n",
            "card.yml:13: error: pay.bands[0]: bands[0] [10%, 80%) must start at 0 so every index has a band",
        ),
        (
            "    - {from: 0, to: 80, coefficient: 0}\n    - {from: 80, to: 200, coefficient: 1}\n",
            "card.yml:14: error: pay.bands[1]: bands[1] [80%, 200%) must be open-ended (omit 'to') "
            "so high indexes have a band",
        ),
    ],
)
def test_step_tables_with_gaps_or_overlaps_are_rejected(tmp_path, bands, expected):
    assert issues_for(tmp_path, bands_card(bands)) == [expected]


def test_invalid_yaml_reports_its_line(tmp_path):
    (found,) = issues_for(tmp_path, VALID.replace("kpis:\n", "kpis:\n  - kpi: [\n"))
    assert found.startswith("card.yml:4: error: YAML syntax:")


def test_conflicting_target_rules_across_cards(tmp_path):
    rule_a = VALID.replace(
        "    weight: 0.25\n  - kpi: average", "    weight: 0.25\n    target: {constant: 5}\n  - kpi: average"
    )
    rule_b = rule_a.replace("constant: 5", "constant: 6").replace("sales_manager", "senior_sales_manager")
    (tmp_path / "a.yml").write_text(rule_a, encoding="utf-8")
    (tmp_path / "b.yml").write_text(rule_b, encoding="utf-8")
    cards, issues = load_scorecards(tmp_path, KNOWN)
    assert [c.name for c in cards] == ["a"]
    (issue,) = issues
    assert (issue.file.name, issue.line, issue.field) == ("b.yml", 7, "kpis[1].target")
    assert "new_customers at employee/month already has a different target rule" in issue.message


def test_build_raises_user_input_error_listing_every_error(warehouse):
    for kpi in KNOWN:
        warehouse.kpi(kpi)
    warehouse.card("bad", VALID.replace("weight: 0.5", "weight: 0.05").replace("new_customers", "new_customer"))
    with pytest.raises(UserInputError) as error:
        warehouse.build()
    assert error.value.exit_code == 2
    text = str(error.value)
    assert "bad.yml:4: error: kpis[0].weight" in text and "bad.yml:5: error: kpis[1].kpi" in text
