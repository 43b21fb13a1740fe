"""The warehouse interface: only the engine's own modules talk to DuckDB, and the DuckDB session keeps the contract
(typed exact writes, errors named, relations of its own catalog only); the factory picks the engine by target."""

from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from kpiflow.config import Settings
from kpiflow.errors import UserInputError
from kpiflow.warehouse import MissingRelation, WarehouseError, warehouse_for
from kpiflow.warehouse.duckdb import DuckDBSession, DuckDBWarehouse

SRC = Path(__file__).resolve().parents[2] / "src" / "kpiflow"
# Outside the warehouse package only these may import duckdb: the demo generator writes DuckDB files by design, and
# the GE fix patches duckdb-engine (it imports duckdb_engine, not duckdb).
ALLOWED = ("warehouse/duckdb.py", "warehouse/duckdb_files.py", "warehouse/duckdb_publish.py", "demo/")


def _imports_duckdb(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom) and node.level == 0
            else []
        )
        if any(name == "duckdb" or name.startswith("duckdb.") for name in names):
            return True
    return False


def test_only_the_duckdb_engine_modules_import_duckdb() -> None:
    offenders = [
        str(path.relative_to(SRC))
        for path in sorted(SRC.rglob("*.py"))
        if _imports_duckdb(path) and not str(path.relative_to(SRC)).startswith(ALLOWED)
    ]
    assert offenders == [], f"use kpiflow.warehouse (Warehouse / Session) instead of duckdb in {offenders}"
    assert _imports_duckdb(SRC / "warehouse" / "duckdb.py")  # the check sees an import where there is one


def test_write_table_is_typed_and_exact_and_replaces(tmp_path: Path) -> None:
    warehouse = DuckDBWarehouse.for_file(tmp_path / "kpiflow.duckdb")
    columns = (("name", "varchar"), ("amount", "decimal(18,2)"), ("score", "decimal(38,12)"), ("day", "date"))
    rows = [
        ('a, "quoted"', Decimal("1.005"), Decimal("0.1234567890125"), "2025-03-31"),
        (None, None, Decimal("Infinity"), None),
    ]
    with warehouse.connect() as session:
        session.write_table("payroll.t", columns, rows)
        session.write_table("payroll.t", columns, rows)  # create or replace: no duplicates
    with warehouse.connect(read_only=True) as session:
        assert session.relations(("payroll",)) == [("payroll", "t")]
        assert session.has_relation("payroll.t") and not session.has_relation("payroll.missing")
        found = session.execute("select name, amount, score, day from payroll.t order by name nulls last").fetchall()
    assert [tuple(str(v) if v is not None else None for v in row) for row in found] == [
        ('a, "quoted"', "1.00", "0.123456789012", "2025-03-31"),  # half-even to the column's scale
        (None, None, None, None),  # an unbounded score is NULL
    ]


def test_a_failed_transaction_leaves_the_tables_as_they_were(tmp_path: Path) -> None:
    warehouse = DuckDBWarehouse.for_file(tmp_path / "kpiflow.duckdb")
    with warehouse.connect() as session:
        session.write_table("marts.t", (("x", "varchar"),), [("before",)])
        with pytest.raises(RuntimeError), session.transaction():
            session.write_table("marts.t", (("x", "varchar"),), [("after",)])
            raise RuntimeError("the second table failed")
        assert session.execute("select x from marts.t").fetchall() == [("before",)]


def test_engine_errors_are_named_without_duckdb(tmp_path: Path) -> None:
    session = DuckDBSession(duckdb.connect())
    with pytest.raises(MissingRelation, match="nowhere"):
        session.execute("select * from raw.nowhere")
    session.execute("create table t (a integer)")
    with pytest.raises(MissingRelation, match="no_column"):
        session.execute("select no_column from t")
    with pytest.raises(WarehouseError) as refused:
        session.execute("select 1 +")
    assert not isinstance(refused.value, MissingRelation)


def test_a_published_file_named_like_its_schema_reads_unambiguously(tmp_path: Path) -> None:
    marts = tmp_path / "marts.duckdb"
    with duckdb.connect(str(marts)) as con:
        con.execute("create schema marts; create table marts.marts.kpi_values as select 1 as value")
    warehouse = DuckDBWarehouse(tmp_path / "kpiflow.duckdb", marts, tmp_path / "state")
    assert warehouse.is_published() and not warehouse.exists()
    with warehouse.read_published() as session:
        assert session.execute("select value from marts.kpi_values").fetchall() == [(1,)]
        assert session.relations(("marts",)) == [("marts", "kpi_values")]


def _settings(tmp_path: Path, adapter: str) -> Settings:
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "profiles.yml").write_text(
        f"kpiflow:\n  target: dev\n  outputs:\n    dev:\n      type: {adapter}\n", encoding="utf-8"
    )
    return Settings(tmp_path, tmp_path / "wh" / "kpiflow.duckdb", tmp_path / "wh" / "marts.duckdb", "dev")


def test_the_factory_picks_duckdb_for_a_duckdb_target(tmp_path: Path) -> None:
    warehouse = warehouse_for(_settings(tmp_path, "duckdb"))
    assert isinstance(warehouse, DuckDBWarehouse)
    assert (warehouse.location, warehouse.published_location) == (
        str(tmp_path / "wh" / "kpiflow.duckdb"),
        str(tmp_path / "wh" / "marts.duckdb"),
    )


def test_the_factory_names_a_target_without_an_engine(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="KPIFLOW_TARGET=dev is a snowflake target"):
        warehouse_for(_settings(tmp_path, "snowflake"))
