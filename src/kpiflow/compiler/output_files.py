"""Writing `kpiflow compile`'s output: only files whose bytes change are rewritten, files without a source removed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GeneratedFile:
    path: Path
    content: str


@dataclass(frozen=True)
class CompileResult:
    written: tuple[Path, ...]
    unchanged: tuple[Path, ...]
    removed: tuple[Path, ...]
    kpis: tuple[str, ...]


def write(files: list[GeneratedFile], generated_dir: Path) -> CompileResult:
    """Write changed files only and remove generated files that no longer have a source."""
    generated_dir.mkdir(parents=True, exist_ok=True)
    written, unchanged = [], []
    for file in files:
        if file.path.exists() and file.path.read_text(encoding="utf-8") == file.content:
            unchanged.append(file.path)
            continue
        tmp = file.path.with_suffix(file.path.suffix + ".tmp")
        tmp.write_text(file.content, encoding="utf-8")
        tmp.replace(file.path)
        written.append(file.path)
    keep = {f.path for f in files}
    removed = []
    for stale in sorted(generated_dir.glob("*")):
        if stale.is_file() and stale not in keep and stale.suffix in (".sql", ".yml"):
            stale.unlink()
            removed.append(stale)
    return CompileResult(tuple(written), tuple(unchanged), tuple(removed), kpi_names(f.path for f in files))


def generated_paths(generated_dir: Path) -> list[Path]:
    """The model and docs files a compile left in `generated_dir`: .sql, then .yml, each sorted."""
    return sorted(generated_dir.glob("*.sql")) + sorted(generated_dir.glob("*.yml"))


def kpi_names(paths: Iterable[Path]) -> tuple[str, ...]:
    """KPI names of the per-KPI models (`kpi__<name>.sql`) among `paths`."""
    return tuple(p.stem.removeprefix("kpi__") for p in paths if p.stem.startswith("kpi__"))
