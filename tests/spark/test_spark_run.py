"""README's "Run on Spark" commands, run as written on Spark local and the same commands on DuckDB, publish the same
rows: a full run, the next day landed with `kpiflow demo-data --append-through`, and the nightly.

The block is parsed without a shell (tests/readme_commands.py: `export` lines set the environment, `$PWD` is the
project copy the commands run in, every other line is a `kpiflow` command). The Spark side is one Python process
(kpiflow_in_one_process.py) that runs the block's commands and then `scorecard` and a JSON `query` through
the kpiflow CLI's entry point, one after the other: one JVM and one Derby metastore start for all of them (the
metastore admits one process; a JVM start costs about 15 CPU seconds). The DuckDB side runs the same commands with
the `kpiflow` CLI, one process each, meanwhile. Spark's tables are then read back by DuckDB from their parquet files:
every published row of marts.kpi_values, every wide mart, marts.kpi_achievement, marts.scorecard_results and
payroll.payouts after each run, the raw tables after the append, `int_employee_days` (its weekends: Spark numbers
weekdays from Sunday 1) and the incremental intermediates after the nightly equal DuckDB's (doubles within 1e-9
relative, Decimals exact). Each command's seconds and CPU seconds are printed (`-s`); the time depends on the
machine's load, so no test asserts it.
"""

from __future__ import annotations

import json
import os
import resource
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pg_cli import NAMED, Side, Tables, assert_tables_equal, duckdb_tables, kpiflow
from readme_commands import Command, parse_block, readme_block
from warehouse_rows import assert_same_rows

from kpiflow.demo.warehouse import DEMO_TABLES, META_TABLE

pytestmark = pytest.mark.slow

