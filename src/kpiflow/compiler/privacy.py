"""Which people-KPI cells are hidden: primary and complementary cell suppression (DECISIONS rule 14, docs/privacy.md).

A cell covering fewer people than the minimum is suppressed (primary suppression). Hiding it alone is not enough:
its value would come back as a published total minus the published cells beside it. So every primary cell becomes
one corner of a rectangle of suppressed cells in the two-way table the people KPIs publish (rows: overall and each
store; columns: overall and each department; margins included). Adding one to two opposite corners and taking one
from the other two leaves every published total unchanged, so no sum or difference of published numbers can tell
the corners' values apart (the hypercube method of statistical agencies, in two dimensions; one rectangle per
primary cell, the cheapest: hidden marginal cells cost more than hidden inner ones, then fewer people, then keys).

The decision is made per calendar year: a store, department or store x department that is suppressed anywhere in a
year is suppressed at every grain (day, month, quarter, year) of that year, so no quarter minus two months and no
rate times a base can rebuild it. It lives in one model (`privacy_suppression`) that `kpi_values` and the people
marts join; a nightly run recomputes it, and the rows it governs, for whole years.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from kpiflow.compiler.graph import TIME_ENTITY, SemanticGraph
from kpiflow.compiler.issues import Location, SpecInvalid, ValidationIssue
from kpiflow.compiler.plan import RuntimeDate
from kpiflow.compiler.spec import MetricSpec, metric_inputs
from kpiflow.compiler.sqltext import REF_PREFIX, dbt_var

PRIVACY_VAR = "hr_min_cell_size"
PRIVACY_DEFAULT = 5
SUPPRESSION_MODEL = "privacy_suppression"
# What the models hiding people cells call privacy_suppression when they join it (member_join).
SUPPRESSION_ALIAS = "suppression"
# A nightly run recomputes suppression, and every row it governs, from the first day of the window's year.
PRIVACY_WINDOW_MACRO = "kpiflow_privacy_window_start"
# Cost of hiding one more cell when choosing a rectangle: inner cells are published monthly in one mart; a store or
# department total at four grains in kpi_values; the grand total is everyone's headline.
INNER_COST, MARGIN_COST, TOTAL_COST = 1, 30, 1000


@dataclass(frozen=True)
class PrivacyPlan:
    """How suppression applies to the metric definitions.

    axes: the (at most two) breakdowns of the suppression table, e.g. (store, employee__department).
    exact: KPIs whose every cell is a cell of that table (suppressed exactly when the table's cell is).
    sliced: KPIs over one member of an axis only (sales staff: `employee__department = 'sales'`), broken down by
    the other axis or its attributes; each cell is hidden with the table's members it reveals (SlicedKpi).
    blanket: other KPIs the table does not describe; they are hidden for a whole year whenever anything in that
    year is suppressed.
    marts: marts with a privacy metric; their rows are the table's inner cells.
    count_metric: the metric counting the people a cell covers.
    """

    axes: tuple[str, ...]
    exact: tuple[str, ...]
    blanket: tuple[str, ...]
    marts: tuple[str, ...]
    count_metric: str | None
    sliced: tuple[SlicedKpi, ...] = ()

    @property
    def kpis(self) -> tuple[str, ...]:
        return tuple(sorted(self.exact + self.blanket + tuple(s.kpi for s in self.sliced)))


@dataclass(frozen=True)
class SlicedKpi:
    """A KPI computed over the people of one member of an axis (`value` of axes[axis]), e.g. sales per employee.

    With its other inputs published, a cell gives back the headcount of the slice in that cell: overall, the
    member's total; by the other axis, that inner cell; by an attribute of the other axis (`attributes`, e.g.
    store__region), the sum of the inner cells it groups. So a cell is hidden when the member it reveals is hidden
    (an attribute cell: when any inner cell of the slice is, since the table does not know the grouping)."""

    kpi: str
    axis: int
    value: str
    attributes: tuple[str, ...]


def _filters(graph: SemanticGraph, metric: MetricSpec) -> set[str]:
    """The row filters of the metric and of every metric it is computed from."""
    found = {metric.filter} if metric.filter else set()
    for item in metric_inputs(metric):
        if item.filter:
            found.add(item.filter)
        if item.name in graph.metrics:
            found |= _filters(graph, graph.metrics[item.name])
    return found


def _filtered(graph: SemanticGraph, metric: MetricSpec) -> bool:
    """Does the metric, or any metric it is computed from, filter its rows (so its cells are slices of a cell)?"""
    return bool(_filters(graph, metric))


def _slice(graph: SemanticGraph, metric: MetricSpec, axes: list[str]) -> SlicedKpi | None:
    """The metric as a SlicedKpi when its only filter is `<axis> = '<value>'` and it is broken down by the other
    axis or that axis's attributes; None when it has another shape (it stays blanket)."""
    filters = _filters(graph, metric)
    if len(axes) != 2 or len(filters) != 1:
        return None
    try:
        condition = sqlglot.parse_one(next(iter(filters)), read="duckdb")
    except ParseError:
        return None
    if not (
        isinstance(condition, exp.EQ)
        and isinstance(condition.this, exp.Column)
        and not condition.this.table
        and condition.this.name in axes
        and isinstance(condition.expression, exp.Literal)
        and condition.expression.is_string
    ):
        return None
    axis = axes.index(condition.this.name)
    other = axes[1 - axis]
    dims = metric.kpi.natural_dimensions  # type: ignore[union-attr]
    if not all(d == other or d.startswith(other + "__") for d in dims):
        return None
    return SlicedKpi(metric.name, axis, condition.expression.this, tuple(d for d in dims if d != other))


