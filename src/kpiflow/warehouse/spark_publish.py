"""Publishing on Spark: audited copies in a new versioned database, then the published views switched to them.

Spark has no transaction over several tables and cannot rename a database, so the publish works in three steps:
1. copy: every audited table of `marts__build` / `payroll__build` is copied into a new `marts__v<N>` /
   `payroll__v<N>` (N one more than any version before), and the copies are checked against the audit's
   fingerprints. A missing table or a difference drops the new version: nothing was published.
2. commit: one row per table is appended to `kpiflow_state.spark_published_versions` (version N, the version it
   replaces, run id, run date, publish time, row count and checksum). From here on version N is the published one.
   Then the run's record (run_record.py: `published_at` in `kpiflow_state.runs`, the tables in `run_tables`), as on
   the other engines; the versions log stays: the view switch follows it. A publish that dies between the two
   leaves the record without this publish (the views still show version N).
3. switch: each view `marts.<t>` / `payroll.<t>` is replaced (`create or replace view ... as select * from
   marts__v<N>.<t>`, one statement per view), views of tables N does not have are dropped, then versions other
   than N and the one it replaced are dropped, and so are the build databases (every run builds its marts afresh).

What a reader gets: each statement of the switch is atomic in the metastore, so a query reads each table wholly old
or wholly new, never a half-written table (the versions are never written once published). Across tables it is not
atomic: a query that starts during the switch can read one table of version N and another of N-1. A publish that
dies after step 2 is completed by the next run (`remove_leftovers`, under the run lock, re-points the views at the
recorded version); one that dies before leaves the published views as they were. `rollback` switches the views
back to the version N replaced (kept until the next publish) and drops N.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from kpiflow.errors import RunFailed, UserInputError
from kpiflow.warehouse.build_schemas import build_schema
from kpiflow.warehouse.fingerprints import PUBLISHED_SCHEMAS, verify_copy
from kpiflow.warehouse.interface import Columns, TableFingerprint
from kpiflow.warehouse.run_record import ensure_run_tables, record_publish, record_rollback, utc_now
from kpiflow.warehouse.spark import SparkWarehouseSession, quoted

PUBLISH_LOG_TABLE = "kpiflow_state.spark_published_versions"
_LOG_COLUMNS: Columns = (
    ("event_id", "bigint"),
    ("event", "varchar"),
    ("version", "integer"),
    ("previous_version", "integer"),
    ("run_id", "varchar"),
    ("run_date", "date"),
    ("published_at", "timestamptz"),
    ("table_schema", "varchar"),
    ("table_name", "varchar"),
    ("row_count", "bigint"),
    ("checksum", "varchar"),
)


def version_database(schema: str, version: int) -> str:
    """Where version `version` of a published schema's tables lives (`marts` -> `marts__v3`)."""
    return f"{schema}__v{version}"


@dataclass(frozen=True)
class Published:
    """The version the views show, and the one it replaced (None after a rollback or a first publish)."""

    version: int
    previous: int | None


def current_version(session: SparkWarehouseSession) -> Published | None:
    """The published version recorded last (the publish log's newest event); None when nothing was published."""
    if not session.has_relation(PUBLISH_LOG_TABLE):
        return None
    row = session.execute(
        f"select version, previous_version from {PUBLISH_LOG_TABLE} order by event_id desc limit 1"
    ).fetchone()
    return Published(int(row[0]), None if row[1] is None else int(row[1])) if row else None


def publish_version(
    session: SparkWarehouseSession,
    audited: tuple[TableFingerprint, ...],
    *,
    run_id: str,
    run_date: date,
    published_at: datetime,
) -> int:
    """Publish exactly the audited tables of the build as a new version (module docstring); its number."""
    outside = sorted({fp.schema for fp in audited} - set(PUBLISHED_SCHEMAS))
    if outside:
        raise RunFailed(f"publish aborted: {', '.join(outside)} is not a published schema ({PUBLISHED_SCHEMAS})")
    missing = [
        f"{build_schema(fp.schema)}.{fp.name}"
        for fp in audited
        if fp.name not in session.tables_of(build_schema(fp.schema))
    ]
    if missing:
        raise RunFailed(
            f"publish aborted: {', '.join(missing)} missing: dbt builds the published tables there (docs/spark.md). "
            "Nothing was published; rerun the build."
        )
    published = current_version(session)
    version = _next_version(session)
    try:
        _copy(session, audited, version)
        verify_copy(_version_session(session, version), audited)
    except BaseException:
        _drop_databases(session, [version_database(schema, version) for schema in PUBLISHED_SCHEMAS])
        raise
    rows = [
        ("publish", version, published.version if published else None, run_id, run_date, published_at, fp)
        for fp in audited
    ]
    _record(session, rows or [("publish", version, published.version if published else None, run_id, run_date,
                               published_at, None)])  # fmt: skip
    ensure_run_tables(session)
    record_publish(session, audited, run_id=run_id, run_date=run_date, published_at=published_at)
    _switch_views(session, version)
    _drop_versions(session, keep={version, published.version if published else version})
    _drop_databases(session, [build_schema(schema) for schema in PUBLISHED_SCHEMAS])
    return version


