"""`run_gate`: validate the raw warehouse, quarantine what may be quarantined, report.

Rounds: validate -> quarantine failing rows of `quarantine: true` checks -> validate again (rows removed from a
parent table can orphan child rows, which the next round catches), at most `MAX_ROUNDS` validations. The last
validation decides; quarantined rows and example keys of earlier rounds are carried into the report.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from kpiflow.config import Settings
from kpiflow.errors import RunFailed, UserInputError
from kpiflow.options import non_negative_env
from kpiflow.quality import specs as s
from kpiflow.quality.declarations import CHECKS_FILE, load_gate_spec
from kpiflow.quality.quarantine import QUARANTINE_SCHEMA, QuarantineLedger, quarantine_failures
from kpiflow.quality.report import CheckResult, GateReport
from kpiflow.quality.sql import Context, input_range_query, latest_date_query, now_utc
from kpiflow.quality.vocabularies import VOCABULARIES_FILE, add_vocabularies
from kpiflow.quality.warehouse import GateWarehouse
from kpiflow.warehouse import Warehouse as WarehouseEngine
from kpiflow.warehouse import warehouse_for

if TYPE_CHECKING:
    from kpiflow.quality.validation import GeRunner

MAX_ROUNDS = 3
CLOCK_SKEW_ENV = "KPIFLOW_CLOCK_SKEW_HOURS"
DEFAULT_CLOCK_SKEW_HOURS = 24


def future_after(now: datetime | None = None) -> datetime:
    """The moment after which a row is "in the future": now (UTC) plus the clock-skew tolerance, from
    KPIFLOW_CLOCK_SKEW_HOURS (default 24: source systems in other time zones or with drifting clocks)."""
    hours = non_negative_env(CLOCK_SKEW_ENV, DEFAULT_CLOCK_SKEW_HOURS, example="24 (hours)")
    return (now or now_utc()) + timedelta(hours=hours)


def _merge(first: CheckResult, final: CheckResult, ledger: QuarantineLedger) -> CheckResult:
    """The final round's verdict, with what quarantine did and the examples seen before the rows moved."""
    moved = ledger.moved_by_check.get(final.name, 0)
    refused = ledger.refused.get(final.name)
    message = final.message
    if refused and not final.success:
        message = f"{final.message}; {refused}"
    elif moved and final.success:
        message = f"{moved} row(s) moved to {QUARANTINE_SCHEMA}.{final.table}: {first.message}"
    examples = final.example_keys or (first.example_keys if moved or refused else [])
    failing = final.failing_rows if not final.success else (first.failing_rows if moved else final.failing_rows)
    return replace(final, message=message, example_keys=examples, quarantined_rows=moved, failing_rows=failing)


def _default_run_date(warehouse: GateWarehouse, gate: s.GateSpec) -> date:
    """The latest date in `settings.run_date_from` (raw.orders.order_ts): the day the last load brought."""
    table, column = gate.run_date_from
    try:
        latest = warehouse.scalar(latest_date_query(gate.schema, table, column))
    except Exception as exc:  # the table or column may be missing; the gate reports that, but needs a date first
        raise UserInputError(
            f"no --date given and {gate.schema}.{table}.{column} cannot be read ({str(exc).splitlines()[0]}); "
            "pass --date YYYY-MM-DD"
        ) from None
    if not isinstance(latest, date):
        raise UserInputError(f"no --date given and {gate.schema}.{table} has no dated rows; pass --date YYYY-MM-DD")
    return latest


def _input_range(warehouse: GateWarehouse, gate: s.GateSpec, ctx: Context) -> tuple[date | None, date | None]:
    """(latest date through the run date, latest date after it) in `settings.run_date_from`, read after quarantine
    so that rows moved aside never count as inputs; (None, None) when the table cannot be read (the gate says why)."""
    table, column = gate.run_date_from
    if column not in warehouse.columns(gate.schema).get(table, ()):  # asked first: Spark logs a failed query
        return None, None
    try:
        row = warehouse.rows(input_range_query(ctx, table, column))[0]
    except Exception:  # a missing table or column fails `<table>.schema`; the range is only a courtesy
        return None, None
    return row["through"], row["later"]


def _affected_tables(gate: s.GateSpec, changed: set[str]) -> set[str]:
    """Tables whose results can change when rows leave `changed`: those tables and their children."""
    children = {
        check.table
        for check in gate.checks
        if isinstance(check, s.References | s.CompareParent) and check.parent in changed
    }
    return changed | children


