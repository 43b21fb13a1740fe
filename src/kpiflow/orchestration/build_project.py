"""The dbt project a run compiles and builds: the project itself on DuckDB, a copy of it on any other target.

The committed `models/generated` is the DuckDB rendering (`kpiflow compile --check` keeps it so). A run on a
PostgreSQL target renders the generated models in PostgreSQL's dialect; written into the repository, that would
dirty the checkout and make the next DuckDB run recompile. So a run on another target compiles and builds in a copy
of the project's dbt files beside its other run state, `<state dir>/projects/<target>/`, refreshed from the project
at every compile (the files people edit stay the only source). Everything else (metric YAML the gate and the
scorecards read, the warehouse) is the same.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from kpiflow.config import Settings

# What dbt and the compiler read, relative to the project, besides `models` (copied apart: a run's copy compiles its
# own models/generated). The one list every copy of the project uses (here, tests/conftest.py, bench/bench_nightly.py).
PROJECT_FILES = ("dbt_project.yml", "packages.yml", "macros", "metrics", "profiles", "seeds", "tests/dbt",
                 "vocabularies.yml")  # fmt: skip
GENERATED = "generated"


def build_settings(settings: Settings) -> Settings:
    """The settings a run compiles and builds with: `settings` on a DuckDB target, else the target's copy."""
    from kpiflow.compiler.dialects import target_dialect

    if target_dialect(settings) == "duckdb":
        return settings
    return replace(settings, project_dir=settings.state_dir / "projects" / settings.target)


def refresh_build_project(settings: Settings) -> Settings:
    """`build_settings`, with the copy (if any) made equal to the project, except its compiled models/generated."""
    built = build_settings(settings)
    if built.project_dir != settings.project_dir:
        _copy_project(settings.project_dir, built.project_dir)
    return built


def copy_project(source: Path, target: Path) -> Path:
    """A throwaway copy of the project at `source` (PROJECT_FILES and all of `models`) in `target`, safe to compile,
    seed and build into: for tests and benchmarks, which must not write into the checkout."""
    ignore = shutil.ignore_patterns("target", "*.duckdb")
    target.mkdir(parents=True, exist_ok=True)
    for entry in (*PROJECT_FILES, "models"):
        origin = source / entry
        if origin.is_dir():
            shutil.copytree(origin, target / entry, ignore=ignore)
        elif origin.is_file():
            shutil.copy(origin, target / entry)
    return target


def _copy_project(source: Path, copy: Path) -> None:
    models = source / "models"
    entries = [*PROJECT_FILES, *(f"models/{child.name}" for child in models.iterdir() if child.name != GENERATED)]
    stale = [child for child in (copy / "models").glob("*") if child.name != GENERATED]
    for path in [*(copy / entry for entry in entries), *stale]:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    for entry in entries:
        origin = source / entry
        if origin.is_dir():
            shutil.copytree(origin, copy / entry)
        elif origin.is_file():
            (copy / entry).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, copy / entry)
