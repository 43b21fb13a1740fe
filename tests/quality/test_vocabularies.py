"""Business vocabularies live in vocabularies.yml and only warn; values the SQL depends on stay blocking checks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kpiflow.config import Settings
from kpiflow.errors import UserInputError
from kpiflow.quality import CheckResult, GateReport, run_gate
from kpiflow.quality.declarations import CHECKS_FILE, load_gate_spec
from kpiflow.quality.specs import GateSpec, Severity, Vocabulary
from kpiflow.quality.vocabularies import VOCABULARIES_FILE, add_vocabularies

from .conftest import PROJECT_DIR, RUN_DATE


@pytest.fixture(scope="module")
def gate() -> GateSpec:
    return load_gate_spec(PROJECT_DIR / CHECKS_FILE)


def _vocabularies(gate: GateSpec) -> dict[str, Vocabulary]:
    return {c.name: c for c in gate.checks if isinstance(c, Vocabulary)}


def test_the_projects_vocabularies_are_warnings_of_the_gate(gate: GateSpec) -> None:
    found = _vocabularies(add_vocabularies(gate, PROJECT_DIR / VOCABULARIES_FILE))
    assert {
        "stores.region.vocabulary",
        "customers.region.vocabulary",
        "products.category.vocabulary",
        "employees.department.vocabulary",
        "employees.job_role.vocabulary",
        "job_applications.job_role.vocabulary",
        "trainings.course_id.vocabulary",
        "crm_leads.source.vocabulary",
        "crm_activities.outcome.vocabulary",
    } <= set(found)
    assert {c.severity for c in found.values()} == {Severity.WARN}
    assert "Garden" not in found["products.category.vocabulary"].values  # the demo's values are the default
    assert _vocabularies(gate) == {}  # _source_checks.yml itself holds no business vocabulary


def test_an_empty_list_accepts_anything_and_no_file_adds_nothing(gate: GateSpec, tmp_path: Path) -> None:
    path = tmp_path / "vocabularies.yml"
    path.write_text("vocabularies_format: 1\nvocabularies:\n  products: {category: []}\n  stores: {region: [Online]}\n")
    assert set(_vocabularies(add_vocabularies(gate, path))) == {"stores.region.vocabulary"}
    assert add_vocabularies(gate, tmp_path / "missing.yml") == gate


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("vocabularies_format: 1\nvocabularies:\n  shops: {region: [A]}\n", ":3: unknown table 'shops'"),
        ("vocabularies_format: 1\nvocabularies:\n  stores:\n    zone: [A]\n", ":4: unknown column 'zone'"),
        (
            "vocabularies_format: 1\nvocabularies:\n  stores:\n    region: [yes]\n",
            ":4: vocabularies.stores.region[0]: Input should be a valid string",
        ),
        ("vocabularies: {}\n", ":1: vocabularies_format: required field 'vocabularies_format' is missing"),
    ],
)  # fmt: skip
def test_mistakes_in_the_file_name_its_line(gate: GateSpec, tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "vocabularies.yml"
    path.write_text(text)
    with pytest.raises(UserInputError) as caught:
        add_vocabularies(gate, path)
    assert f"{path}{expected}" in str(caught.value)


def _result(report: GateReport, name: str) -> CheckResult:
    return next(r for r in report.results if r.name == name)


# Another company's names, and columns that may be empty (issue 20: customers without a home store, unnamed products).
OTHER_NAMES = (
    "update raw.products set category = 'Garden' where category = 'Home'",
    "update raw.stores set region = 'Online' where store_type = 'online'",
    "update raw.crm_leads set source = 'trade_fair' where source = 'chat'",
    "update raw.customers set home_store_id = null, region = null where customer_id in "
    "(select customer_id from raw.customers order by customer_id limit 40)",
    "update raw.products set product_name = null where product_id in "
    "(select product_id from raw.products order by product_id limit 5)",
)


@pytest.mark.slow  # the whole gate: seconds
def test_other_names_warn_with_values_and_row_counts_and_pass(warehouse_copy: Callable[..., Settings]) -> None:
    settings = warehouse_copy(*OTHER_NAMES)
    report = run_gate(settings, RUN_DATE, data_docs=False)
    summary = report.summary_text()
    assert report.passed, summary
    category = _result(report, "products.category.vocabulary")
    assert (category.success, category.severity, category.column) == (False, "warn", "category")
    assert category.failing_rows is not None and category.failing_rows > 0
    assert f"Garden ({category.failing_rows} rows)" in category.message
    assert "vocabularies.yml under products: category" in category.message
    assert "Online (1 row)" in _result(report, "stores.region.vocabulary").message
    assert "trade_fair (" in _result(report, "crm_leads.source.vocabulary").message
    assert f"WARN products.category.vocabulary [products.category, {category.failing_rows} failing row(s)]" in summary
    blocking = [r.name for r in report.results if not r.success and r.severity == "error"]
    assert blocking == []  # NULL home stores, regions and product names are not errors


@pytest.mark.slow
def test_values_the_sql_depends_on_stay_blocking(warehouse_copy: Callable[..., Settings]) -> None:
    settings = warehouse_copy(
        "update raw.employees set termination_reason = 'layoff' where termination_reason = 'dismissal'"
    )
    report = run_gate(settings, RUN_DATE, data_docs=False)
    result = _result(report, "employees.termination_reason.accepted_values")
    assert not report.passed
    assert result.blocks_publishing
    assert f"found layoff ({result.failing_rows} row" in result.message
