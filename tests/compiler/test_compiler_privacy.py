"""Which KPIs and marts the one suppression decision governs (compiler/privacy.py, docs/privacy.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kpiflow.compiler.issues import SpecInvalid
from kpiflow.compiler.model_names import kpi_metrics
from kpiflow.compiler.privacy import SlicedKpi, privacy_plan
from kpiflow.compiler.validate import load_graph

REPO = Path(__file__).resolve().parents[2]


def _plan(metrics_dir: Path = REPO / "metrics"):
    graph = load_graph(REPO, metrics_dir)
    return privacy_plan(graph, kpi_metrics(graph))


def test_people_kpis_share_the_store_by_department_table() -> None:
    plan = _plan()
    assert plan.axes == ("store", "employee__department")
    assert plan.count_metric == "employees_covered"
    assert plan.marts == ("mart_hr_store_department_month",)
    assert {"headcount", "hires", "employee_turnover_rate", "revenue_per_employee"} <= set(plan.exact)
    # sales staff only: by store a cell of the sales column, overall the sales department, by region its stores'
    assert plan.sliced == (SlicedKpi("sales_per_employee", 1, "sales", ("store__region",)),)
    assert plan.blanket == ()
    assert "time_to_hire_days" not in plan.kpis  # applicants, not employees


@pytest.mark.parametrize(
    ("replacement", "field", "words"),
    [
        ("      natural_dimensions: [store, employee__department, store__region]\n", "natural_dimensions", "two"),
        ("      natural_dimensions: [store, employee__department]\n      grains: [week, month]\n", "grains", "week"),
    ],
    ids=["third-breakdown", "week-grain"],
)
def test_people_kpis_the_method_cannot_protect_are_refused_with_their_place(
    tmp_path: Path, replacement: str, field: str, words: str
) -> None:
    metrics = tmp_path / "metrics"
    shutil.copytree(REPO / "metrics", metrics)
    hr = metrics / "hr.yml"
    text = hr.read_text(encoding="utf-8")
    needle = "      natural_dimensions: [store, employee__department]\n"
    assert needle in text
    hr.write_text(text.replace(needle, replacement), encoding="utf-8")
    with pytest.raises(SpecInvalid) as raised:
        _plan(metrics)
    message = str(raised.value)
    assert "hr.yml:" in message and f"kpi.{field}" in message and words in message


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (
            "natural_dimensions: [store, store__region],\n",
            "natural_dimensions: [store, store__region, employee__job_role],\n",
        ),
        (
            "numerator: net_revenue\n    denominator: average_sales_headcount",
            "numerator: net_revenue\n    denominator: average_headcount\n"
            "    filter: \"employee__job_role = 'cashier'\"",
        ),
    ],
    ids=["breakdown-outside-the-table", "filter-on-another-column"],
)
def test_people_kpis_of_other_shapes_stay_hidden_for_the_year(tmp_path: Path, old: str, new: str) -> None:
    """The per-cell rule only covers slices the table describes; anything else keeps the safe yearly rule."""
    metrics = tmp_path / "metrics"
    shutil.copytree(REPO / "metrics", metrics)
    sales = metrics / "sales.yml"
    text = sales.read_text(encoding="utf-8")
    start = text.index("  - name: sales_per_employee")
    assert old in text[start:]
    sales.write_text(text[:start] + text[start:].replace(old, new, 1), encoding="utf-8")
    plan = _plan(metrics)
    assert plan.sliced == ()
    assert plan.blanket == ("sales_per_employee",)