def restore_previous(session: SparkWarehouseSession, location: str, run_id: str) -> None:
    """Point the views back at the version the current one replaced (logged as run `run_id`), and drop the current
    one."""
    published = current_version(session)
    previous = published.previous if published else None
    if previous is None or not all(
        session.database_exists(version_database(schema, previous)) for schema in PUBLISHED_SCHEMAS
    ):
        raise UserInputError(f"no previous published marts on {location}: nothing to roll back to")
    _record(session, [("rollback", previous, None, run_id, None, None, None)])
    ensure_run_tables(session)
    record_rollback(session, run_id=run_id, rolled_back_at=utc_now())
    _switch_views(session, previous)
    _drop_versions(session, keep={previous})


def remove_leftovers(session: SparkWarehouseSession) -> list[str]:
    """After runs that died: drop their build databases and unpublished versions, and finish a switch that a
    publish or rollback left half done (the views then show the recorded version again). Call under the run lock."""
    removed = _drop_databases(session, [build_schema(schema) for schema in PUBLISHED_SCHEMAS])
    published = current_version(session)
    if published is None:
        return removed + _drop_versions(session, keep=set())
    removed += _drop_versions(session, keep={published.version, published.previous or published.version})
    if not _views_show(session, published.version):
        _switch_views(session, published.version)
        removed.append(f"half-switched views of {', '.join(PUBLISHED_SCHEMAS)} (now version {published.version})")
    return removed


def _version_session(session: SparkWarehouseSession, version: int) -> SparkWarehouseSession:
    """A read-only session where `marts.x` names `marts__v<version>.x` (the copy verify_copy fingerprints)."""
    renames = tuple((schema, version_database(schema, version)) for schema in PUBLISHED_SCHEMAS)
    return SparkWarehouseSession(session.spark, renames, read_only=True)


def _copy(session: SparkWarehouseSession, audited: tuple[TableFingerprint, ...], version: int) -> None:
    for schema in PUBLISHED_SCHEMAS:
        session.native(f"create database {quoted(version_database(schema, version))}")
    for fp in audited:
        source = f"{quoted(build_schema(fp.schema))}.{quoted(fp.name)}"
        target = f"{quoted(version_database(fp.schema, version))}.{quoted(fp.name)}"
        session.native(f"create table {target} using parquet as select * from {source}")


def _switch_views(session: SparkWarehouseSession, version: int) -> None:
    for schema in PUBLISHED_SCHEMAS:
        database = version_database(schema, version)
        tables = session.tables_of(database)
        session.native(f"create database if not exists {quoted(schema)}")
        for name in tables:
            session.native(
                f"create or replace view {quoted(schema)}.{quoted(name)} "
                f"as select * from {quoted(database)}.{quoted(name)}"
            )
        for stale in sorted(set(session.tables_of(schema)) - set(tables)):
            session.native(f"drop view if exists {quoted(schema)}.{quoted(stale)}")


def _views_show(session: SparkWarehouseSession, version: int) -> bool:
    """Every published view reads version `version`, and every table of that version has its view."""
    for schema in PUBLISHED_SCHEMAS:
        database = version_database(schema, version)
        views = session.tables_of(schema)
        if views != session.tables_of(database):
            return False
        for name in views:
            text = str((session.native(f"show create table {quoted(schema)}.{quoted(name)}").fetchone() or ("",))[0])
            if f"{quoted(database)}." not in text:
                return False
    return True


def _versions(session: SparkWarehouseSession) -> dict[int, list[str]]:
    """The version databases there are, by version."""
    pattern = re.compile("(" + "|".join(re.escape(s) for s in PUBLISHED_SCHEMAS) + r")__v(\d+)")
    found: dict[int, list[str]] = {}
    for database in session.spark.catalog.listDatabases():
        match = pattern.fullmatch(database.name)
        if match:
            found.setdefault(int(match.group(2)), []).append(database.name)
    return found


def _next_version(session: SparkWarehouseSession) -> int:
    logged = 0
    if session.has_relation(PUBLISH_LOG_TABLE):
        logged = int((session.execute(f"select max(version) from {PUBLISH_LOG_TABLE}").fetchone() or (0,))[0] or 0)
    return max([logged, *_versions(session)]) + 1


def _drop_versions(session: SparkWarehouseSession, keep: set[int]) -> list[str]:
    stale = [name for version, names in _versions(session).items() if version not in keep for name in names]
    return _drop_databases(session, sorted(stale))


def _drop_databases(session: SparkWarehouseSession, databases: list[str]) -> list[str]:
    dropped = [database for database in databases if session.database_exists(database)]
    for database in dropped:
        session.native(f"drop database {quoted(database)} cascade")
    return dropped


def _record(session: SparkWarehouseSession, events: list[tuple]) -> None:
    """Append the events to the publish log: the step that makes a version the published one."""
    last = 0
    if session.has_relation(PUBLISH_LOG_TABLE):
        last = int((session.execute(f"select max(event_id) from {PUBLISH_LOG_TABLE}").fetchone() or (0,))[0] or 0)
    rows = [
        (last + 1, event, version, previous, run_id, run_date, published_at,
         fp.schema if fp else None, fp.name if fp else None, fp.row_count if fp else None, fp.checksum if fp else None)
        for event, version, previous, run_id, run_date, published_at, fp in events
    ]  # fmt: skip
    session.save_rows(PUBLISH_LOG_TABLE, _LOG_COLUMNS, rows, mode="append")
