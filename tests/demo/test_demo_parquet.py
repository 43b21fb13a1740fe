"""Parquet output: one file per table, the same rows as the warehouse, reproducible bytes."""

from __future__ import annotations

from pathlib import Path

import duckdb

from kpiflow.demo.warehouse import DEMO_TABLES


def test_parquet_files_hold_the_warehouse_tables(make_tiny, checksums, tmp_path: Path) -> None:
    generated = make_tiny(tmp_path / "run1", parquet_dir=tmp_path / "parquet1")
    files = sorted(path.stem for path in (tmp_path / "parquet1").glob("*.parquet"))
    assert files == sorted((*DEMO_TABLES, "_demo_meta"))
    with duckdb.connect() as con:
        from_parquet = {
            table: con.execute(
                f"select count(*), coalesce(sum(hash(t::varchar)::hugeint), 0) "
                f"from read_parquet('{tmp_path / 'parquet1' / table}.parquet') t"
            ).fetchone()
            for table in DEMO_TABLES
        }
    assert from_parquet == checksums(generated.path)
    assert {table: count for table, (count, _) in from_parquet.items()} == generated.summary.row_counts


def test_parquet_bytes_are_reproducible(make_tiny, tmp_path: Path) -> None:
    make_tiny(tmp_path / "a", parquet_dir=tmp_path / "pa")
    make_tiny(tmp_path / "b", parquet_dir=tmp_path / "pb")
    for table in DEMO_TABLES:
        file_name = f"{table}.parquet"
        assert (tmp_path / "pa" / file_name).read_bytes() == (tmp_path / "pb" / file_name).read_bytes()
