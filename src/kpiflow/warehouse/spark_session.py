"""Spark sessions for kpiflow, with the settings of the dbt target `spark` (profiles/profiles.yml).

Spark runs inside the process (pyspark, local[2]); its tables are parquet files under KPIFLOW_SPARK_DIR
(default warehouse/spark, relative to the project) and their catalog an embedded Derby metastore beside them.
Derby admits one process at a time: a dbt run and a kpiflow session cannot hold the same directory together.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from kpiflow.warehouse.interface import WarehouseError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

SPARK_DIR_VARIABLE = "KPIFLOW_SPARK_DIR"
DEFAULT_SPARK_DIR = "warehouse/spark"
# Sizing (docs/spark.md, "Sizing"): the defaults fit the demo on 2 cores; larger data wants more of both.
SHUFFLE_PARTITIONS_VARIABLE, DEFAULT_SHUFFLE_PARTITIONS = "KPIFLOW_SPARK_SHUFFLE_PARTITIONS", "1"
DRIVER_MEMORY_VARIABLE, DEFAULT_DRIVER_MEMORY = "KPIFLOW_SPARK_DRIVER_MEMORY", "2g"


def spark_dir(project_dir: Path) -> Path:
    """The directory holding the Spark tables and metastore: KPIFLOW_SPARK_DIR, relative to the project."""
    raw = Path(os.environ.get(SPARK_DIR_VARIABLE, DEFAULT_SPARK_DIR))
    return raw if raw.is_absolute() else project_dir / raw


def spark_conf(directory: Path | str) -> dict[str, str]:
    """The Spark settings of the `spark` dbt target for `directory` (the profile spells the same, as text).

    local[2] and one shuffle partition: Spark's default of 200 partitions makes every small model write 200
    files. Settings for many small queries (docs/spark.md, "Speed"): no whole-stage code generation (compiling
    Java for each query cost more than it saved on KPI-sized data) and no adaptive execution (re-planning at each
    stage), a 2 GB driver for the large plans of the wide marts; none changes a result. No UI and a driver bound
    to 127.0.0.1: nothing listens beyond the machine. ANSI mode is off, as dbt-spark forces it for its sessions
    (kpiflow's SQL then divides and casts as on Spark 3). KPIFLOW_SPARK_SHUFFLE_PARTITIONS and
    KPIFLOW_SPARK_DRIVER_MEMORY size the partitions and the driver for larger data (the profile reads the same).
    """
    return {
        "spark.master": "local[2]",
        "spark.app.name": "kpiflow",
        "spark.sql.warehouse.dir": f"{directory}/spark-warehouse",
        # The metastore is <directory>/metastore_db, named in the URL: a JVM option (derby.system.home) is read once
        # per JVM, so a later session of the same process on another directory would reuse the first metastore.
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={directory}/metastore_db;create=true",
        "spark.driver.extraJavaOptions": f"-Dderby.stream.error.file={directory}/derby.log",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": _setting(SHUFFLE_PARTITIONS_VARIABLE, DEFAULT_SHUFFLE_PARTITIONS, _WHOLE),
        "spark.default.parallelism": "2",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.sources.default": "parquet",
        "spark.sql.legacy.createHiveTableByDefault": "false",
        "spark.sql.codegen.wholeStage": "false",
        "spark.sql.adaptive.enabled": "false",
        "spark.driver.memory": _setting(DRIVER_MEMORY_VARIABLE, DEFAULT_DRIVER_MEMORY, _MEMORY),
    }


_WHOLE = ("[1-9][0-9]*", "a positive whole number")
_MEMORY = ("[1-9][0-9]*[kmgt]?", "a positive whole number, optionally followed by k, m, g or t")


def _setting(variable: str, default: str, form: tuple[str, str]) -> str:
    """An environment variable's value, checked before Spark reads it (Spark's own error names no variable); `form`
    is the pattern the value must match and how the error describes it."""
    pattern, described = form
    value = os.environ.get(variable, default).strip()
    if not re.fullmatch(pattern, value, re.IGNORECASE):
        raise WarehouseError(
            f"{variable}={value!r} is not a valid setting (expected {described}); "
            "fix or unset it (docs/spark.md, Sizing)"
        )
    return value


def start_spark(directory: Path) -> SparkSession:
    """The process's Spark session on `directory`'s tables (Hive catalog), started when there is none.

    Spark keeps one session per process: WarehouseError when the running one serves another directory (its
    catalog settings cannot change until it stops).
    """
    from pyspark.sql import SparkSession

    directory.mkdir(parents=True, exist_ok=True)
    settings = {**spark_conf(directory.resolve()), "spark.sql.ansi.enabled": "false"}
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    running = session.conf.get("spark.sql.warehouse.dir")
    if running not in (settings["spark.sql.warehouse.dir"], "file:" + settings["spark.sql.warehouse.dir"]):
        raise WarehouseError(
            f"this process already runs a Spark session on {running}; stop it before opening {directory}"
        )
    return session


@contextmanager
def spark_session(directory: Path) -> Iterator[SparkSession]:
    """A Spark session on `directory`'s tables (Hive catalog), stopped on exit.

    The JVM stays up until the process ends, and with it Derby's lock on the metastore: run dbt on the same
    directory from another process only after this process has ended.
    """
    session = start_spark(directory)
    try:
        yield session
    finally:
        session.stop()
