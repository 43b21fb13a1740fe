"""Past run dates and quarantine reporting (issue 15, items 3, 7 and 12), on the generated warehouse.

The warehouse holds data through RUN_DATE; a check for PAST_DAY sees eleven later days, which are neither
"in the future" nor errors of that run (DECISIONS rule 22).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta

import duckdb
import pytest

from kpiflow.config import Settings
from kpiflow.errors import UserInputError
from kpiflow.orchestration.pipeline import RunContext, RunOptions
from kpiflow.orchestration.stages import check_inputs, land_or_verify_inputs
from kpiflow.quality import run_gate
from kpiflow.warehouse.duckdb import fingerprint_file

from .conftest import PROJECT_DIR, RUN_DATE

pytestmark = pytest.mark.slow  # each test runs the whole gate

PAST_DAY = RUN_DATE - timedelta(days=11)
FUTURE_ORDER = "update raw.orders set order_ts = timestamp '2099-06-01 10:00:00' where order_id = {order}"
LAST_ORDER = "(select max(order_id) from raw.orders)"
# An order on PAST_DAY whose customer does not exist: `orders.customer_id.references_customers` quarantines it.
UNKNOWN_CUSTOMER = (
    "update raw.orders set customer_id = 'NO-SUCH-CUSTOMER' where order_id = (select min(order_id) from raw.orders "
    f"where cast(order_ts as date) = date '{PAST_DAY}' and customer_id is not null)"
)


def _raw(settings: Settings) -> dict[str, tuple[int, str]]:
    return {
        name: (fp.row_count, fp.checksum) for name, fp in fingerprint_file(settings.warehouse_path, ("raw",)).items()
    }


def _kpiflow(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KPIFLOW_WAREHOUSE": str(settings.warehouse_path), "KPIFLOW_PROJECT_DIR": str(PROJECT_DIR)}
    command = [sys.executable, "-m", "kpiflow.cli", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)


def test_check_for_a_past_day_passes_and_leaves_raw_byte_identical(warehouse_copy: Callable[..., Settings]) -> None:
    """Item 3: `kpiflow check --date <past day>` on a warehouse holding later days reports and moves nothing.
    Item 12: and it exits without DuckDB's nanobind leak report on stderr."""
    settings = warehouse_copy()
    before = _raw(settings)
    done = _kpiflow(settings, "check", "--date", PAST_DAY.isoformat(), "--no-data-docs")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Quality gate PASSED for {PAST_DAY}" in done.stdout
    assert f"inputs through {PAST_DAY}; rows after {PAST_DAY} (through {RUN_DATE}) not counted" in done.stdout
    assert "nanobind" not in done.stderr, done.stderr
    assert _raw(settings) == before
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        schemas = con.execute("select schema_name from information_schema.schemata").fetchall()
    assert ("quarantine",) not in schemas


def test_check_reports_defects_without_moving_them_unless_asked(warehouse_copy: Callable[..., Settings]) -> None:
    """Without --quarantine the defects fail `kpiflow check` (exit 1) and raw stays as it was; with it, exactly
    the defective rows move (the 2099 order with its lines, the order of an unknown customer), never a later
    day's good row."""
    settings = warehouse_copy(FUTURE_ORDER.format(order=LAST_ORDER), UNKNOWN_CUSTOMER)
    before = _raw(settings)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        (future_order,) = con.execute("select order_id from raw.orders where order_ts > now()").fetchone()
        (unknown,) = con.execute("select order_id from raw.orders where customer_id = 'NO-SUCH-CUSTOMER'").fetchone()
        bad_orders = [future_order, unknown]
        (lines,) = con.execute("select count(*) from raw.order_lines where order_id in (?, ?)", bad_orders).fetchone()
        (returns,) = con.execute("select count(*) from raw.returns where order_id in (?, ?)", bad_orders).fetchone()
        (later_orders,) = con.execute(
            f"select count(*) from raw.orders where order_ts >= date '{PAST_DAY + timedelta(days=1)}'"
        ).fetchone()

    check = ("check", "--date", PAST_DAY.isoformat(), "--no-data-docs", "--json")
    reported = _kpiflow(settings, *check)
    assert reported.returncode == 1 and _raw(settings) == before
    failed = {r["name"]: r["failing_rows"] for r in json.loads(reported.stdout)["results"] if not r["success"]}
    assert failed == {"orders.order_ts.not_in_future": 1, "orders.customer_id.references_customers": 1}

    moving = _kpiflow(settings, *check, "--quarantine")
    assert moving.returncode == 0, moving.stdout + moving.stderr
    moved = json.loads(moving.stdout)
    expected = {
        "orders.order_ts.not_in_future": 1,
        "orders.customer_id.references_customers": 1,
        "order_lines.order_id.references_orders": lines,  # orphaned by the moves above
        "returns.line_exists": returns,
    }
    assert moved["quarantined_by_check"] == {name: rows for name, rows in expected.items() if rows}
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        quarantined = {row[0] for row in con.execute("select order_id from quarantine.orders").fetchall()}
        (left,) = con.execute(
            f"select count(*) from raw.orders where order_ts >= date '{PAST_DAY + timedelta(days=1)}'"
        ).fetchone()
    assert quarantined == {future_order, unknown}
    assert left == later_orders - 1  # only the 2099 order left the later days


