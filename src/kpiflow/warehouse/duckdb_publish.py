"""Publishing DuckDB marts: copy the audited relations into a new file and swap it in with one atomic rename.

BI tools read only the published file. The run never opens it for writing: it writes a sibling temp
file, checks the copy against the audit's fingerprints, checkpoints, fsyncs, and `os.replace`s it onto
the published path. A reader sees yesterday's file or today's, never a mix; a run that dies at any
point leaves the published file byte for byte as it was, plus at most a temp file the next run removes.
The file published before stays beside it as `.previous`, for `rollback`.

The published file carries the record of its own publish (`kpiflow_state.runs` with the run's row,
`kpiflow_state.run_tables`, and the older `main._kpiflow_publish` as a view over them), written into the copy
before the rename: it changes with the marts, atomically. The warehouse's record (run_record.py) gets the same
rows right after the rename.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path

import duckdb

from kpiflow.errors import RunFailed, UserInputError
from kpiflow.warehouse.duckdb import DuckDBSession
from kpiflow.warehouse.duckdb_files import attached_read_only, sql_string
from kpiflow.warehouse.fingerprints import quote_identifier, verify_copy
from kpiflow.warehouse.interface import TableFingerprint
from kpiflow.warehouse.run_record import PUBLISH_LOG_SQL, RUNS_TABLE, create_run_tables, record_publish

PUBLISH_LOG_VIEW = "main._kpiflow_publish"  # what files published by older versions hold (as a table)
_TMP_MARKER = ".tmp-"


def previous_path_for(marts_path: Path) -> Path:
    """The file published before the current one: `kpiflow rollback` (or `mv`) puts it back."""
    return marts_path.with_name(f"{marts_path.name}.previous")


def tmp_path_for(marts_path: Path, run_id: str) -> Path:
    """Same directory as the published file, so the final rename never crosses file systems."""
    return marts_path.with_name(f"{marts_path.name}{_TMP_MARKER}{run_id}")


def remove_stray_tmp_files(marts_path: Path) -> list[Path]:
    """Delete temp files (and their WALs) left by runs that died mid-publish. Call only under the run lock."""
    if not marts_path.parent.exists():
        return []
    strays = sorted(marts_path.parent.glob(f"{marts_path.name}{_TMP_MARKER}*"))
    for stray in strays:
        stray.unlink(missing_ok=True)
    return strays


def publish_file(
    warehouse_path: Path,
    marts_path: Path,
    audited: tuple[TableFingerprint, ...],
    *,
    run_id: str,
    run_date: date,
    published_at: datetime,
) -> None:
    """Copy exactly the audited relations from the warehouse into a fresh file, then swap it in."""
    _refuse_if_written_in_place(marts_path)
    marts_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = tmp_path_for(marts_path, run_id)
    tmp_path.unlink(missing_ok=True)
    try:
        _write_copy(warehouse_path, tmp_path, audited, run_id=run_id, run_date=run_date, published_at=published_at)
        _fsync(tmp_path)
        _keep_previous(marts_path)
        os.replace(tmp_path, marts_path)
        _fsync(marts_path.parent)
    finally:
        for leftover in (tmp_path, tmp_path.with_name(tmp_path.name + ".wal")):
            leftover.unlink(missing_ok=True)


def restore_previous(marts_path: Path) -> None:
    """Put the previously published file back in one rename; the current one is dropped."""
    previous = previous_path_for(marts_path)
    if not previous.is_file():
        raise UserInputError(f"no previous published marts at {previous}: nothing to roll back to")
    _refuse_if_written_in_place(marts_path)
    os.replace(previous, marts_path)
    _fsync(marts_path.parent)


def _write_copy(
    warehouse_path: Path,
    tmp_path: Path,
    audited: tuple[TableFingerprint, ...],
    *,
    run_id: str,
    run_date: date,
    published_at: datetime,
) -> None:
    with attached_read_only(warehouse_path, "wh") as con:
        con.execute(f"attach {sql_string(str(tmp_path))} as pub")
        for schema in sorted({fp.schema for fp in audited}):
            con.execute(f"create schema pub.{quote_identifier(schema)}")
        for fp in audited:
            relation = f"{quote_identifier(fp.schema)}.{quote_identifier(fp.name)}"
            # Views become tables: the published file must not depend on the warehouse.
            con.execute(f"create table pub.{relation} as select * from wh.{relation}")
        con.execute("use pub")
        verify_copy(DuckDBSession(con), audited)
        _write_publish_record(con, audited, run_id=run_id, run_date=run_date, published_at=published_at)
        con.execute("use memory")
        con.execute("checkpoint pub")
        con.execute("detach pub")


def _write_publish_record(
    con: duckdb.DuckDBPyConnection,
    audited: tuple[TableFingerprint, ...],
    *,
    run_id: str,
    run_date: date,
    published_at: datetime,
) -> None:
    """The run's row (as the warehouse has it so far) and the published tables, into the copy (`use pub`)."""
    session = DuckDBSession(con)
    create_run_tables(session)
    found = con.execute(
        "select count(*) from information_schema.tables where table_catalog = 'wh' "
        "and table_schema = 'kpiflow_state' and table_name = 'runs'"
    ).fetchone()
    if found and found[0]:
        con.execute(f"insert into pub.{RUNS_TABLE} by name select * from wh.{RUNS_TABLE} where run_id = ?", [run_id])
    record_publish(session, audited, run_id=run_id, run_date=run_date, published_at=published_at)
    con.execute(f"create view pub.{PUBLISH_LOG_VIEW} as {PUBLISH_LOG_SQL}")


def _keep_previous(marts_path: Path) -> None:
    """Hard-link the current file as `.previous` (no copy; the old inode lives on after the swap)."""
    if not marts_path.exists():
        return
    staging = marts_path.with_name(f"{marts_path.name}.previous{_TMP_MARKER}link")
    staging.unlink(missing_ok=True)
    try:
        os.link(marts_path, staging)
    except OSError:  # a file system without hard links: publishing matters more than the spare copy
        return
    os.replace(staging, previous_path_for(marts_path))


def _refuse_if_written_in_place(marts_path: Path) -> None:
    """A WAL beside the published file means someone opened it read-write; swapping would corrupt it."""
    wal = marts_path.with_name(marts_path.name + ".wal")
    if wal.exists():
        raise RunFailed(
            f"{wal} exists: a process has the published marts open for writing. BI tools must open "
            f"{marts_path} read-only; close that process (or delete the WAL if it is gone) and rerun."
        )


def _fsync(path: Path) -> None:
    """Flush a file, or a directory so that a rename in it survives a power cut."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
