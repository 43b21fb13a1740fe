"""The Spark warehouse: dbt-spark's tables under KPIFLOW_SPARK_DIR, the published marts a layer of views.

Sessions take the project's DuckDB-dialect SQL and translate it (spark_sql.py); parameters are bound by spark.sql
as literals. Spark has no transaction: `transaction()` groups nothing (see its docstring), and publishing is made
safe another way (spark_publish.py: audited copies in a new versioned database, then views switched to it). The run
lock is the DuckDB warehouse's file lock, in the Spark directory. One Spark session serves the whole process (the
embedded Derby metastore admits one process: see docs/spark.md).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kpiflow.errors import UserInputError
from kpiflow.warehouse.build_schemas import BUILD_RENAMES
from kpiflow.warehouse.file_lock import LockHolder, run_lock
from kpiflow.warehouse.fingerprints import PUBLISHED_SCHEMAS, ROW_ALIAS
from kpiflow.warehouse.interface import (
    Columns,
    MissingRelation,
    Parameters,
    PublishedVersion,
    TableFingerprint,
    WarehouseError,
)
from kpiflow.warehouse.postgres_sql import SchemaRenames
from kpiflow.warehouse.spark_rewrite import changes_rows, rewrite_rows
from kpiflow.warehouse.spark_session import start_spark
from kpiflow.warehouse.spark_sql import bindable, to_spark
from kpiflow.warehouse.spark_types import spark_rows, spark_schema

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

_MISSING_CONDITIONS = ("TABLE_OR_VIEW_NOT_FOUND", "SCHEMA_NOT_FOUND", "UNRESOLVED_COLUMN", "UNRESOLVED_ROUTINE")


class SparkCursor:
    """The collected rows of one statement (DB-API shape): kpiflow reads small results (KPIs, checks, catalogs)."""

    def __init__(self, frame: DataFrame | None) -> None:
        self._rows = [tuple(row) for row in frame.collect()] if frame is not None else []
        fields = frame.schema.fields if frame is not None else []
        self.description = [(f.name, f.dataType.simpleString(), None, None, None, None, f.nullable) for f in fields]
        self._next = 0

    def fetchone(self) -> tuple[Any, ...] | None:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self._next = self._rows[self._next :], len(self._rows)
        return rows


class ChangedRowsCursor(SparkCursor):
    """The result of an UPDATE or DELETE (spark_rewrite.py): one row, the number of rows changed, as DuckDB gives."""

    def __init__(self, changed: int) -> None:
        super().__init__(None)
        self._rows = [(changed,)]
        self.description = [("Count", "bigint", None, None, None, None, False)]


def translated_error(exc: Exception) -> WarehouseError:
    """Spark's message (first line), as MissingRelation for a missing database, table or column."""
    condition = str(getattr(exc, "getCondition", lambda: None)() or "")
    message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    missing = any(condition.startswith(name) for name in _MISSING_CONDITIONS)
    return (MissingRelation if missing else WarehouseError)(message)


