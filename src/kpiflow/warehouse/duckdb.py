"""The embedded DuckDB warehouse: the build in one file, the published marts in another, swapped atomically.

The only module (with duckdb_files and duckdb_publish) that talks to DuckDB itself; everything else uses the
Warehouse and Session of interface.py. Read-only sessions attach the file under an alias (see duckdb_files),
read-write sessions open it directly, as every stage did before there was an interface.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from kpiflow.warehouse import information_schema
from kpiflow.warehouse.duckdb_files import attached_read_only
from kpiflow.warehouse.file_lock import LockHolder, run_lock
from kpiflow.warehouse.fingerprints import PUBLISHED_SCHEMAS, fingerprint_schemas
from kpiflow.warehouse.interface import (
    Columns,
    Cursor,
    MissingRelation,
    Parameters,
    PublishedVersion,
    TableFingerprint,
    WarehouseError,
)
from kpiflow.warehouse.run_record import ensure_run_tables, record_publish, record_rollback, utc_now
from kpiflow.warehouse.table_rows import NULL_MARK, text_rows

_ALIAS = "wh"
_PUBLISHED_ALIAS = "published"


class DuckDBSession:
    """A Session over one DuckDB connection; DuckDB's errors become MissingRelation / WarehouseError."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def execute(self, sql: str, parameters: Parameters = None) -> Cursor:
        try:
            return self.con.execute(sql, parameters)
        except duckdb.Error as exc:
            raise _translated(exc) from exc

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            self.con.executemany(sql, rows)
        except duckdb.Error as exc:
            raise _translated(exc) from exc

    def relations(self, schemas: Sequence[str]) -> list[tuple[str, str]]:
        if not schemas:
            return []
        placeholders = ", ".join("?" for _ in schemas)
        rows = self.execute(
            "select table_schema, table_name from information_schema.tables "
            f"where table_catalog = current_database() and table_schema in ({placeholders}) order by 1, 2",
            list(schemas),
        ).fetchall()
        return [(str(schema), str(name)) for schema, name in rows]

    def has_relation(self, qualified_name: str) -> bool:
        schema, name = qualified_name.split(".")
        found = self.execute(
            "select count(*) from information_schema.tables "
            "where table_catalog = current_database() and table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchone()
        return bool(found and found[0])

    def table_type(self, qualified_name: str) -> str | None:
        return information_schema.table_type(self, qualified_name)

    def write_table(self, table: str, columns: Columns, rows: Sequence[Sequence[Any]]) -> None:
        """Rows go through a temporary CSV that DuckDB reads with the declared types: exact decimals from their
        text, and much faster than binding millions of Python values."""
        self.execute(f"create schema if not exists {table.split('.')[0]}")
        ddl = ", ".join(f"{name} {column_type}" for name, column_type in columns)
        self.execute(f"create or replace table {table} ({ddl})")
        if not rows:
            return
        with tempfile.TemporaryDirectory(prefix="kpiflow-rows-") as folder:
            path = Path(folder) / "rows.csv"
            with path.open("w", newline="", encoding="utf-8") as handle:
                csv.writer(handle).writerows(text_rows(columns, rows))
            types = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in columns) + "}"
            self.execute(
                f"insert into {table} select * from read_csv(?, header = false, columns = {types}, "
                f"nullstr = '{NULL_MARK}', quote = '\"', escape = '\"')",
                [str(path)],
            )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.execute("begin transaction")
        try:
            yield
        except BaseException:
            self.execute("rollback")
            raise
        self.execute("commit")

    def row_hash_sql(self, *values: str) -> str:
        return f"hash({', '.join(values)})"

    def checksum_sql(self, *values: str) -> str:
        return f"coalesce(sum({self.row_hash_sql(*values)})::hugeint, 0)::varchar"

    def close(self) -> None:
        self.con.close()


def _translated(exc: duckdb.Error) -> WarehouseError:
    missing = isinstance(exc, duckdb.CatalogException) or (
        isinstance(exc, duckdb.BinderException) and "Referenced column" in str(exc)
    )
    return (MissingRelation if missing else WarehouseError)(str(exc))