def test_quarantine_is_counted_in_the_headline_and_inputs_ignore_quarantined_rows(
    warehouse_copy: Callable[..., Settings],
) -> None:
    """Item 7: a quarantined 2099 order shows in the first line (the run's progress line), per check, and the
    input range ends at the run date, never 2099, in the gate, the JSON report and the landing stage."""
    settings = warehouse_copy(FUTURE_ORDER.format(order=LAST_ORDER))
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        (lines,) = con.execute(f"select count(*) from raw.order_lines where order_id = {LAST_ORDER}").fetchone()
    ctx = RunContext(settings, RunOptions(run_date=RUN_DATE), "test-run")
    landed = land_or_verify_inputs(ctx)
    assert landed.latest_input_date == RUN_DATE and "2099" not in landed.headline()

    outcome = check_inputs(ctx)
    headline = outcome.headline()
    assert outcome.passed
    assert f"blocking failure(s), 0 warning(s); {1 + lines} row(s) quarantined (" in headline
    assert f"orders.order_ts.not_in_future 1, order_lines.order_id.references_orders {lines})" in headline
    assert f"inputs through {RUN_DATE}" in headline and "2099" not in headline
    assert outcome.quarantined_by_check == {
        "orders.order_ts.not_in_future": 1,
        "order_lines.order_id.references_orders": lines,
    }
    saved = (settings.state_dir / "quality" / f"{RUN_DATE}.json").read_text()
    assert '"quarantined_by_check": {\n    "orders.order_ts.not_in_future": 1' in saved
    assert f'"inputs_through": "{RUN_DATE}"' in saved and '"later_rows_through": null' in saved


def test_clock_skew_tolerance_is_a_setting(
    warehouse_copy: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row an hour ahead of now is clock skew by default (24 h) and in the future with a 0 h tolerance."""
    ahead = "update raw.orders set order_ts = now()::timestamp + interval 1 hour where order_id = " + LAST_ORDER
    settings = warehouse_copy(ahead)
    name = "orders.order_ts.not_in_future"
    tolerated = run_gate(settings, RUN_DATE, data_docs=False, quarantine=False)
    assert next(r for r in tolerated.results if r.name == name).success
    monkeypatch.setenv("KPIFLOW_CLOCK_SKEW_HOURS", "0")
    strict = run_gate(settings, RUN_DATE, data_docs=False, quarantine=False)
    assert next(r for r in strict.results if r.name == name).failing_rows == 1
    monkeypatch.setenv("KPIFLOW_CLOCK_SKEW_HOURS", "a day")
    with pytest.raises(UserInputError, match=r"KPIFLOW_CLOCK_SKEW_HOURS='a day' is not a number; use e\.g\. 24"):
        run_gate(settings, RUN_DATE, data_docs=False, quarantine=False)


@pytest.mark.parametrize("args", [("list",), ("compile", "--check")], ids=["list", "compile --check"])
def test_read_commands_exit_without_nanobind_leak_reports(
    warehouse_copy: Callable[..., Settings], args: tuple[str, ...]
) -> None:
    """Item 12 for the commands that need no built warehouse (query and scorecard: tests/orchestration)."""
    done = _kpiflow(warehouse_copy(), *args)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "nanobind" not in done.stderr, done.stderr