class SparkWarehouseSession:
    """A Session over the process's SparkSession. With `renames` (a build session), the project's SQL and
    `relations`, `has_relation` and `write_table` address the replacement of each renamed schema under the schema's
    own name, as PostgresSession does; `native` SQL is never renamed. A read-only session runs queries only."""

    def __init__(self, spark: SparkSession, renames: SchemaRenames = (), *, read_only: bool = False) -> None:
        self.spark = spark
        self.renames = renames
        self.read_only = read_only

    def _renamed(self, schema: str) -> str:
        return dict(self.renames).get(schema, schema)

    def execute(self, sql: str, parameters: Parameters = None) -> SparkCursor:
        """DuckDB-dialect SQL translated (spark_sql.py); an UPDATE or DELETE rewrites its table (spark_rewrite.py)."""
        statements = to_spark(sql, self.renames, read_only=self.read_only)
        for statement in statements[:-1]:
            self.native(statement)
        return self.run_spark(statements[-1], parameters)

    def run_spark(self, statement: str, parameters: Parameters = None) -> SparkCursor:
        """Spark SQL: an UPDATE or DELETE, which parquet tables do not take, rewrites its table (spark_rewrite.py;
        a ChangedRowsCursor), anything else runs as is."""
        if not changes_rows(statement):
            return self.native(statement, parameters)
        from py4j.protocol import Py4JJavaError
        from pyspark.errors import PySparkException

        try:
            return ChangedRowsCursor(rewrite_rows(self.spark, statement, parameters))
        except (PySparkException, Py4JJavaError) as exc:
            raise translated_error(exc) from None

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """One statement per row (Spark binds no batches): for the few rows kpiflow inserts this way."""
        for row in rows:
            self.execute(sql, row)

    def native(self, sql: str, parameters: Parameters = None) -> SparkCursor:
        """Run Spark SQL as is (the engine's own statements: catalog, publish); parameters bound as literals."""
        from py4j.protocol import Py4JJavaError
        from pyspark.errors import PySparkException

        args = bindable(parameters)
        try:
            return SparkCursor(self.spark.sql(sql, args=args or None))
        except (PySparkException, Py4JJavaError) as exc:
            raise translated_error(exc) from None

    def relations(self, schemas: Sequence[str]) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        for schema in schemas:
            found.extend((schema, name) for name in self.tables_of(self._renamed(schema)))
        return sorted(found)

    def tables_of(self, database: str) -> list[str]:
        """Tables and views of `database` (not the session's temporary views); none when it does not exist."""
        if not self.database_exists(database):
            return []
        rows = self.native(f"show tables in {quoted(database)}").fetchall()
        return sorted(str(name) for _, name, temporary in rows if not temporary)

    def database_exists(self, database: str) -> bool:
        return bool(self.spark.catalog.databaseExists(database))

    def has_relation(self, qualified_name: str) -> bool:
        schema, name = qualified_name.split(".")
        return name in self.tables_of(self._renamed(schema))

    def table_type(self, qualified_name: str) -> str | None:
        """From Spark's catalog (Spark has no information_schema): 'VIEW', 'BASE TABLE' for a managed or external
        table, None when there is none; asked first, as a failed statement is logged at ERROR by pyspark."""
        if not self.has_relation(qualified_name):
            return None
        schema, name = qualified_name.split(".")
        table = self.spark.catalog.getTable(f"{quoted(self._renamed(schema))}.{quoted(name)}")
        return "VIEW" if table.tableType == "VIEW" else "BASE TABLE"

    def write_table(self, table: str, columns: Columns, rows: Sequence[Sequence[Any]]) -> None:
        """A DataFrame with the declared schema (spark_types), saved over the table as parquet."""
        self.save_rows(table, columns, rows, mode="overwrite")

    def save_rows(self, table: str, columns: Columns, rows: Sequence[Sequence[Any]], *, mode: str) -> None:
        """Write typed rows to `schema.table` (`overwrite` replaces it, `append` adds), creating the database."""
        from py4j.protocol import Py4JJavaError
        from pyspark.errors import PySparkException

        if self.read_only:
            raise WarehouseError(f"a read-only Spark session cannot write {table}")
        schema, name = table.split(".")
        target = f"{quoted(self._renamed(schema))}.{quoted(name)}"
        try:
            self.native(f"create database if not exists {quoted(self._renamed(schema))}")
            frame = self.spark.createDataFrame(list(spark_rows(columns, rows)), schema=spark_schema(columns))
            frame.write.mode(mode).format("parquet").saveAsTable(target)
        except (PySparkException, Py4JJavaError, TypeError, ValueError) as exc:
            raise translated_error(exc) from None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Spark has no transaction: each statement of the block takes effect on its own, and a failure leaves the
        ones before it applied. kpiflow writes the build (`marts__build`, state), never the published marts, so a
        failed block leaves a build that is not audited and so never published (spark_publish.py)."""
        yield

    def row_hash_sql(self, *values: str) -> str:
        """xxhash64 of the row's JSON text (to_json of a struct whose fields are numbered: a NULL value drops its
        field, so (1, NULL) and (NULL, 1) differ, which Spark's hash of the bare values does not tell apart).
        The fingerprint's row alias stands for the whole row: `struct(alias.*)`."""
        fields = ", ".join(f"'{i}', {_row_value(value)}" for i, value in enumerate(values))
        return f"xxhash64(to_json(named_struct({fields})))"

    def checksum_sql(self, *values: str) -> str:
        """The exact sum of the row hashes (decimal(38,0): no 64-bit overflow), as text."""
        return f"cast(coalesce(sum(cast({self.row_hash_sql(*values)} as decimal(38, 0))), 0) as varchar)"

    def close(self) -> None:
        """The SparkSession belongs to the warehouse (SparkWarehouse.close), not to one session."""


