"""The metric compiler: metrics/*.yml -> validated semantic graph -> query plans -> SQL (sqlglot) -> dbt models.

Only this package imports sqlglot (its minor releases change APIs; one place to adapt).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kpiflow.lazy import lazy_attributes

if TYPE_CHECKING:
    from kpiflow.compiler.output_files import CompileResult, GeneratedFile
    from kpiflow.config import Settings


def generated_files(settings: Settings, dialect: str | None = None) -> list[GeneratedFile]:
    """What `kpiflow compile` writes, without writing it; raises SpecInvalid (exit 2) on a wrong definition: a
    metric, or a card under metrics/scorecards (scorecard_check.py)."""
    from kpiflow.compiler.dbt_writer import generate
    from kpiflow.compiler.dialects import target_dialect
    from kpiflow.compiler.issues import SpecInvalid
    from kpiflow.compiler.lineage import seed_fed_models
    from kpiflow.compiler.scorecard_check import scorecard_issues
    from kpiflow.compiler.validate import load_graph

    graph = load_graph(settings.project_dir, settings.metrics_dir)
    card_issues = scorecard_issues(settings.metrics_dir, graph)
    if any(issue.severity == "error" for issue in card_issues):
        raise SpecInvalid(card_issues, settings.project_dir)
    rebuilt = seed_fed_models(settings.project_dir, skip=settings.generated_dir)
    return generate(graph, settings.generated_dir, dialect or target_dialect(settings), rebuilt)


def compile_project(settings: Settings, dialect: str | None = None) -> CompileResult:
    """Validate metrics/ and write the generated dbt models; raises SpecInvalid (exit 2) and writes nothing
    when any definition is wrong."""
    from kpiflow.compiler.output_files import write

    return write(generated_files(settings, dialect), settings.generated_dir)


__all__ = ["CompileResult", "compile_project", "generated_files"]
__getattr__ = lazy_attributes(__name__, {"CompileResult": "kpiflow.compiler.output_files"})