def _open_runner(warehouse: WarehouseEngine, gate: s.GateSpec, docs_dir: Path | None) -> GeRunner:
    from kpiflow.quality.ge_sources import SparkSource, SqlSource
    from kpiflow.quality.validation import GeRunner  # Great Expectations loads here, not at `kpiflow --help`
    from kpiflow.warehouse.spark import SparkWarehouse

    if isinstance(warehouse, SparkWarehouse):  # GE's Spark datasource, in this process's Spark session
        with warehouse.connect() as session:
            return GeRunner(lambda context: SparkSource(context, session, gate.schema), gate, docs_dir)
    url = warehouse.sqlalchemy_url()  # may hold a password: never shown
    try:
        return GeRunner(lambda context: SqlSource(context, url, gate.schema), gate, docs_dir)
    except Exception as exc:  # GE wraps driver errors in its own types
        text = _masked(str(exc), url)
        first = text.splitlines()[0] if text else type(exc).__name__
        if "lock" in text.lower() or "configuration" in text.lower():
            raise RunFailed(
                f"cannot open {warehouse.location}: {first}; another process (or an open "
                "connection in this one) is using the warehouse, close it and retry"
            ) from None
        if text != str(exc):  # the message quoted the password: tell it without
            raise RunFailed(f"cannot open {warehouse.location}: {first}") from None
        raise


def _masked(text: str, url: str) -> str:
    """`text` with the password of `url` (if it has one) masked."""
    from sqlalchemy.engine import make_url

    password = make_url(url).password
    return text.replace(password, "***") if password else text


def _validate_and_quarantine(
    runner: GeRunner, gate: s.GateSpec, ctx: Context, quarantine: bool
) -> tuple[list[CheckResult], QuarantineLedger]:
    """Validate; while quarantine moves rows, validate the affected tables again (at most MAX_ROUNDS)."""
    final, ledger = runner.validate(ctx), QuarantineLedger()
    first_failure = {r.name: r for r in final if not r.success}
    checks = {check.name: check for check in gate.checks}
    for round_no in range(2, MAX_ROUNDS + 1):
        if not quarantine:
            break
        moved_before = dict(ledger.moved_by_table)
        # a check that could not run (a missing column) has no failing rows to move: it only fails
        failed = [checks[r.name] for r in final if not r.success and r.failing_rows is not None]
        if not quarantine_failures(runner.warehouse, gate, ctx, failed, ledger):
            break
        changed = {t for t, n in ledger.moved_by_table.items() if n != moved_before.get(t, 0)}
        again = {
            r.name: r
            for r in runner.validate(ctx, f" (round {round_no}, after quarantine)", _affected_tables(gate, changed))
        }
        final = [again.get(r.name, r) for r in final]
        first_failure.update({n: r for n, r in again.items() if not r.success and n not in first_failure})
    return [_merge(first_failure.get(r.name, r), r, ledger) for r in final], ledger


def run_gate(
    settings: Settings,
    run_date: date | None = None,
    *,
    data_docs: bool = True,
    quarantine: bool = True,
    data_docs_dir: Path | None = None,
    checks_file: Path | None = None,
    window_start: date | None = None,
) -> GateReport:
    """Check the raw warehouse for `run_date` (default: the latest order date) and report.

    Row checks of tables declaring a `window_column` judge rows dated through `run_date` (later rows do not count
    in this run, DECISIONS rule 22), and with `window_start` (an incremental run's first day) only rows from that
    day on; `volume` judges each day from it, `plausible` learns from the days before it; the future check judges
    every later row too ("future": after now plus the clock-skew tolerance). Other table-wide checks (schema,
    types, unique keys, row counts) read the whole table. `quarantine`: move the failing rows of
    `quarantine: true` checks aside; False reports them only.

    Writes Data Docs under `data_docs_dir` (default state_dir/data_docs) and the JSON report to
    state_dir/quality/<run_date>.json. Raises UserInputError for a missing warehouse or bad declarations.
    """
    started = time.perf_counter()
    warehouse = warehouse_for(settings)
    if not warehouse.exists():
        raise UserInputError(
            f"warehouse {warehouse.location} not found; create it (kpiflow demo-data) or point kpiflow at yours "
            "(KPIFLOW_WAREHOUSE for a DuckDB file, KPIFLOW_PG_DBNAME with KPIFLOW_TARGET=pg for PostgreSQL)"
        )
    gate = add_vocabularies(
        load_gate_spec(checks_file or settings.project_dir / CHECKS_FILE), settings.project_dir / VOCABULARIES_FILE
    )
    latest_allowed = future_after()
    docs_dir = (data_docs_dir or settings.state_dir / "data_docs") if data_docs else None
    runner = _open_runner(warehouse, gate, docs_dir)
    try:
        if run_date is None:
            run_date = _default_run_date(runner.warehouse, gate)
        windowed = tuple((t.name, t.window_column) for t in gate.tables if t.window_column)
        ctx = Context(
            gate.schema, run_date, gate.founded_on, window_start, windowed, latest_allowed, runner.warehouse.dialect
        )
        results, ledger = _validate_and_quarantine(runner, gate, ctx, quarantine)
        inputs_through, later_rows_through = _input_range(runner.warehouse, gate, ctx)
        docs_index = runner.build_data_docs()
    finally:
        runner.close()
    report = GateReport(
        run_date=run_date,
        warehouse=warehouse.location,
        results=results,
        quarantined_rows=dict(ledger.moved_by_table),
        data_docs_path=docs_index,
        elapsed_seconds=time.perf_counter() - started,
        window_start=window_start,
        inputs_through=inputs_through,
        later_rows_through=later_rows_through,
    )
    report.save(settings.state_dir / "quality")
    return report
