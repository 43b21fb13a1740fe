"""Opening DuckDB files by an alias of our choosing.

A DuckDB file's catalog is named after the file, so `marts.duckdb` holding schema `marts` makes
`marts.kpi_values` ambiguous (catalog.table or schema.table?). Attaching under an explicit alias
(and `use`-ing it, so that `schema.table` means that file's) sidesteps that for whatever the files are called.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from kpiflow.warehouse.fingerprints import quote_identifier


def sql_string(value: str) -> str:
    """A SQL string literal (DuckDB's ATTACH takes no bound parameters)."""
    return "'" + value.replace("'", "''") + "'"


@contextmanager
def attached_read_only(path: Path, alias: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory connection with `path` attached read-only as `alias`; closed on exit."""
    con = duckdb.connect()
    try:
        con.execute(f"attach {sql_string(str(path))} as {quote_identifier(alias)} (read_only)")
        yield con
    finally:
        con.close()
