"""Fixtures for orchestration tests: a Prefect test API, per-test warehouses, stand-in stages, a CLI runner."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

# Prefect reads its settings once, on first import: keep its files out of ~/.prefect and its console quiet.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="kpiflow-test-prefect-"))
os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from orchestration_helpers import PROJECT_DIR, CliResult, StandinCli, Warehouse  # noqa: E402
from orchestration_standins import Stages, standin_stages  # noqa: E402

from kpiflow.config import Settings  # noqa: E402


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[str]:
    """One temporary Prefect API for the session; yields its URL (subprocesses get it via PREFECT_API_URL)."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield str(PREFECT_API_URL.value())


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    monkeypatch.setenv("KPIFLOW_WAREHOUSE", str(tmp_path / "warehouse" / "kpiflow.duckdb"))
    monkeypatch.setenv("KPIFLOW_MARTS", str(tmp_path / "warehouse" / "marts.duckdb"))
    monkeypatch.setenv("KPIFLOW_PROJECT_DIR", str(PROJECT_DIR))
    return Warehouse(Settings.from_env())


@pytest.fixture
def stages() -> Stages:
    return standin_stages()


@pytest.fixture
def standin_cli(warehouse: Warehouse, prefect_api: str) -> StandinCli:
    return StandinCli(env={**os.environ, "PREFECT_API_URL": prefect_api})


@pytest.fixture
def kpiflow_cli(
    warehouse: Warehouse, prefect_api: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., CliResult]:
    """`kpiflow ARGS` in this process (the real entry point, exit codes included) with the stand-in stages."""
    from kpiflow.cli import main

    def invoke(*args: str, stages: Stages | None = None) -> CliResult:
        monkeypatch.setattr(sys, "argv", ["kpiflow", *args])
        capsys.readouterr()
        code = 0
        with (stages or standin_stages()).installed():
            try:
                main()
            except SystemExit as exit_:
                code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return invoke


@pytest.fixture
def demo_in_project_copy(
    warehouse: Warehouse, project_copier: Callable[[Path], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Settings]:
    """For real runs: a throwaway project copy (KPIFLOW_PROJECT_DIR) and a demo warehouse from `start` to `end`."""
    from kpiflow.demo import generate_demo_warehouse

    def make(start: date, end: date, scale: float) -> Settings:
        project = project_copier(tmp_path / "project")
        monkeypatch.setenv("KPIFLOW_PROJECT_DIR", str(project))
        generate_demo_warehouse(warehouse.settings.warehouse_path, scale=scale, start=start, end=end, seed=7)
        return warehouse.settings

    return make