@contextmanager
def attached_session(path: Path, alias: str) -> Iterator[DuckDBSession]:
    """A read-only session on a DuckDB file, `schema.table` meaning that file's."""
    try:
        with attached_read_only(path, alias) as con:
            con.execute(f"use {alias}")
            yield DuckDBSession(con)
    except duckdb.Error as exc:
        raise _translated(exc) from exc


def fingerprint_file(path: Path, schemas: tuple[str, ...] = PUBLISHED_SCHEMAS) -> dict[str, TableFingerprint]:
    """Fingerprints of a DuckDB file opened read-only; empty when the file does not exist yet."""
    if not path.exists():
        return {}
    with attached_session(path, "fp") as session:
        return fingerprint_schemas(session, schemas)


class DuckDBWarehouse:
    """The build in `warehouse_path`, the published marts in `marts_path`, the run lock in `state_dir`."""

    def __init__(self, warehouse_path: Path, marts_path: Path, state_dir: Path) -> None:
        self.warehouse_path = warehouse_path
        self.marts_path = marts_path
        self.state_dir = state_dir

    @classmethod
    def for_file(cls, warehouse_path: Path) -> DuckDBWarehouse:
        """The warehouse in `warehouse_path`, its marts and state beside it where kpiflow puts them by default."""
        return cls(warehouse_path, warehouse_path.with_name("marts.duckdb"), warehouse_path.parent / "state")

    @property
    def location(self) -> str:
        return str(self.warehouse_path)

    @property
    def published_location(self) -> str:
        return str(self.marts_path)

    def exists(self) -> bool:
        return self.warehouse_path.is_file()

    def sqlalchemy_url(self) -> str:
        return f"duckdb:///{self.warehouse_path}"

    def connect_build(self, *, read_only: bool = False) -> AbstractContextManager[DuckDBSession]:
        """The built warehouse file is the build: publish copies its `marts` and `payroll` out."""
        return self.connect(read_only=read_only)

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[DuckDBSession]:
        if read_only:
            with attached_session(self.warehouse_path, _ALIAS) as session:
                yield session
            return
        self.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            con = duckdb.connect(str(self.warehouse_path))
        except duckdb.Error as exc:
            raise _translated(exc) from exc
        try:
            yield DuckDBSession(con)
        finally:
            con.close()

    def is_published(self) -> bool:
        return self.marts_path.is_file()

    @contextmanager
    def read_published(self) -> Iterator[DuckDBSession]:
        with attached_session(self.marts_path, _PUBLISHED_ALIAS) as session:
            yield session

    def publish(
        self, audited: tuple[TableFingerprint, ...], *, run_id: str, run_date: date, published_at: datetime
    ) -> PublishedVersion:
        from kpiflow.warehouse.duckdb_publish import publish_file

        publish_file(self.warehouse_path, self.marts_path, audited, run_id=run_id, run_date=run_date,
                     published_at=published_at)  # fmt: skip
        # The file's own record changed with it (duckdb_publish); the warehouse's follows right after the rename.
        with self._recording() as session:
            record_publish(session, audited, run_id=run_id, run_date=run_date, published_at=published_at)
        return PublishedVersion(str(self.marts_path), published_at)

    def rollback(self, *, run_id: str) -> PublishedVersion:
        from kpiflow.warehouse.duckdb_publish import restore_previous

        restore_previous(self.marts_path)
        rolled_back_at = utc_now()
        with self._recording() as session:
            record_rollback(session, run_id=run_id, rolled_back_at=rolled_back_at)
        return PublishedVersion(str(self.marts_path), rolled_back_at)

    @contextmanager
    def _recording(self) -> Iterator[DuckDBSession]:
        """A transaction on the warehouse's record of runs (run_record.py)."""
        with self.connect() as session:
            ensure_run_tables(session)
            with session.transaction():
                yield session

    def remove_publish_leftovers(self) -> list[str]:
        from kpiflow.warehouse.duckdb_publish import remove_stray_tmp_files

        return [str(path) for path in remove_stray_tmp_files(self.marts_path)]

    def run_lock(self, *, run_id: str, run_date: str, wait_seconds: float = 0.0) -> AbstractContextManager[LockHolder]:
        """An advisory `flock` on state/run.lock (file_lock.py): DuckDB allows one writer per file."""
        return run_lock(self.state_dir, run_id=run_id, run_date=run_date, wait_seconds=wait_seconds)
