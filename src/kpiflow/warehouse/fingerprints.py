"""Row counts and order-independent checksums per table: what "the same marts" means, on any engine.

The audit fingerprints the build, publish checks the copy against it, the publish log records it,
and the tests use it to prove that a failed run left the published marts as they were. The SQL is the
session's (`checksum_sql`), so every engine fingerprints the same way it hashes.
"""

from __future__ import annotations

from kpiflow.errors import RunFailed
from kpiflow.warehouse.interface import Session, TableFingerprint

PUBLISHED_SCHEMAS: tuple[str, ...] = ("marts", "payroll")
ROW_ALIAS = "kpiflow_row__"  # the table alias that stands for a whole row in row_hash_sql


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def fingerprint_table(session: Session, schema: str, name: str) -> TableFingerprint:
    relation = f"{quote_identifier(schema)}.{quote_identifier(name)}"
    row_count, checksum = session.execute(
        f"select count(*), {session.checksum_sql(ROW_ALIAS)} from {relation} as {ROW_ALIAS}"
    ).fetchone() or (0, "0")
    return TableFingerprint(schema=schema, name=name, row_count=int(row_count), checksum=str(checksum))


def fingerprint_schemas(session: Session, schemas: tuple[str, ...] = PUBLISHED_SCHEMAS) -> dict[str, TableFingerprint]:
    """Fingerprints keyed by `schema.name` for every relation in `schemas`."""
    prints = (fingerprint_table(session, schema, name) for schema, name in session.relations(schemas))
    return {fp.qualified_name: fp for fp in prints}


def verify_copy(session: Session, audited: tuple[TableFingerprint, ...]) -> None:
    """The published copy must be what the audit saw; a difference means the warehouse changed under the run."""
    schemas = tuple(sorted({fp.schema for fp in audited}))
    copied = fingerprint_schemas(session, schemas) if schemas else {}
    expected = {fp.qualified_name: fp for fp in audited}
    if copied != expected:
        changed = sorted(name for name in expected.keys() | copied.keys() if copied.get(name) != expected.get(name))
        raise RunFailed(
            f"publish aborted: {', '.join(changed)} changed between audit and publish "
            "(did another process write to the warehouse during the run?). Nothing was published; rerun."
        )
