"""The one record of a run, kept in the warehouse: `kpiflow_state.runs` and `kpiflow_state.run_tables`.

One row per run, keyed by the run id (Prefect's flow run id, the journal's too). The run inserts it (status running)
when it holds the run lock; the build stage sets the window and the project fingerprint the next incremental plan
reads; publish sets `published_at` and writes the published tables' fingerprints to `run_tables` in the swap's
transaction (PostgreSQL) or file (DuckDB); the end of the flow sets status and error. A run that died keeps status
running until the next run, holding the lock, marks it killed. A rollback writes a row of its own (status
rolled_back, `restored_run_id` naming the run whose marts are published again), so the latest published row always
describes what readers see.

The SQL is the project's portable dialect (interface.py), so every engine keeps the record through its Session.
Warehouses written by older versions kept `kpiflow_state.builds` and `kpiflow_state._kpiflow_publish` as tables:
`ensure_run_tables` moves their rows here once and leaves views of the same names in their place (one release).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from kpiflow.warehouse.interface import MissingRelation, Session, TableFingerprint, Warehouse

STATE_SCHEMA = "kpiflow_state"
RUNS_TABLE = "kpiflow_state.runs"
RUN_TABLES_TABLE = "kpiflow_state.run_tables"
BUILDS_VIEW = "kpiflow_state.builds"  # the record of builds before runs held it (a view for one release)
PUBLISH_LOG_VIEW = "kpiflow_state._kpiflow_publish"  # the publish log before run_tables held it (idem)
STATUSES = ("running", "completed", "failed", "killed", "rolled_back")

_RUNS_COLUMNS = (
    "run_id varchar primary key, run_date date, target varchar, started_at timestamp, finished_at timestamp, "
    "status varchar, failed_stage varchar, error varchar, full_refresh boolean, window_start date, "
    "fingerprint varchar, built_at timestamp, published_at timestamp, restored_run_id varchar, stages varchar"
)
_RUN_TABLES_COLUMNS = "run_id varchar, table_schema varchar, table_name varchar, row_count bigint, checksum varchar"
_BUILDS_SQL = (
    "select run_date, window_start, full_refresh, fingerprint, built_at as recorded_at, run_id "
    f"from {RUNS_TABLE} where fingerprint is not null"
)
PUBLISH_LOG_SQL = (
    "select r.run_id, r.run_date, r.published_at, t.table_schema, t.table_name, t.row_count, t.checksum "
    f"from {RUNS_TABLE} as r join {RUN_TABLES_TABLE} as t on t.run_id = r.run_id"
)


@dataclass(frozen=True)
class RecordedBuild:
    """The last build the warehouse recorded: where the next incremental window starts from."""

    run_date: date
    fingerprint: str


@dataclass(frozen=True)
class PublishedRun:
    """The latest published row: the run whose marts readers see (through `restored_run_id` after a rollback)."""

    run_id: str
    run_date: date | None
    published_at: datetime
    status: str
    restored_run_id: str | None

    @property
    def marts_run_id(self) -> str | None:
        """The run that built what is published (a rollback row names the run it restored)."""
        return self.restored_run_id if self.status == "rolled_back" else self.run_id


def utc_now() -> datetime:
    """Timestamps are stored as UTC without a zone: the same value on every engine and session."""
    return datetime.now(UTC).replace(tzinfo=None)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def create_run_tables(session: Session) -> None:
    """The two tables, and the views the older record's readers query, when missing (nothing is moved)."""
    _create_tables(session)
    _create_views(session)


def ensure_run_tables(session: Session) -> None:
    """Create the tables; the first time, move an older version's `builds` and `_kpiflow_publish` rows into them
    (idempotent: the old tables become views, so there is nothing to move again). Not inside a transaction."""
    with session.transaction():
        _create_tables(session)
        if session.table_type(BUILDS_VIEW) == "BASE TABLE":
            _migrate_builds(session)
        if session.table_type(PUBLISH_LOG_VIEW) == "BASE TABLE":
            _migrate_publish_log(session)
        _create_views(session)


def _create_tables(session: Session) -> None:
    session.execute(f"create schema if not exists {STATE_SCHEMA}")
    session.execute(f"create table if not exists {RUNS_TABLE} ({_RUNS_COLUMNS})")
    session.execute(f"create table if not exists {RUN_TABLES_TABLE} ({_RUN_TABLES_COLUMNS})")


def _create_views(session: Session) -> None:
    for view, sql in ((BUILDS_VIEW, _BUILDS_SQL), (PUBLISH_LOG_VIEW, PUBLISH_LOG_SQL)):
        if session.table_type(view) is None:
            session.execute(f"create view {view} as {sql}")


