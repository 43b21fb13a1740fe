"""Publishing on PostgreSQL: the built copies become the published schemas in one transaction of renames.

dbt builds each published schema under a build name (`marts__build`, `payroll__build`). Publishing, in ONE
transaction: check the build copies against the audit's fingerprints with writers locked out (a difference aborts:
nothing changed), drop the older `<schema>__previous`, rename the published `<schema>` to `<schema>__previous`, rename
`<schema>__build` to `<schema>`, re-run the reader grants (they are keyed by schema, and the schema is a new one) and
record the publish in the run's row and `kpiflow_state.run_tables` (run_record.py): "published" is recorded if and
only if the marts changed. A run that dies mid-publish leaves nothing behind. A rollback records itself the same way.

Renames commit together, but PostgreSQL resolves the names of one statement one relation at a time, so a reader's
statement resolving names at the instant of the commit could see one old and one new table. The swap therefore
first takes ACCESS EXCLUSIVE locks on the published tables: a reader waits for the commit (at most LOCK_TIMEOUT),
then resolves every name anew. A deadlock with a reader or a lock timeout retries the swap (PUBLISH_ATTEMPTS).
"""

from __future__ import annotations

import random
import time
from dataclasses import replace
from datetime import date, datetime

from kpiflow.config import PostgresConnection
from kpiflow.errors import RunFailed, UserInputError
from kpiflow.warehouse.build_schemas import build_schema
from kpiflow.warehouse.fingerprints import PUBLISHED_SCHEMAS, quote_identifier, verify_copy
from kpiflow.warehouse.interface import TableFingerprint
from kpiflow.warehouse.postgres import ConcurrentConflict, PostgresSession
from kpiflow.warehouse.run_record import ensure_run_tables, record_publish, record_rollback, utc_now

PREVIOUS_SUFFIX = "__previous"
LOCK_TIMEOUT = "10s"
PUBLISH_ATTEMPTS = 6
RETRY_PAUSE_SECONDS = 0.2  # times the attempt, jittered: readers polling in a loop get a chance to finish first


def previous_schema(schema: str) -> str:
    return schema + PREVIOUS_SUFFIX


def publish_schemas(
    session: PostgresSession,
    connection: PostgresConnection,
    audited: tuple[TableFingerprint, ...],
    *,
    run_id: str,
    run_date: date,
    published_at: datetime,
) -> None:
    """Swap the build copies in as the published schemas, or change nothing (RunFailed when the copy differs)."""
    outside = sorted({fp.schema for fp in audited} - set(PUBLISHED_SCHEMAS))
    if outside:
        raise RunFailed(f"publish aborted: {', '.join(outside)} is not a published schema ({PUBLISHED_SCHEMAS})")
    missing = [build_schema(s) for s in PUBLISHED_SCHEMAS if not session.schema_exists(build_schema(s))]
    if missing:
        raise RunFailed(
            f"publish aborted: {', '.join(missing)} missing on {connection.address}: dbt builds the published "
            "schemas there (see docs/postgres.md). Nothing was published; rerun the build."
        )
    ensure_run_tables(session)
    for attempt in range(1, PUBLISH_ATTEMPTS + 1):
        try:
            _swap_in(session, connection, audited, run_id=run_id, run_date=run_date, published_at=published_at)
            return
        except ConcurrentConflict as exc:
            if attempt == PUBLISH_ATTEMPTS:
                raise RunFailed(
                    f"publish aborted after {attempt} attempts: readers of the published marts kept them locked "
                    f"({exc}). Nothing was published; rerun when long-running reports are done."
                ) from None
            time.sleep(random.uniform(0, RETRY_PAUSE_SECONDS * attempt))


def _swap_in(
    session: PostgresSession,
    connection: PostgresConnection,
    audited: tuple[TableFingerprint, ...],
    *,
    run_id: str,
    run_date: date,
    published_at: datetime,
) -> None:
    with session.transaction():
        _verify_build(session, audited)
        _lock_published(session)
        for schema in PUBLISHED_SCHEMAS:
            current, previous = quote_identifier(schema), quote_identifier(previous_schema(schema))
            session.native(f"drop schema if exists {previous} cascade")
            if session.schema_exists(schema):
                session.native(f"alter schema {current} rename to {previous}")
            session.native(f"alter schema {quote_identifier(build_schema(schema))} rename to {current}")
        _grant_readers(session, connection)
        record_publish(session, audited, run_id=run_id, run_date=run_date, published_at=published_at)


def _verify_build(session: PostgresSession, audited: tuple[TableFingerprint, ...]) -> None:
    """The build copies must be exactly what the audit saw. Checked in the swap's transaction with the copies
    locked against writes (SHARE), before readers are locked out: fingerprinting large marts takes time."""
    built = session.relations(tuple(build_schema(s) for s in PUBLISHED_SCHEMAS))
    if built:
        tables = ", ".join(f"{quote_identifier(schema)}.{quote_identifier(name)}" for schema, name in built)
        session.native(f"lock table {tables} in share mode")
    audited_names = {build_schema(fp.schema) + "." + fp.name for fp in audited}
    unaudited = [f"{schema}.{name}" for schema, name in built if f"{schema}.{name}" not in audited_names]
    if unaudited:  # verify_copy compares only the schemas the audit named
        raise RunFailed(
            f"publish aborted: {', '.join(unaudited)} were built but not audited. Nothing was published; rerun."
        )
    verify_copy(session, tuple(replace(fp, schema=build_schema(fp.schema)) for fp in audited))


def restore_previous(session: PostgresSession, connection: PostgresConnection, *, run_id: str) -> datetime:
    """Publish `<schema>__previous` again in one transaction, recorded as run `run_id` (status rolled_back); the
    current version is dropped. Returns when it was rolled back."""
    missing = [previous_schema(s) for s in PUBLISHED_SCHEMAS if not session.schema_exists(previous_schema(s))]
    if missing:
        raise UserInputError(
            f"no previous published marts on {connection.address} ({', '.join(missing)} missing): "
            "nothing to roll back to"
        )
    ensure_run_tables(session)
    with session.transaction():
        _lock_published(session)
        for schema in PUBLISHED_SCHEMAS:
            session.native(f"drop schema if exists {quote_identifier(schema)} cascade")
            previous = quote_identifier(previous_schema(schema))
            session.native(f"alter schema {previous} rename to {quote_identifier(schema)}")
        _grant_readers(session, connection)
        rolled_back_at = utc_now()
        record_rollback(session, run_id=run_id, rolled_back_at=rolled_back_at)
    return rolled_back_at


def _lock_published(session: PostgresSession) -> None:
    """Readers of the published tables wait for this transaction's end (see the module's docstring)."""
    session.native(f"set local lock_timeout = '{LOCK_TIMEOUT}'")
    tables = [f"{quote_identifier(s)}.{quote_identifier(n)}" for s, n in session.relations(PUBLISHED_SCHEMAS)]
    if tables:
        session.native(f"lock table {', '.join(tables)} in access exclusive mode")


def _grant_readers(session: PostgresSession, connection: PostgresConnection) -> None:
    """`kpiflow grants` again, when its roles exist (a deployment without reader roles has nothing to re-grant)."""
    from kpiflow.warehouse_roles import ReaderRoles, grant_statements

    roles = ReaderRoles.from_env_for(connection)
    found = session.native("select count(*) from pg_roles where rolname = any(%s)", [[roles.bi, roles.payroll]])
    if (found.fetchone() or (0,))[0] < 2:
        return
    for statement in grant_statements(roles):
        session.native(statement.as_string(session.con))
