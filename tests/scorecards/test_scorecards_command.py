"""`kpiflow scorecard` against a published marts file: formats, --explain, and errors with exit code 2."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from kpiflow.errors import UserInputError
from kpiflow.scorecards.report import render
from kpiflow.warehouse.duckdb import attached_session

JUNE = date(2025, 6, 1)


@pytest.fixture
def published(marketer, card_text) -> Path:
    """The marketer's results in a marts file, as the pipeline would publish it."""
    marketer.card("exact", card_text("{applies_to: none}", name="exact"))
    marketer.card("article", card_text("{applies_to: component, digits: 3, mode: half_even}", name="article"))
    marketer.build()
    path = marketer.project_dir / "marts.duckdb"
    marketer.con.execute(f"attach '{path}' as published")
    for schema, table in (("marts", "scorecard_results"), ("marts", "kpi_achievement"), ("payroll", "payouts")):
        marketer.con.execute(f"create schema if not exists published.{schema}")
        marketer.con.execute(f"create table published.{schema}.{table} as select * from {schema}.{table}")
    marketer.con.execute("detach published")
    return path


@pytest.fixture
def marts(published):
    with attached_session(published, "published") as session:
        yield session


def test_explain_fills_in_the_numbers(marts):
    text = render(marts, "exact", JUNE, explain=True)
    assert "index = 0.5 x 1.100 + 0.25 x 0.850 + 0.25 x 1.500 = 1.1375 = 113.75%" in text
    assert "pay = 560 + 240 x 1.1375 = 833.00" in text
    assert "repeat_customers_growth  weight 0.25: actual / target = 0.17 / 0.2 = 0.850 [below_target]" in text
    rounded = render(marts, "article", JUNE, explain=True)
    assert "= 0.550 + 0.212 + 0.375 = 1.137 = 113.70%" in rounded
    assert "pay = 560 + 240 x 1.137 = 832.88 (= 560 + 240 + 32.88)" in rounded


def test_table_csv_and_json_formats(marts):
    table = render(marts, "article", JUNE)
    assert "M001" in table and "113.70%" in table and "832.88" in table
    detail = render(marts, "article", JUNE, employee="M001")
    assert "repeat_customers_growth" in detail and "below_target" in detail
    rows = list(csv.DictReader(io.StringIO(render(marts, "article", JUNE, output_format="csv"))))
    assert [(r["employee_id"], r["kpi_index"], r["total_pay"]) for r in rows] == [("M001", "1.137", "832.88")]
    (document,) = json.loads(render(marts, "exact", JUNE, output_format="json"))
    assert (document["kpi_index"], document["total_pay"], document["period_start"]) == (
        "1.1375",
        "833.00",
        "2025-06-01",
    )
    assert [k["weighted_score"] for k in document["kpis"]] == ["0.55", "0.2125", "0.375"]


@pytest.mark.parametrize(
    ("card", "period", "employee", "output_format", "message"),
    [
        ("exakt", JUNE, None, "table", "no scorecard 'exakt' in the published results; available: article, exact"),
        (
            "exact",
            date(2025, 7, 1),
            None,
            "table",
            "card exact has no results for 2025-07-01; latest periods: 2025-06-01",
        ),
        ("exact", JUNE, "M999", "table", "card exact has no results for 2025-06-01 for employee M999"),
        ("exact", JUNE, None, "xml", "--format 'xml' is not one of table, csv, json"),
    ],
)
def test_errors_say_what_exists(marts, card, period, employee, output_format, message):
    with pytest.raises(UserInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        render(marts, card, period, employee, output_format)


def run_cli(*args: str, marts_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KPIFLOW_MARTS": str(marts_path)}
    command = [sys.executable, "-m", "kpiflow.cli", "scorecard", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)


@pytest.mark.slow  # three CLI subprocesses
def test_cli_reads_the_published_file_and_exits_2_on_bad_input(published, tmp_path):
    ok = run_cli("--card", "article", "--period", "2025-06", "--explain", marts_path=published)
    assert ok.returncode == 0, ok.stderr
    assert "113.70%" in ok.stdout and "832.88" in ok.stdout
    bad_period = run_cli("--card", "article", "--period", "June", marts_path=published)
    assert bad_period.returncode == 2
    assert "--period: period 'June' is not one of YYYY-MM, YYYY-MM-DD, YYYY-Qn, YYYY" in bad_period.stderr
    missing = run_cli("--card", "article", "--period", "2025-06", marts_path=tmp_path / "none.duckdb")
    assert missing.returncode == 2 and "no published marts at" in missing.stderr
    assert "Traceback" not in bad_period.stderr + missing.stderr


def test_held_payouts_show_status_and_reason_in_every_format(marketer, card_text, tmp_path):
    """Issue 20.1: the reason a payout is held is in --json, the table, CSV and --explain."""
    marketer.con.execute("delete from marts.kpi_values where kpi = 'repeat_customers_growth'")
    marketer.card("article", card_text("{applies_to: none}", name="article"))
    marketer.build()
    path = tmp_path / "marts.duckdb"
    marketer.con.execute(f"attach '{path}' as published")
    for schema, table in (("marts", "scorecard_results"), ("payroll", "payouts"), ("payroll", "scorecard_warnings")):
        marketer.con.execute(f"create schema if not exists published.{schema}")
        marketer.con.execute(f"create table published.{schema}.{table} as select * from {schema}.{table}")
    marketer.con.execute("detach published")
    reason = "held: no achievement for repeat_customers_growth (on_missing: hold): index not computed"
    with attached_session(path, "published") as con:
        (document,) = json.loads(render(con, "article", JUNE, output_format="json"))
        assert (document["status"], document["reason"], document["total_pay"]) == ("held", reason, None)
        warning = f"card article: 1 payouts held (payroll.payouts.status/reason): M001 2025-06: {reason}"
        missing = "marts.kpi_values has no month values of repeat_customers_growth at entity employee"
        assert document["warnings"] == [missing, warning]  # every warning of the build: general ones, then the card's
        table = render(con, "article", JUNE)
        assert f"M001 held: {reason}" in table.replace("\n", "")
        assert f"warning: {warning}" in table.replace("\n", "")
        (row,) = csv.DictReader(io.StringIO(render(con, "article", JUNE, output_format="csv")))
        assert (row["status"], row["reason"], row["bonus"]) == ("held", reason, "")
        assert f"pay held for review: {reason}" in render(con, "article", JUNE, explain=True)
