"""Until the nightly is wired on Spark, a spark target is refused up front, naming what to do (docs/spark.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpiflow.config import Settings
from kpiflow.errors import UserInputError
from kpiflow.orchestration.execution import ensure_nightly_runs_on

REPO = Path(__file__).resolve().parents[2]


def spark_settings(tmp_path: Path) -> Settings:
    return Settings(REPO, tmp_path / "w.duckdb", tmp_path / "m.duckdb", target="spark")


def test_the_nightly_refuses_a_spark_target(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="spark target"):
        ensure_nightly_runs_on(spark_settings(tmp_path))
