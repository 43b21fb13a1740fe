"""A run on a non-DuckDB target compiles and builds in its own copy of the project, never in the repository's
models/generated (the DuckDB rendering)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from kpiflow.config import Settings
from kpiflow.orchestration.build_project import build_settings, refresh_build_project


def _settings(project: Path, tmp_path: Path, target: str) -> Settings:
    return Settings(project, tmp_path / "w" / "kpiflow.duckdb", tmp_path / "w" / "marts.duckdb", target)


def test_duckdb_builds_in_the_project_itself(project_copier: Callable[[Path], Path], tmp_path: Path) -> None:
    settings = _settings(project_copier(tmp_path / "project"), tmp_path, "dev")
    assert build_settings(settings) == refresh_build_project(settings) == settings


def test_postgres_builds_in_a_refreshed_copy_that_keeps_its_own_generated_models(
    project_copier: Callable[[Path], Path], tmp_path: Path
) -> None:
    project = project_copier(tmp_path / "project")
    settings = _settings(project, tmp_path, "pg")
    built = refresh_build_project(settings)
    copy = tmp_path / "w" / "state" / "projects" / "pg"
    assert built == replace(settings, project_dir=copy) == build_settings(settings)
    staging = sorted(p.relative_to(project).as_posix() for p in (project / "models" / "staging").rglob("*"))
    assert sorted(p.relative_to(copy).as_posix() for p in (copy / "models" / "staging").rglob("*")) == staging
    for name in ("dbt_project.yml", "profiles/profiles.yml", "macros/generate_schema_name.sql"):
        assert (copy / name).read_bytes() == (project / name).read_bytes()
    assert not (copy / "models" / "generated").exists()  # compiled there by the run, never copied from DuckDB's
    (copy / "models" / "generated").mkdir()
    (copy / "models" / "generated" / "kpi__x.sql").write_text("select 1 -- postgres rendering")
    (copy / "models" / "staging" / "stg_dropped.sql").write_text("select 1")  # deleted from the project since
    (project / "macros" / "new_macro.sql").write_text("{% macro m() %}1{% endmacro %}")
    refresh_build_project(settings)
    assert (copy / "models" / "generated" / "kpi__x.sql").read_text() == "select 1 -- postgres rendering"
    assert not (copy / "models" / "staging" / "stg_dropped.sql").exists()
    assert (copy / "macros" / "new_macro.sql").exists()


def test_every_copy_of_the_project_takes_the_same_files(project_copier: Callable[..., Path], tmp_path: Path) -> None:
    """The run's copy, the tests' copy (project_copier) and the benchmarks' copy use PROJECT_FILES: a file dbt reads
    (packages.yml, tests/dbt) added to the project is in each, also in the DuckDB copies, where dbt runs on them."""
    import sys

    from kpiflow.orchestration.build_project import PROJECT_FILES, copy_project

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from bench_nightly import copy_project as bench_copy

    project = copy_project(Path(__file__).resolve().parents[2], tmp_path / "project")
    (project / "packages.yml").write_text("packages: []\n")
    (project / "tests" / "dbt").mkdir(parents=True)
    (project / "tests" / "dbt" / "assert_nothing.sql").write_text("select 1 where false\n")
    run_copy = refresh_build_project(_settings(project, tmp_path, "pg")).project_dir
    copies = {
        "run": run_copy,
        "tests": project_copier(tmp_path / "tests_copy", project),
        "bench": bench_copy(tmp_path / "bench_copy", project),
    }
    for name, copy in copies.items():
        for entry in ("packages.yml", "tests/dbt/assert_nothing.sql", "vocabularies.yml", "models/staging"):
            assert (copy / entry).exists(), (name, entry)
    assert {"packages.yml", "tests/dbt"} <= set(PROJECT_FILES)
