"""The order in which the generator's steps run, and running them for one window of days.

Work tables are connection-local temp tables covering the replayed days; emitted tables go straight to
`<schema>.<prefix><table>` in the warehouse, holding only the days the build emits.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import duckdb

from kpiflow.demo import calendar, catalog, crm, customers, finance, inventory, sales, workforce
from kpiflow.demo.spec import DemoSpec, GenerationWindow
from kpiflow.demo.sqlkit import Step, install_macros, render

STEPS: tuple[Step, ...] = (
    *calendar.STEPS,
    *catalog.STEPS,
    *customers.STEPS,
    *workforce.STEPS,
    crm.LEADS,
    *sales.WORK_STEPS,
    *sales.EMITTED_STEPS,
    *inventory.WORK_STEPS,
    *inventory.EMITTED_STEPS,
    crm.CRM_LEADS,
    crm.CRM_ACTIVITIES,
    *finance.EMITTED_STEPS,
)

RAW_TABLES: tuple[str, ...] = tuple(step.table for step in STEPS if step.emitted)

# Tables whose rows belong to a day: an append adds the new days' rows. Every other raw table describes
# the state as of the warehouse's last day and is rebuilt whole (it is small).
EVENT_TABLES: frozenset[str] = frozenset(
    {
        "orders",
        "order_lines",
        "returns",
        "store_traffic",
        "inventory_snapshots",
        "inventory_receipts",
        "inventory_counts",
        "crm_leads",
        "crm_activities",
        "absences",
        "expenses",
    }
)

ORDER_BY: dict[str, str] = {step.table: step.order_by for step in STEPS if step.emitted}

StepListener = Callable[[Step, bool], None]


def run_steps(
    con: duckdb.DuckDBPyConnection,
    spec: DemoSpec,
    window: GenerationWindow,
    *,
    schema: str,
    prefix: str,
    on_step: StepListener | None = None,
) -> None:
    """Run every step for `window`, writing emitted tables as `schema.prefix<table>`."""
    install_macros(con, spec, window)
    last_use = _last_use(STEPS)
    try:
        for position, step in enumerate(STEPS):
            if on_step:
                on_step(step, False)
            body = render(step.sql, spec, window)
            if step.emitted:
                order = f" order by {step.order_by}" if step.order_by else ""
                con.execute(
                    f'create or replace table "{schema}"."{prefix}{step.table}" as select * from ({body}){order}'
                )
            else:
                con.execute(f'create or replace temp table "{step.table}" as {body}')
            for table, last in last_use.items():
                if last == position:
                    con.execute(f'drop table if exists temp."{table}"')  # keeps peak memory down at large scales
            if on_step:
                on_step(step, True)
    finally:
        for table in last_use:
            con.execute(f'drop table if exists temp."{table}"')


def _last_use(steps: tuple[Step, ...]) -> dict[str, int]:
    """For each work table, the position of the last step that reads it (or creates it, if none does)."""
    last: dict[str, int] = {}
    for position, step in enumerate(steps):
        if not step.emitted:
            last[step.table] = position
        for table in last:
            if table != step.table and re.search(rf"\b{table}\b", step.sql):
                last[table] = position
    return last