def _row_value(value: str) -> str:
    return f"struct({value}.*)" if value == ROW_ALIAS else value


def quoted(name: str) -> str:
    """A Spark identifier: backticks, doubled inside."""
    return "`" + name.replace("`", "``") + "`"


class SparkWarehouse:
    """The Spark tables under `directory`: dbt builds `marts__build` / `payroll__build`, publish copies the audited
    tables into `marts__v<N>` / `payroll__v<N>` and points the views of `marts` / `payroll` at them (BI tools read
    the views). `spark` is the process's session when the caller has one; otherwise one is started on first use and
    stopped by `close()` (or with the process)."""

    def __init__(self, directory: Path, spark: SparkSession | None = None) -> None:
        self.directory = directory
        self._spark = spark
        self._started = False

    def spark(self) -> SparkSession:
        if self._spark is None:
            self._spark, self._started = start_spark(self.directory), True
        return self._spark

    def close(self) -> None:
        """Stop the Spark session this warehouse started (not one it was given)."""
        if self._started and self._spark is not None:
            self._spark.stop()
            self._spark, self._started = None, False

    @property
    def location(self) -> str:
        return f"spark:{self.directory}"

    @property
    def published_location(self) -> str:
        return f"spark:{self.directory} (views {', '.join(PUBLISHED_SCHEMAS)})"

    def exists(self) -> bool:
        """The metastore has been created (read without starting Spark)."""
        return (self.directory / "metastore_db").is_dir()

    def sqlalchemy_url(self) -> str:
        """Spark has none: the gate validates Spark's tables with GE's Spark datasource in this process instead."""
        raise UserInputError(
            "a Spark warehouse has no SQLAlchemy URL: kpiflow's quality gate checks it through this process's Spark "
            "session (Great Expectations' Spark datasource; docs/spark.md, 'The quality gate')"
        )

    def connect(self, *, read_only: bool = False) -> AbstractContextManager[SparkWarehouseSession]:
        return self._session((), read_only)

    def connect_build(self, *, read_only: bool = False) -> AbstractContextManager[SparkWarehouseSession]:
        """`marts.x` and `payroll.x` are the copies this run builds (`marts__build.x`, ...), which publish copies."""
        return self._session(BUILD_RENAMES, read_only)

    @contextmanager
    def _session(self, renames: SchemaRenames, read_only: bool) -> Iterator[SparkWarehouseSession]:
        yield SparkWarehouseSession(self.spark(), renames, read_only=read_only)

    def is_published(self) -> bool:
        """Read from the publish log; False without starting Spark when there is no metastore (starting Spark would
        create one: a command that only reads must not)."""
        from kpiflow.warehouse.spark_publish import current_version

        if not self.exists():
            return False
        with self.connect(read_only=True) as session:
            return current_version(session) is not None

    def read_published(self) -> AbstractContextManager[SparkWarehouseSession]:
        """Read-only; `marts.x` and `payroll.x` are the views of the published version."""
        return self.connect(read_only=True)

    def publish(
        self, audited: tuple[TableFingerprint, ...], *, run_id: str, run_date: date, published_at: datetime
    ) -> PublishedVersion:
        from kpiflow.warehouse.spark_publish import publish_version

        with self.connect() as session:
            publish_version(session, audited, run_id=run_id, run_date=run_date, published_at=published_at)
        return PublishedVersion(self.published_location, published_at)

    def rollback(self, *, run_id: str) -> PublishedVersion:
        from kpiflow.warehouse.spark_publish import restore_previous

        with self.connect() as session:
            restore_previous(session, self.location, run_id)
        return PublishedVersion(self.published_location)

    def remove_publish_leftovers(self) -> list[str]:
        from kpiflow.warehouse.spark_publish import remove_leftovers

        with self.connect() as session:
            return remove_leftovers(session)

    def run_lock(self, *, run_id: str, run_date: str, wait_seconds: float = 0.0) -> AbstractContextManager[LockHolder]:
        """An advisory `flock` on `run.lock` in the Spark directory (file_lock.py), naming the holder."""
        return run_lock(self.directory, run_id=run_id, run_date=run_date, wait_seconds=wait_seconds)
