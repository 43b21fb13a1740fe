"""The pipeline's compile cache: skipped only when metrics, model YAML, compiler and generated files are unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpiflow.compiler.cache import compile_cached, inputs_digest
from kpiflow.config import Settings

pytestmark = pytest.mark.slow  # each real compile plans every KPI: seconds


@pytest.fixture
def settings(tmp_path: Path, project_copier) -> Settings:
    project = project_copier(tmp_path / "project")
    return Settings(project_dir=project, warehouse_path=tmp_path / "wh" / "kpiflow.duckdb",
                    marts_path=tmp_path / "wh" / "marts.duckdb", target="dev")  # fmt: skip


def test_second_compile_is_skipped_and_changes_invalidate_it(settings: Settings) -> None:
    first, cached = compile_cached(settings)
    assert not cached and len(first.kpis) >= 60
    again, cached = compile_cached(settings)
    assert cached and again.kpis == first.kpis and again.written == ()

    # A deleted generated file is written again, not trusted from the cache.
    victim = settings.generated_dir / "kpi__net_revenue.sql"
    victim.unlink()
    result, cached = compile_cached(settings)
    assert not cached and victim in result.written

    # A changed metric definition recompiles and changes the model it shapes.
    sales = settings.metrics_dir / "sales.yml"
    sales.write_text(sales.read_text().replace("label: Net revenue", "label: Net sales revenue", 1))
    result, cached = compile_cached(settings)
    assert not cached and settings.generated_dir / "kpi_catalog.sql" in result.written


def test_a_model_that_starts_reading_a_seed_changes_the_cache_key(settings: Settings) -> None:
    """Seed lineage decides table vs incremental models, so a new ref() to a seed must invalidate the cache."""
    before = inputs_digest(settings, "duckdb")
    model = settings.project_dir / "models" / "intermediate" / "int_orders.sql"
    model.write_text(model.read_text() + "\n-- {{ ref('kpi_targets') }}\n")
    assert inputs_digest(settings, "duckdb") != before
