"""The PostgreSQL warehouse (psycopg 3): one database, dbt's schemas, the published marts swapped in by renames.

Sessions take the project's DuckDB-dialect SQL and translate it (postgres_sql.py). Every connection uses ISO dates
and UTC so a row's text, and so its hash, is the same in every session. The publish swap is in postgres_publish.py,
the run lock in postgres_lock.py. Nothing here prints or raises the password (config.PostgresConnection keeps it
out of its address and its connection errors).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg import errors

from kpiflow.config import PostgresConnection
from kpiflow.errors import UserInputError
from kpiflow.warehouse import information_schema
from kpiflow.warehouse.build_schemas import BUILD_RENAMES
from kpiflow.warehouse.fingerprints import PUBLISHED_SCHEMAS, quote_identifier
from kpiflow.warehouse.interface import (
    AccessDenied,
    Columns,
    Cursor,
    MissingRelation,
    Parameters,
    PublishedVersion,
    TableFingerprint,
    WarehouseError,
)
from kpiflow.warehouse.postgres_lock import PostgresLockHolder, advisory_run_lock
from kpiflow.warehouse.postgres_sql import SchemaRenames, postgres_column_type, to_postgres
from kpiflow.warehouse.table_rows import NULL_MARK, text_rows

_MISSING = (errors.UndefinedTable, errors.UndefinedColumn, errors.InvalidSchemaName)
_CONFLICTS = (errors.SerializationFailure, errors.DeadlockDetected, errors.LockNotAvailable)
_SESSION_SETTINGS = "SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET TimeZone = 'UTC'"


class ConcurrentConflict(WarehouseError):
    """The server gave up on the statement because of another session (deadlock, lock timeout, serialization):
    running it again can succeed."""


def translated_error(exc: psycopg.Error) -> WarehouseError:
    """The server's message (it never holds the password), as MissingRelation, AccessDenied, ConcurrentConflict
    or WarehouseError."""
    if isinstance(exc, _MISSING):
        return MissingRelation(str(exc).strip())
    if isinstance(exc, errors.InsufficientPrivilege):
        return AccessDenied(str(exc).strip())
    return (ConcurrentConflict if isinstance(exc, _CONFLICTS) else WarehouseError)(str(exc).strip())


def qualified(name: str) -> str:
    """`schema.table` with both parts quoted as identifiers."""
    return ".".join(quote_identifier(part) for part in name.split("."))


class PostgresSession:
    """A Session over one autocommit psycopg connection; `transaction()` groups statements.

    With `renames` (a build session), the project's SQL and `relations`, `has_relation` and `write_table` address the
    replacement of each renamed schema under the schema's own name; `native` SQL is never renamed."""

    def __init__(self, con: psycopg.Connection, renames: SchemaRenames = ()) -> None:
        self.con = con
        self.renames = renames

    def _renamed(self, schema: str) -> str:
        return dict(self.renames).get(schema, schema)

    def execute(self, sql: str, parameters: Parameters = None) -> Cursor:
        statements = to_postgres(sql, parameters is not None, self.renames)
        try:
            cursor = self.con.cursor()
            for statement in statements[:-1]:
                cursor.execute(statement)
            return cursor.execute(statements[-1], parameters)
        except psycopg.Error as exc:
            raise translated_error(exc) from None

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        *before, statement = to_postgres(sql, True, self.renames)
        try:
            with self.con.cursor() as cursor:
                for other in before:
                    cursor.execute(other)
                cursor.executemany(statement, rows)
        except psycopg.Error as exc:
            raise translated_error(exc) from None

    def relations(self, schemas: Sequence[str]) -> list[tuple[str, str]]:
        if not schemas:
            return []
        named = {self._renamed(schema): schema for schema in schemas}
        rows = self.native(
            "select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = any(%s) and c.relkind in ('r', 'v', 'm', 'p', 'f')",
            [list(named)],
        ).fetchall()
        return sorted((named[str(schema)], str(name)) for schema, name in rows)

    def has_relation(self, qualified_name: str) -> bool:
        schema, name = qualified_name.split(".")
        return (schema, name) in self.relations([schema])

    def table_type(self, qualified_name: str) -> str | None:
        return information_schema.table_type(self, qualified_name)

    def schema_exists(self, schema: str) -> bool:
        return self.native("select 1 from pg_namespace where nspname = %s", [schema]).fetchone() is not None

    def write_table(self, table: str, columns: Columns, rows: Sequence[Sequence[Any]]) -> None:
        """Drop and create the table, then COPY the rows' text in (exact decimals, no per-value binding)."""
        schema, name = table.split(".")
        table = f"{self._renamed(schema)}.{name}"
        ddl = ", ".join(f"{quote_identifier(name)} {postgres_column_type(kind)}" for name, kind in columns)
        names = ", ".join(quote_identifier(name) for name, _ in columns)
        with self.transaction():
            self.native(f"create schema if not exists {quote_identifier(table.split('.')[0])}")
            self.native(f"drop table if exists {qualified(table)}")
            self.native(f"create table {qualified(table)} ({ddl})")
            try:
                with self.con.cursor().copy(f"copy {qualified(table)} ({names}) from stdin") as copy:
                    for cells in text_rows(columns, rows):
                        copy.write_row([None if cell == NULL_MARK else cell for cell in cells])
            except psycopg.Error as exc:
                raise translated_error(exc) from None

    def native(self, sql: str, parameters: Parameters = None) -> psycopg.Cursor[Any]:
        """Run PostgreSQL SQL as is (the engine's own statements: catalog queries, the publish swap)."""
        try:
            return self.con.execute(sql, parameters)  # type: ignore[arg-type]
        except psycopg.Error as exc:
            raise translated_error(exc) from None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        try:
            with self.con.transaction():
                yield
        except psycopg.Error as exc:  # the commit itself can fail (e.g. a serialization failure)
            raise translated_error(exc) from None

    def row_hash_sql(self, *values: str) -> str:
        """The first 64 bits of the md5 of the row's text (ISO dates, UTC: fixed per connection), as a bigint."""
        return f"('x' || substr(md5(row({', '.join(values)})::text), 1, 16))::bit(64)::bigint"

    def checksum_sql(self, *values: str) -> str:
        return f"coalesce(sum({self.row_hash_sql(*values)}), 0)::text"

    def close(self) -> None:
        self.con.close()


