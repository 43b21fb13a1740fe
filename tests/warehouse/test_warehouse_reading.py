"""The sessions of the reading commands (warehouse/reading.py) on DuckDB: read-only, and one message when nothing is
published, also when the published schemas exist without a table (what `kpiflow grants` leaves on PostgreSQL; the
same on a server is in tests/postgres/test_pg_readers.py)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from kpiflow.errors import UserInputError
from kpiflow.warehouse import WarehouseError
from kpiflow.warehouse.duckdb import DuckDBWarehouse
from kpiflow.warehouse.reading import built_session, published_session

READS = "this test reads marts"


def _warehouse(root: Path) -> DuckDBWarehouse:
    return DuckDBWarehouse(root / "kpiflow.duckdb", root / "marts.duckdb", root / "state")


def _marts_file(path: Path, *statements: str) -> None:
    with duckdb.connect() as con:
        con.execute(f"attach '{path}' as published")
        con.execute("use published")
        for statement in statements:
            con.execute(statement)


def test_nothing_published_is_one_message_with_or_without_empty_schemas(tmp_path: Path) -> None:
    warehouse = _warehouse(tmp_path)
    expected = rf"no published marts at {tmp_path}/marts\.duckdb; run `kpiflow run` first"
    with pytest.raises(UserInputError, match=expected), published_session(warehouse, READS):
        pass
    _marts_file(warehouse.marts_path, "create schema marts", "create schema payroll")
    with pytest.raises(UserInputError, match=expected), published_session(warehouse, READS):
        pass


def test_the_published_session_reads_and_cannot_write(tmp_path: Path) -> None:
    warehouse = _warehouse(tmp_path)
    _marts_file(warehouse.marts_path, "create schema marts", "create table marts.kpi_values as select 1 as value")
    with published_session(warehouse, READS) as session:
        assert session.execute("select value from marts.kpi_values").fetchall() == [(1,)]
        with pytest.raises(WarehouseError, match="read-only"):
            session.execute("create table marts.written (id integer)")


def test_a_file_that_is_no_database_cannot_be_opened_read_only(tmp_path: Path) -> None:
    warehouse = _warehouse(tmp_path)
    warehouse.marts_path.write_text("not a database")
    refused = pytest.raises(UserInputError, match=r"cannot open .*marts\.duckdb read-only: ")
    with refused, published_session(warehouse, READS):
        pass


def test_the_built_warehouse_must_exist(tmp_path: Path) -> None:
    refused = pytest.raises(UserInputError, match=r"no warehouse at .*kpiflow\.duckdb: run `make run` or `kpiflow run`")
    with refused, built_session(_warehouse(tmp_path), READS):
        pass