def _migrate_builds(session: Session) -> None:
    """Each recorded build becomes a completed run (builds had no run id: `builds-<n>` in recording order)."""
    rows = session.execute(
        f"select run_date, window_start, full_refresh, fingerprint, recorded_at from {BUILDS_VIEW} "
        "order by recorded_at, run_date"
    ).fetchall()
    session.executemany(
        f"insert into {RUNS_TABLE} (run_id, run_date, started_at, finished_at, status, full_refresh, window_start, "
        "fingerprint, built_at) values (?, ?, ?, ?, 'completed', ?, ?, ?, ?)",
        [
            [f"builds-{n}", run_date, recorded, recorded, full, window, fingerprint, recorded]
            for n, (run_date, window, full, fingerprint, recorded) in enumerate(rows, start=1)
        ],
    )
    session.execute(f"drop table {BUILDS_VIEW}")


def _migrate_publish_log(session: Session) -> None:
    """Each run of the old publish log becomes a completed, published run with its tables."""
    rows = session.execute(
        "select run_id, run_date, published_at, table_schema, table_name, row_count, checksum "
        f"from {PUBLISH_LOG_VIEW} order by published_at"
    ).fetchall()
    known = {str(row[0]) for row in session.execute(f"select run_id from {RUNS_TABLE}").fetchall()}
    for run_id, run_date, published_at in {(str(r[0]), r[1], _utc(r[2])): None for r in rows}:
        if run_id not in known:
            known.add(run_id)
            session.execute(
                f"insert into {RUNS_TABLE} (run_id, run_date, finished_at, status, published_at) "
                "values (?, ?, ?, 'completed', ?)",
                [run_id, run_date, published_at, published_at],
            )
    session.executemany(
        f"insert into {RUN_TABLES_TABLE} values (?, ?, ?, ?, ?)",
        [[str(r[0]), r[3], r[4], r[5], r[6]] for r in rows],
    )
    session.execute(f"drop table {PUBLISH_LOG_VIEW}")


def _ensure_row(session: Session, run_id: str, run_date: date | None, **facts: Any) -> None:
    """Insert the run's row when a writer finds none (the warehouse did not exist yet when the run began)."""
    if session.execute(f"select 1 from {RUNS_TABLE} where run_id = ?", [run_id]).fetchone():
        return
    values = {"run_id": run_id, "run_date": run_date, "status": "running", "started_at": utc_now(), **facts}
    session.execute(
        f"insert into {RUNS_TABLE} ({', '.join(values)}) values ({', '.join('?' for _ in values)})",
        list(values.values()),
    )


def _set(session: Session, run_id: str, run_date: date | None, **facts: Any) -> None:
    """Set facts of the run's row, inserting the row first when there is none."""
    _ensure_row(session, run_id, run_date)
    _update(session, run_id, **facts)


def _update(session: Session, run_id: str, **facts: Any) -> None:
    assignments = ", ".join(f"{column} = ?" for column in facts)
    session.execute(f"update {RUNS_TABLE} set {assignments} where run_id = ?", [*facts.values(), run_id])


def begin_run(session: Session, *, run_id: str, run_date: date, target: str, started_at: datetime) -> list[str]:
    """Under the run lock: mark the runs left running as killed (no holder is alive without the lock), then insert
    this run's row. Returns the ids marked killed."""
    with session.transaction():
        killed = [
            str(row[0])
            for row in session.execute(
                f"select run_id from {RUNS_TABLE} where status = 'running' and run_id <> ?", [run_id]
            ).fetchall()
        ]
        for dead in killed:
            _update(
                session,
                dead,
                status="killed",
                finished_at=utc_now(),
                error=f"the run died before it ended (found running by run {run_id}, which held the run lock)",
            )
        _ensure_row(session, run_id, run_date, target=target, started_at=_utc(started_at))
    return killed


def record_build(
    session: Session, *, run_id: str, run_date: date, window_start: date | None, full_refresh: bool, fingerprint: str
) -> None:
    """A successful dbt build: the window it recomputed and the fingerprint of what shaped the models."""
    with session.transaction():
        _set(
            session,
            run_id,
            run_date,
            window_start=window_start,
            full_refresh=full_refresh,
            fingerprint=fingerprint,
            built_at=utc_now(),
        )


def record_publish(
    session: Session, tables: Sequence[TableFingerprint], *, run_id: str, run_date: date, published_at: datetime
) -> None:
    """`published_at` and the published tables. Call it inside the transaction (or file) that publishes."""
    _set(session, run_id, run_date, published_at=_utc(published_at))
    session.execute(f"delete from {RUN_TABLES_TABLE} where run_id = ?", [run_id])
    _insert_tables(session, run_id, tables)


def _insert_tables(session: Session, run_id: str, tables: Sequence[TableFingerprint]) -> None:
    if tables:
        session.executemany(
            f"insert into {RUN_TABLES_TABLE} values (?, ?, ?, ?, ?)",
            [[run_id, fp.schema, fp.name, fp.row_count, fp.checksum] for fp in tables],
        )


