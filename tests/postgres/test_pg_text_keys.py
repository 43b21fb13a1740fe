"""Null-safe joins on text members as PostgreSQL runs them (compiler/text_keys.py): a generated KPI model joins its
inputs on `coalesce(a, '') = coalesce(b, '') and num_nulls(a) = num_nulls(b)`, which PostgreSQL can hash, and
returns exactly the rows of the same model written with IS NOT DISTINCT FROM, NULL and '' members on both sides."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest
from pg_server import PostgresServer

from kpiflow.compiler import generated_files
from kpiflow.compiler import sqlgen as sqlgen_module
from kpiflow.config import Settings

REPO = Path(__file__).resolve().parents[2]
MODEL = "kpi__average_order_value.sql"
INPUTS = ("kpi__net_revenue", "kpi__order_count")
# kpi_values-shaped input rows: the overall row has NULL members, a store row a NULL region, and one row a real ''.
# Both inputs share some cells and each has cells of its own.
ROWS = {
    "kpi__net_revenue": [
        ("month", "2024-01-01", "overall", None, None, None, 100.0),
        ("month", "2024-01-01", "store", "s1", None, None, 60.0),
        ("month", "2024-01-01", "store", "s2", None, None, 40.0),
        ("month", "2024-01-01", "region", None, "north", None, 70.0),
        ("month", "2024-01-01", "region", None, "", None, 30.0),
        ("month", "2024-02-01", "channel", None, None, "web", 5.0),
    ],
    "kpi__order_count": [
        ("month", "2024-01-01", "overall", None, None, None, 4),
        ("month", "2024-01-01", "store", "s1", None, None, 3),
        ("month", "2024-01-01", "store", "s3", None, None, 2),
        ("month", "2024-01-01", "region", None, "north", None, 2),
        ("month", "2024-01-01", "region", None, None, None, 9),
        ("month", "2024-02-01", "channel", None, None, "", 1),
    ],
}


def _model(monkeypatch: pytest.MonkeyPatch, hashable: bool) -> str:
    """The repository's model rendered for PostgreSQL, as runnable SQL over the test's tables."""
    with monkeypatch.context() as patch:
        if not hashable:
            patch.setattr(sqlgen_module, "hash_joinable", lambda tree, dialect: tree)
        files = {f.path.name: f.content for f in generated_files(Settings.from_env(REPO), "postgres")}
    text = "\n".join(line for line in files[MODEL].splitlines() if not line.startswith(("--", "{{ config", "{%-")))
    text = re.sub(r"\{\{ ref\('(\w+)'\) \}\}", r"\1", text)
    return text.replace("{{ kpiflow_window_start_value }}", "date '2024-01-01'")


@pytest.fixture(scope="module")
def database(pg_server: PostgresServer):
    name = pg_server.create_database("kpiflow_text_keys")
    with psycopg.connect(pg_server.conninfo(name), autocommit=True) as connection:
        for table, rows in ROWS.items():
            value_type = "double precision" if table == "kpi__net_revenue" else "bigint"
            member = "varchar" if table == "kpi__net_revenue" else "text"  # varchar against text: both are joined
            connection.execute(
                f"create table {table} (grain text, period_start date, dimension_set text, store_id {member},"
                f" region {member}, channel text, value {value_type})"
            )
            with connection.cursor() as cursor:
                cursor.executemany(f"insert into {table} values (%s, %s, %s, %s, %s, %s, %s)", rows)
            connection.execute(f"analyze {table}")
        yield connection


def test_the_hashable_joins_return_the_null_safe_rows(database, monkeypatch):
    hashable, null_safe = _model(monkeypatch, hashable=True), _model(monkeypatch, hashable=False)
    assert "is not distinct from" in null_safe and "is not distinct from" not in hashable
    assert "coalesce(cast(cells.store_id as text), '') = coalesce(cast(net_revenue.store_id as text), '')" in hashable
    assert "num_nulls(cells.region) = num_nulls(order_count.region)" in hashable
    want = sorted(database.execute(null_safe).fetchall(), key=repr)
    got = sorted(database.execute(hashable).fetchall(), key=repr)
    assert got == want and len(got) == 9  # the cells of either input, once
    values = {(row[3], row[4], row[5], row[6]): row[10] for row in got}
    assert values[("overall", None, None, None)] == 25.0  # NULL members met NULL members
    assert values[("region", None, "", None)] is None  # a real '' is not NULL: no order count for it
    assert values[("region", None, None, None)] is None  # and NULL is not ''
    assert values[("store", "s1", None, None)] == 20.0


def _plan(connection: psycopg.Connection, sql: str) -> str:
    """The plan PostgreSQL picks when it may not loop over all pairs (what it would do on tables of any size)."""
    connection.execute("set enable_nestloop = off")
    connection.execute("set enable_mergejoin = off")
    try:
        return "\n".join(row[0] for row in connection.execute(f"explain {sql}").fetchall())
    finally:
        connection.execute("reset enable_nestloop")
        connection.execute("reset enable_mergejoin")


def test_postgres_hash_joins_the_inputs_on_their_members(database, monkeypatch):
    hashable = _plan(database, _model(monkeypatch, hashable=True))
    null_safe = _plan(database, _model(monkeypatch, hashable=False))
    assert len(re.findall(r"Hash (?:Left |Right )?Join", hashable)) == 2 and "Nested Loop" not in hashable, hashable
    hash_keys = re.findall(r"Hash Cond: (.*)", hashable)
    assert all("num_nulls(" in keys and "COALESCE(" in keys for keys in hash_keys), "the member columns are hashed"
    assert "Join Filter" not in hashable, hashable
    # IS NOT DISTINCT FROM cannot be hashed: PostgreSQL hashes on (grain, period_start, dimension_set) and compares
    # every pair of a period's member rows (all stores with all stores), the quadratic cost the rewrite removes.
    filters = re.findall(r"Join Filter: (.*)", null_safe)
    assert len(filters) == 2 and all("IS DISTINCT FROM" in f for f in filters), null_safe
