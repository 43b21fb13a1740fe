"""The `spark` dbt target and kpiflow's own Spark sessions use the same settings, and nothing reaches the network."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from kpiflow.compiler.dialects import target_dialect
from kpiflow.config import Settings
from kpiflow.warehouse import WarehouseError
from kpiflow.warehouse.spark_session import spark_conf, spark_dir

REPO = Path(__file__).resolve().parents[2]
_ENV_VAR = re.compile(r"\{\{\s*env_var\('(\w+)',\s*'([^']*)'\)\s*\}\}")
SIZING = ("KPIFLOW_SPARK_SHUFFLE_PARTITIONS", "KPIFLOW_SPARK_DRIVER_MEMORY")


def spark_output() -> dict:
    return yaml.safe_load((REPO / "profiles" / "profiles.yml").read_text())["kpiflow"]["outputs"]["spark"]


def test_the_spark_target_runs_spark_in_the_dbt_process() -> None:
    output = spark_output()
    assert (output["type"], output["method"]) == ("spark", "session")
    settings = Settings(REPO, REPO / "unused.duckdb", REPO / "unused2.duckdb", target="spark")
    assert target_dialect(settings) == "spark"


def rendered_profile(environment: dict[str, str]) -> dict[str, str]:
    """The profile's Spark settings as dbt renders them (env_var with its default) in `environment`."""
    parameters = spark_output()["server_side_parameters"]
    environment = {"KPIFLOW_SPARK_DIR": "/data/spark", **environment}

    def value(match: re.Match) -> str:
        return environment.get(match[1], match[2])

    return {key: _ENV_VAR.sub(value, str(text)) for key, text in parameters.items()}


@pytest.fixture
def no_sizing(monkeypatch) -> None:
    for variable in SIZING:
        monkeypatch.delenv(variable, raising=False)


def test_the_profile_and_kpiflow_sessions_use_the_same_spark_settings(no_sizing) -> None:
    assert rendered_profile({}) == spark_conf("/data/spark")
    assert spark_conf("/data/spark")["spark.sql.shuffle.partitions"] == "1"  # the defaults: the demo on 2 cores
    assert spark_conf("/data/spark")["spark.driver.memory"] == "2g"


def test_shuffle_partitions_and_driver_memory_come_from_the_environment_on_both_sides(monkeypatch) -> None:
    sizing = {"KPIFLOW_SPARK_SHUFFLE_PARTITIONS": "8", "KPIFLOW_SPARK_DRIVER_MEMORY": "12g"}
    for variable, value in sizing.items():
        monkeypatch.setenv(variable, value)
    conf = spark_conf("/data/spark")
    assert (conf["spark.sql.shuffle.partitions"], conf["spark.driver.memory"]) == ("8", "12g")
    assert rendered_profile(sizing) == conf


@pytest.mark.parametrize(("variable", "value"), [(SIZING[0], "0"), (SIZING[0], "8 partitions"), (SIZING[1], "lots")])
def test_a_bad_sizing_setting_is_refused_naming_the_variable(no_sizing, monkeypatch, variable, value) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(WarehouseError, match=f"{variable}='{value}' is not a valid setting"):
        spark_conf("/data/spark")


def test_spark_stays_on_the_machine_with_few_partitions(no_sizing) -> None:
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