def record_missing_publish(session: Session, shown: PublishedRun, tables: Sequence[TableFingerprint]) -> bool:
    """Under the run lock: when the published marts name a run (`shown`, from their own record) whose publish the
    warehouse lacks - on DuckDB, a run killed between its file's rename and the warehouse's write - record it now.
    Returns True when it did."""
    if shown.status == "rolled_back":
        return False
    row = session.execute(f"select published_at from {RUNS_TABLE} where run_id = ?", [shown.run_id]).fetchone()
    if row is not None and row[0] is not None:
        return False
    with session.transaction():
        record_publish(session, tables, run_id=shown.run_id, run_date=shown.run_date, published_at=shown.published_at)
    return True


def finish_run(
    session: Session,
    *,
    run_id: str,
    run_date: date,
    target: str,
    started_at: datetime,
    status: str,
    failed_stage: str | None = None,
    error: str | None = None,
    stages: Sequence[dict[str, Any]] = (),
) -> None:
    """The end of the flow: its status, the stage that failed and why, and each stage's outcome (JSON). The target and
    start are set again: a run that began before its warehouse existed got its row from the build."""
    if status not in STATUSES:
        raise ValueError(f"unknown run status {status!r} (known: {', '.join(STATUSES)})")
    with session.transaction():
        _set(
            session,
            run_id,
            run_date,
            target=target,
            started_at=_utc(started_at),
            status=status,
            failed_stage=failed_stage,
            error=error,
            finished_at=utc_now(),
            stages=json.dumps(list(stages)),
        )


def record_rollback(session: Session, *, run_id: str, rolled_back_at: datetime) -> PublishedRun:
    """A rollback's own row: it publishes again what was published before the current version. Call it inside the
    rollback's transaction (or after its file swap)."""
    published = _published(session, limit=2)
    restored = published[1] if len(published) == 2 else None
    restored_run_id = restored.marts_run_id if restored else None
    run_date = restored.run_date if restored else None
    moment = _utc(rolled_back_at)
    session.execute(
        f"insert into {RUNS_TABLE} (run_id, run_date, started_at, finished_at, status, published_at, "
        "restored_run_id) values (?, ?, ?, ?, 'rolled_back', ?, ?)",
        [run_id, run_date, moment, moment, moment, restored_run_id],
    )
    if restored is not None:  # its tables are what is published again (a rollback row's are its restored run's)
        _insert_tables(session, run_id, published_tables(session, restored.run_id))
    return PublishedRun(run_id, run_date, moment, "rolled_back", restored_run_id)


def _published(session: Session, limit: int) -> list[PublishedRun]:
    rows = session.execute(
        f"select run_id, run_date, published_at, status, restored_run_id from {RUNS_TABLE} "
        f"where published_at is not null order by published_at desc limit {int(limit)}"
    ).fetchall()
    return [PublishedRun(str(r[0]), r[1], r[2], str(r[3]), r[4]) for r in rows]


def published_run(session: Session) -> PublishedRun | None:
    """The latest published row (None when nothing is recorded, or the record is missing). The record's table is
    looked up first: on Spark a statement that fails is logged at ERROR though it is expected here."""
    if not session.has_relation(RUNS_TABLE):
        return None
    try:
        found = _published(session, limit=1)
    except MissingRelation:
        return None
    return found[0] if found else None


def published_tables(session: Session, run_id: str) -> list[TableFingerprint]:
    """The fingerprints a run (or a rollback) recorded as published."""
    rows = session.execute(
        f"select table_schema, table_name, row_count, checksum from {RUN_TABLES_TABLE} where run_id = ? "
        "order by table_schema, table_name",
        [run_id],
    ).fetchall()
    return [TableFingerprint(str(s), str(n), int(c), str(k)) for s, n, c, k in rows]


def last_build(warehouse: Warehouse) -> RecordedBuild | None:
    """The latest successful build (fingerprint recorded), or None: no warehouse, no record yet. A warehouse of an
    older version that no run has opened since still has `builds` as a table: read there."""
    if not warehouse.exists():
        return None
    with warehouse.connect(read_only=True) as session:
        for table, sql in (
            (
                RUNS_TABLE,
                f"select run_date, fingerprint from {RUNS_TABLE} where fingerprint is not null "
                "order by built_at desc, run_date desc limit 1",
            ),
            (
                BUILDS_VIEW,
                f"select run_date, fingerprint from {BUILDS_VIEW} order by recorded_at desc, run_date desc limit 1",
            ),
        ):
            if not session.has_relation(table):  # asked, not tried: Spark logs a failed statement at ERROR
                continue
            try:
                row = session.execute(sql).fetchone()
            except MissingRelation:
                continue
            return RecordedBuild(row[0], row[1]) if row else None
    return None


def read_run(session: Session, run_id: str) -> dict[str, Any] | None:
    """One run's row as a dict (column name -> value), None when it is not recorded."""
    cursor = session.execute(f"select * from {RUNS_TABLE} where run_id = ?", [run_id])
    row = cursor.fetchone()
    if row is None:
        return None
    return {str(column[0]): value for column, value in zip(cursor.description, row, strict=True)}
