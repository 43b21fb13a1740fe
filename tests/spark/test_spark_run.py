"""`kpiflow run` on Spark local, a full run then a nightly, publishes what DuckDB publishes from the same data.

The DuckDB side is the real CLI in a subprocess (`kpiflow demo-data`, `--append-through`, `run`). The Spark side runs
in this process (`run_nightly_once`, what `kpiflow run` calls), because the embedded Derby metastore admits one
process: the test's Spark session, the gate's (GE's Spark datasource) and dbt's (dbt-spark's `session` method) are
the same one. Its raw tables are the DuckDB side's, copied in as `kpiflow demo-data` on a spark target does; the
next day lands the same way. Both runs are checked: every published row of marts.kpi_values, every wide mart,
marts.kpi_achievement, marts.scorecard_results and payroll.payouts equals DuckDB's (doubles within 1e-9 relative,
Decimals exact), and each run is recorded in kpiflow_state.runs / run_tables as on the other engines. The demo is
tiny (scale 0.01, one month) because a Spark build of the ~370 nodes is slow; the Spark settings are the profile's.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

# Prefect reads its settings once, on first import: keep its files out of ~/.prefect and its console quiet.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="kpiflow-test-prefect-"))
os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pg_cli import NAMED, Side, Tables, _duckdb_tables, assert_tables_equal, environment, kpiflow

from kpiflow.config import Settings
from kpiflow.warehouse import warehouse_for
from kpiflow.warehouse.spark import SparkWarehouse

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
DEMO = {"scale": 0.01, "start": date(2024, 1, 2), "end": date(2024, 1, 31), "seed": 11}  # counts on the 31st
RUN_DATE = DEMO["end"]
NEXT_DATE = RUN_DATE + timedelta(days=1)


@dataclass
class SparkRuns:
    duck: Side
    spark_env: dict[str, str]
    warehouse: SparkWarehouse
    results: dict[date, dict[str, Any]] = field(default_factory=dict)  # each day's Spark run (`kpiflow run --json`)
    published: dict[date, tuple[Tables, Tables]] = field(default_factory=dict)  # each day's: Spark's, DuckDB's
    records: dict[date, list[tuple[Any, ...]]] = field(default_factory=dict)  # kpiflow_state.runs after each day
    seconds: dict[str, float] = field(default_factory=dict)

    def run_day(self, day: date) -> None:
        """Land `day` (after the first) on both sides, run it on Spark (in this process), then on DuckDB (the CLI)."""
        from kpiflow.demo.spark import copy_raw_into_spark

        if day != RUN_DATE:
            kpiflow(self.duck, "demo-data", "--append-through", str(day), "--quiet")
        # the day lands on Spark: raw replaced by the DuckDB side's (its demo plus the new day)
        copy_raw_into_spark(self.warehouse.spark(), Path(self.duck.env["KPIFLOW_WAREHOUSE"]))
        mark = time.perf_counter()
        self.results[day] = _spark_run(day)
        self.seconds[f"spark run {day}"] = time.perf_counter() - mark
        mark = time.perf_counter()
        kpiflow(self.duck, "run", "--date", str(day), "--json", "--quiet")
        self.seconds[f"duckdb run {day}"] = time.perf_counter() - mark
        self.published[day] = _published(self.duck)
        self.records[day] = _record()


def _spark_tables(names: list[str]) -> Tables:
    """The published tables as a BI reader reads them (the views of the published version)."""
    tables = {}
    with warehouse_for(Settings.from_env()).read_published() as session:
        for name in names:
            cursor = session.execute(f"select * from {name}")
            tables[name] = ([str(column[0]) for column in cursor.description], [tuple(r) for r in cursor.fetchall()])
    return tables


def _published(duck: Side) -> tuple[Tables, Tables]:
    duck_tables = _duckdb_tables(duck)
    wide = [name for name in duck_tables if name.startswith("marts.mart_")]
    assert wide and set(NAMED) <= set(duck_tables)
    names = [*NAMED, *wide]
    return _spark_tables(names), {name: duck_tables[name] for name in names}


def _record() -> list[tuple[Any, ...]]:
    with warehouse_for(Settings.from_env()).connect(read_only=True) as session:
        return session.execute(
            "select r.run_id, r.run_date, r.status, r.full_refresh, r.published_at is not null, count(t.table_name) "
            "from kpiflow_state.runs r left join kpiflow_state.run_tables t on t.run_id = r.run_id "
            "group by 1, 2, 3, 4, 5 order by r.run_date"
        ).fetchall()


def _spark_run(day: date) -> dict[str, Any]:
    from kpiflow.orchestration.execution import run_nightly_once
    from kpiflow.orchestration.pipeline import RunOptions

    outcome = run_nightly_once(Settings.from_env(), RunOptions(run_date=day))
    assert outcome.error is None, f"{outcome.error}\n{outcome.result}"
    return outcome.result


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkRuns]:
    """The demo loaded on both sides and the full run of RUN_DATE on each."""
    root = tmp_path_factory.mktemp("spark_run")
    common = {"KPIFLOW_PROJECT_DIR": str(REPO), "KPIFLOW_DEMO_SCALE": str(DEMO["scale"])}
    duck = Side({**common, "KPIFLOW_TARGET": "dev", "KPIFLOW_WAREHOUSE": str(root / "duck" / "kpiflow.duckdb"),
                 "KPIFLOW_MARTS": str(root / "duck" / "marts.duckdb")}, root / "duck" / "state")  # fmt: skip
    spark_env = {**common, "KPIFLOW_TARGET": "spark", "KPIFLOW_SPARK_DIR": str(root / "spark"),
                 "KPIFLOW_WAREHOUSE": str(root / "spark_state" / "kpiflow.duckdb"),  # only its folder: run state
                 "KPIFLOW_MARTS": str(root / "spark_state" / "marts.duckdb")}  # dashboard: beside  # fmt: skip
    duck.state_dir.mkdir(parents=True)
    kpiflow(duck, "demo-data", "--scale", str(DEMO["scale"]), "--start", str(DEMO["start"]), "--end",
            str(DEMO["end"]), "--seed", str(DEMO["seed"]), "--quiet")  # fmt: skip
    with environment(spark_env):
        warehouse = warehouse_for(Settings.from_env())
        assert isinstance(warehouse, SparkWarehouse)
        try:
            runs = SparkRuns(duck, spark_env, warehouse)
            runs.run_day(RUN_DATE)
            yield runs
        finally:
            warehouse.spark().stop()


@pytest.fixture(scope="module")
def nightly(runs: SparkRuns) -> SparkRuns:
    """The next day, after the full run's tests have checked it."""
    runs.run_day(NEXT_DATE)
    return runs


