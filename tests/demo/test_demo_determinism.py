"""Same seed, same data (tables and plan CSV bytes); another seed, other data."""

from __future__ import annotations

from pathlib import Path

from kpiflow.demo.plans import SALES_MANAGER_PLAN_FILE, STORE_PLAN_FILE


def test_same_seed_gives_identical_tables_and_plan_files(tiny, make_tiny, checksums, tmp_path: Path) -> None:
    again = make_tiny(tmp_path / "again")
    assert checksums(again.path) == checksums(tiny.path)
    for name in (STORE_PLAN_FILE, SALES_MANAGER_PLAN_FILE):
        assert (again.seeds_dir / name).read_bytes() == (tiny.seeds_dir / name).read_bytes()


def test_regenerating_into_the_same_file_gives_the_same_tables(make_tiny, checksums, tmp_path: Path) -> None:
    before = checksums(make_tiny(tmp_path / "same").path)
    assert checksums(make_tiny(tmp_path / "same").path) == before


def test_another_seed_gives_other_data(tiny, make_tiny, checksums, tmp_path: Path) -> None:
    ours, theirs = checksums(tiny.path), checksums(make_tiny(tmp_path / "other", seed=43).path)
    differing = {table for table in ours if ours[table] != theirs[table]}
    assert {"orders", "order_lines", "returns", "inventory_snapshots", "crm_leads", "absences"} <= differing
