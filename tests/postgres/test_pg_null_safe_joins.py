"""Generated null-safe joins on PostgreSQL: hashed or merged, not a nested loop over all pairs, and NULL still
meets NULL (kpiflow/compiler/null_safe_joins.py)."""

from __future__ import annotations

import duckdb
import psycopg
import sqlglot
from pg_server import PostgresServer

from kpiflow.compiler.sqltext import to_sql

# The shape the compiler writes for a zero-filled spine (periods x members, NULL a member) meeting the measured rows.
SPINE_JOIN = """
select k.day, k.store, coalesce(m.value, 0) as value
from spine as k
left join measured as m on k.day is not distinct from m.day and k.store is not distinct from m.store
"""
LOAD = [
    "create table spine as select date '2025-01-01' + cast(d as integer) as day, s as store "
    "from generate_series(0, 199) as days(d), (select 's' || cast(n as varchar) as s "
    "from generate_series(1, 9) as numbers(n) union all select null) as stores",
    "create table measured as select day, store, 1 as value from spine where (extract(day from day) + "
    "coalesce(length(store), 0)) % 3 <> 0",
]


def test_a_spine_join_is_not_a_nested_loop_on_postgres_and_matches_null_members_as_duckdb_does(
    pg_server: PostgresServer,
) -> None:
    tree = sqlglot.parse_one(SPINE_JOIN, read="duckdb")
    postgres_sql, duckdb_sql = to_sql(tree, "postgres"), to_sql(tree, "duckdb")
    assert "IS NOT DISTINCT FROM" in duckdb_sql  # DuckDB's SQL is unchanged
    dbname = pg_server.create_database("null_safe_joins")
    with psycopg.connect(pg_server.conninfo(dbname), autocommit=True) as connection:
        for statement in LOAD:
            connection.execute(statement)
        connection.execute("analyze")
        plan = "\n".join(row[0] for row in connection.execute(f"explain (costs off) {postgres_sql}"))
        on_postgres = sorted(connection.execute(postgres_sql).fetchall(), key=repr)
    assert "Hash Cond" in plan or "Merge Cond" in plan, plan  # keys the planner can hash or sort on
    assert "Nested Loop" not in plan and "DISTINCT" not in plan, plan
    with duckdb.connect() as con:
        for statement in LOAD:
            con.execute(statement)
        on_duckdb = sorted(con.execute(duckdb_sql).fetchall(), key=repr)
    assert len(on_postgres) == 2000 and any(store is None and value == 1 for _, store, value in on_postgres)
    assert on_postgres == on_duckdb