def test_a_full_run_on_spark_publishes_what_duckdb_publishes(runs: SparkRuns) -> None:
    result = runs.results[RUN_DATE]
    assert result["status"] == "completed" and result["quality"]["passed"]
    assert [stage["name"] for stage in result["stages"]] == [
        "land_or_verify_inputs", "check_inputs", "compile_metrics", "build", "build_scorecards", "audit", "publish",
        "dashboard", "report",
    ]  # fmt: skip
    assert_tables_equal(*runs.published[RUN_DATE])
    print(runs.seconds)  # how long each run took (pytest -s shows it)


def test_the_nightly_on_spark_is_incremental_and_publishes_what_duckdb_publishes(nightly: SparkRuns) -> None:
    result = nightly.results[NEXT_DATE]
    assert result["status"] == "completed"
    (build,) = [stage for stage in result["stages"] if stage["name"] == "build"]
    assert "incremental from" in build["headline"], build["headline"]
    assert_tables_equal(*nightly.published[NEXT_DATE])
    print(nightly.seconds)  # how long each run took (pytest -s shows it)


def test_each_run_is_recorded_in_the_warehouse_as_on_the_other_engines(nightly: SparkRuns) -> None:
    full, night = (nightly.results[day] for day in (RUN_DATE, NEXT_DATE))
    full_row = (full["run_id"], RUN_DATE, "completed", True, True, len(full["published"]["tables"]))
    assert nightly.records[RUN_DATE] == [full_row]
    night_row = (night["run_id"], NEXT_DATE, "completed", False, True, len(night["published"]["tables"]))
    assert nightly.records[NEXT_DATE] == [full_row, night_row]


def _spark_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    """`kpiflow ARGS` in this process (the real entry point), on the Spark warehouse the runs built."""
    from kpiflow.cli import main

    monkeypatch.setattr(sys, "argv", ["kpiflow", *args])
    capsys.readouterr()
    code = 0
    try:
        main()
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    return code, capsys.readouterr().out


READING_COMMANDS = (
    ("query", "--metrics", "net_revenue,average_order_value", "--group-by", "metric_time__day,store__region",
     "--format", "json"),
    ("scorecard", "--card", "sales_manager", "--period", "2024-01", "--format", "json"),
    ("check", "--date", str(NEXT_DATE), "--json", "--no-data-docs"),
)  # fmt: skip


@pytest.mark.parametrize("args", READING_COMMANDS, ids=[args[0] for args in READING_COMMANDS])
def test_check_query_and_scorecard_read_the_spark_warehouse_as_duckdb(
    nightly: SparkRuns, args: tuple[str, ...], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with environment(nightly.spark_env):
        code, spark = _spark_cli(capsys, monkeypatch, *args)
    duck = kpiflow(nightly.duck, *args)
    assert code == 0, spark
    if args[0] == "check":  # the same verdicts; the reports differ in where and how long
        assert isinstance(duck, dict) and duck["passed"]
        spark_report = json.loads(spark)
        assert spark_report["passed"]
        assert [(r["name"], r["success"], r["message"]) for r in spark_report["results"]] == [
            (r["name"], r["success"], r["message"]) for r in duck["results"]
        ]
        return
    assert _rounded(json.loads(spark)) == _rounded(json.loads(str(duck))) != []


def _rounded(value: Any) -> Any:
    """Doubles to 9 significant digits (the engines sum doubles in different orders), lists in a stable order."""
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return sorted((_rounded(item) for item in value), key=lambda item: json.dumps(item, sort_keys=True))
    return value


def test_dates_before_the_year_1000_are_bound_as_iso_dates() -> None:
    """pyspark sends a bound date to the JVM as strftime text, unpadded before the year 1000 ('1-01-01'), which the
    JVM refuses: the nightly's restatement check binds date.min and failed with IllegalArgumentException."""
    from kpiflow.warehouse.spark_sql import bindable

    (bound,) = bindable([date.min])
    assert bound == date.min and bound.strftime("%Y-%m-%d") == "0001-01-01"
    assert bindable({"day": date(2024, 1, 31)}) == {"day": date(2024, 1, 31)}
