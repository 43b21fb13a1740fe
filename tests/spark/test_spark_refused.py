"""On a spark target kpiflow opens the Spark warehouse (kpiflow.warehouse.spark) and `kpiflow run` and `backfill` run
there; `serve` refuses it up front, naming what to do (docs/spark.md). A spark target that reaches a thrift server is
refused by the warehouse factory, and by the nightly before anything runs: kpiflow's Spark warehouse runs Spark in its
process."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kpiflow.config import Settings
from kpiflow.errors import UserInputError
from kpiflow.orchestration.execution import ensure_nightly_runs_on
from kpiflow.warehouse import warehouse_for
from kpiflow.warehouse.spark import SparkWarehouse

REPO = Path(__file__).resolve().parents[2]


def spark_settings(tmp_path: Path) -> Settings:
    return Settings(REPO, tmp_path / "w.duckdb", tmp_path / "m.duckdb", target="spark")


def test_the_nightly_runs_on_a_spark_target_but_serve_is_refused(tmp_path: Path) -> None:
    ensure_nightly_runs_on(spark_settings(tmp_path))  # run and backfill (tests/spark/test_spark_run.py)
    with pytest.raises(UserInputError, match="`kpiflow serve` is not supported on spark yet"):
        ensure_nightly_runs_on(spark_settings(tmp_path), served=True)
    with pytest.raises(UserInputError, match="--ensure-demo-data creates and extends a DuckDB demo file"):
        ensure_nightly_runs_on(spark_settings(tmp_path), ensure_demo_data=True)


def test_a_spark_target_gets_the_spark_warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPIFLOW_SPARK_DIR", str(tmp_path / "spark"))
    found = warehouse_for(spark_settings(tmp_path))
    assert isinstance(found, SparkWarehouse) and found.directory == tmp_path / "spark"
    assert not found.exists() and not found.is_published()  # told without starting Spark: no metastore yet
    assert not (tmp_path / "spark").exists()  # and asking created nothing
    with pytest.raises(UserInputError, match="no SQLAlchemy URL: kpiflow's quality gate checks it through"):
        found.sqlalchemy_url()


def test_a_spark_thrift_target_is_refused(tmp_path: Path) -> None:
    (tmp_path / "profiles").mkdir()
    outputs = {"lake": {"type": "spark", "method": "thrift", "host": "127.0.0.1", "schema": "x"}}
    (tmp_path / "profiles" / "profiles.yml").write_text(
        yaml.safe_dump({"kpiflow": {"target": "lake", "outputs": outputs}}), encoding="utf-8"
    )
    lake = Settings(tmp_path, tmp_path / "w.duckdb", tmp_path / "m.duckdb", target="lake")
    with pytest.raises(UserInputError, match="spark target with method thrift"):
        warehouse_for(lake)
    with pytest.raises(UserInputError, match="spark target with method thrift"):  # the nightly says so up front
        ensure_nightly_runs_on(lake)
