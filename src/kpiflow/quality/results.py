"""Turn one Great Expectations validation result into a CheckResult a person can act on.

GE decides pass/fail and counts failing rows. Example keys (up to five) and the numbers behind a freshness or
volume failure are read with the check's own query, LIMIT 5, and only when the check failed; so are the bounds a
failed `plausible` check learned. A table lacking declared columns reports the checks that read them as not run.
"""

from __future__ import annotations

import difflib
from dataclasses import replace
from datetime import timedelta
from typing import Any

from great_expectations.core.expectation_validation_result import ExpectationValidationResult

from kpiflow.quality import specs as s
from kpiflow.quality.report import MAX_EXAMPLE_KEYS, NOT_RUN, CheckResult
from kpiflow.quality.sql import (
    Context,
    check_query,
    col,
    plausible_bounds,
    plausible_history,
    unlisted_values_query,
    volume_judged_from,
    warehouse_source,
)
from kpiflow.quality.warehouse import GateWarehouse

MAX_LISTED_VALUES = 10
_COULD_NOT_RUN = "could not run"


def _exception_message(result: ExpectationValidationResult) -> str | None:
    """GE reports errors either flat or per metric; return the first message, one line."""
    info = result.exception_info or {}
    entries = [info] if "raised_exception" in info else list(info.values())
    for entry in entries:
        if isinstance(entry, dict) and entry.get("raised_exception"):
            message = str(entry.get("exception_message") or "unknown error")
            return message.strip().splitlines()[0][:300]
    return None


def _show(value: Any) -> str:
    return "NULL" if value is None else str(value)


def _format_key(row: dict[str, Any], key: tuple[str, ...], shown: tuple[str, ...]) -> str:
    """`order_id=17, line_no=2 (quantity=-1)`: the row's key, then the offending value(s)."""
    parts = [f"{name}={_show(row.get(name))}" for name in key if name in row]
    extra = [f"{name}={_show(value)}" for name, value in row.items() if name not in key and name in shown]
    if parts and extra:
        return f"{', '.join(parts)} ({', '.join(extra)})"
    return ", ".join(parts or extra or [f"{k}={_show(v)}" for k, v in row.items()])


def _shown_columns(check: s.CheckSpec) -> tuple[str, ...]:
    """Columns worth showing next to the key of a failing row."""
    if isinstance(check, s.References | s.Rule):
        return check.columns
    if isinstance(check, s.RowCheckSpec) and check.column:
        return (check.column,)
    return ()


def _sql_examples(
    check: s.CheckSpec, table: s.TableSpec, ctx: Context, warehouse: GateWarehouse
) -> list[dict[str, Any]]:
    """Up to five failing rows (or repeated keys, or the freshness/volume figures), read with the check's SQL;
    the first by key, so that every engine names the same rows."""
    columns = tuple(dict.fromkeys((*table.key, *_shown_columns(check))))
    query = check_query(check, ctx, columns, warehouse_source(ctx, table.name))
    order = check.columns if isinstance(check, s.Unique) else table.key if isinstance(check, s.RowCheckSpec) else ()
    if order:
        query = query.order_by(*(col(c) for c in order))
    query = query.limit(MAX_EXAMPLE_KEYS)
    try:
        return warehouse.rows(query)
    except Exception:  # examples are a courtesy: GE's verdict and count stand without them
        return []


def _unlisted_values(check: s.AcceptedValues, ctx: Context, warehouse: GateWarehouse) -> str:
    """`Garden (120 rows), Online (3 rows)`: the values outside the list, read only when the check failed."""
    query = unlisted_values_query(check, ctx, warehouse_source(ctx, check.table), MAX_LISTED_VALUES + 1)
    try:
        rows = warehouse.rows(query)
    except Exception:  # a courtesy like the example keys: GE's verdict and count stand without it
        return ""
    shown = [f"{row['value']} ({row['row_count']} row{'s' if row['row_count'] != 1 else ''})" for row in rows]
    more = ", ..." if len(shown) > MAX_LISTED_VALUES else ""
    return ", ".join(shown[:MAX_LISTED_VALUES]) + more


def _message(
    check: s.CheckSpec,
    table: s.TableSpec,
    result: ExpectationValidationResult,
    failing: int | None,
    ctx: Context,
    details: list[dict[str, Any]],
    warehouse: GateWarehouse,
) -> str:
    observed = result.result.get("observed_value")
    where = f"raw.{table.name}"
    if isinstance(check, s.ColumnsPresent):
        return missing_columns_message(table, list(observed or []))
    if isinstance(check, s.ColumnType):
        return f"{where}.{check.target} is {observed}, expected {check.family.value}; fix the loader's type"
    if isinstance(check, s.RowCount):
        return f"{where} has {observed} row(s), at least {check.min_rows} expected; reload the table"
    if isinstance(check, s.Freshness):
        return f"no rows dated {ctx.run_date.isoformat()} in {where}.{check.target}; land that day's data"
    if isinstance(check, s.Volume) and details:
        days = "; ".join(f"{row['day']}: {row['row_count']} row(s) vs {float(row['baseline']):g}" for row in details)
        return (
            f"{observed} day(s) of {where} from {volume_judged_from(check, ctx)} to {ctx.run_date} have too few or "
            f"too many rows by {check.target} ({days}; allowed {check.min_ratio}x..{check.max_ratio}x of the same "
            f"weekday's median over the previous {check.trailing_days} days, and never 0 from a median of "
            f"{check.min_average_empty}); land or reload those days"
        )
    if isinstance(check, s.Plausible):
        return f"{failing} row(s) of {where} {_plausible_text(check, ctx, warehouse)}; fix or remove those rows"
    if isinstance(check, s.Unique) and len(check.columns) > 1:
        return f"{failing} key value(s) of {where} occur more than once: ({check.column}) must be unique"
    count = failing if failing is not None else "some"
    if isinstance(check, s.Vocabulary):
        return (
            f"{count} row(s) of {where} have a {check.target} not {check.description}: "
            f"{_unlisted_values(check, ctx, warehouse)}; if these are your company's values, add them there "
            "(or empty that list to accept any value)"
        )
    if isinstance(check, s.AcceptedValues):
        return f"{count} row(s) of {where} fail: {check.description}; found {_unlisted_values(check, ctx, warehouse)}"
    return f"{count} row(s) of {where} fail: {check.description}"


