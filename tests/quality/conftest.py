"""Fixtures for the quality gate: one small generated warehouse per session, damaged copies per test."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

from kpiflow.config import Settings
from kpiflow.quality import GateReport, run_gate

PROJECT_DIR = Path(__file__).resolve().parents[2]
RUN_DATE = date(2024, 3, 31)
# Scale 0.1 (not 0.01): ~60 orders a day, enough for the volume check to judge (it skips tables averaging fewer
# than 20 rows a day); still ~11k order lines, generated in a few seconds.
DEMO_SCALE = 0.1


def settings_for(warehouse: Path) -> Settings:
    return Settings(
        project_dir=PROJECT_DIR, warehouse_path=warehouse, marts_path=warehouse.parent / "marts.duckdb", target="dev"
    )


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean raw warehouse from the real demo generator, 2024-01-01..RUN_DATE. Never modify it: copy it."""
    from kpiflow.demo import generate_demo_warehouse

    folder = tmp_path_factory.mktemp("quality_demo")
    path = folder / "kpiflow.duckdb"
    generate_demo_warehouse(path, scale=DEMO_SCALE, start=date(2024, 1, 1), end=RUN_DATE, seed=7)
    return path


@pytest.fixture
def warehouse_copy(demo_warehouse: Path, tmp_path: Path) -> Callable[..., Settings]:
    """Copy the clean warehouse into this test's folder, run SQL on the copy, return Settings for it."""

    def make(*statements: str) -> Settings:
        target = tmp_path / "warehouse" / "kpiflow.duckdb"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(demo_warehouse, target)
        with duckdb.connect(str(target)) as con:
            for statement in statements:
                con.execute(statement)
        return settings_for(target)

    return make


class NetworkGuard:
    """Refuses and records any outgoing connection (GE, SQLAlchemy and DuckDB need none)."""

    def __init__(self) -> None:
        self.attempts: list[object] = []
        self._original = socket.socket.connect

    def __enter__(self) -> NetworkGuard:
        guard = self

        def refuse(sock: socket.socket, address: object) -> None:
            guard.attempts.append(address)
            raise OSError(f"network disabled in tests: {address}")

        socket.socket.connect = refuse  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        socket.socket.connect = self._original  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def clean_run(
    demo_warehouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[GateReport, Settings, NetworkGuard]]:
    """The gate over an untouched copy, with Data Docs, and every network connection refused."""
    folder = tmp_path_factory.mktemp("quality_clean")
    target = folder / "kpiflow.duckdb"
    shutil.copyfile(demo_warehouse, target)
    settings = settings_for(target)
    with NetworkGuard() as guard:
        report = run_gate(settings, RUN_DATE, data_docs=True)
    yield report, settings, guard
