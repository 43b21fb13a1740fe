"""Move rows that fail `quarantine: true` checks from raw.<table> to quarantine.<table>, within a limit.

A table may lose at most `quarantine_limit` of its rows in one gate run (counted against its size when the run
started). Above the limit nothing is moved: so many bad rows mean a broken feed, and the check keeps failing.
All moves of one step happen in one transaction (on PostgreSQL too: its DDL is transactional), so a failure leaves
raw and quarantine as they were.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa

from kpiflow.errors import RunFailed
from kpiflow.quality import specs as s
from kpiflow.quality.sql import (
    Context,
    create_schema_statement,
    failing_share_query,
    quarantine_statements,
)
from kpiflow.quality.warehouse import GateWarehouse

QUARANTINE_SCHEMA = "quarantine"


@dataclass
class QuarantineLedger:
    """What one gate run has moved so far, and each table's size when the run started."""

    initial_rows: dict[str, int] = field(default_factory=dict)
    moved_by_table: dict[str, int] = field(default_factory=dict)
    moved_by_check: dict[str, int] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)


def _limit_text(share: Decimal, limit: Decimal) -> str:
    return f"{share:.2%} above the limit of {limit:.2%}"


def quarantine_failures(
    warehouse: GateWarehouse, gate: s.GateSpec, ctx: Context, failed: list[s.CheckSpec], ledger: QuarantineLedger
) -> int:
    """Quarantine the failing rows of `failed` quarantine checks; returns rows moved now (0: nothing to do)."""
    by_table: dict[str, list[s.CheckSpec]] = {}
    for check in failed:
        if isinstance(check, s.RowCheckSpec) and check.quarantine and check.name not in ledger.refused:
            by_table.setdefault(check.table, []).append(check)
    accepted: list[s.CheckSpec] = []
    for table_name, checks in by_table.items():
        counts = warehouse.rows(failing_share_query(checks, ctx, table_name))[0]
        initial = ledger.initial_rows.setdefault(table_name, int(counts["total"]))
        would_move = ledger.moved_by_table.get(table_name, 0) + int(counts["failing"])
        limit = gate.table(table_name).quarantine_limit
        share = Decimal(would_move) / Decimal(max(initial, 1))
        if share > limit:
            reason = (
                f"not quarantined: {would_move} of {initial} rows of {gate.schema}.{table_name} would be "
                f"{_limit_text(share, limit)}; fix the feed or raise quarantine_limit"
            )
            ledger.refused.update({check.name: reason for check in checks})
            continue
        accepted.extend(checks)
    if not accepted:
        return 0
    moved: dict[s.CheckSpec, int] = {}
    try:
        with warehouse.transaction() as statements:
            statements.execute(create_schema_statement(QUARANTINE_SCHEMA))
            raw_columns = statements.columns(gate.schema)
            for check in accepted:
                kept = statements.columns(QUARANTINE_SCHEMA).get(check.table, ())
                *copy, delete = quarantine_statements(
                    check, ctx, QUARANTINE_SCHEMA, raw_columns.get(check.table, ()), kept
                )
                for statement in copy:
                    statements.execute(statement)
                moved[check] = statements.execute(delete)
    except sa.exc.DBAPIError as exc:  # nothing was moved: the transaction rolled back
        first = str(exc.orig or exc).splitlines()[0]
        raise RunFailed(f"quarantine failed and was rolled back, raw tables are unchanged: {first}") from None
    for check, count in moved.items():
        ledger.moved_by_check[check.name] = ledger.moved_by_check.get(check.name, 0) + count
        ledger.moved_by_table[check.table] = ledger.moved_by_table.get(check.table, 0) + count
    return sum(moved.values())
