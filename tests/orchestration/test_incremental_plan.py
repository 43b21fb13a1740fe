"""Which build a run gets: full or incremental, and the window start (table-driven, no dbt)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from kpiflow.config import Settings
from kpiflow.errors import UserInputError
from kpiflow.orchestration.incremental import (
    BuildPlan,
    check_window,
    horizon_setting,
    last_build,
    late_days_setting,
    plan_build,
    project_fingerprint,
    record_build,
)
from kpiflow.warehouse import warehouse_for


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    (project / "macros").mkdir()
    (project / "dbt_project.yml").write_text("name: t\n")
    (project / "models" / "a.sql").write_text("select 1 as x\n")
    checks = Path(__file__).parents[2] / "models" / "staging" / "_source_checks.yml"  # which raw tables are dated
    (project / "models" / "staging").mkdir()
    shutil.copy(checks, project / "models" / "staging" / checks.name)
    return Settings(project, tmp_path / "wh" / "kpiflow.duckdb", tmp_path / "wh" / "marts.duckdb", "dev")


def test_first_build_is_full_and_records_nothing_until_it_succeeded(settings: Settings) -> None:
    plan = plan_build(settings, date(2026, 3, 10), late_days=3)
    assert (plan.full_refresh, plan.window_start) == (True, None)
    assert plan.reason == "no earlier build recorded in the warehouse"
    assert last_build(warehouse_for(settings)) is None


@pytest.mark.parametrize(
    ("last_run", "run_date", "late_days", "window_start"),
    [
        (date(2026, 3, 9), date(2026, 3, 10), 3, date(2026, 3, 7)),  # the next night
        (date(2026, 3, 10), date(2026, 3, 10), 3, date(2026, 3, 7)),  # the same night again: same window
        (date(2026, 3, 5), date(2026, 3, 10), 3, date(2026, 3, 3)),  # four nights missed: caught up
        (date(2026, 3, 9), date(2026, 3, 10), 0, date(2026, 3, 10)),  # no late rows expected
    ],
)
def test_window_starts_late_days_before_the_earlier_of_run_date_and_day_after_last_build(
    settings: Settings, last_run: date, run_date: date, late_days: int, window_start: date
) -> None:
    record_build(
        warehouse_for(settings),
        last_run,
        BuildPlan(True, None, "", project_fingerprint(settings.project_dir)),
        run_id="run-1",
    )
    plan = plan_build(settings, run_date, late_days=late_days)
    assert (plan.full_refresh, plan.window_start) == (False, window_start)
    assert check_window(settings, run_date, late_days=late_days) == window_start  # the gate judges the same rows


def test_an_earlier_date_than_the_last_build_rebuilds_everything(settings: Settings) -> None:
    """Incremental tables hold the days the last build reached; a run as of an earlier day must not keep them
    (DECISIONS rule 22), so it rebuilds in full and its gate judges every row through its run date."""
    record_build(
        warehouse_for(settings),
        date(2026, 3, 20),
        BuildPlan(True, None, "", project_fingerprint(settings.project_dir)),
        run_id="run-1",
    )
    plan = plan_build(settings, date(2026, 3, 10), late_days=0)
    assert (plan.full_refresh, plan.window_start) == (True, None)
    assert plan.reason == "run date is before the last build's 2026-03-20"
    assert check_window(settings, date(2026, 3, 10), late_days=0) is None


def test_gate_judges_every_row_without_an_earlier_build_or_with_full_refresh(settings: Settings) -> None:
    assert check_window(settings, date(2026, 3, 10), late_days=3) is None
    record_build(warehouse_for(settings), date(2026, 3, 9), BuildPlan(True, None, "", "any"), run_id="run-1")
    assert check_window(settings, date(2026, 3, 10), late_days=3, full_refresh=True) is None
    assert check_window(settings, date(2026, 3, 10), late_days=3) == date(2026, 3, 7)


def test_a_warehouse_of_an_older_version_with_builds_plans_an_incremental_build(settings: Settings) -> None:
    """An older version recorded builds in kpiflow_state.builds (no run id): the next run still builds incrementally,
    and once a run records in the warehouse those builds are rows of kpiflow_state.runs (builds is a view)."""
    with warehouse_for(settings).connect() as session:
        session.execute("create schema kpiflow_state")
        session.execute(
            "create table kpiflow_state.builds (run_date date, window_start date, full_refresh boolean, "
            "fingerprint varchar, recorded_at timestamp)"
        )
        session.execute(
            "insert into kpiflow_state.builds values (?, null, true, ?, '2026-03-10 02:00:00')",
            [date(2026, 3, 9), project_fingerprint(settings.project_dir)],
        )
    plan = plan_build(settings, date(2026, 3, 10), late_days=3)
    assert (plan.full_refresh, plan.window_start) == (False, date(2026, 3, 7))
    record_build(warehouse_for(settings), date(2026, 3, 10), plan, run_id="run-2")
    with warehouse_for(settings).connect(read_only=True) as session:
        assert session.execute("select run_id, run_date from kpiflow_state.runs order by built_at").fetchall() == [
            ("builds-1", date(2026, 3, 9)),
            ("run-2", date(2026, 3, 10)),
        ]
        assert session.execute("select count(*) from kpiflow_state.builds").fetchone() == (2,)
    assert plan_build(settings, date(2026, 3, 11), late_days=3).window_start == date(2026, 3, 8)


def test_changed_model_or_full_refresh_option_rebuilds_everything(settings: Settings) -> None:
    record_build(
        warehouse_for(settings),
        date(2026, 3, 9),
        BuildPlan(True, None, "", project_fingerprint(settings.project_dir)),
        run_id="run-1",
    )
    assert plan_build(settings, date(2026, 3, 10), late_days=3, full_refresh=True).reason == "--full-refresh asked for"
    (settings.project_dir / "models" / "a.sql").write_text("select 2 as x\n")
    plan = plan_build(settings, date(2026, 3, 10), late_days=3)
    assert plan.full_refresh and plan.reason == "models, macros or metrics changed since the last build"


@pytest.mark.parametrize(("value", "env", "expected"), [(None, None, 3), (None, "7", 7), (5, "7", 5), (0, None, 0)])
def test_late_days_come_from_the_option_then_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: int | None, env: str | None, expected: int
) -> None:
    if env is None:
        monkeypatch.delenv("KPIFLOW_LATE_DAYS", raising=False)
    else:
        monkeypatch.setenv("KPIFLOW_LATE_DAYS", env)
    assert late_days_setting(value) == expected


@pytest.mark.parametrize(("env", "message"), [("three", "is not a whole number"), ("-1", "must be 0 or more")])
def test_bad_late_days_say_what_to_write(monkeypatch: pytest.MonkeyPatch, env: str, message: str) -> None:
    monkeypatch.setenv("KPIFLOW_LATE_DAYS", env)
    with pytest.raises(UserInputError, match=message):
        late_days_setting()


def test_restatement_horizon_comes_from_the_option_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KPIFLOW_RESTATEMENT_HORIZON_DAYS", raising=False)
    assert horizon_setting() == 90
    monkeypatch.setenv("KPIFLOW_RESTATEMENT_HORIZON_DAYS", "30")
    assert (horizon_setting(), horizon_setting(120)) == (30, 120)
    monkeypatch.setenv("KPIFLOW_RESTATEMENT_HORIZON_DAYS", "soon")
    with pytest.raises(UserInputError, match="KPIFLOW_RESTATEMENT_HORIZON_DAYS='soon' is not a whole number"):
        horizon_setting()
