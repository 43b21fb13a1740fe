"""The `spark` dbt target and kpiflow's own Spark sessions use the same settings, and nothing reaches the network."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from kpiflow.compiler.dialects import target_dialect
from kpiflow.config import Settings
from kpiflow.warehouse.spark_session import spark_conf, spark_dir

REPO = Path(__file__).resolve().parents[2]
_SPARK_DIR = re.compile(r"\{\{\s*env_var\('KPIFLOW_SPARK_DIR',\s*'warehouse/spark'\)\s*\}\}")


def spark_output() -> dict:
    return yaml.safe_load((REPO / "profiles" / "profiles.yml").read_text())["kpiflow"]["outputs"]["spark"]


def test_the_spark_target_runs_spark_in_the_dbt_process() -> None:
    output = spark_output()
    assert (output["type"], output["method"]) == ("spark", "session")
    settings = Settings(REPO, REPO / "unused.duckdb", REPO / "unused2.duckdb", target="spark")
    assert target_dialect(settings) == "spark"


def test_the_profile_and_kpiflow_sessions_use_the_same_spark_settings() -> None:
    parameters = spark_output()["server_side_parameters"]
    rendered = {key: _SPARK_DIR.sub("/data/spark", str(value)) for key, value in parameters.items()}
    assert rendered == spark_conf("/data/spark")


def test_spark_stays_on_the_machine_with_few_partitions() -> None:
    conf = spark_conf("/data/spark")
    assert conf["spark.master"] == "local[2]"
    assert conf["spark.driver.bindAddress"] == conf["spark.driver.host"] == "127.0.0.1"
    assert conf["spark.ui.enabled"] == "false"
    assert int(conf["spark.sql.shuffle.partitions"]) <= 4
    assert conf["spark.sql.warehouse.dir"] == "/data/spark/spark-warehouse"
    # the metastore is named in the URL, not through a JVM option: a second session of one process on another
    # directory must not reuse the first one's metastore (tests/spark/test_spark_warehouse.py ran after another
    # module's session and found its tables in that module's metastore)
    assert conf["spark.hadoop.javax.jdo.option.ConnectionURL"] == (
        "jdbc:derby:;databaseName=/data/spark/metastore_db;create=true"
    )
    assert "derby.system.home" not in conf["spark.driver.extraJavaOptions"]


def test_the_spark_directory_is_kpiflow_spark_dir_relative_to_the_project(monkeypatch) -> None:
    monkeypatch.delenv("KPIFLOW_SPARK_DIR", raising=False)
    assert spark_dir(Path("/p")) == Path("/p/warehouse/spark")
    monkeypatch.setenv("KPIFLOW_SPARK_DIR", "data/sp")
    assert spark_dir(Path("/p")) == Path("/p/data/sp")
    monkeypatch.setenv("KPIFLOW_SPARK_DIR", "/abs/sp")
    assert spark_dir(Path("/p")) == Path("/abs/sp")
