"""Make Great Expectations 1.x row conditions on dates work on PostgreSQL (GE 1.24, SQLAlchemy 2.1, psycopg 3).

The defect: GE stores an expectation's row condition as JSON when the suite is added to the context, so
`Column("order_ts") < date(2024, 3, 1)` reaches the execution engine with the string '2024-03-01' and becomes
`sa.literal('2024-03-01')`, a VARCHAR bind. SQLAlchemy's psycopg dialect casts every bind to its type
(`order_ts < %(param_1)s::VARCHAR`), and PostgreSQL has no `timestamp < character varying` operator: every
built-in expectation of a table with a `window_column` fails with "operator does not exist". DuckDB casts the
string itself, so only PostgreSQL is affected. (Turning the casts off for the whole engine breaks SQLAlchemy's
own catalog queries, which need them.)

The fix: on PostgreSQL, a comparison's ISO date or timestamp text is turned back into the date or datetime it was
before GE stored it, so the bind is a DATE or TIMESTAMP and compares with the column. The gate compares only its
window columns (dates and timestamps) in row conditions. `install()` is idempotent and changes nothing for other
dialects.

`tests/postgres/test_pg_gate.py` shows the defect without this module (when that test fails, upstream has fixed it
and the module can go).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from great_expectations.execution_engine.sqlalchemy_execution_engine import SqlAlchemyExecutionEngine

_ORIGINAL = SqlAlchemyExecutionEngine._comparison_condition_to_filter_clause
_MARK = "_kpiflow_postgres_fix"


def restored(parameter: Any) -> Any:
    """The date or datetime an ISO text stands for (what GE's JSON made of it); anything else unchanged."""
    if not isinstance(parameter, str):
        return parameter
    for parse in (date.fromisoformat, datetime.fromisoformat):
        try:
            return parse(parameter)
        except ValueError:
            continue
    return parameter


def _typed_comparison(self: SqlAlchemyExecutionEngine, condition: Any) -> Any:
    if self.dialect_name == "postgresql":
        condition = condition.copy(update={"parameter": restored(condition.parameter)})
    return _ORIGINAL(self, condition)


def install() -> None:
    """Apply the fix once per process (safe to call from every gate run)."""
    if getattr(SqlAlchemyExecutionEngine, _MARK, False):
        return
    SqlAlchemyExecutionEngine._comparison_condition_to_filter_clause = _typed_comparison  # type: ignore[method-assign]
    setattr(SqlAlchemyExecutionEngine, _MARK, True)


def uninstall() -> None:
    """Undo `install()`; only the regression test needs this, to show the defect is real."""
    if not getattr(SqlAlchemyExecutionEngine, _MARK, False):
        return
    SqlAlchemyExecutionEngine._comparison_condition_to_filter_clause = _ORIGINAL  # type: ignore[method-assign]
    setattr(SqlAlchemyExecutionEngine, _MARK, False)
