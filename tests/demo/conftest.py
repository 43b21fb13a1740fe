"""Fixtures for the demo generator tests: tiny warehouses generated once per session."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest

from kpiflow.demo import DemoSummary, generate_demo_warehouse
from kpiflow.demo.warehouse import DEMO_TABLES

TINY_SCALE = 0.02
TINY_START = date(2024, 1, 1)
TINY_END = date(2024, 3, 31)


@dataclass(frozen=True)
class GeneratedWarehouse:
    path: Path
    summary: DemoSummary


def generate_tiny(folder: Path, *, seed: int = 42, end: date = TINY_END, **options: object) -> GeneratedWarehouse:
    """Generate the tiny test warehouse (scale 0.02, Q1 2024) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    summary = generate_demo_warehouse(
        folder / "warehouse.duckdb",
        scale=TINY_SCALE,
        start=TINY_START,
        end=end,
        seed=seed,
        **options,  # type: ignore[arg-type]
    )
    return GeneratedWarehouse(path=folder / "warehouse.duckdb", summary=summary)


def table_checksums(path: Path) -> dict[str, tuple[int, int]]:
    """Row count and an order-independent hash of every raw table (plans included)."""
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            table: con.execute(
                f"select count(*), coalesce(sum(hash(t::varchar)::hugeint), 0) from raw.{table} t"
            ).fetchone()  # type: ignore[misc]
            for table in DEMO_TABLES
        }


@pytest.fixture(scope="session")
def make_tiny() -> Callable[..., GeneratedWarehouse]:
    """Factory: generate a tiny warehouse into a folder (options as for generate_demo_warehouse)."""
    return generate_tiny


@pytest.fixture(scope="session")
def checksums() -> Callable[[Path], dict[str, tuple[int, int]]]:
    """Function: row count and order-independent hash per raw table of a warehouse file."""
    return table_checksums


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> GeneratedWarehouse:
    """The shared tiny warehouse; tests must only read it."""
    return generate_tiny(tmp_path_factory.mktemp("demo_tiny"))


@pytest.fixture(scope="session")
def tiny_con(tiny: GeneratedWarehouse) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tiny.path), read_only=True)
    yield con  # type: ignore[misc]
    con.close()
