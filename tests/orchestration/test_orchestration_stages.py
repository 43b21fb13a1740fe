"""The real first stage: land demo data once and extend it, or verify that the day's inputs have landed."""

from __future__ import annotations

import dataclasses
from datetime import date

import duckdb
import pytest
from orchestration_helpers import Warehouse

from kpiflow.errors import UserInputError
from kpiflow.orchestration.pipeline import RunContext, RunOptions
from kpiflow.orchestration.stages import DEMO_SCALE_ENV, demo_scale, land_or_verify_inputs
from kpiflow.orchestration.transient import TransientRunError, is_transient


def _raw_orders_through(warehouse: Warehouse, last_day: date) -> None:
    warehouse.settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse.settings.warehouse_path)) as con:
        con.execute("create schema raw")
        con.execute("create table raw.orders as select ?::timestamp + interval 9 hour as order_ts", [last_day])


@pytest.mark.parametrize(
    ("value", "scale", "problem"),
    [(None, 1.0, None), ("0.25", 0.25, None), ("abc", None, "is not a number"), ("0", None, "greater than 0")],
)
def test_demo_scale_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str | None, scale: float | None, problem: str | None
) -> None:
    if value is None:
        monkeypatch.delenv(DEMO_SCALE_ENV, raising=False)
    else:
        monkeypatch.setenv(DEMO_SCALE_ENV, value)
    if problem:
        with pytest.raises(UserInputError, match=problem):
            demo_scale()
    else:
        assert demo_scale() == scale


def test_missing_warehouse_is_bad_input(warehouse: Warehouse) -> None:
    with pytest.raises(UserInputError, match="has no raw input data"):
        land_or_verify_inputs(warehouse.context(date(2025, 3, 31)))


def test_inputs_that_have_not_landed_yet_are_a_transient_failure(warehouse: Warehouse) -> None:
    _raw_orders_through(warehouse, date(2025, 3, 30))
    with pytest.raises(TransientRunError, match=r"raw\.orders ends on 2025-03-30") as late:
        land_or_verify_inputs(warehouse.context(date(2025, 3, 31)))
    assert is_transient(late.value)
    landed = land_or_verify_inputs(warehouse.context(date(2025, 3, 30)))
    assert (landed.latest_input_date, landed.created_demo_data) == (date(2025, 3, 30), False)


def test_demo_mode_never_overwrites_a_real_warehouse(warehouse: Warehouse) -> None:
    _raw_orders_through(warehouse, date(2025, 3, 31))
    ctx = warehouse.context(date(2025, 3, 31))
    demo_ctx = dataclasses.replace(ctx, options=RunOptions(run_date=ctx.run_date, ensure_demo_data=True))
    with pytest.raises(UserInputError, match="not kpiflow demo data"):
        land_or_verify_inputs(demo_ctx)


@pytest.mark.slow
def test_demo_data_is_created_once_then_extended_through_the_run_date(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DEMO_SCALE_ENV, "0.02")
    settings = dataclasses.replace(warehouse.settings, project_dir=warehouse.settings.warehouse_path.parent)

    def context(day: date) -> RunContext:
        return dataclasses.replace(
            warehouse.context(day), settings=settings, options=RunOptions(run_date=day, ensure_demo_data=True)
        )

    created = land_or_verify_inputs(context(date(2024, 2, 15)))
    assert (created.created_demo_data, created.latest_input_date) == (True, date(2024, 2, 15))
    assert "from 2023-01-01" in created.note  # Jan 1 of the year before: a year of history for YoY KPIs
    size = settings.warehouse_path.stat().st_size

    again = land_or_verify_inputs(context(date(2024, 2, 15)))
    assert (again.created_demo_data, again.note) == (False, "demo data already present")
    assert settings.warehouse_path.stat().st_size == size

    extended = land_or_verify_inputs(context(date(2024, 2, 17)))
    assert (extended.created_demo_data, extended.latest_input_date) == (False, date(2024, 2, 17))
    assert extended.note.startswith("appended demo days 2024-02-16")
