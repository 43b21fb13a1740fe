"""Regenerating replaces schema `raw` in one step and leaves everything else in the warehouse alone."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from kpiflow.demo import pipeline
from kpiflow.demo.sqlkit import Step
from kpiflow.errors import RunFailed


def _tables(path: Path) -> set[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("select table_schema || '.' || table_name from information_schema.tables").fetchall()
    return {name for (name,) in rows}


def test_regenerating_keeps_other_schemas_and_drops_stale_raw_tables(make_tiny, checksums, tmp_path: Path) -> None:
    first = make_tiny(tmp_path / "w", seed=1)
    with duckdb.connect(str(first.path)) as con:
        con.execute("create schema staging; create view staging.stg_orders as select * from raw.orders")
        con.execute("create table raw.stale as select 1 as x; create table raw.__next_orders as select 1 as x")
    second = make_tiny(tmp_path / "w", seed=2)
    tables = _tables(second.path)
    assert "staging.stg_orders" in tables
    assert "raw.stale" not in tables and not any(name.startswith("raw.__next_") for name in tables)
    assert checksums(second.path) == checksums(make_tiny(tmp_path / "fresh", seed=2).path)
    with duckdb.connect(str(second.path), read_only=True) as con:
        viewed = con.execute("select count(*) from staging.stg_orders").fetchone()[0]
    assert viewed == second.summary.row_counts["orders"]


def test_a_failed_build_leaves_the_previous_raw_schema(make_tiny, checksums, tmp_path: Path, monkeypatch) -> None:
    first = make_tiny(tmp_path / "w")
    before = checksums(first.path)
    broken = Step("expenses", "select * from a_table_that_does_not_exist", emitted=True)
    monkeypatch.setattr(pipeline, "STEPS", (*pipeline.STEPS[:-1], broken))
    with pytest.raises(RunFailed, match="a_table_that_does_not_exist"):
        make_tiny(tmp_path / "w", seed=99)
    assert checksums(first.path) == before
    assert not any(name.startswith("raw.__next_") for name in _tables(first.path))