MARKER = "<!-- readme-spark"
INTERMEDIATE = ("int_employee_days", "int_orders", "int_revenue_events", "int_inventory_daily")
# Each `kpiflow run` starts Prefect's temporary API server: on a loaded machine it takes longer than kpiflow's 90 s.
PATIENT_PREFECT = {"PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "600"}
ONE_PROCESS = Path(__file__).with_name("kpiflow_in_one_process.py")  # the Spark side


@dataclass
class Runs:
    commands: list[Command]  # the README's, then the reading commands
    run_dates: list[date]  # the README's `kpiflow run --date` days: the full run, the nightly
    demo_start: date
    duck: Side
    spark_dir: Path
    spark_output: list[str]  # each command's stdout on Spark
    duck_output: list[Any]  # and on DuckDB (parsed with --json)
    duck_published: dict[date, Tables] = field(default_factory=dict)  # after each run
    seconds: dict[str, float] = field(default_factory=dict)

    def spark_table(self, database: str, table: str) -> tuple[list[str], list[tuple]]:
        """A Spark table's columns and rows, read from its parquet files."""
        files = self.spark_dir / "spark-warehouse" / f"{database}.db" / table
        assert any(files.glob("*.parquet")), f"Spark has no table {database}.{table}"
        with duckdb.connect() as con:
            cursor = con.execute("select * from read_parquet(?)", [str(files / "*.parquet")])
            return [d[0] for d in cursor.description], cursor.fetchall()

    def duck_table(self, schema: str, table: str) -> tuple[list[str], list[tuple]]:
        with duckdb.connect(self.duck.env["KPIFLOW_WAREHOUSE"], read_only=True) as con:
            cursor = con.execute(f'select * from {schema}."{table}"')
            return [d[0] for d in cursor.description], cursor.fetchall()

    def spark_published(self, day: date) -> Tables:
        """What the run of `day` published on Spark (its version of marts and payroll), for DuckDB's tables."""
        columns, rows = self.spark_table("kpiflow_state", "spark_published_versions")
        row_of = [dict(zip(columns, row, strict=True)) for row in rows]
        (version,) = {row["version"] for row in row_of if row["event"] == "publish" and row["run_date"] == day}
        tables = {}
        for name in self.duck_published[day]:
            schema, table = name.split(".")
            tables[name] = self.spark_table(f"{schema}__v{version}", table)
        return tables

    def output_of(self, first_word: str, *, json_output: bool) -> tuple[str, Any]:
        """The last command starting with `first_word` (and asking for JSON, or not): Spark's stdout, DuckDB's."""
        (number, *_) = [
            n
            for n, command in reversed(list(enumerate(self.commands)))
            if command.args[0] == first_word and ("json" in " ".join(command.args)) == json_output
        ]
        return self.spark_output[number], self.duck_output[number]


def _reading_commands(run_dates: list[date]) -> list[tuple[str, ...]]:
    """Beyond the README's: the answers of `scorecard` and a JSON `query` compared across engines (`kpiflow check`'s
    report is compared, check by check, on damaged inputs by test_spark_gate.py; each run here passes the gate)."""
    return [
        ("query", "--metrics", "net_revenue,average_order_value", "--group-by", "metric_time__day,store__region",
         "--format", "json"),
        ("scorecard", "--card", "sales_manager", "--period", f"{run_dates[0]:%Y-%m}", "--format", "json"),
    ]  # fmt: skip


def _option(command: Command, name: str) -> date:
    return date.fromisoformat(command.args[command.args.index(name) + 1])


def _start_spark_side(steps: list[Command], project: Path, root: Path) -> subprocess.Popen:
    """The Spark side, in the project copy; its log to root/spark_side.log (a pipe could fill meanwhile)."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("KPIFLOW_")}
    environment |= {"PWD": str(project), "PREFECT_HOME": str(root / "prefect"), **PATIENT_PREFECT}
    (root / "out").mkdir()
    arguments = json.dumps([(command.args, command.exported) for command in steps])
    with (root / "spark_side.log").open("w") as log:
        return subprocess.Popen(
            [sys.executable, str(ONE_PROCESS), arguments, str(root / "out")],
            cwd=project, env=environment, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip


@pytest.fixture(scope="module")
def runs(project_copier, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """The README's commands and the reading commands on Spark (one process) and on DuckDB (the CLI), side by side."""
    root = tmp_path_factory.mktemp("spark_run")
    started = time.monotonic()
    project = project_copier(root / "project")  # the README's commands run in the project (cwd): here a copy
    readme = parse_block(readme_block(MARKER), {"PWD": str(project)})
    assert readme[0].exported["KPIFLOW_TARGET"] == "spark"
    run_dates = [_option(command, "--date") for command in readme if command.args[0] == "run"]
    (demo_start,) = [_option(command, "--start") for command in readme if command.args[0] == "demo-data"
                     and "--start" in command.args]  # fmt: skip
    assert len(run_dates) == 2 and run_dates[1] == run_dates[0] + timedelta(days=1), run_dates
    exported = readme[-1].exported
    reading = [Command(shlex.join(("kpiflow", *args)), args, exported) for args in _reading_commands(run_dates)]
    commands = readme + reading
    spark_side = _start_spark_side(commands, project, root)
    duck_project = project_copier(root / "duck_project")  # dbt writes target/ into the project: one each
    duck = Side({**PATIENT_PREFECT, "KPIFLOW_PROJECT_DIR": str(duck_project), "KPIFLOW_TARGET": "dev",
                 "KPIFLOW_WAREHOUSE": str(root / "duck" / "kpiflow.duckdb"),
                 "KPIFLOW_MARTS": str(root / "duck" / "marts.duckdb")}, root / "duck" / "state")  # fmt: skip
    duck.state_dir.mkdir(parents=True)
    found = Runs(commands, run_dates, demo_start, duck, Path(readme[0].exported["KPIFLOW_SPARK_DIR"]), [], [])
    try:
        for command in commands:  # DuckDB meanwhile: the same commands, each a `kpiflow` process
            clock, cpu = time.monotonic(), _children_cpu()
            found.duck_output.append(kpiflow(duck, *command.args))
            found.seconds[f"duckdb {command.line}"] = time.monotonic() - clock
            found.seconds[f"duckdb {command.line} (CPU s)"] = _children_cpu() - cpu
            if command.args[0] == "run":
                found.duck_published[_option(command, "--date")] = _published_by_duckdb(duck)
            if spark_side.poll():
                break  # the Spark side failed: its log says why
        spark_side.wait()
    finally:
        spark_side.kill()
        spark_side.wait()
    log = (root / "spark_side.log").read_text()
    steps = [json.loads(line) for line in log.splitlines() if line.startswith('{"step": ')]
    for step in steps:
        found.seconds[f"spark {commands[step['step']].line}"] = step["seconds"]
        found.seconds[f"spark {commands[step['step']].line} (CPU s)"] = step["cpu"]
    found.seconds["whole"] = time.monotonic() - started
    print("timings (s):", json.dumps({stage: round(took, 1) for stage, took in found.seconds.items()}, indent=1))
    assert spark_side.returncode == 0 and len(steps) == len(commands), f"the Spark side failed:\n{log[-8000:]}"
    found.spark_output = [(root / "out" / f"{number}.out").read_text() for number in range(len(commands))]
    return found


def _children_cpu() -> float:
    """The CPU seconds of this process's ended children (each DuckDB side command, once it ended)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _published_by_duckdb(duck: Side) -> Tables:
    """DuckDB's published tables the issue names: the named marts and every wide mart."""
    tables = duckdb_tables(duck)
    wide = [name for name in tables if name.startswith("marts.mart_")]
    assert wide and set(NAMED) <= set(tables)
    return {name: tables[name] for name in (*NAMED, *wide)}


def test_every_published_row_equals_duckdb_after_the_full_run_and_the_nightly(runs: Runs) -> None:
    for day in runs.run_dates:
        assert_tables_equal(runs.spark_published(day), runs.duck_published[day])


def test_the_runs_are_recorded_and_the_nightly_is_incremental(runs: Runs) -> None:
    query = (
        "select r.run_date, r.status, r.full_refresh, r.published_at is not null, count(t.table_name), "
        "any_value(r.stages) from {runs} r left join {run_tables} t on t.run_id = r.run_id "
        "group by r.run_id, r.run_date, r.status, r.full_refresh, r.published_at order by r.run_date"
    )
    state = runs.spark_dir / "spark-warehouse" / "kpiflow_state.db"
    spark_tables = {name: f"read_parquet('{state / name / '*.parquet'}')" for name in ("runs", "run_tables")}
    with duckdb.connect() as con:
        spark = con.execute(query.format(**spark_tables)).fetchall()
    with duckdb.connect(runs.duck.env["KPIFLOW_WAREHOUSE"], read_only=True) as con:
        duck = con.execute(query.format(runs="kpiflow_state.runs", run_tables="kpiflow_state.run_tables")).fetchall()
    full, nightly = runs.run_dates
    assert [row[:5] for row in spark] == [row[:5] for row in duck]
    assert [row[:4] for row in spark] == [(full, "completed", True, True), (nightly, "completed", False, True)]
    stages = [json.loads(row[5]) for row in spark]
    assert [stage["name"] for stage in stages[0]] == [
        "land_or_verify_inputs", "check_inputs", "compile_metrics", "build", "build_scorecards", "audit", "publish",
        "dashboard", "report",
    ]  # fmt: skip
    (build,) = [stage for stage in stages[1] if stage["name"] == "build"]
    assert "incremental from" in build["headline"], build


def test_append_through_lands_on_spark_the_raw_rows_it_lands_on_duckdb(runs: Runs) -> None:
    """`demo-data --append-through` on Spark lands the rows it lands on DuckDB (the runs quarantined none)."""
    for table in (*DEMO_TABLES, META_TABLE):
        assert_same_rows(f"raw.{table}", *runs.duck_table("raw", table), *runs.spark_table("raw", table))
    assert runs.duck_table("raw", META_TABLE)[1][0][3] == runs.run_dates[-1]  # the end moved to the nightly's day


@pytest.mark.parametrize("table", INTERMEDIATE)
def test_the_intermediates_after_the_nightly_equal_duckdb(runs: Runs, table: str) -> None:
    """int_employee_days (calendar functions) and the incremental models after the nightly's kpiflow_window run."""
    assert_same_rows(f"intermediate.{table}", *runs.duck_table("intermediate", table),
                     *runs.spark_table("intermediate", table))  # fmt: skip


def test_weekends_are_saturdays_and_sundays_on_spark(runs: Runs) -> None:
    """kpiflow_is_weekend on Spark (dayofweek numbers Sunday 1): no scheduled hours on exactly Sat and Sun."""
    columns, rows = runs.spark_table("intermediate", "int_employee_days")
    day, hours = columns.index("date_day"), columns.index("scheduled_hours")
    by_weekday = {(row[day].weekday(), float(row[hours])) for row in rows}
    assert by_weekday == {(weekday, 0.0 if weekday >= 5 else 8.0) for weekday in range(7)}
    assert min(row[day] for row in rows) <= runs.demo_start + timedelta(days=6)


def test_the_readme_query_answers_on_spark(runs: Runs) -> None:
    spark, duck = runs.output_of("query", json_output=False)
    assert "net_revenue" in spark and "net_revenue" in duck, spark


@pytest.mark.parametrize("first_word", ["query", "scorecard"])
def test_query_and_scorecard_read_the_spark_warehouse_as_duckdb(runs: Runs, first_word: str) -> None:
    spark, duck = runs.output_of(first_word, json_output=True)
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
