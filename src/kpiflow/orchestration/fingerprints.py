"""Row counts and order-independent checksums per table: what "the same marts" means.

The audit fingerprints the build, publish checks the copy against it, the publish log records it,
and the tests use it to prove that a failed run left the published file as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from kpiflow.orchestration.duckdb_files import attached_read_only, quote_identifier

PUBLISHED_SCHEMAS: tuple[str, ...] = ("marts", "payroll")
_ROW_ALIAS = "kpiflow_row__"


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


def list_relations(con: duckdb.DuckDBPyConnection, catalog: str, schemas: tuple[str, ...]) -> list[tuple[str, str]]:
    """(schema, name) of every table and view in `schemas` of `catalog`, sorted for stable output."""
    placeholders = ", ".join("?" for _ in schemas)
    rows = con.execute(
        "select table_schema, table_name from information_schema.tables "
        f"where table_catalog = ? and table_schema in ({placeholders}) order by 1, 2",
        [catalog, *schemas],
    ).fetchall()
    return [(str(schema), str(name)) for schema, name in rows]


def row_hash_sql(*values: str) -> str:
    """SQL hashing a row (or a few values) to an unsigned 64-bit number. DuckDB's `hash()`; the one place an engine
    port swaps it (e.g. Postgres: `('x' || substr(md5(row(...)::text), 1, 16))::bit(64)::bigint`)."""
    return f"hash({', '.join(values)})"


def checksum_sql(*values: str) -> str:
    """Aggregate SQL: the order-independent checksum of the rows' hashes (their sum, as text; '0' for no rows)."""
    return f"coalesce(sum({row_hash_sql(*values)})::hugeint, 0)::varchar"


def fingerprint_table(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, name: str) -> TableFingerprint:
    relation = ".".join(quote_identifier(part) for part in (catalog, schema, name))
    row_count, checksum = con.execute(
        f"select count(*), {checksum_sql(_ROW_ALIAS)} from {relation} as {_ROW_ALIAS}"
    ).fetchone() or (0, "0")
    return TableFingerprint(schema=schema, name=name, row_count=int(row_count), checksum=str(checksum))


def fingerprint_catalog(
    con: duckdb.DuckDBPyConnection, catalog: str, schemas: tuple[str, ...] = PUBLISHED_SCHEMAS
) -> dict[str, TableFingerprint]:
    """Fingerprints keyed by `schema.name` for every relation in `schemas` of an attached database."""
    prints = (fingerprint_table(con, catalog, schema, name) for schema, name in list_relations(con, catalog, schemas))
    return {fp.qualified_name: fp for fp in prints}


def fingerprint_file(path: Path, schemas: tuple[str, ...] = PUBLISHED_SCHEMAS) -> dict[str, TableFingerprint]:
    """Fingerprints of a DuckDB file opened read-only; empty when the file does not exist yet."""
    if not path.exists():
        return {}
    with attached_read_only(path, "fp") as con:
        return fingerprint_catalog(con, "fp", schemas)
