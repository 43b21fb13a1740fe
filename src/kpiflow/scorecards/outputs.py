"""Write marts.kpi_achievement, marts.scorecard_results, payroll.payouts and payroll.scorecard_warnings at once.

Scores and KPI values are DECIMAL(38,12) (full precision to 12 places, rounded half-even; rule 17
keeps rounding out of the marts unless a card asks for it), money DECIMAL(18,2). Payouts sit in
their own schema `payroll` so access to pay can be granted apart from the KPI marts. The warehouse
session loads the rows with the declared types (Session.write_table): exact, and fast for many rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kpiflow.warehouse import Columns, Session

VALUE = "decimal(38,12)"
MONEY = "decimal(18,2)"
TEXT = "varchar"
DATE = "date"


KPI_ACHIEVEMENT: Columns = (
    ("kpi", TEXT), ("entity_type", TEXT), ("entity_id", TEXT), ("grain", TEXT), ("period_start", DATE),
    ("actual", VALUE), ("target", VALUE), ("minimum", VALUE), ("stretch", VALUE), ("variance", VALUE),
    ("achievement", VALUE), ("status", TEXT), ("band_low", VALUE), ("band_high", VALUE), ("direction", TEXT),
    ("target_source", TEXT), ("target_note", TEXT),
)  # fmt: skip

SCORECARD_RESULTS: Columns = (
    ("card", TEXT), ("employee_id", TEXT), ("period_start", DATE), ("kpi", TEXT), ("actual", VALUE),
    ("target", VALUE), ("achievement", VALUE), ("capped_achievement", VALUE), ("weight", VALUE),
    ("weighted_score", VALUE), ("status", TEXT), ("grain", TEXT), ("entity_type", TEXT), ("entity_id", TEXT),
    ("direction", TEXT), ("cap", VALUE), ("target_note", TEXT),
)  # fmt: skip

PAYOUTS: Columns = (
    ("card", TEXT), ("employee_id", TEXT), ("period_start", DATE), ("fixed_pay", MONEY),
    ("variable_pay", MONEY), ("kpi_index", VALUE), ("bonus_coefficient", VALUE), ("bonus", MONEY),
    ("department_multiplier", VALUE), ("total_pay", MONEY), ("grain", TEXT), ("pay_scheme", TEXT),
    ("index_rounding", TEXT), ("bonus_note", TEXT), ("status", TEXT), ("reason", TEXT),
)  # fmt: skip

# Every warning of the build that wrote the tables (held pay and its reasons: in `payroll`, like pay).
SCORECARD_WARNINGS: Columns = (("card", TEXT), ("message", TEXT))

RESULT_TABLES: dict[str, Columns] = {
    "marts.kpi_achievement": KPI_ACHIEVEMENT,
    "marts.scorecard_results": SCORECARD_RESULTS,
    "payroll.payouts": PAYOUTS,
}
OUTPUT_TABLES: dict[str, Columns] = {**RESULT_TABLES, "payroll.scorecard_warnings": SCORECARD_WARNINGS}


def write_outputs(session: Session, tables: dict[str, Sequence[Sequence[Any]]]) -> None:
    """Replace all output tables at once: readers never see a half-written set."""
    with session.transaction():
        for table, rows in tables.items():
            session.write_table(table, OUTPUT_TABLES[table], rows)
