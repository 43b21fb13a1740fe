"""Skip a compile whose inputs and outputs are as the last compile left them.

The nightly run compiles before every build; with 65 KPIs that is seconds of planning for files that almost never
change. The cache key covers everything the output depends on - the metric YAML, the dbt model YAML the compiler
reads, dbt_project.yml, the target dialect, which models read seeds and the compiler's own code - and the generated
files themselves, so an edited or deleted generated file is rewritten. `kpiflow compile` always compiles; only the
pipeline uses the cache.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from kpiflow.compiler.lineage import seed_fed_models
from kpiflow.compiler.output_files import CompileResult, generated_paths, kpi_names
from kpiflow.config import Settings
from kpiflow.digests import files_digest

CACHE_FILE = "compile_cache.json"
_COMPILER_DIR = Path(__file__).resolve().parent


def inputs_digest(settings: Settings, dialect: str) -> str:
    project = settings.project_dir
    files = sorted(settings.metrics_dir.rglob("*.yml")) + sorted(
        p for p in (project / "models").rglob("*.yml") if settings.generated_dir not in p.parents
    )
    files.append(project / "dbt_project.yml")
    code = files_digest(sorted(_COMPILER_DIR.glob("*.py")), _COMPILER_DIR)
    # Which models read seeds decides which generated models are tables (lineage.py): it is read from the
    # hand-written model SQL and the seed files, so it belongs in the key as well.
    seed_fed = ",".join(sorted(seed_fed_models(project, skip=settings.generated_dir)))
    return hashlib.sha256(f"{dialect}\0{code}\0{seed_fed}\0{files_digest(files, project)}".encode()).hexdigest()


def outputs_digest(settings: Settings) -> str:
    folder = settings.generated_dir
    return files_digest(generated_paths(folder), folder) if folder.exists() else ""


def compile_cached(settings: Settings, dialect: str | None = None) -> tuple[CompileResult, bool]:
    """(result, True) without compiling when nothing changed since the last compile; else compile and remember."""
    from kpiflow.compiler import compile_project
    from kpiflow.compiler.dialects import target_dialect

    dialect = dialect or target_dialect(settings)
    cache = settings.state_dir / CACHE_FILE
    key = inputs_digest(settings, dialect)
    try:
        saved = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        saved = {}
    if saved.get("inputs") == key and saved.get("outputs") == outputs_digest(settings):
        unchanged = tuple(generated_paths(settings.generated_dir))
        return CompileResult((), unchanged, (), kpi_names(unchanged)), True
    result = compile_project(settings, dialect)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    tmp.write_text(json.dumps({"inputs": key, "outputs": outputs_digest(settings)}), encoding="utf-8")
    tmp.replace(cache)
    return result, False
