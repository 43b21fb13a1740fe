"""The article's marketer (DECISIONS rule 17) through the real pipeline: raw CRM rows -> staging -> generated KPI
SQL -> kpi_values in DuckDB -> scorecard YAML -> Decimal index and pay.

Facts: 22% of leads answered within the hour, 17% of calls reaching an agreement, 30% of leads won within 30 days;
target 20% each; weights 0.5 / 0.25 / 0.25; fixed pay 560, variable 240.
"""

from __future__ import annotations

import shutil
import textwrap
from datetime import date
from decimal import Decimal

import duckdb
import pytest

CARD = """
name: marketer_pipeline
label: Internet marketer (article rounding)
role: marketer
entity: employee
grain: month
kpis:
  - {kpi: responded_within_1h_rate, weight: 0.5, target: {constant: 0.20}}
  - {kpi: call_agreement_rate, weight: 0.25, target: {constant: 0.20}}
  - {kpi: lead_conversion_rate, weight: 0.25, target: {constant: 0.20}}
{rounding}
pay:
  scheme: linear
  floor: 0.70
"""
ARTICLE_ROUNDING = "rounding: {applies_to: component, digits: 3, mode: half_even}"


@pytest.fixture(scope="module")
def scored(worked_examples, tmp_path_factory):
    """Score the marketer twice on a copy of the built warehouse: the article's rounding and exact decimals."""
    from kpiflow.scorecards import build_scorecards
    from kpiflow.warehouse.duckdb import DuckDBSession

    source = worked_examples.execute("select path from duckdb_databases() where database_name = current_database()")
    warehouse = source.fetchone()[0]
    results = {}
    for variant, rounding in (("article", ARTICLE_ROUNDING), ("exact", "rounding: {applies_to: none}")):
        root = tmp_path_factory.mktemp(f"marketer_{variant}")
        copy = root / "warehouse.duckdb"
        shutil.copy(warehouse, copy)
        cards = root / "metrics" / "scorecards"
        cards.mkdir(parents=True)
        (cards / "marketer.yml").write_text(textwrap.dedent(CARD).replace("{rounding}", rounding), encoding="utf-8")
        with duckdb.connect(str(copy)) as con:
            build_scorecards(DuckDBSession(con), root)
            results[variant] = {
                "facts": dict(
                    con.execute(
                        "select kpi, actual from marts.scorecard_results where employee_id = 'E_MKT' "
                        "and period_start = ?",
                        [date(2023, 6, 1)],
                    ).fetchall()
                ),
                "payout": con.execute(
                    "select kpi_index, bonus, total_pay from payroll.payouts where employee_id = 'E_MKT' "
                    "and period_start = ?",
                    [date(2023, 6, 1)],
                ).fetchone(),
            }
    return results


@pytest.mark.slow
def test_marketer_facts_come_from_raw_rows(scored):
    facts = {k: Decimal(str(v)) for k, v in scored["article"]["facts"].items()}
    assert facts == {
        "responded_within_1h_rate": Decimal("0.22"),
        "call_agreement_rate": Decimal("0.17"),
        "lead_conversion_rate": Decimal("0.3"),
    }


@pytest.mark.slow
def test_marketer_with_article_rounding(scored):
    index, bonus, total = scored["article"]["payout"]
    assert (Decimal(index), Decimal(total)) == (Decimal("1.137"), Decimal("832.88"))
    assert Decimal(bonus) == Decimal("272.88")


@pytest.mark.slow
def test_marketer_exact_decimal(scored):
    index, _, total = scored["exact"]["payout"]
    assert (Decimal(index), Decimal(total)) == (Decimal("1.1375"), Decimal("833.00"))
