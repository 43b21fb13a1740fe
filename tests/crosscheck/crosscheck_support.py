"""Shared helpers for the cross-checks: read published cells, compare them with values recomputed by hand.

Published values are DOUBLE while the raw data is DECIMAL, so values are compared with a tight relative tolerance;
a missing row and a NULL value mean the same thing (no number published).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import yaml

REPO = Path(__file__).resolve().parents[2]
RELATIVE_TOLERANCE = 1e-9
ABSOLUTE_TOLERANCE = 1e-9

# Columns of marts.kpi_values that identify a cell (everything except kpi, value and is_suppressed).
NON_KEY_COLUMNS = ("kpi", "value", "is_suppressed")

# natural_dimensions tokens of the catalog -> dimension_set values of kpi_values.
DIMENSION_SETS = {
    "store": "store",
    "store__region": "region",
    "order__channel": "channel",
    "product__category": "category",
    "employee__department": "department",
    "employee": "employee",
}

# The last day of a period, from its grain and first day (DuckDB SQL over columns `grain` and `period_start`).
PERIOD_END_SQL = """
    cast(period_start + case grain
        when 'day' then interval 1 day
        when 'week' then interval 7 day
        when 'month' then interval 1 month
        when 'quarter' then interval 3 month
        else interval 1 year end - interval 1 day as date)
"""

Key = tuple[object, ...]


def load_metric_definitions(metrics_dir: Path = REPO / "metrics") -> dict[str, dict]:
    """Every metric of metrics/*.yml by name, as plain mappings (anchors and merge keys resolved)."""
    definitions: dict[str, dict] = {}
    for path in sorted(metrics_dir.glob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for metric in document.get("metrics", []):
            definitions[metric["name"]] = metric
    return definitions


def metric_input_name(reference: str | Mapping[str, object]) -> str | None:
    """The published metric a ratio input reads, or None when the input adds a filter (it is then not published)."""
    if isinstance(reference, str):
        return reference
    if reference.get("filter"):
        return None
    return str(reference["name"])


def key_columns(connection: duckdb.DuckDBPyConnection) -> list[str]:
    """The cell-identifying columns of marts.kpi_values, in table order."""
    rows = connection.execute(
        "select column_name from information_schema.columns "
        "where table_schema = 'marts' and table_name = 'kpi_values' order by ordinal_position"
    ).fetchall()
    return [name for (name,) in rows if name not in NON_KEY_COLUMNS]


def same_number(left: float | None, right: float | None) -> bool:
    """Equal within the tolerance, or both absent."""
    if left is None or right is None:
        return left is None and right is None
    return math.isclose(left, right, rel_tol=RELATIVE_TOLERANCE, abs_tol=ABSOLUTE_TOLERANCE)


def value_mismatches(
    published: Mapping[Key, float | None], expected: Mapping[Key, float | None], limit: int = 12
) -> list[str]:
    """One line per cell whose published value differs from the expected one (missing counts as NULL)."""
    lines = []
    for key in sorted(set(published) | set(expected), key=repr):
        got, want = published.get(key), expected.get(key)
        if not same_number(got, want):
            lines.append(f"{key}: published {got!r}, expected {want!r}")
    if len(lines) > limit:
        lines = [*lines[:limit], f"... and {len(lines) - limit} more"]
    return lines


def rows_by_key(rows: Sequence[Sequence[object]]) -> dict[Key, float | None]:
    """Rows (key..., value) as a mapping from the key tuple to the value as float."""
    return {tuple(row[:-1]): (None if row[-1] is None else float(row[-1])) for row in rows}  # type: ignore[arg-type]


@dataclass(frozen=True)
class DataWindow:
    """First and last day with data (orders), the days the pipeline has facts for."""

    first_day: date
    last_day: date


@dataclass(frozen=True)
class SmallCellBuild:
    """A demo copy in which most employees of one store moved to another store on `moved_on` (then rebuilt)."""

    connection: duckdb.DuckDBPyConnection
    shrunk_store: str
    receiving_store: str
    moved_on: date
    moved_employees: tuple[str, ...]


@dataclass(frozen=True)
class DocsArtifacts:
    """manifest.json and catalog.json written by `dbt docs generate`."""

    manifest: dict
    catalog: dict
