"""`kpiflow demo-data` as a person runs it: exit codes, the row-count table, --json, --if-missing, errors.

Most tests call the real entry point (`kpiflow.cli.main`) in-process to stay fast; the first one runs the
installed command in a subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from kpiflow import cli
from kpiflow.demo.warehouse import DEMO_TABLES

TINY = ["--scale", "0.01", "--start", "2024-01-01", "--end", "2024-01-31"]


@dataclass(frozen=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """Run `kpiflow demo-data ARGS` through kpiflow.cli.main; env overrides apply for the call."""

    def run(*args: str, env: dict[str, str] | None = None) -> CliResult:
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        monkeypatch.setattr(sys, "argv", ["kpiflow", "demo-data", *args])
        capsys.readouterr()
        try:
            cli.main()
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def raw_counts(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {table: con.execute(f"select count(*) from raw.{table}").fetchone()[0] for table in DEMO_TABLES}


def test_installed_command_generates_and_prints_row_counts(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "kpiflow.cli",
            "demo-data",
            *TINY,
            "--out",
            str(warehouse),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    counts = raw_counts(warehouse)
    for table in ("orders", "order_lines", "inventory_snapshots", "employees"):
        assert table in result.stdout
        assert f"{counts[table]:,}" in result.stdout
    assert counts["store_plans"] > 0 and counts["sales_plans"] > 0  # plans live in the warehouse


def test_json_output_and_default_warehouse_from_environment(run_cli, tmp_path: Path) -> None:
    warehouse = tmp_path / "from_env.duckdb"
    result = run_cli(*TINY, "--json", env={"KPIFLOW_WAREHOUSE": str(warehouse)})
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["action"] == "generated"
    assert payload["warehouse_path"] == str(warehouse)
    assert payload["row_counts"] == raw_counts(warehouse)
    assert (payload["start"], payload["end"], payload["seed"]) == ("2024-01-01", "2024-01-31", 42)


def test_if_missing_leaves_an_existing_warehouse_alone(run_cli, tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    assert run_cli(*TINY, "--out", str(warehouse), "--quiet").returncode == 0
    modified = warehouse.stat().st_mtime_ns
    time.sleep(0.01)
    result = run_cli(*TINY, "--out", str(warehouse), "--if-missing", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["action"] == "unchanged"
    assert warehouse.stat().st_mtime_ns == modified


def test_append_through_extends_the_warehouse(run_cli, tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    assert run_cli(*TINY, "--out", str(warehouse), "--quiet").returncode == 0
    result = run_cli("--out", str(warehouse), "--append-through", "2024-02-02", "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert (payload["action"], payload["end"]) == ("appended", "2024-02-02")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select max(order_ts)::date::varchar from raw.orders").fetchone()[0] == "2024-02-02"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "2024-13-01"], "--start"),
        (["--end", "31/01/2024"], "--end"),
        (["--scale", "0"], "--scale"),
        (["--start", "2024-02-01", "--end", "2024-01-01"], "before --start"),
        (["--format", "parquet"], "--out DIR"),
        (["--append-through", "2024-02-01"], "kpiflow demo-data"),
    ],
    ids=["bad-start", "bad-end", "zero-scale", "end-before-start", "parquet-without-out", "append-to-nothing"],
)
def test_bad_input_exits_2_with_a_message(run_cli, tmp_path: Path, args: list[str], message: str) -> None:
    result = run_cli(*args, env={"KPIFLOW_WAREHOUSE": str(tmp_path / "none.duckdb")})
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_busy_warehouse_exits_1_without_traceback(run_cli, tmp_path: Path) -> None:
    warehouse = tmp_path / "busy.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(warehouse)!r}); print('ready', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        result = run_cli(*TINY, "--out", str(warehouse), "--quiet")
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 1
    assert "another process" in result.stderr
    assert "Traceback" not in result.stderr