def _problem(graph: SemanticGraph, key: str, field: str, message: str) -> SpecInvalid:
    origin = graph.origins[key]
    return SpecInvalid([ValidationIssue(Location(origin.file, origin.line, f"{origin.field}.{field}"), message)])


def privacy_plan(graph: SemanticGraph, kpis: list[MetricSpec]) -> PrivacyPlan:
    """Split the KPIs with a privacy count into exact and blanket ones and find the suppression table's axes."""
    private = [m for m in kpis if m.kpi is not None and m.kpi.privacy_count_metric]
    counts = sorted({m.kpi.privacy_count_metric for m in private if m.kpi and m.kpi.privacy_count_metric})
    if len(counts) > 1:
        raise _problem(
            graph,
            f"metric:{private[-1].name}",
            "kpi.privacy_count_metric",
            f"people KPIs count their cells' people with different metrics ({', '.join(counts)}); "
            "suppression decides once for all of them: use one privacy_count_metric",
        )
    for metric in private:
        if "week" in metric.kpi.grains:  # type: ignore[union-attr]
            raise _problem(
                graph,
                f"metric:{metric.name}",
                "kpi.grains",
                f"'{metric.name}' has a privacy count and a week grain; suppression is decided per calendar year and "
                "a week can span two: publish people KPIs by day, month, quarter and year (see docs/privacy.md)",
            )
    axes: list[str] = []
    for metric in private:
        if not _filtered(graph, metric):
            axes += [d for d in metric.kpi.natural_dimensions if d not in axes]  # type: ignore[union-attr]
    if len(axes) > 2:
        raise _problem(
            graph,
            f"metric:{private[0].name}",
            "kpi.natural_dimensions",
            f"people KPIs are broken down by {', '.join(axes)}; complementary suppression supports two breakdowns "
            "(see docs/privacy.md): publish the others without privacy_count_metric or drop them",
        )
    exact, blanket, sliced = [], [], []
    for metric in private:
        fits = not _filtered(graph, metric) and set(metric.kpi.natural_dimensions) <= set(axes)  # type: ignore[union-attr]
        part = None if fits else _slice(graph, metric, axes)
        if part:
            sliced.append(part)
        else:
            (exact if fits else blanket).append(metric.name)
    marts = []
    for name in sorted(graph.marts):
        mart = graph.marts[name]
        if not any(graph.metrics[m].kpi and graph.metrics[m].kpi.privacy_count_metric for m in mart.metrics):  # type: ignore[union-attr]
            continue
        dims = [g for g in mart.group_by if not g.startswith(TIME_ENTITY + "__")]
        if set(dims) - set(axes) or any(_filtered(graph, graph.metrics[m]) for m in mart.metrics):
            raise _problem(
                graph,
                f"mart:{name}",
                "group_by",
                f"mart '{name}' holds people KPIs but is grouped by {', '.join(dims) or 'nothing'} or holds a "
                f"filtered metric; suppression covers breakdowns by {', '.join(axes) or 'nothing'} of unfiltered "
                "metrics (see docs/privacy.md)",
            )
        marts.append(name)
    return PrivacyPlan(
        tuple(axes), tuple(exact), tuple(blanket), tuple(marts), counts[0] if counts else None, tuple(sliced)
    )


