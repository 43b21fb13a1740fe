"""The audit between write and publish: only a complete, non-empty build may reach BI tools.

dbt tests already passed when the audit runs (a failed test stops the build); the audit adds what dbt
cannot see from inside one model: every published schema exists and no published table is empty.
The scorecard tables are the exception: a warehouse in which nobody holds a card's role has none, and
its KPI marts are published with a warning (the scorecard stage already failed the run if employees
eligible for a card got no result).
"""

from __future__ import annotations

from dataclasses import dataclass

from kpiflow.errors import RunFailed
from kpiflow.scorecards.outputs import OUTPUT_TABLES, RESULT_TABLES
from kpiflow.warehouse import PUBLISHED_SCHEMAS, TableFingerprint, Warehouse
from kpiflow.warehouse.fingerprints import fingerprint_schemas

MAY_BE_EMPTY = frozenset(OUTPUT_TABLES)  # scorecard outputs: empty when nobody is on a card (or nothing to warn)


@dataclass(frozen=True)
class AuditReport:
    """What would be published, and every reason it must not be."""

    location: str
    tables: tuple[TableFingerprint, ...]
    problems: tuple[str, ...]
    warnings: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.problems

    def headline(self) -> str:
        rows = sum(fp.row_count for fp in self.tables)
        text = f"{len(self.tables)} tables, {rows:,} rows"
        if self.warnings:
            text += f", {len(self.warnings)} warnings"
        return text + ("" if self.passed else f", {len(self.problems)} problems")

    def raise_if_failed(self) -> None:
        if self.problems:
            listed = "\n".join(f"  - {problem}" for problem in self.problems)
            raise RunFailed(f"audit failed, nothing was published (the published marts are unchanged):\n{listed}")


def audit_warehouse(warehouse: Warehouse, schemas: tuple[str, ...] = PUBLISHED_SCHEMAS) -> AuditReport:
    """Fingerprint every relation in `schemas` of the built warehouse and list what blocks publishing."""
    warehouse_path = warehouse.location
    if not warehouse.exists():
        return AuditReport(warehouse_path, (), (f"warehouse {warehouse_path} does not exist",))
    with warehouse.connect_build(read_only=True) as session:  # named as published (`marts.x`), what publish checks
        prints = fingerprint_schemas(session, schemas)
    warnings = tuple(
        f"{fp.qualified_name} is empty: nobody in staging.stg_employees holds a scorecard's role"
        for fp in prints.values()
        if fp.row_count == 0 and fp.qualified_name in RESULT_TABLES
    )
    problems = tuple(_problems(warehouse_path, prints, schemas))
    return AuditReport(warehouse_path, tuple(prints.values()), problems, warnings)


def _problems(warehouse_path: str, prints: dict[str, TableFingerprint], schemas: tuple[str, ...]) -> list[str]:
    problems: list[str] = []
    for schema in schemas:
        if not any(fp.schema == schema for fp in prints.values()):
            problems.append(
                f"schema '{schema}' has no tables in {warehouse_path}; the stage that writes it did not run"
            )
    problems.extend(
        f"{fp.qualified_name} has 0 rows in {warehouse_path}; check the run date and inputs (kpiflow check)"
        for fp in prints.values()
        if fp.row_count == 0 and fp.qualified_name not in MAY_BE_EMPTY
    )
    return problems
