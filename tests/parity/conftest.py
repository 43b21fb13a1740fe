"""Fixtures of the MetricFlow parity test: one copy of the demo warehouse, both engines' answers, computed once.

The copy gets the exported semantic layer in `models/semantic/` and a `dbt parse`, so that MetricFlow finds
`target/semantic_manifest.json`. kpiflow's queries run first, with their own read-only DuckDB connections;
MetricFlow then opens the file through the dbt adapter (DuckDB refuses a second, differently configured connection
to one file in one process, so the two phases must not overlap).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from parity_engines import (
    Answer,
    Case,
    ParityProject,
    cases_for,
    kpiflow_answers,
    metricflow_answers,
    metricflow_configuration,
)


@pytest.fixture(scope="module")
def parity_project(
    demo_build, tmp_path_factory: pytest.TempPathFactory, dbt_runner: Callable[..., str]
) -> ParityProject:
    from kpiflow.compiler.export_dbt_sl import export_semantic_layer
    from kpiflow.compiler.validate import load_graph

    root = tmp_path_factory.mktemp("parity")
    project = root / "project"
    shutil.copytree(demo_build.project, project, ignore=shutil.ignore_patterns("target", "logs", "*.duckdb"))
    warehouse = root / "warehouse.duckdb"
    shutil.copy(demo_build.warehouse, warehouse)  # the session's warehouse stays untouched
    report = export_semantic_layer(load_graph(project), project / "models" / "semantic")
    dbt_runner(project, warehouse, "parse", "--no-partial-parse")
    return ParityProject(
        project, warehouse, demo_build.start, demo_build.end, tuple(report.exported), dict(report.skipped)
    )


@pytest.fixture(scope="module")
def parity_cases(parity_project: ParityProject) -> tuple[Case, ...]:
    """Every exported metric by month, and by month and a categorical dimension it supports."""
    from kpiflow.compiler.validate import load_graph

    return cases_for(load_graph(parity_project.project), parity_project.exported)


@pytest.fixture(scope="module")
def parity_answers(
    parity_project: ParityProject, parity_cases: tuple[Case, ...]
) -> tuple[dict[Case, Answer], dict[Case, Answer]]:
    """(kpiflow's answers, MetricFlow's answers), in that order: see the module docstring."""
    ours = kpiflow_answers(parity_project, parity_cases)
    with metricflow_configuration(parity_project) as config:
        theirs = metricflow_answers(config, parity_project, parity_cases)
    return ours, theirs
