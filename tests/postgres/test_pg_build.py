"""The proof that the project is portable: dbt-postgres builds every model of the project on the `pg` target, passes
every data test the DuckDB build passes, and every row of kpi_values, of the wide marts and of
intermediate.int_employee_days equals the DuckDB build of the same data.

The builds are the session's full run + nightly on both engines (fixture `nightly`, tests/pg_cli.py
`full_run_then_nightly`: the demo at scale 0.1 loaded by COPY, the models compiled for PostgreSQL into the run's copy
of the project, `dbt build` with its data tests), so the suite builds the demo on PostgreSQL once. On PostgreSQL dbt
builds the published schemas under their build names (`marts__build`), which `kpiflow run` publishes.
"""

from __future__ import annotations

import re

import duckdb
import pytest
from pg_cli import NIGHTLY_PASSWORD, RUN_DATE, Nightly, build_stage_headline, connect
from warehouse_rows import assert_same_rows

pytestmark = pytest.mark.slow

BUILT = re.compile(r"(\d+) models, (\d+) seeds, (\d+) tests passed")


def _duckdb_file(nightly: Nightly, schema: str) -> str:
    """DuckDB's published marts (`marts`), or its working warehouse (the other schemas)."""
    return nightly.duck.env["KPIFLOW_MARTS" if schema == "marts" else "KPIFLOW_WAREHOUSE"]


def _marts(nightly: Nightly) -> tuple[str, ...]:
    with duckdb.connect(_duckdb_file(nightly, "marts"), read_only=True) as con:
        return tuple(
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' "
                "and table_catalog = current_database() order by 1"
            ).fetchall()
        )


def _rows(nightly: Nightly, schema: str, table: str) -> tuple[list[str], list[tuple], list[str], list[tuple]]:
    with duckdb.connect(_duckdb_file(nightly, schema), read_only=True) as con:
        cursor = con.execute(
            f'select * from "{con.execute("select current_database()").fetchone()[0]}".{schema}."{table}"'
        )
        duck_columns = [d[0] for d in cursor.description]
        duck_rows = cursor.fetchall()
    with connect(nightly.pg) as pg:
        cursor = pg.execute(f'select * from {schema}."{table}"')
        pg_columns = [d.name for d in cursor.description or ()]
        pg_rows = cursor.fetchall()
    return duck_columns, duck_rows, pg_columns, pg_rows


def test_the_postgres_build_passes_its_tests_and_builds_every_mart(nightly: Nightly) -> None:
    duck_result, pg_result = nightly.results[RUN_DATE]  # the full build: every model, every data test
    duck_built, pg_built = (BUILT.search(build_stage_headline(result)) for result in (duck_result, pg_result))
    assert duck_built and pg_built, (build_stage_headline(duck_result), build_stage_headline(pg_result))
    assert pg_built.groups() == duck_built.groups() and int(pg_built[1]) > 100 and int(pg_built[3]) > 50
    marts = _marts(nightly)
    assert {"kpi_values", "kpi_catalog"} <= set(marts)
    assert any(name.startswith("mart_") for name in marts)
    with connect(nightly.pg) as pg:
        published = pg.execute("select table_name from information_schema.tables where table_schema = 'marts'")
        assert set(marts) <= {name for (name,) in published.fetchall()}
    generated = nightly.pg.state_dir / "projects" / "pg" / "models" / "generated" / "rollup__revenue_events.sql"
    assert re.search(r'as "order"', generated.read_text(encoding="utf-8"), re.IGNORECASE)


@pytest.mark.parametrize("relation", ["kpi_values", "wide marts", "int_employee_days"])
def test_every_row_equals_the_duckdb_build(nightly: Nightly, relation: str) -> None:
    if relation == "wide marts":
        tables = [("marts", name) for name in _marts(nightly) if name != "kpi_values"]
    else:
        tables = [("intermediate" if relation.startswith("int_") else "marts", relation)]
    for schema, table in tables:
        assert_same_rows(f"{schema}.{table}", *_rows(nightly, schema, table))


def test_the_password_is_nowhere_in_dbt_logs_or_artifacts(nightly: Nightly) -> None:
    """(What the runs printed is checked by every command: tests/pg_cli.py Side.command.)"""
    written = [p for p in nightly.pg.state_dir.rglob("*") if p.is_file()]
    assert any(p.name == "dbt.log" for p in written) and any(p.name == "manifest.json" for p in written)
    for path in written:
        assert NIGHTLY_PASSWORD.encode() not in path.read_bytes(), path
