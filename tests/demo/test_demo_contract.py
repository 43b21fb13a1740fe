"""The raw contract: every table and column others rely on exists, with a sensible type, and keys are unique."""

from __future__ import annotations

import duckdb
import pytest

ID, TEXT, INT, MONEY, DAY, MOMENT, FLAG = "id", "text", "int", "money", "day", "moment", "flag"

CONTRACT: dict[str, dict[str, str]] = {
    "stores": {
        "store_id": ID,
        "store_name": TEXT,
        "store_type": TEXT,
        "region": TEXT,
        "city": TEXT,
        "selling_area_sqft": INT,
        "total_area_sqft": INT,
        "opened_on": DAY,
    },
    "products": {
        "product_id": ID,
        "sku": TEXT,
        "product_name": TEXT,
        "category": TEXT,
        "unit_cost": MONEY,
        "list_price": MONEY,
    },
    "customers": {"customer_id": ID, "region": TEXT, "signup_date": DAY},
    "orders": {
        "order_id": ID,
        "order_ts": MOMENT,
        "store_id": ID,
        "channel": TEXT,
        "customer_id": ID,
        "employee_id": ID,
    },
    "order_lines": {
        "order_id": ID,
        "line_no": INT,
        "product_id": ID,
        "quantity": INT,
        "unit_price": MONEY,
        "discount_amount": MONEY,
        "unit_cost": MONEY,
    },
    "returns": {
        "return_id": ID,
        "order_id": ID,
        "line_no": INT,
        "return_ts": MOMENT,
        "quantity": INT,
        "refund_amount": MONEY,
    },
    "store_traffic": {"store_id": ID, "traffic_date": DAY, "visitors": INT},
    "inventory_snapshots": {
        "snapshot_date": DAY,
        "store_id": ID,
        "product_id": ID,
        "units_on_hand": INT,
        "unit_cost": MONEY,
    },
    "inventory_receipts": {
        "receipt_id": ID,
        "received_on": DAY,
        "store_id": ID,
        "product_id": ID,
        "quantity": INT,
        "unit_cost": MONEY,
    },
    "inventory_counts": {
        "count_date": DAY,
        "store_id": ID,
        "product_id": ID,
        "book_units": INT,
        "counted_units": INT,
        "unit_cost": MONEY,
    },
    "employees": {
        "employee_id": ID,
        "store_id": ID,
        "department": TEXT,
        "job_role": TEXT,
        "hire_date": DAY,
        "termination_date": DAY,
        "termination_reason": TEXT,
        "monthly_base_pay": MONEY,
        "monthly_variable_pay": MONEY,
    },
    "employee_assignments": {"employee_id": ID, "store_id": ID, "valid_from": DAY, "valid_to": DAY},
    "absences": {"employee_id": ID, "absence_date": DAY, "hours": "hours", "absence_type": TEXT},
    "job_applications": {
        "application_id": ID,
        "requisition_id": ID,
        "department": TEXT,
        "applied_on": DAY,
        "is_qualified": FLAG,
        "hired_on": DAY,
    },
    "trainings": {
        "employee_id": ID,
        "course_id": ID,
        "completed_on": DAY,
        "pre_score": INT,
        "post_score": INT,
        "passed": FLAG,
    },
    "crm_leads": {
        "lead_id": ID,
        "created_ts": MOMENT,
        "owner_employee_id": ID,
        "first_response_ts": MOMENT,
        "source": TEXT,
        "won_order_id": ID,
    },
    "crm_activities": {
        "activity_id": ID,
        "employee_id": ID,
        "lead_id": ID,
        "activity_ts": MOMENT,
        "activity_type": TEXT,
        "outcome": TEXT,
    },
    "expenses": {"expense_date": DAY, "store_id": ID, "category": TEXT, "amount": MONEY},
}

ACCEPTED_TYPES: dict[str, set[str]] = {
    ID: {"VARCHAR", "BIGINT", "INTEGER"},
    TEXT: {"VARCHAR"},
    INT: {"INTEGER", "BIGINT"},
    MONEY: {"DECIMAL(12,2)"},
    DAY: {"DATE"},
    MOMENT: {"TIMESTAMP"},
    FLAG: {"BOOLEAN"},
    "hours": {"DECIMAL(4,1)", "DOUBLE", "INTEGER"},
}

KEYS: dict[str, str] = {
    "stores": "store_id",
    "products": "product_id",
    "customers": "customer_id",
    "orders": "order_id",
    "order_lines": "order_id, line_no",
    "returns": "return_id",
    "store_traffic": "store_id, traffic_date",
    "inventory_snapshots": "snapshot_date, store_id, product_id",
    "inventory_receipts": "receipt_id",
    "inventory_counts": "count_date, store_id, product_id",
    "employees": "employee_id",
    "employee_assignments": "employee_id, valid_from",
    "absences": "employee_id, absence_date",
    "job_applications": "application_id",
    "trainings": "employee_id, course_id, completed_on",
    "crm_leads": "lead_id",
    "crm_activities": "activity_id",
    "expenses": "expense_date, store_id, category",
}


def _column_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    rows = con.execute(
        "select column_name, data_type from information_schema.columns where table_schema = 'raw' and table_name = ?",
        [table],
    ).fetchall()
    return dict(rows)


@pytest.mark.parametrize("table", sorted(CONTRACT))
def test_table_has_contract_columns_with_sensible_types(tiny_con: duckdb.DuckDBPyConnection, table: str) -> None:
    actual = _column_types(tiny_con, table)
    assert actual, f"raw.{table} is missing"
    for column, family in CONTRACT[table].items():
        assert column in actual, f"raw.{table}.{column} is missing"
        assert actual[column] in ACCEPTED_TYPES[family], f"raw.{table}.{column} is {actual[column]}, not {family}"


@pytest.mark.parametrize("table", sorted(CONTRACT))
def test_table_has_rows(tiny_con: duckdb.DuckDBPyConnection, table: str) -> None:
    assert tiny_con.execute(f"select count(*) from raw.{table}").fetchone()[0] > 0


@pytest.mark.parametrize(("table", "key"), sorted(KEYS.items()))
def test_keys_are_unique_and_present(tiny_con: duckdb.DuckDBPyConnection, table: str, key: str) -> None:
    total, distinct = tiny_con.execute(f"select count(*), count(distinct ({key})) from raw.{table}").fetchone()
    assert total == distinct, f"raw.{table}: {total - distinct} duplicate keys ({key})"
    nulls = " or ".join(f"{column.strip()} is null" for column in key.split(","))
    assert tiny_con.execute(f"select count(*) from raw.{table} where {nulls}").fetchone()[0] == 0


def test_ids_are_consistent_within_each_kind(tiny_con: duckdb.DuckDBPyConnection) -> None:
    """Master-data keys are VARCHAR codes; every column that holds one kind of id has that kind's type."""
    id_types: dict[str, set[str]] = {}
    for table, columns in CONTRACT.items():
        types = _column_types(tiny_con, table)
        for column, family in columns.items():
            if family == ID:
                kind = column.removeprefix("owner_").removeprefix("won_")
                id_types.setdefault(kind, set()).add(types[column])
    assert all(len(types) == 1 for types in id_types.values()), id_types
    assert id_types["store_id"] == id_types["product_id"] == id_types["employee_id"] == {"VARCHAR"}