@dataclass(frozen=True)
class SuppressionTable:
    """The suppression table in kpi_values terms: axis columns, dimension_set labels, and which sets are published."""

    columns: tuple[str, ...]  # kpi_values column of each axis (store_id, department)
    row_sets: tuple[str, ...]  # dimension_set labels whose rows have a value on the first axis
    col_sets: tuple[str, ...]  # ... on the second axis
    inner_published: bool  # a mart publishes the inner cells (axis 1 x axis 2)


def _ident(name: str) -> str:
    return exp.to_identifier(name).sql("duckdb")


def _text(value: str) -> str:
    return exp.Literal.string(value).sql("duckdb")


def _in(values: tuple[str, ...]) -> str:
    return f"IN ({', '.join(_text(v) for v in values)})" if values else "IN (NULL)"


# Placeholders to_dbt_sql turns into {{ var('hr_min_cell_size', 5) }} and the privacy window macro's value.
MIN_CELL = dbt_var(PRIVACY_VAR, PRIVACY_DEFAULT).sql("duckdb")
WINDOW_START_YEAR = RuntimeDate(PRIVACY_WINDOW_MACRO).placeholder


def _same(left: str, right: str, column: str) -> str:
    return f"{left}.{column} IS NOT DISTINCT FROM {right}.{column}"


