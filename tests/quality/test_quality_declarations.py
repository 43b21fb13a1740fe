"""`_source_checks.yml` loading: the real file, derived names, and one exact message per kind of mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpiflow.errors import UserInputError
from kpiflow.quality import specs as s
from kpiflow.quality.declarations import CHECKS_FILE, load_gate_spec

from .conftest import PROJECT_DIR

RAW_CONTRACT = {
    "stores": "store_id store_name store_type region city selling_area_sqft total_area_sqft opened_on",
    "products": "product_id sku product_name category unit_cost list_price",
    "customers": "customer_id region signup_date",
    "orders": "order_id order_ts store_id channel customer_id employee_id",
    "order_lines": "order_id line_no product_id quantity unit_price discount_amount unit_cost",
    "returns": "return_id order_id line_no return_ts quantity refund_amount",
    "store_traffic": "store_id traffic_date visitors",
    "inventory_snapshots": "snapshot_date store_id product_id units_on_hand unit_cost",
    "inventory_receipts": "receipt_id received_on store_id product_id quantity unit_cost",
    "inventory_counts": "count_date store_id product_id book_units counted_units unit_cost",
    "employees": "employee_id store_id department job_role hire_date termination_date termination_reason "
    "monthly_base_pay monthly_variable_pay",
    "absences": "employee_id absence_date hours absence_type",
    "job_applications": "application_id requisition_id department applied_on is_qualified hired_on",
    "trainings": "employee_id course_id completed_on pre_score post_score passed",
    "crm_leads": "lead_id created_ts owner_employee_id first_response_ts source won_order_id",
    "crm_activities": "activity_id employee_id lead_id activity_ts activity_type outcome",
    "expenses": "expense_date store_id category amount",
}


@pytest.fixture(scope="module")
def gate() -> s.GateSpec:
    return load_gate_spec(PROJECT_DIR / CHECKS_FILE)


def test_every_raw_contract_table_and_column_is_declared(gate: s.GateSpec) -> None:
    for table, columns in RAW_CONTRACT.items():
        declared = gate.table(table).column_names
        assert set(columns.split()) <= set(declared), table


def test_every_table_gets_schema_type_row_count_and_key_checks(gate: s.GateSpec) -> None:
    for table in gate.tables:
        kinds = {type(check) for check in table.checks}
        assert {s.ColumnsPresent, s.RowCount, s.ColumnType, s.NotNull, s.Unique} <= kinds, table.name
        assert len([c for c in table.checks if isinstance(c, s.ColumnType)]) == len(table.columns)


@pytest.mark.parametrize(
    ("name", "kind", "severity", "quarantine"),
    [
        ("orders.order_id.unique", s.Unique, "error", None),
        ("order_lines.order_id+line_no.unique", s.Unique, "error", None),
        ("orders.store_id.not_null", s.NotNull, "error", False),
        ("orders.channel.accepted_values", s.AcceptedValues, "error", False),
        ("order_lines.quantity.positive", s.Range, "error", True),
        ("inventory_snapshots.units_on_hand.non_negative", s.Range, "error", True),
        ("absences.hours.range", s.Range, "error", True),
        ("order_lines.product_id.references_products", s.References, "error", True),
        ("returns.line_exists", s.References, "error", True),
        ("returns.returned_after_order", s.CompareParent, "error", True),
        ("orders.order_ts.not_in_future", s.DateBound, "error", True),
        ("orders.order_ts.not_before_founding", s.DateBound, "error", True),
        ("employees.terminated_after_hire", s.Compare, "error", False),
        ("employees.termination_reason.accepted_values", s.AcceptedValues, "error", False),
        ("crm_activities.activity_type.accepted_values", s.AcceptedValues, "error", False),
        ("order_lines.discount_within_line_amount", s.Rule, "error", True),
        ("orders.freshness", s.Freshness, "error", None),
        ("orders.volume", s.Volume, "error", None),
        ("crm_leads.won_order_id.references_orders", s.References, "warn", False),
        ("expenses.row_count", s.RowCount, "error", None),
        ("orders.schema", s.ColumnsPresent, "error", None),
    ],
)
def test_declared_checks_have_the_documented_names(gate, name, kind, severity, quarantine) -> None:
    check = {c.name: c for c in gate.checks}[name]
    assert type(check) is kind
    assert check.severity.value == severity
    assert getattr(check, "quarantine", None) == quarantine


def test_check_names_are_unique(gate: s.GateSpec) -> None:
    names = [c.name for c in gate.checks]
    assert len(names) == len(set(names))


def test_foreign_keys_default_to_the_parent_key(gate: s.GateSpec) -> None:
    checks = {c.name: c for c in gate.checks}
    line = checks["returns.line_exists"]
    assert isinstance(line, s.References)
    assert (line.columns, line.parent, line.parent_columns) == (
        ("order_id", "line_no"),
        "order_lines",
        ("order_id", "line_no"),
    )
    won = checks["crm_leads.won_order_id.references_orders"]
    assert isinstance(won, s.References) and won.parent_columns == ("order_id",)


VALID_HEADER = """\
checks_format: 1
settings:
  founded_on: 2015-01-01
  run_date_from: orders.order_ts
