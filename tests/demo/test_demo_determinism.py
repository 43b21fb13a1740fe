"""Same seed, same data (tables, plans included); another seed, other data."""

from __future__ import annotations

from pathlib import Path


def test_same_seed_gives_identical_tables_and_plans(tiny, make_tiny, checksums, tmp_path: Path) -> None:
    again = make_tiny(tmp_path / "again")
    assert checksums(again.path) == checksums(tiny.path)
    assert {"sales_plans", "store_plans"} <= set(checksums(tiny.path))


def test_regenerating_into_the_same_file_gives_the_same_tables(make_tiny, checksums, tmp_path: Path) -> None:
    before = checksums(make_tiny(tmp_path / "same").path)
    assert checksums(make_tiny(tmp_path / "same").path) == before


def test_another_seed_gives_other_data(tiny, make_tiny, checksums, tmp_path: Path) -> None:
    ours, theirs = checksums(tiny.path), checksums(make_tiny(tmp_path / "other", seed=43).path)
    differing = {table for table in ours if ours[table] != theirs[table]}
    assert {
        "orders",
        "order_lines",
        "returns",
        "inventory_snapshots",
        "crm_leads",
        "absences",
        "sales_plans",
    } <= differing