class PostgresWarehouse:
    """One PostgreSQL database: dbt builds `marts__build` / `payroll__build`, publish renames them to `marts` /
    `payroll` (keeping `__previous`), BI tools read `marts` and `payroll`."""

    def __init__(self, connection: PostgresConnection) -> None:
        self.connection = connection

    @property
    def location(self) -> str:
        return f"postgresql://{self.connection.address}"

    @property
    def published_location(self) -> str:
        return f"postgresql://{self.connection.address} (schemas {', '.join(PUBLISHED_SCHEMAS)})"

    def exists(self) -> bool:
        try:
            with self.connect(read_only=True):
                return True
        except UserInputError as exc:
            if f'database "{self.connection.dbname}" does not exist' in str(exc):
                return False
            raise

    def sqlalchemy_url(self) -> str:
        c = self.connection
        credentials = f"{quote(c.user, safe='')}:{quote(c.password, safe='')}"
        return f"postgresql+psycopg://{credentials}@{c.host}:{c.port}/{quote(c.dbname, safe='')}"

    def connect(self, *, read_only: bool = False) -> AbstractContextManager[PostgresSession]:
        return self._session(read_only, ())

    def connect_build(self, *, read_only: bool = False) -> AbstractContextManager[PostgresSession]:
        """`marts.x` and `payroll.x` are the copies this run builds (`marts__build.x`, ...), which publish renames."""
        return self._session(read_only, BUILD_RENAMES)

    @contextmanager
    def _session(self, read_only: bool, renames: SchemaRenames) -> Iterator[PostgresSession]:
        con = self.connection.connect()
        try:
            con.autocommit = True
            con.execute(_SESSION_SETTINGS)
            if read_only:
                con.execute("SET default_transaction_read_only = on")
            yield PostgresSession(con, renames)
        except psycopg.Error as exc:
            raise translated_error(exc) from None
        finally:
            con.close()

    def is_published(self) -> bool:
        with self.connect(read_only=True) as session:
            return all(session.schema_exists(schema) for schema in PUBLISHED_SCHEMAS)

    def read_published(self) -> AbstractContextManager[PostgresSession]:
        """Read-only; `marts.x` and `payroll.x` are the published relations (same database as the build)."""
        return self.connect(read_only=True)

    def publish(
        self, audited: tuple[TableFingerprint, ...], *, run_id: str, run_date: date, published_at: datetime
    ) -> PublishedVersion:
        from kpiflow.warehouse.postgres_publish import publish_schemas

        with self.connect() as session:
            publish_schemas(session, self.connection, audited, run_id=run_id, run_date=run_date,
                            published_at=published_at)  # fmt: skip
        return PublishedVersion(self.published_location, published_at)

    def rollback(self, *, run_id: str) -> PublishedVersion:
        from kpiflow.warehouse.postgres_publish import restore_previous

        with self.connect() as session:
            rolled_back_at = restore_previous(session, self.connection, run_id=run_id)
        return PublishedVersion(self.published_location, rolled_back_at)

    def remove_publish_leftovers(self) -> list[str]:
        """Drop the build schemas a run that died before publishing left (a publish that dies is undone by the
        server): every run builds its marts afresh, and the copy must hold only what this run built and audits."""
        with self.connect() as session:
            found = [schema for _, schema in BUILD_RENAMES if session.schema_exists(schema)]
            for schema in found:
                session.native(f"drop schema {quote_identifier(schema)} cascade")
        return found

    def run_lock(
        self, *, run_id: str, run_date: str, wait_seconds: float = 0.0
    ) -> AbstractContextManager[PostgresLockHolder]:
        return advisory_run_lock(self.connection, run_id=run_id, run_date=run_date, wait_seconds=wait_seconds)
