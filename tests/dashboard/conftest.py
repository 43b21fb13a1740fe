"""Fixtures for the dashboard: a small demo published through the real `kpiflow run`, and the system Chromium."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from chromium import ensure_chromium  # noqa: E402
from dashboard_demo import DEMO_START, PRIVACY_MINIMUM, RUN_DATE  # noqa: E402


@dataclass(frozen=True)
class Published:
    """A project copy and the marts `kpiflow run` published from it (read-only for tests)."""

    project: Path
    marts: Path


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory, project_copier: Callable[[Path], Path]) -> Published:
    from kpiflow.demo import generate_demo_warehouse

    root = tmp_path_factory.mktemp("dashboard_published")
    project = project_copier(root / "project")
    with (project / "dbt_project.yml").open("a", encoding="utf-8") as handle:
        handle.write(f"\nvars:\n  hr_min_cell_size: {PRIVACY_MINIMUM}\n")
    warehouse, marts = root / "warehouse" / "kpiflow.duckdb", root / "warehouse" / "marts.duckdb"
    generate_demo_warehouse(warehouse, scale=0.01, start=DEMO_START, end=RUN_DATE, seed=7)
    env = {
        **os.environ,
        "KPIFLOW_PROJECT_DIR": str(project),
        "KPIFLOW_WAREHOUSE": str(warehouse),
        "KPIFLOW_MARTS": str(marts),
        "PREFECT_HOME": str(root / "prefect"),
    }
    env.pop("PREFECT_API_URL", None)
    command = [sys.executable, "-m", "kpiflow.cli", "run", "--date", str(RUN_DATE), "--quiet"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=1200)
    assert done.returncode == 0, f"kpiflow run failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return Published(project, marts)


@pytest.fixture(scope="session")
def chromium_executable() -> Path:
    """The system Chromium, installed with apt-get where missing; failing (not skipping) when impossible."""
    return ensure_chromium()
