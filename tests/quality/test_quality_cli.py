"""`kpiflow check` exit codes: 0 passed, 1 an error check failed, 2 bad input; output is the summary or JSON."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from kpiflow import cli
from kpiflow.config import Settings

from .conftest import RUN_DATE


def run_cli(monkeypatch: pytest.MonkeyPatch, warehouse: Path, *args: str) -> int:
    monkeypatch.setenv("KPIFLOW_WAREHOUSE", str(warehouse))
    monkeypatch.setattr(sys, "argv", ["kpiflow", "check", *args])
    with pytest.raises(SystemExit) as exited:
        cli.main()
        raise SystemExit(0)
    return int(exited.value.code or 0)


@pytest.mark.slow
def test_passing_gate_exits_0_and_prints_json(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], warehouse_copy: Callable[..., Settings]
) -> None:
    settings = warehouse_copy()
    code = run_cli(monkeypatch, settings.warehouse_path, "--date", RUN_DATE.isoformat(), "--json", "--no-data-docs")
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["passed"] is True and report["run_date"] == RUN_DATE.isoformat()
    assert not (settings.state_dir / "data_docs").exists()


@pytest.mark.slow
def test_failing_gate_exits_1_with_summary_and_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], warehouse_copy: Callable[..., Settings]
) -> None:
    settings = warehouse_copy("delete from raw.expenses")
    code = run_cli(monkeypatch, settings.warehouse_path, "--date", RUN_DATE.isoformat(), "--quiet", "--no-data-docs")
    out, err = capsys.readouterr()
    assert code == 1
    assert "FAIL expenses.row_count [expenses]" in out
    assert f"error: quality gate failed for {RUN_DATE.isoformat()}: expenses.row_count" in err
    assert "Traceback" not in out + err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--date", "31/03/2024"), "--date '31/03/2024' is not a date; use YYYY-MM-DD"),
        (("--date", "2024-02-30"), "--date '2024-02-30' is not a date; use YYYY-MM-DD"),
    ],
)
def test_bad_options_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, args, message
) -> None:
    warehouse = tmp_path / "kpiflow.duckdb"
    warehouse.touch()
    code = run_cli(monkeypatch, warehouse, *args)
    out, err = capsys.readouterr()
    assert code == 2
    assert message in out + err


def test_missing_warehouse_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = run_cli(monkeypatch, tmp_path / "missing.duckdb")
    err = capsys.readouterr().err
    assert code == 2
    assert f"warehouse {tmp_path / 'missing.duckdb'} not found; create it (kpiflow demo-data)" in err


@pytest.mark.slow
def test_renamed_column_fails_the_schema_check_by_name_without_a_stack_trace(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], warehouse_copy: Callable[..., Settings]
) -> None:
    """The column a staging model reads was renamed by the loader: the gate names it (and the likely new name)
    instead of crashing in the quarantine step on the checks that read it."""
    settings = warehouse_copy("alter table raw.order_lines rename column discount_amount to discount")
    code = run_cli(monkeypatch, settings.warehouse_path, "--date", RUN_DATE.isoformat(), "--no-data-docs")
    out, err = capsys.readouterr()
    assert code == 1, out + err
    assert (
        "FAIL order_lines.schema [order_lines]: raw.order_lines lacks column(s) discount_amount "
        "(found instead: discount)" in out
    )
    assert re.search(
        r"NOT RUN \d+ more check\(s\) on order_lines: raw.order_lines lacks column\(s\) discount_amount\n", out
    )
    assert "Traceback" not in out + err and "ProgrammingError" not in out + err
    saved = json.loads((settings.state_dir / "quality" / f"{RUN_DATE.isoformat()}.json").read_text())
    schema = next(r for r in saved["results"] if r["name"] == "order_lines.schema")
    assert (schema["success"], schema["table"]) == (False, "order_lines")
