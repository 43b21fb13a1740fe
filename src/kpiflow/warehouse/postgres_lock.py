"""One pipeline run at a time per PostgreSQL database: a session-level advisory lock on a dedicated connection.

The connection is held for the whole run; the server releases the lock when that connection ends, however the run
ends (even SIGKILL: the server sees the socket close), so a crashed run never leaves a stale lock. The holder names
itself in the connection's `application_name`, which a refused run reads from pg_stat_activity.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg

from kpiflow.config import PostgresConnection
from kpiflow.errors import UserInputError, WarehouseBusy

# pg_try_advisory_lock(bigint): a fixed key, the same for every kpiflow process on this database
RUN_LOCK_KEY = 0x6B7066_6C6F77  # "kpflow"
_POLL_SECONDS = 0.2
_NAME_BYTES = 63  # PostgreSQL cuts application_name there


@dataclass(frozen=True)
class PostgresLockHolder:
    """Who holds the run lock: the holder's own words plus what the server knows of its connection."""

    name: str
    backend_pid: int
    client: str
    since: str

    def describe(self) -> str:
        return f"{self.name} (server pid {self.backend_pid}, client {self.client}, connected {self.since})"


@contextmanager
def advisory_run_lock(
    connection: PostgresConnection, *, run_id: str, run_date: str, wait_seconds: float = 0.0
) -> Iterator[PostgresLockHolder]:
    """Hold the database's run lock for the body; wait up to `wait_seconds`, then raise WarehouseBusy."""
    if wait_seconds < 0:
        raise UserInputError(f"--wait must be 0 or more seconds, got {wait_seconds}")
    name = f"kpiflow run {run_id} for {run_date}, pid {os.getpid()}".encode()[:_NAME_BYTES].decode(errors="ignore")
    con = connection.connect()
    try:
        con.autocommit = True
        con.execute("select set_config('application_name', %s, false)", [name])
        deadline = time.monotonic() + wait_seconds
        while not _try_lock(con):
            if time.monotonic() >= deadline:
                holder = _holder(con)
                who = holder.describe() if holder else "a session that has just ended"
                waited = f" after waiting {wait_seconds:g} s" if wait_seconds else ""
                raise WarehouseBusy(
                    f"another kpiflow run holds the run lock of {connection.address} ({who}){waited}. "
                    "Wait for it to finish, or pass --wait SECONDS to queue behind it."
                )
            time.sleep(_POLL_SECONDS)
        since = datetime.now(UTC).isoformat(timespec="seconds")
        yield PostgresLockHolder(name, con.info.backend_pid, "this process", since)
        con.execute("select pg_advisory_unlock(%s)", [RUN_LOCK_KEY])
    finally:
        con.close()


def _try_lock(con: psycopg.Connection) -> bool:
    row = con.execute("select pg_try_advisory_lock(%s)", [RUN_LOCK_KEY]).fetchone()
    return bool(row and row[0])


def _holder(con: psycopg.Connection) -> PostgresLockHolder | None:
    row = con.execute(
        "select a.application_name, a.pid, coalesce(host(a.client_addr), 'local socket'), "
        "to_char(a.backend_start at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
        "from pg_locks l join pg_stat_activity a on a.pid = l.pid "
        "where l.locktype = 'advisory' and l.granted and l.database = (select oid from pg_database "
        "where datname = current_database()) and l.objid::bigint = %s and l.classid::bigint = %s and l.objsubid = 1",
        [RUN_LOCK_KEY & 0xFFFFFFFF, RUN_LOCK_KEY >> 32],
    ).fetchone()
    if row is None:
        return None
    return PostgresLockHolder(str(row[0] or "an unnamed session"), int(row[1]), str(row[2]), str(row[3]))
