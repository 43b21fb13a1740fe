"""What kpiflow needs from a warehouse engine: the one contract orchestration, scorecards and the commands use.

Two objects. A `Session` is one open connection: it runs SQL and writes typed tables. A `Warehouse` opens sessions
on the built warehouse or on the published marts, publishes audited marts atomically, rolls the last publish back,
and serialises runs. SQL handed to a session is written in DuckDB's dialect with `?` parameters (the project's
reference dialect); an engine that speaks another translates it (sqlglot) inside its session. What sqlglot cannot
translate - a row hash, bulk loading, the publish swap, the run lock - is a method here, so engine-specific SQL stays
in the engine's module (duckdb.py for DuckDB). See docs/operations.md, "Warehouse interface".
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

Columns = tuple[tuple[str, str], ...]  # (name, type) in DuckDB's type names: varchar, date, decimal(p,s), ...
Parameters = Sequence[Any] | dict[str, Any] | None


class WarehouseError(Exception):
    """The engine refused a statement or a connection (the engine's own message is kept). Not a KpiflowError: where
    kpiflow does not turn it into one, it is unexpected, and the run reports it with where its traceback is."""


class MissingRelation(WarehouseError):
    """A statement named a schema, table or column the warehouse does not have."""


class AccessDenied(WarehouseError):
    """The connected user lacks a privilege the statement needs (a reader role reads only its own schema)."""


class Cursor(Protocol):
    """The result of one statement (DB-API shape)."""

    @property
    def description(self) -> Any: ...

    def fetchone(self) -> tuple[Any, ...] | None: ...

    def fetchall(self) -> list[tuple[Any, ...]]: ...


class Session(Protocol):
    """One connection to a warehouse (the built one, or the published marts). Names are `schema.table`."""

    def execute(self, sql: str, parameters: Parameters = None) -> Cursor:
        """Run one statement; MissingRelation when it names what does not exist, WarehouseError otherwise."""
        ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def relations(self, schemas: Sequence[str]) -> list[tuple[str, str]]:
        """(schema, name) of every table and view in `schemas`, sorted."""
        ...

    def has_relation(self, qualified_name: str) -> bool:
        """True when `schema.name` is a table or a view."""
        ...

    def table_type(self, qualified_name: str) -> str | None:
        """'BASE TABLE', 'VIEW' or None (no such relation), asked without a statement that fails."""
        ...

    def write_table(self, table: str, columns: Columns, rows: Sequence[Sequence[Any]]) -> None:
        """CREATE OR REPLACE `schema.table` with these typed columns and rows (Decimals exact), schema created."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """Statements in the block commit together, or none does."""
        ...

    def row_hash_sql(self, *values: str) -> str:
        """SQL hashing the values of a row to a 64-bit integer, the same for the same values."""
        ...

    def checksum_sql(self, *values: str) -> str:
        """Aggregate SQL: the order-independent checksum of the rows' hashes, as text ('0' for no rows)."""
        ...


@dataclass(frozen=True)
class TableFingerprint:
    """One table's identity: the sum of its row hashes is independent of row order, and duplicates count."""

    schema: str
    name: str
    row_count: int
    checksum: str

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class PublishedVersion:
    """What a publish or a rollback left published, and where a BI tool finds it."""

    location: str
    published_at: datetime | None = None


class RunLock(Protocol):
    """Who holds the run lock (for the message of a refused run)."""

    def describe(self) -> str: ...


class Warehouse(Protocol):
    """An engine kpiflow runs on. `location` names it for people (never a password)."""

    @property
    def location(self) -> str: ...

    @property
    def published_location(self) -> str: ...

    def exists(self) -> bool:
        """The warehouse has been created (it may still be empty)."""
        ...

    def sqlalchemy_url(self) -> str:
        """The SQLAlchemy URL the quality gate (Great Expectations) validates the raw tables with. It may hold
        credentials: pass it to the engine, never print or log it."""
        ...

    def connect(self, *, read_only: bool = False) -> AbstractContextManager[Session]:
        """A session on the built warehouse; read-write creates it when missing."""
        ...

    def connect_build(self, *, read_only: bool = False) -> AbstractContextManager[Session]:
        """A session on what this run builds for publishing: `marts.x` and `payroll.x` name the build's copies
        (the scorecards write them, the audit fingerprints them under those names). On DuckDB the built warehouse
        itself; on PostgreSQL the private `__build` schemas."""
        ...

    def is_published(self) -> bool: ...

    def read_published(self) -> AbstractContextManager[Session]:
        """A read-only session on the published marts (what BI tools see)."""
        ...

    def publish(
        self, audited: tuple[TableFingerprint, ...], *, run_id: str, run_date: date, published_at: datetime
    ) -> PublishedVersion:
        """Make exactly the audited relations the published marts in one atomic step, keeping the previous version;
        verify the copy against `audited` first (RunFailed when it differs) and record the publish with it: the
        run's `published_at` and its `run_tables` rows (run_record.record_publish)."""
        ...

    def rollback(self, *, run_id: str) -> PublishedVersion:
        """Publish the previous version again (UserInputError when there is none), recording it as run `run_id`
        with status rolled_back (run_record.record_rollback)."""
        ...

    def remove_publish_leftovers(self) -> list[str]:
        """Remove what runs that died mid-publish left; call only under the run lock."""
        ...

    def run_lock(self, *, run_id: str, run_date: str, wait_seconds: float = 0.0) -> AbstractContextManager[RunLock]:
        """Hold the one run lock of this warehouse, naming the holder; WarehouseBusy after `wait_seconds`."""
        ...
