"""Appending days equals generating them in bulk, for every raw table and both plan files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from kpiflow.demo import append_demo_days, read_demo_spec
from kpiflow.demo.warehouse import DEMO_TABLES
from kpiflow.errors import UserInputError


def _differences(bulk: Path, appended: Path) -> dict[str, tuple[int, int]]:
    """Rows only in bulk / only in appended, per table that differs."""
    con = duckdb.connect()
    con.execute(f"attach '{bulk}' as bulk (read_only); attach '{appended}' as appended (read_only)")
    found: dict[str, tuple[int, int]] = {}
    for table in (*DEMO_TABLES, "_demo_meta"):  # plans included: an append rewrites them to match
        only_bulk, only_appended = (
            con.execute(
                f"select count(*) from (select * from {a}.raw.{table} except all select * from {b}.raw.{table})"
            ).fetchone()[0]
            for a, b in (("bulk", "appended"), ("appended", "bulk"))
        )
        if only_bulk or only_appended:
            found[table] = (only_bulk, only_appended)
    con.close()
    return found


@pytest.mark.parametrize(
    "cut",
    [date(2024, 3, 30), date(2024, 2, 29)],
    ids=["one-day", "a-month-across-month-ends"],
)
def test_append_equals_bulk(tiny, make_tiny, tmp_path: Path, cut: date) -> None:
    partial = make_tiny(tmp_path / "partial", end=cut)
    summary = append_demo_days(partial.path, tiny.summary.end)

    assert summary.action == "appended"
    assert summary.end == tiny.summary.end
    assert summary.row_counts == tiny.summary.row_counts
    assert _differences(tiny.path, partial.path) == {}


def test_append_moves_the_recorded_end(make_tiny, tmp_path: Path) -> None:
    partial = make_tiny(tmp_path / "moving", end=date(2024, 1, 31))
    append_demo_days(partial.path, date(2024, 2, 3))
    spec = read_demo_spec(partial.path)
    assert spec is not None and spec.end == date(2024, 2, 3)
    with duckdb.connect(str(partial.path), read_only=True) as con:
        last_order_day = con.execute("select max(order_ts)::date from raw.orders").fetchone()[0]
    assert last_order_day == date(2024, 2, 3)


def test_append_through_a_past_day_changes_nothing(tiny, make_tiny, checksums, tmp_path: Path) -> None:
    copy = make_tiny(tmp_path / "copy")
    before = checksums(copy.path)
    summary = append_demo_days(copy.path, date(2024, 3, 15))
    assert summary.action == "unchanged"
    assert checksums(copy.path) == before


@pytest.mark.parametrize("make_file", ["missing", "not_demo"])
def test_append_needs_a_demo_warehouse(tmp_path: Path, make_file: str) -> None:
    path = tmp_path / "warehouse.duckdb"
    if make_file == "not_demo":
        with duckdb.connect(str(path)) as con:
            con.execute("create table t as select 1 as x")
    with pytest.raises(UserInputError, match="demo-data"):
        append_demo_days(path, date(2024, 1, 5))
