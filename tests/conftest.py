"""Fixtures shared across test areas: throwaway copies of the dbt project, dbt runs, and a small demo warehouse
built through the real pipeline (demo data -> staging -> intermediate -> generated KPI models)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from kpiflow.orchestration.build_project import copy_project as copy_project_from

sys.path.insert(0, str(Path(__file__).parent))
from pg_server import PostgresServer, running_server

REPO = Path(__file__).resolve().parents[1]


def copy_project(target: Path, repo: Path = REPO) -> Path:
    """A throwaway copy of the dbt project and metric definitions (of `repo`, by default this one), safe to compile and
    build into."""
    return copy_project_from(repo, target)


def run_dbt(project: Path, warehouse: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """dbt in a subprocess (dbt-duckdb holds the file open for the life of its process); its output on failure.
    `env` adds variables (KPIFLOW_TARGET=pg and KPIFLOW_PG_* for a PostgreSQL build)."""
    env = dict(os.environ, KPIFLOW_WAREHOUSE=str(warehouse), DBT_SEND_ANONYMOUS_USAGE_STATS="False") | (env or {})
    command = [
        str(Path(sys.executable).parent / "dbt"),
        *args,
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project / "profiles"),
    ]
    done = subprocess.run(command, env=env, cwd=project, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}")
    return done.stdout


@pytest.fixture(scope="session")
def project_copier() -> Callable[[Path], Path]:
    return copy_project


@pytest.fixture(scope="session")
def dbt_runner() -> Callable[..., str]:
    return run_dbt


@dataclass(frozen=True)
class DemoBuild:
    """A small demo warehouse with every model built; read-only for tests (copy it before changing it)."""

    project: Path
    warehouse: Path
    start: date
    end: date


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> DemoBuild:
    from kpiflow.compiler import compile_project
    from kpiflow.config import Settings
    from kpiflow.demo import generate_demo_warehouse

    root = tmp_path_factory.mktemp("demo_build")
    project = copy_project(root / "project")
    warehouse = root / "warehouse" / "kpiflow.duckdb"
    start, end = date(2024, 1, 1), date(2024, 4, 30)
    generate_demo_warehouse(warehouse, scale=0.02, start=start, end=end, seed=7)
    settings = Settings(
        project_dir=project, warehouse_path=warehouse, marts_path=root / "published.duckdb", target="dev"
    )
    compile_project(settings)
    run_dbt(project, warehouse, "seed")
    run_dbt(project, warehouse, "run")
    return DemoBuild(project, warehouse, start, end)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL 15 server, started on first request and removed after the session; one that cannot
    start fails the test (never a skip)."""
    with running_server() as server:
        yield server
