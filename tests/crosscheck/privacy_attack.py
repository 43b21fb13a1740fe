"""An attacker who adds and subtracts published HR numbers (issue 21), as linear algebra.

Every published people count is a known number; every suppressed one an unknown. The attacker knows how the
numbers fit together: a total is the sum of its stores and the sum of its departments, a store's (a department's)
month is the sum of its store x department cells in the HR mart, and across grains a quarter of hires is the sum
of its months (a month of its days), a quarter's headcount is its last month's, and a quarter's average headcount
the day-weighted mean of its months'. Rates give counts back where the base is published (voluntary turnover x
average headcount = voluntary terminations), so those counts are known wherever the cell is published. Sales per
employee is net revenue (published) over the average headcount of the sales department, so each published cell
gives an average headcount back: overall, the sales department's; by store, that store's sales cell (at every grain);
by region, the sum of its stores' sales cells.

A suppressed cell is recovered exactly when its unit vector lies in the row space of these equations restricted to
the unknowns: then some sum and difference of published numbers equals it. `recoverable` finds every such cell
from the null space of that matrix (a cell is free iff some null vector moves it), which covers every sum and
difference at once instead of trying subsets.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np

HR_MART = "mart_hr_store_department_month"
# KPI over one department's people -> (the department, the quantity its published cells give back)
SLICED = {"sales_per_employee": ("sales", "average_headcount")}
GRAINS = ("day", "month", "quarter", "year")
# quantity -> (how it adds up across grains, kpi_values source, HR mart source); a source is a column, or a rate
# times average headcount.
QUANTITIES: dict[str, tuple[str, str, str | None]] = {
    "headcount": ("last", "headcount", "headcount"),
    "average_headcount": ("mean", "average_headcount", "average_headcount"),
    "hires": ("sum", "hires", "hires"),
    "terminations": ("sum", "terminations", "terminations"),
    "voluntary_terminations": ("sum", "voluntary_turnover_rate*", "voluntary_turnover_rate*"),
    "retirements": ("sum", "retirement_rate*", None),
    "absence_days": ("sum", "absence_days_per_employee*", "absence_days_per_employee*"),
}


@dataclass(frozen=True)
class Cell:
    grain: str
    period_start: date
    store_id: str | None
    department: str | None

    def order(self) -> tuple:
        return (self.grain, self.period_start, self.store_id or "", self.department or "")

    def describe(self) -> str:
        where = "/".join(x for x in (self.store_id, self.department) if x) or "overall"
        return f"{self.grain} {self.period_start} {where}"


def _parent_period(grain: str, day: date) -> date:
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return date(day.year, 1, 1)


def _published(con: duckdb.DuckDBPyConnection, quantity: str) -> dict[Cell, bool]:
    """Every cell of the quantity in kpi_values and the HR mart: True when published (known), False if hidden."""
    _, kpi_source, mart_source = QUANTITIES[quantity]
    cells: dict[Cell, bool] = {}
    kpi = kpi_source.rstrip("*")
    rows = con.execute(
        """select grain, period_start, store_id, department, not is_suppressed and value is not null
           from marts.kpi_values where kpi = $kpi and dimension_set in ('overall', 'store', 'department')
           and grain in ('day', 'month', 'quarter', 'year')""",
        {"kpi": kpi},
    ).fetchall()
    for grain, period_start, store_id, department, known in rows:
        cells[Cell(grain, period_start, store_id, department)] = bool(known)
    if mart_source:
        column = mart_source.rstrip("*")
        for period_start, store_id, department, known in con.execute(
            f"select period_start, store_id, department, not is_suppressed and {column} is not null "
            f"from marts.{HR_MART}"
        ).fetchall():
            cells[Cell("month", period_start, store_id, department)] = bool(known)
    return cells


def _equations(cells: Iterable[Cell], rule: str, data_days: dict[tuple[str, date], int]) -> list[dict[Cell, float]]:
    """Linear equations (cell -> coefficient, = 0) the attacker knows hold between the cells."""
    present = set(cells)
    equations: list[dict[Cell, float]] = []
    by_period: dict[tuple[str, date], list[Cell]] = defaultdict(list)
    for cell in present:
        by_period[cell.grain, cell.period_start].append(cell)
    for (grain, period), members in by_period.items():
        overall = Cell(grain, period, None, None)
        stores = [c for c in members if c.store_id and not c.department]
        departments = [c for c in members if c.department and not c.store_id]
        inner = [c for c in members if c.store_id and c.department]
        for parts in (stores, departments):
            if overall in present and parts:
                equations.append({overall: 1.0, **{c: -1.0 for c in parts}})
        # a store's inner cells are all there only at the mart's grain; at other grains only the sliced KPIs'
        # department is (its column is complete: every store)
        for store in stores if grain == "month" else ():
            row = [c for c in inner if c.store_id == store.store_id]
            if row:
                equations.append({store: 1.0, **{c: -1.0 for c in row}})
        for department in departments:
            column = [c for c in inner if c.department == department.department]
            if column:
                equations.append({department: 1.0, **{c: -1.0 for c in column}})
    finer = {"month": "day", "quarter": "month", "year": "quarter"}
    children: dict[Cell, list[Cell]] = defaultdict(list)
    for cell in present:
        if cell.grain == "year":
            continue
        parent_grain = GRAINS[GRAINS.index(cell.grain) + 1]
        parent = Cell(parent_grain, _parent_period(parent_grain, cell.period_start), cell.store_id, cell.department)
        if parent in present and finer[parent_grain] == cell.grain:
            children[parent].append(cell)
    for parent, kids in children.items():
        if rule == "sum":
            equations.append({parent: 1.0, **{c: -1.0 for c in kids}})
        elif rule == "last":
            equations.append({parent: 1.0, max(kids, key=Cell.order): -1.0})
        else:
            weight = {c: data_days.get((c.grain, c.period_start), 0) for c in kids}
            total = sum(weight.values())
            if total:
                equations.append({parent: float(total), **{c: -float(weight[c]) for c in kids}})
    return equations


def _data_days(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, date], int]:
    """Days with data in each period (the denominators of average headcount)."""
    days = [d for (d,) in con.execute("select distinct date_day from intermediate.int_employee_days").fetchall()]
    counts: dict[tuple[str, date], int] = defaultdict(int)
    for day in days:
        counts["day", day] += 1
        for grain in ("month", "quarter", "year"):
            counts[grain, _parent_period(grain, day)] += 1
    return counts


def _sliced(
    con: duckdb.DuckDBPyConnection, quantity: str, staffed: set[tuple[str | None, str | None]]
) -> tuple[dict[Cell, bool], list[dict[Cell, float]]]:
    """What the sliced KPIs give back of `quantity`: cells (True when not suppressed: a NULL there is no revenue,
    not a secret) and, for regions, equations 'sum of the region's store cells = a published number' (their cells
    on the left only: the right is known). `staffed`: the (store, department) cells that have people; the KPI's
    rows for a store without staff in the department reveal nothing."""
    cells: dict[Cell, bool] = {}
    sums: list[dict[Cell, float]] = []
    for kpi, (department, gives) in SLICED.items():
        published = con.execute("select 1 from marts.kpi_values where kpi = $kpi limit 1", {"kpi": kpi}).fetchone()
        if gives != quantity or not published:  # a publication without the KPI (the old rule's) gives nothing
            continue
        rows = con.execute(
            """select grain, period_start, dimension_set, store_id, region, not is_suppressed
               from marts.kpi_values where kpi = $kpi and grain in ('day', 'month', 'quarter', 'year')""",
            {"kpi": kpi},
        ).fetchall()
        regions: dict[str, list[str]] = defaultdict(list)
        if any(row[2] == "region" for row in rows):
            for store_id, region in con.execute("select store_id, region from intermediate.dim_stores").fetchall():
                regions[region].append(store_id)
        for grain, period_start, dimension_set, store_id, region, known in rows:
            if dimension_set == "region":
                if known:
                    sums.append({Cell(grain, period_start, s, department): 1.0 for s in regions[region]})
            elif store_id is None or (store_id, department) in staffed:
                cells[Cell(grain, period_start, store_id, department)] = bool(known)
    return cells, sums


def recoverable(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Suppressed cells whose value follows from published ones, as 'quantity: cell' (empty when none)."""
    data_days = _data_days(con)
    found = []
    for quantity, (rule, _, _) in QUANTITIES.items():
        cells = _published(con, quantity)
        sliced, sums = _sliced(con, quantity, {(c.store_id, c.department) for c in cells})
        for cell, known in sliced.items():
            if known and cell in cells and not cells[cell]:
                found.append(f"{quantity}: {cell.describe()} (hidden, but published by a sliced KPI)")
            cells[cell] = cells.get(cell, False) or known
        for equation in sums:  # a store with no cell of the slice adds nothing to its region
            for cell in [c for c in equation if c not in cells]:
                del equation[cell]
        by_year: dict[int, list[Cell]] = defaultdict(list)
        for cell in cells:
            by_year[cell.period_start.year].append(cell)
        for year, year_cells in by_year.items():  # no equation crosses a calendar year
            unknown = sorted((c for c in year_cells if not cells[c]), key=Cell.order)
            if not unknown or all(not cells[c] for c in year_cells):
                continue
            index = {c: i for i, c in enumerate(unknown)}
            rows = []
            year_sums = [e for e in sums if any(c.period_start.year == year for c in e)]
            for equation in [*_equations(year_cells, rule, data_days), *year_sums]:
                row = np.zeros(len(unknown))
                for cell, coefficient in equation.items():
                    if cell in index:
                        row[index[cell]] = coefficient
                if row.any():
                    rows.append(row)
            if not rows:
                continue
            found += [f"{quantity}: {unknown[i].describe()}" for i in _determined(np.array(rows))]
    return found


def _determined(matrix: np.ndarray) -> list[int]:
    """Columns j with e_j in the row space of `matrix`: no null vector moves x_j."""
    _, singular, vt = np.linalg.svd(matrix, full_matrices=True)
    rank = int((singular > 1e-9 * max(singular.max(), 1.0)).sum())
    null = vt[rank:]
    if null.shape[0] == 0:
        return list(range(matrix.shape[1]))
    return [j for j in range(matrix.shape[1]) if np.abs(null[:, j]).max() < 1e-8]