def suppression_sql(table: SuppressionTable, cells: list[str]) -> str:
    """The `privacy_suppression` model's query: one row per year and member (overall, each store, each department,
    each store x department) with is_primary and is_suppressed. `cells` are SELECTs of (year_start, grain,
    period_start, dimension_set, row_key, col_key, population) over the cells each published table holds from the
    window's year on; row_key and col_key are the cell's members on the two axes."""
    on_row = f"dimension_set {_in(table.row_sets)}"
    on_col = f"dimension_set {_in(table.col_sets)}"
    virtual = []
    if len(table.columns) == 2 and not table.inner_published:  # inner cells exist but nobody publishes them
        virtual.append(
            "SELECT by_row.year_start, TRUE AS on_row, by_row.row_key, TRUE AS on_col, by_col.col_key, "
            "0 AS is_primary, 0 AS people, CAST(NULL AS DATE) AS first_month, CAST(NULL AS DATE) AS last_month, "
            "0 AS cost "
            "FROM members AS by_row JOIN members AS by_col ON by_row.year_start = by_col.year_start "
            "WHERE by_row.on_row AND NOT by_row.on_col AND by_col.on_col AND NOT by_col.on_row"
        )
    if len(table.columns) == 1:  # one breakdown: a second axis with one unpublished member stands for "everyone"
        virtual.append(
            "SELECT year_start, on_row, row_key, TRUE AS on_col, CAST(NULL AS VARCHAR) AS col_key, 0 AS is_primary, "
            "0 AS people, CAST(NULL AS DATE) AS first_month, CAST(NULL AS DATE) AS last_month, 0 AS cost FROM members"
        )
    grid = (
        "SELECT year_start, on_row, row_key, on_col, col_key, is_primary, people, first_month, last_month, "
        f"CASE WHEN is_primary = 1 THEN 0 WHEN on_row AND on_col THEN {INNER_COST} "
        f"WHEN on_row OR on_col THEN {MARGIN_COST} ELSE {TOTAL_COST} END AS cost FROM members"
    )
    grid = " UNION ALL ".join([grid, *virtual])
    cell_key = ("on_row", "row_key", "on_col", "col_key")

    def same_cell(left: str, right: str) -> str:
        return " AND ".join(_same(left, right, k) for k in cell_key)

    corner_order = ", ".join(f"opposite.{k} NULLS FIRST" for k in cell_key)
    # a corner that has no month where the primary cell has one cannot hide it there: prefer corners spanning it
    gaps = " + ".join(
        f"CASE WHEN {c}.first_month > primary_cell.first_month OR {c}.last_month < primary_cell.last_month"
        " THEN 1 ELSE 0 END"
        for c in ("along_row", "along_col", "opposite")
    )
    return f"""
WITH cells AS (
  {" UNION ALL ".join(cells)}
), members AS (
  SELECT
    year_start, dimension_set, row_key, col_key,
    {on_row} AS on_row,
    {on_col} AS on_col,
    MAX(CASE WHEN population < {MIN_CELL} THEN 1 ELSE 0 END) AS is_primary,
    SUM(population) AS people,
    MIN(CASE WHEN grain = 'month' THEN period_start END) AS first_month,
    MAX(CASE WHEN grain = 'month' THEN period_start END) AS last_month
  FROM cells
  GROUP BY year_start, dimension_set, row_key, col_key
), grid AS (
  {grid}
), rectangles AS (
  SELECT
    primary_cell.year_start,
    primary_cell.on_row AS primary_on_row, primary_cell.row_key AS primary_row_key,
    primary_cell.on_col AS primary_on_col, primary_cell.col_key AS primary_col_key,
    opposite.on_row AS opposite_on_row, opposite.row_key AS opposite_row_key,
    opposite.on_col AS opposite_on_col, opposite.col_key AS opposite_col_key,
    ROW_NUMBER() OVER (
      PARTITION BY primary_cell.year_start, primary_cell.on_row, primary_cell.row_key, primary_cell.on_col,
        primary_cell.col_key
      ORDER BY {gaps}, along_row.cost + along_col.cost + opposite.cost,
        along_row.people + along_col.people + opposite.people, {corner_order}
    ) AS choice
  FROM grid AS primary_cell
  JOIN grid AS along_row
    ON along_row.year_start = primary_cell.year_start
    AND {_same("along_row", "primary_cell", "on_row")} AND {_same("along_row", "primary_cell", "row_key")}
    AND NOT ({_same("along_row", "primary_cell", "on_col")} AND {_same("along_row", "primary_cell", "col_key")})
  JOIN grid AS along_col
    ON along_col.year_start = primary_cell.year_start
    AND {_same("along_col", "primary_cell", "on_col")} AND {_same("along_col", "primary_cell", "col_key")}
    AND NOT ({_same("along_col", "primary_cell", "on_row")} AND {_same("along_col", "primary_cell", "row_key")})
  JOIN grid AS opposite
    ON opposite.year_start = primary_cell.year_start
    AND {_same("opposite", "along_col", "on_row")} AND {_same("opposite", "along_col", "row_key")}
    AND {_same("opposite", "along_row", "on_col")} AND {_same("opposite", "along_row", "col_key")}
  WHERE primary_cell.is_primary = 1
), corners AS (
  SELECT year_start, primary_on_row AS on_row, primary_row_key AS row_key, opposite_on_col AS on_col,
    opposite_col_key AS col_key
  FROM rectangles WHERE choice = 1
  UNION
  SELECT year_start, opposite_on_row, opposite_row_key, primary_on_col, primary_col_key FROM rectangles WHERE choice = 1
  UNION
  SELECT year_start, opposite_on_row, opposite_row_key, opposite_on_col, opposite_col_key FROM rectangles
  WHERE choice = 1
)
SELECT
  members.year_start,
  members.dimension_set,
  {"".join(f"members.{v} AS {_ident(c)}, " for v, c in zip(("row_key", "col_key"), table.columns, strict=False))}
  members.is_primary = 1 AS is_primary,
  members.is_primary = 1 OR corners.year_start IS NOT NULL AS is_suppressed
FROM members
LEFT JOIN corners
  ON corners.year_start = members.year_start AND {same_cell("corners", "members")}
"""