tables:
  orders:
    columns: {order_id: identifier, order_ts: timestamp, store_id: identifier, amount: decimal}
    key: [order_id]
    checks:
"""

BAD_DECLARATIONS = [
    (
        "unknown column",
        "      - not_null: [sotre_id]\n",
        10,
        "unknown column 'sotre_id' in raw.orders; declared columns: order_id, order_ts, store_id, amount",
    ),
    (
        "unknown kind",
        "      - not_empty: [store_id]\n",
        10,
        "unknown check kind 'not_empty'; known kinds: accepted_values, compare, compare_parent, dates, freshness, "
        "not_null, plausible, range, references, rule, unique, volume",
    ),
    (
        "quarantine on a table check",
        "      - freshness: {column: order_ts, quarantine: true}\n",
        10,
        "'freshness' judges the table, not single rows, so it cannot quarantine; remove 'quarantine'",
    ),
    (
        "unknown parent",
        "      - references: {column: store_id, parent: shops}\n",
        10,
        "unknown parent table 'shops'; declare it under tables: first",
    ),
    (
        "bad operator",
        "      - compare: {column: amount, op: '!=', other: amount}\n",
        10,
        "op: Input should be '>=', '>', '<=' or '<'",
    ),
    (
        "subquery in a rule",
        "      - rule: {name: sneaky, condition: 'amount > (select 1)'}\n",
        10,
        "condition: subqueries and table references are not allowed",
    ),
    (
        "unknown column in a rule",
        "      - rule: {name: r, condition: 'amout > 0'}\n",
        10,
        "condition: unknown column 'amout'",
    ),
    ("range without bounds", "      - range: {column: amount}\n", 10, "a range needs 'min', 'max' or both"),
    (
        "dates on a non-date column",
        "      - dates: [amount]\n",
        10,
        "'amount' is decimal; 'dates' needs a date or timestamp column",
    ),
    (
        "duplicate name",
        "      - not_null: [order_id]\n",
        10,
        "check name 'orders.order_id.not_null' is already used; give this one a 'name:'",
    ),
    (
        "two keys in one item",
        "      - not_null: [store_id]\n        unique: [store_id]\n",
        10,
        "each check is a one-key mapping like '- not_null: [col]', got keys ['not_null', 'unique']",
    ),
    (
        "window column not a date",
        "      - not_null: [store_id]\n    window_column: amount\n",
        11,
        "window_column must name a declared date or timestamp column of orders; 'amount' is not one "
        "(date columns: order_ts)",
    ),
    (
        "validity names an unknown column",
        "      - not_null: [store_id]\n    validity: {start: hired_on}\n",
        11,
        "validity of orders names undeclared column(s) hired_on",
    ),
    (
        "day_from without a dated parent",
        "      - not_null: [store_id]\n    day_from: {parent: orders, join: [order_id]}\n",
        11,
        "day_from of orders needs a declared parent table with a window_column",
    ),
    (
        "misspelt argument",
        "      - not_null: {colums: [store_id]}\n",
        10,
        "tables.orders.checks[0].not_null.colums: unknown field 'colums' Did you mean 'columns'?",
    ),
    (
        "unknown argument",
        "      - not_null: {columns: [store_id], severity: fatal}\n",
        10,
        "severity: Input should be 'error' or 'warn'",
    ),
]


@pytest.mark.parametrize(("case", "item", "line", "message"), BAD_DECLARATIONS, ids=[b[0] for b in BAD_DECLARATIONS])
def test_bad_declarations_name_file_line_and_fix(tmp_path: Path, case: str, item: str, line: int, message: str):
    path = tmp_path / "_source_checks.yml"
    path.write_text(VALID_HEADER + item)
    with pytest.raises(UserInputError) as caught:
        load_gate_spec(path)
    text = str(caught.value)
    assert f"{path}:{line}: " in text
    assert message in text
    assert "docs/quality.md" in text


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "_source_checks.yml"
    path.write_text(VALID_HEADER + "      - not_null: [nope]\n      - unique: [also_nope]\n")
    with pytest.raises(UserInputError) as caught:
        load_gate_spec(path)
    assert str(caught.value).startswith("2 problem(s) in the quality check declarations:")
    assert f"{path}:10: " in str(caught.value) and f"{path}:11: " in str(caught.value)


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="quality check declarations not found; create it"):
        load_gate_spec(tmp_path / "nope.yml")


def test_table_and_column_names_must_be_plain_identifiers(tmp_path: Path) -> None:
    """Names end up in SQL (quoted, but still): only lower-case identifiers are accepted."""
    path = tmp_path / "_source_checks.yml"
    path.write_text(VALID_HEADER.replace("amount: decimal", '"amount; drop table x": decimal'))
    with pytest.raises(UserInputError) as caught:
        load_gate_spec(path)
    assert f"{path}:7: tables.orders.columns.amount; drop table x.[key]: String should match pattern" in str(
        caught.value
    )