def _plausible_text(check: s.Plausible, ctx: Context, warehouse: GateWarehouse) -> str:
    """`have unit_price outside [-104.62, 3809.90], learned from 3160 values (all rows: median 13.99, ...)`."""
    history = plausible_history(check, ctx)
    source = f"{check.date_column} from {history[0]} to {history[1] - timedelta(days=1)}" if history else "all rows"
    try:
        bounds = warehouse.rows(plausible_bounds(check, ctx))[0]
    except Exception:  # the bounds are a courtesy, as examples are: GE's verdict and count stand without them
        return f"have {check.target} outside the bounds learned from {source}"
    return (
        f"have {check.target} outside [{bounds['lower_bound']:.2f}, {bounds['upper_bound']:.2f}], learned from "
        f"{bounds['history_rows']} values ({source}: median {bounds['median_value']:g}, MAD {bounds['mad_value']:g}, "
        f"99.9% quantile {bounds['high_quantile']:g}; bound = {check.deviations} robust deviations or "
        f"{check.factor}x the 0.1%..99.9% quantiles, whichever is wider)"
    )


def _similar(name: str, candidates: list[str]) -> str | None:
    """The undeclared column that is probably `name` renamed (discount_amount -> discount)."""
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    if close:
        return close[0]
    return next((c for c in candidates if name in c or c in name), None)


def missing_columns(table: s.TableSpec, present: list[str]) -> list[str]:
    return [c for c in table.column_names if c not in present]


def missing_columns_message(table: s.TableSpec, present: list[str]) -> str:
    """`raw.order_lines lacks column(s) discount_amount (found instead: discount); ...`."""
    undeclared = [c for c in present if c not in table.column_names]
    described = []
    for column in missing_columns(table, present):
        instead = _similar(column, undeclared)
        described.append(f"{column} (found instead: {instead})" if instead else column)
    return (
        f"raw.{table.name} lacks column(s) {', '.join(described)}; rename them back in the loader, or change the "
        "declarations and the staging models that read them"
    )


def not_run_for_missing_columns(
    table: s.TableSpec, results: list[CheckResult], present: list[str]
) -> list[CheckResult]:
    """Checks whose SQL failed on a table lacking declared columns are reported as not run, with the reason,
    instead of a driver error each (the schema check names the columns)."""
    missing = missing_columns(table, present)
    if not missing:
        return results
    reason = f"{NOT_RUN} raw.{table.name} lacks column(s) {', '.join(missing)}"
    return [replace(r, message=reason) if r.message.startswith(_COULD_NOT_RUN) else r for r in results]


def interpret(
    check: s.CheckSpec,
    table: s.TableSpec,
    result: ExpectationValidationResult,
    ctx: Context,
    warehouse: GateWarehouse,
) -> CheckResult:
    """The CheckResult for `check`, from GE's `result` (plus example keys for failed SQL checks)."""
    base = {"name": check.name, "table": table.name, "column": check.column, "severity": check.severity.value}
    error = _exception_message(result)
    if error is not None:
        return CheckResult(
            **base,
            success=False,
            failing_rows=None,
            example_keys=[],
            message=f"{_COULD_NOT_RUN} in raw.{table.name}: {error}",
        )
    outcome = result.result or {}
    failing: int | None = None
    if isinstance(check, s.RowCheckSpec | s.Unique):
        count = outcome.get("unexpected_count", outcome.get("observed_value"))
        failing = int(count) if count is not None else None
    details: list[dict[str, Any]] = []
    if not result.success and isinstance(check, s.RowCheckSpec | s.Unique | s.Freshness | s.Volume):
        details = _sql_examples(check, table, ctx, warehouse)
    examples = (
        [_format_key(row, table.key, _shown_columns(check)) for row in details[:MAX_EXAMPLE_KEYS]]
        if isinstance(check, s.RowCheckSpec | s.Unique)
        else []
    )
    message = "ok" if result.success else _message(check, table, result, failing, ctx, details, warehouse)
    return CheckResult(
        **base, success=bool(result.success), failing_rows=failing, example_keys=examples, message=message
    )


def missing_table_results(table: s.TableSpec, schema: str) -> list[CheckResult]:
    """A table that does not exist fails its schema check; nothing else about it can be judged."""
    message = f"table {schema}.{table.name} does not exist; load it or remove it from the declarations"
    return [
        CheckResult(
            check.name,
            table.name,
            check.column,
            check.severity.value,
            False,
            None,
            [],
            message if isinstance(check, s.ColumnsPresent) else f"{NOT_RUN} the table is missing",
        )
        for check in table.checks
    ]