def year_start(column: str) -> str:
    return f"CAST(DATE_TRUNC('YEAR', {column}) AS DATE)"


def cells_sql(
    table: SuppressionTable, model: str, dimension_set: str | None, present: tuple[str, ...], grain: str | None = None
) -> str:
    """A `cells` input of suppression_sql: one model's cells from the window's year on. `dimension_set` and `grain`
    None read the model's own columns (kpi_values shape); a mart's rows all belong to one set and grain.
    `present`: the axis columns the model has."""
    label = "dimension_set" if dimension_set is None else f"{_text(dimension_set)} AS dimension_set"
    grain = "grain" if grain is None else f"{_text(grain)} AS grain"
    axes = [_ident(c) if c in present else "CAST(NULL AS VARCHAR)" for c in table.columns]
    axes += ["CAST(NULL AS VARCHAR)"] * (2 - len(axes))
    return (
        f"SELECT {year_start('period_start')} AS year_start, {grain}, period_start, {label}, {axes[0]} AS row_key, "
        f"{axes[1]} AS col_key, population FROM {REF_PREFIX}{model} WHERE period_start >= {WINDOW_START_YEAR}"
    )


def member_join(
    table: SuppressionTable, alias: str, dimension_set: str | None, present: tuple[str, ...] | None = None
) -> str:
    """ON condition joining `privacy_suppression AS suppression` (SUPPRESSION_ALIAS) to the row `alias` of the year and
    member it belongs to."""
    label = f"{alias}.dimension_set" if dimension_set is None else _text(dimension_set)
    parts = [
        f"{SUPPRESSION_ALIAS}.year_start = {year_start(f'{alias}.period_start')}",
        f"{SUPPRESSION_ALIAS}.dimension_set = {label}",
    ]
    parts += [
        _same(SUPPRESSION_ALIAS, alias, _ident(c))
        if present is None or c in present
        else f"{SUPPRESSION_ALIAS}.{_ident(c)} IS NULL"
        for c in table.columns
    ]
    return " AND ".join(parts)


def sliced_hidden_sql(
    table: SuppressionTable, part: SlicedKpi, attribute_sets: tuple[str, ...], alias: str, suppression: str
) -> str:
    """Is the row `alias` of the sliced KPI hidden? True when the suppression member it reveals is suppressed in
    its year, or when there is no such member (nobody in the slice). `attribute_sets`: the dimension_set labels of
    part.attributes; `suppression`: the privacy_suppression relation."""
    sliced, other = table.columns[part.axis], table.columns[1 - part.axis]
    inner = table.row_sets[1]
    member_set = (table.row_sets, table.col_sets)[part.axis][0]
    other_set = (table.row_sets, table.col_sets)[1 - part.axis][0]
    value = f"revealed.{_ident(sliced)} = {_text(part.value)}"
    reveals = [
        f"({alias}.dimension_set = 'overall' AND revealed.dimension_set = {_text(member_set)} AND {value})",
        f"({alias}.dimension_set = {_text(other_set)} AND revealed.dimension_set = {_text(inner)} AND {value}"
        f" AND revealed.{_ident(other)} = {alias}.{_ident(other)})",
    ]
    if attribute_sets:
        grouped = f"{alias}.dimension_set {_in(attribute_sets)}"
        reveals.append(f"({grouped} AND revealed.dimension_set = {_text(inner)} AND {value})")
    return (
        f"COALESCE((SELECT BOOL_OR(revealed.is_suppressed) FROM {suppression} AS revealed"
        f" WHERE revealed.year_start = {year_start(f'{alias}.period_start')} AND ({' OR '.join(reveals)})), TRUE)"
    )
