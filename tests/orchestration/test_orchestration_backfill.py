"""Backfill runs dates in order, stops at the first failure and says where to resume."""

from __future__ import annotations

import json
from datetime import date

import pytest
from orchestration_helpers import Warehouse
from orchestration_standins import standin_stages

from kpiflow.errors import KpiflowError, RunFailed, UserInputError
from kpiflow.orchestration.backfill import dates_between, run_backfill


@pytest.mark.parametrize(
    ("failing", "completed", "failed_date"),
    [
        (set(), ["03-01", "03-02", "03-03", "03-04"], None),
        ({"03-01"}, [], "03-01"),
        ({"03-03"}, ["03-01", "03-02"], "03-03"),
        ({"03-02", "03-04"}, ["03-01"], "03-02"),
    ],
)
def test_backfill_stops_at_the_first_failure(failing: set[str], completed: list[str], failed_date: str | None) -> None:
    attempted: list[date] = []

    def run_one(day: date) -> KpiflowError | None:
        attempted.append(day)
        return RunFailed(f"broken {day}") if f"{day:%m-%d}" in failing else None

    result = run_backfill(date(2025, 3, 1), date(2025, 3, 4), run_one)
    assert [f"{day:%m-%d}" for day in result.completed] == completed
    assert (f"{result.failed_date:%m-%d}" if result.failed_date else None) == failed_date
    assert attempted == [*result.completed, *([result.failed_date] if result.failed_date else [])]
    if failed_date:
        assert result.resume_command() == f"kpiflow backfill --start 2025-{failed_date} --end 2025-03-04"
        assert f"backfill stopped at 2025-{failed_date}" in result.explain_failure()
    else:
        assert result.ok and result.resume_command() == ""


def test_dates_between_includes_both_ends_and_rejects_reversed_ranges() -> None:
    assert dates_between(date(2024, 2, 28), date(2024, 3, 1)) == [
        date(2024, 2, 28),
        date(2024, 2, 29),
        date(2024, 3, 1),
    ]
    with pytest.raises(UserInputError, match="before --start"):
        dates_between(date(2025, 3, 2), date(2025, 3, 1))


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_backfill_command_publishes_each_day_and_names_the_resume_date(
    warehouse: Warehouse, capsys: pytest.CaptureFixture[str]
) -> None:
    from kpiflow.orchestration.commands import backfill

    with standin_stages(bad_dates=frozenset({date(2025, 3, 3)})).installed(), pytest.raises(RunFailed) as stopped:
        backfill(start="2025-03-01", end="2025-03-05", quiet=True, json_output=True)
    message = str(stopped.value)
    assert "backfill stopped at 2025-03-03" in message
    assert "kpiflow backfill --start 2025-03-03 --end 2025-03-05" in message
    assert "input checks failed for 2025-03-03" in message
    report = json.loads(capsys.readouterr().out)
    assert report["completed"] == ["2025-03-01", "2025-03-02"]
    assert report["failed_date"] == "2025-03-03"
    assert [run["exit_code"] for run in report["runs"]] == [0, 0, 1]
    assert [day for _, day in warehouse.published_runs()] == [date(2025, 3, 2)]
